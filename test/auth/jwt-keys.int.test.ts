// The signing key: taken from the configuration, or generated once into the key directory with one
// winner when several processes start at the same time.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadJwtKeys, PRIVATE_KEY_FILE } from '../../src/auth/jwt-keys.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

const root = mkdtempSync(join(tmpdir(), 'cv-jwt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spki = (k: { publicKey: { export(o: { type: 'spki'; format: 'pem' }): string | Buffer } }) =>
  k.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('JWT signing keys', () => {
  it('are generated once, mode 0600, and shared by concurrent loaders', async () => {
    const dir = join(root, 'generated', 'jwt');
    const config = loadConfig({ CV_JWT_KEY_DIR: dir });
    const loaded = await Promise.all(Array.from({ length: 8 }, () => loadJwtKeys(config)));
    expect(new Set(loaded.map(spki)).size).toBe(1);
    expect(loaded[0]!.privateKey.asymmetricKeyType).toBe('ed25519');
    expect(readdirSync(dir)).toEqual([PRIVATE_KEY_FILE]);
    expect(statSync(join(dir, PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(spki(await loadJwtKeys(config))).toBe(spki(loaded[0]!));
  });

  it('come from CV_JWT_PRIVATE_KEY (one-line, \\n-escaped) when set, with the public key derived', async () => {
    const pair = generateKeyPairSync('ed25519');
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const config = loadConfig({
      CV_JWT_PRIVATE_KEY: pem.replaceAll('\n', '\\n'),
      CV_JWT_KEY_DIR: join(root, 'unused'),
    });
    const keys = await loadJwtKeys(config);
    expect(spki(keys)).toBe(pair.publicKey.export({ type: 'spki', format: 'pem' }));
  });

  it('refuse a non-Ed25519 key, a lone public key and a mismatched pair at configuration time', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    const pem = (
      k: { export(o: { type: 'pkcs8' | 'spki'; format: 'pem' }): string | Buffer },
      type: 'pkcs8' | 'spki',
    ) => k.export({ type, format: 'pem' }).toString();
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ CV_JWT_PRIVATE_KEY: pem(rsa.privateKey, 'pkcs8') })).toEqual([
      { variable: 'CV_JWT_PRIVATE_KEY', message: 'must be an Ed25519 private key in PEM' },
    ]);
    expect(problems({ CV_JWT_PUBLIC_KEY: pem(a.publicKey, 'spki') })).toEqual([
      { variable: 'CV_JWT_PUBLIC_KEY', message: 'set CV_JWT_PRIVATE_KEY too' },
    ]);
    expect(
      problems({
        CV_JWT_PRIVATE_KEY: pem(a.privateKey, 'pkcs8'),
        CV_JWT_PUBLIC_KEY: pem(b.publicKey, 'spki'),
      }),
    ).toEqual([{ variable: 'CV_JWT_PUBLIC_KEY', message: 'does not match CV_JWT_PRIVATE_KEY' }]);
    expect(() => loadConfig({})).not.toThrow(ConfigError);
    expect(loadConfig({})).toMatchObject({ CV_ACCESS_TOKEN_TTL_SECONDS: 900, CV_REFRESH_TOKEN_TTL_DAYS: 30 });
    expect(loadConfig({}).CV_JWT_KEY_DIR).toMatch(/[/\\]jwt$/);
  });
});
