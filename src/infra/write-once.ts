// A file that several processes may try to create at once, of which exactly one must win: each writes
// its whole content under a private name and links it into place (link fails when the name exists),
// so the file is never seen half-written. For generated keys: the loser reads the winner's.
import { randomUUID } from 'node:crypto';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Creates `file` (mode 0600, its folder 0700) with `content` unless it exists; never replaces it. */
export async function createFileOnce(file: string, content: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomUUID()}`);
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp);
  }
}
