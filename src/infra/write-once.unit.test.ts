import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileOnce } from './write-once.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('createFileOnce', () => {
  it('lets exactly one of many concurrent writers win, whole, private, and leaves nothing else behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cv-write-once-'));
    dirs.push(dir);
    const file = join(dir, 'keys', 'key.pem');
    const contents = Array.from({ length: 20 }, (_, i) => `key ${i}\n`.repeat(1000));
    await Promise.all(contents.map((c) => createFileOnce(file, c)));
    expect(contents).toContain(readFileSync(file, 'utf8'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'keys'))).toEqual(['key.pem']);
    // Never replaced once there.
    const first = readFileSync(file, 'utf8');
    await createFileOnce(file, 'another');
    expect(readFileSync(file, 'utf8')).toBe(first);
  });
});
