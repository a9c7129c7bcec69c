import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSecretBox, parseSecretKeys, SecretBox, SecretUnreadable } from './secret-box.ts';

const key = (id: string, byte: number) => ({ id, key: Buffer.alloc(32, byte) });

describe('sealed secrets', () => {
  it('open to what was sealed, and never show it', () => {
    const box = new SecretBox([key('k1', 1)]);
    const sealed = box.seal('hunter2 and more');
    expect(sealed).toMatch(/^cvsecret:v1:k1:/);
    expect(sealed).not.toContain('hunter2');
    expect(box.seal('hunter2 and more')).not.toBe(sealed);
    expect(box.open(sealed)).toBe('hunter2 and more');
  });

  it('rotate: a new key in front seals, the old one still opens what it sealed', () => {
    const old = new SecretBox([key('k1', 1)]);
    const sealedBefore = old.seal('before');
    const rotated = new SecretBox([key('k2', 2), key('k1', 1)]);
    expect(rotated.open(sealedBefore)).toBe('before');
    expect(rotated.seal('after')).toMatch(/^cvsecret:v1:k2:/);
    expect(() => old.open(rotated.seal('after'))).toThrow(SecretUnreadable);
  });

  it('refuse what was altered or sealed with another key of the same name', () => {
    const box = new SecretBox([key('k1', 1)]);
    const sealed = box.seal('value');
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    expect(() => box.open(flipped)).toThrow(SecretUnreadable);
    expect(() => new SecretBox([key('k1', 9)]).open(sealed)).toThrow(SecretUnreadable);
    expect(() => box.open('plain text')).toThrow(SecretUnreadable);
  });

  it('read CV_SECRETS_KEYS, and refuse keys of the wrong size', () => {
    const k = Buffer.alloc(32, 7).toString('base64');
    expect(parseSecretKeys(`k2:${k}, k1:${k}`).map((x) => x.id)).toEqual(['k2', 'k1']);
    expect(() => parseSecretKeys('k1:c2hvcnQ=')).toThrow(/32 bytes/);
  });

  it('without CV_SECRETS_KEYS, make one key once for the installation, readable by its owner only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cv-secrets-'));
    try {
      const [a, b] = await Promise.all([
        loadSecretBox({ CV_SECRETS_KEY_DIR: dir }),
        loadSecretBox({ CV_SECRETS_KEY_DIR: dir }),
      ]);
      expect(b.open(a.seal('shared'))).toBe('shared');
      const file = join(dir, 'secrets.key');
      expect(readFileSync(file, 'utf8')).toMatch(/^local:/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
