// The local test image for CONTAINER jobs. No registry is reachable here, so it is a busybox root
// file system imported into Docker: busybox-static plus its applet links, a `nobody` user and /tmp.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localDefaults } from './paths.ts';
import { runChecked, runCommand } from './run-command.ts';

function dockerEnv(dockerHost: string): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: dockerHost };
}

export async function imageExists(dockerHost: string, image: string): Promise<boolean> {
  const r = await runCommand('docker', ['image', 'inspect', image], { env: dockerEnv(dockerHost) });
  return r.code === 0;
}

export async function ensureTestImage(
  dockerHost: string,
  log: (m: string) => void,
  image = localDefaults.testImage,
): Promise<void> {
  if (await imageExists(dockerHost, image)) return;
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) {
    log(`warning: busybox-static is not installed; the test image ${image} was not built`);
    return;
  }
  log(`building the local test image ${image} from busybox …`);
  const root = mkdtempSync(join(tmpdir(), 'cv-image-'));
  chmodSync(root, 0o755); // mkdtemp makes it 0700, which would lock the non-root user out of /
  try {
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(root, d));
    chmodSync(join(root, 'tmp'), 0o1777);
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    const applets = (await runChecked(busybox, ['--list'])).split('\n').filter((a) => a && a !== 'busybox');
    for (const applet of applets) symlinkSync('busybox', join(root, 'bin', applet));
    writeFileSync(
      join(root, 'etc', 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n',
    );
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    await runChecked(
      'sh',
      [
        '-c',
        `tar -C "$ROOT" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$IMAGE"`,
      ],
      {
        env: { ...dockerEnv(dockerHost), ROOT: root, IMAGE: image },
      },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
