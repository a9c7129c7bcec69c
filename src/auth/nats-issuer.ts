import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAccount, fromSeed, type KeyPair } from '@nats-io/nkeys';
import type { Config } from '../config/config.ts';
import { createFileOnce } from '../infra/write-once.ts';

export const ISSUER_SEED_FILE = 'account.nk';

type IssuerConfig = Pick<Config, 'CV_NATS_ISSUER_SEED' | 'CV_NATS_ISSUER_KEY_DIR'>;

/** An account key pair (public key A…, seed SA…) from its seed; throws for any other kind of key. */
export function accountKeyFromSeed(seed: string): KeyPair {
  const kp = fromSeed(new TextEncoder().encode(seed.trim()));
  if (!kp.getPublicKey().startsWith('A')) throw new Error('not an account nkey seed (SA…)');
  return kp;
}

export async function loadNatsIssuer(config: IssuerConfig): Promise<KeyPair> {
  if (config.CV_NATS_ISSUER_SEED) return accountKeyFromSeed(config.CV_NATS_ISSUER_SEED);
  const dir = config.CV_NATS_ISSUER_KEY_DIR;
  const file = join(dir, ISSUER_SEED_FILE);
  const existing = await readSeed(file);
  if (existing) return existing;
  const seed = new TextDecoder().decode(createAccount().getSeed());
  await createFileOnce(file, `${seed}\n`);
  const winner = await readSeed(file);
  if (!winner) throw new Error(`NATS issuer key ${file} vanished right after it was written`);
  return winner;
}

async function readSeed(file: string): Promise<KeyPair | undefined> {
  try {
    return accountKeyFromSeed(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`NATS issuer key ${file}: ${String(err)}`);
  }
}
