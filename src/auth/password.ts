// Password hashing with argon2id (memory-hard, Node's built-in crypto.argon2) in the PHC string
// format `$argon2id$v=19$m=…,t=…,p=…$salt$hash`, so parameters can be raised later without breaking
// old hashes: verification reads them from the stored string.
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Argon2Params {
  /** Memory in KiB. */
  readonly memory: number;
  /** Passes over memory. */
  readonly passes: number;
  readonly parallelism: number;
}

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): about 30–60 ms on one core of a small machine. */
export const OWASP_ARGON2ID: Argon2Params = { memory: 19_456, passes: 2, parallelism: 1 };

const SALT_BYTES = 16;
const TAG_BYTES = 32;
const VERSION = 19; // 0x13, the only Argon2 version Node implements
// Bounds on what a stored string may ask for, so a corrupted row cannot make one login eat the host.
const LIMITS = { memory: [8, 1_048_576], passes: [1, 20], parallelism: [1, 16] } as const;
const PHC = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, params: Argon2Params, tagLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    argon2('argon2id', { message: password, nonce: salt, tagLength, ...params }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

// PHC strings use standard base64 without padding.
const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, params: Argon2Params = OWASP_ARGON2ID): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const tag = await derive(password, salt, params, TAG_BYTES);
  const { memory: m, passes: t, parallelism: p } = params;
  return `$argon2id$v=${VERSION}$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(tag)}`;
}

interface Decoded {
  readonly params: Argon2Params;
  readonly salt: Buffer;
  readonly tag: Buffer;
}

function decode(encoded: string): Decoded | undefined {
  const m = PHC.exec(encoded);
  if (!m) return undefined;
  const [v, memory, passes, parallelism, salt = '', tag = ''] = m.slice(1);
  const params = { memory: Number(memory), passes: Number(passes), parallelism: Number(parallelism) };
  const inBounds = (Object.keys(LIMITS) as (keyof Argon2Params)[]).every(
    (k) => params[k] >= LIMITS[k][0] && params[k] <= LIMITS[k][1],
  );
  if (Number(v) !== VERSION || !inBounds) return undefined;
  return { params, salt: Buffer.from(salt, 'base64'), tag: Buffer.from(tag, 'base64') };
}

/** True when `password` produced `encoded`; false (never throws) for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const d = decode(encoded);
  if (!d || d.salt.length < 8 || d.tag.length < 16) return false;
  const tag = await derive(password, d.salt, d.params, d.tag.length);
  return timingSafeEqual(tag, d.tag);
}

/**
 * Hashing with fixed parameters plus `verifyUnknown`: the same work as a real verification for an
 * email that has no account, so the response time does not tell whether the email is registered.
 */
export class PasswordHasher {
  private decoy: Promise<string> | undefined;

  constructor(private readonly params: Argon2Params = OWASP_ARGON2ID) {}

  hash(password: string): Promise<string> {
    return hashPassword(password, this.params);
  }

  verify(password: string, encoded: string): Promise<boolean> {
    return verifyPassword(password, encoded);
  }

  /** Computes the decoy hash ahead of the first unknown email, whose answer would otherwise be slower. */
  async prepare(): Promise<void> {
    await this.decoyHash();
  }

  /** Always false, after as much work as `verify`. */
  async verifyUnknown(password: string): Promise<false> {
    await verifyPassword(password, await this.decoyHash());
    return false;
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= hashPassword(randomBytes(16).toString('hex'), this.params);
    return this.decoy;
  }
}
