// The Ed25519 key pair that signs access tokens: from the configuration when set, otherwise generated
// once into CV_JWT_KEY_DIR and shared by every process of this installation. Only the private key is
// stored; the public key is derived from it, so the two can never disagree.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { createFileOnce } from '../infra/write-once.ts';

export interface JwtKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export const PRIVATE_KEY_FILE = 'ed25519-private.pem';

type KeyConfig = Pick<Config, 'CV_JWT_PRIVATE_KEY' | 'CV_JWT_PUBLIC_KEY' | 'CV_JWT_KEY_DIR'>;

export async function loadJwtKeys(config: KeyConfig): Promise<JwtKeyPair> {
  if (config.CV_JWT_PRIVATE_KEY) {
    const privateKey = createPrivateKey(config.CV_JWT_PRIVATE_KEY);
    const publicKey = config.CV_JWT_PUBLIC_KEY
      ? createPublicKey(config.CV_JWT_PUBLIC_KEY)
      : createPublicKey(privateKey);
    return { privateKey, publicKey };
  }
  return loadOrGenerate(config.CV_JWT_KEY_DIR);
}

async function loadOrGenerate(dir: string): Promise<JwtKeyPair> {
  const file = join(dir, PRIVATE_KEY_FILE);
  const existing = await readPrivateKey(file);
  if (existing) return existing;
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
  await createFileOnce(file, String(pem));
  const winner = await readPrivateKey(file);
  if (!winner) throw new Error(`JWT key ${file} vanished right after it was written`);
  return winner;
}

async function readPrivateKey(file: string): Promise<JwtKeyPair | undefined> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`JWT key ${file} is ${privateKey.asymmetricKeyType}, not Ed25519`);
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
