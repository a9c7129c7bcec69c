import { describe, expect, it } from 'vitest';
import {
  type Argon2Params,
  hashPassword,
  OWASP_ARGON2ID,
  PasswordHasher,
  verifyPassword,
} from './password.ts';

// Cheap parameters keep the suite fast; one test runs the production parameters.
const fast: Argon2Params = { memory: 64, passes: 1, parallelism: 1 };

describe('password hashing (argon2id)', () => {
  it('encodes a PHC string with the parameters, a random salt and the hash', async () => {
    const encoded = await hashPassword('correct horse', OWASP_ARGON2ID);
    expect(encoded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await hashPassword('correct horse', OWASP_ARGON2ID)).not.toBe(encoded);
    expect(await verifyPassword('correct horse', encoded)).toBe(true);
  });

  it('refuses a wrong password', async () => {
    const encoded = await hashPassword('correct horse', fast);
    expect(await verifyPassword('correct horse ', encoded)).toBe(false);
    expect(await verifyPassword('', encoded)).toBe(false);
  });

  it('verifies with the parameters stored in the string, not the current ones', async () => {
    const old = await hashPassword('pässwörd', { memory: 128, passes: 3, parallelism: 2 });
    expect(await new PasswordHasher(fast).verify('pässwörd', old)).toBe(true);
  });

  it('answers false for malformed or out-of-bounds strings instead of throwing', async () => {
    const good = await hashPassword('pw', fast);
    for (const bad of [
      '',
      'plain',
      good.replace('argon2id', 'argon2i'),
      good.replace('v=19', 'v=16'),
      good.replace('m=64', 'm=99999999'),
      good.replace(/\$[^$]+$/, '$AAAA'),
    ]) {
      expect(await verifyPassword('pw', bad)).toBe(false);
    }
  });

  it('does real work for unknown accounts and never says yes', async () => {
    const hasher = new PasswordHasher(fast);
    expect(await hasher.verifyUnknown('anything')).toBe(false);
    expect(await hasher.verifyUnknown('anything')).toBe(false);
  });
});
