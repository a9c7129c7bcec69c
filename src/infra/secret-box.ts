// Secret values (a CONTAINER's secret_env) sealed with AES-256-GCM before they enter a command, so
// the event log, the read models, dispatch messages and the API only ever hold the sealed form; an
// executor opens them into the container's environment. Keys come from CV_SECRETS_KEYS
// ("id:base64key,…", the first seals, all open: rotation is adding a new key in front and keeping
// the old ones until every workflow has been saved again), or, when that is unset, from one key
// generated once into CV_SECRETS_KEY_DIR and shared by every process of a local installation.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileOnce } from './write-once.ts';

const PREFIX = 'cvsecret:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_FILE = 'secrets.key';

export interface SecretKey {
  readonly id: string;
  readonly key: Buffer;
}

export class SecretUnreadable extends Error {
  override name = 'SecretUnreadable';
}

export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly SecretKey[]) {
    if (keys.length === 0) throw new Error('a secret box needs at least one key');
    for (const k of keys) {
      if (k.key.length !== 32) throw new Error(`secret key ${k.id} is not 32 bytes`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(k.id)) throw new Error(`secret key id ${k.id} is not a plain name`);
    }
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  seal(plain: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(id));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(sealed: string): string {
    if (!SecretBox.isSealed(sealed)) throw new SecretUnreadable('not a sealed secret');
    const [id, data] = sealed.slice(PREFIX.length).split(':') as [string, string | undefined];
    const key = this.byId.get(id);
    if (!key || data === undefined)
      throw new SecretUnreadable(`sealed with key ${id}, which this process does not have`);
    const bytes = Buffer.from(data, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretUnreadable('a sealed secret cut short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretUnreadable(
        `a sealed secret that key ${id} does not open (altered, or another key of that name)`,
      );
    }
  }
}

/** Parses CV_SECRETS_KEYS: "id:base64key,…" (32-byte keys); throws on anything else. */
export function parseSecretKeys(text: string): SecretKey[] {
  return text
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, b64] = entry.split(':');
      const key = Buffer.from(b64 ?? '', 'base64');
      if (!id || key.length !== 32) throw new Error(`"${id ?? entry}:…" is not id:base64 of 32 bytes`);
      return { id, key };
    });
}

/** The keys of this installation: CV_SECRETS_KEYS, or the one generated into the key folder. */
export async function loadSecretBox(config: {
  readonly CV_SECRETS_KEYS?: string | undefined;
  readonly CV_SECRETS_KEY_DIR: string;
}): Promise<SecretBox> {
  if (config.CV_SECRETS_KEYS) return new SecretBox(parseSecretKeys(config.CV_SECRETS_KEYS));
  const dir = config.CV_SECRETS_KEY_DIR;
  const file = join(dir, KEY_FILE);
  const read = async () => parseSecretKeys(await readFile(file, 'utf8').catch(() => ''));
  const existing = await read();
  if (existing.length > 0) return new SecretBox(existing);
  await createFileOnce(file, `local:${randomBytes(32).toString('base64')}\n`);
  return new SecretBox(await read());
}

// How secret_env looks on its way in and out of the edges (the API and the dashboard).

export const SECRET_MASK = '********';

type Payload = Record<string, unknown> & { secret_env?: Record<string, string> };

/** The payload with every secret_env value sealed. */
export function sealSecrets<P extends Record<string, unknown>>(payload: P, box: SecretBox): P {
  const secrets = (payload as Payload).secret_env;
  if (!secrets || Object.keys(secrets).length === 0) return payload;
  return {
    ...payload,
    secret_env: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, box.seal(v)])),
  };
}

/** The payload as an answer shows it: secret values masked. */
export function maskSecrets(payload: Record<string, unknown>): Record<string, unknown> {
  const secrets = (payload as Payload).secret_env;
  if (!secrets || typeof secrets !== 'object') return payload;
  return { ...payload, secret_env: Object.fromEntries(Object.keys(secrets).map((k) => [k, SECRET_MASK])) };
}
