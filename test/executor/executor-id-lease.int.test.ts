// One live executor per id (src/executor/executor-id-lease.ts), on a real nats-server: a second one
// with the same id is refused while the first lives, and takes the id once the first is released,
// once its entry lapses, or at once when the first was a process of this machine's pid namespace that
// is gone (only there does its pid name it: a container on the host network shares the host name).
// A holder keeps its id across an outage longer than its entry's life, and says so when another
// process has taken the id meanwhile.
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.ts';
import {
  EXECUTOR_BUCKET,
  ExecutorIdLease,
  type ExecutorIdLeaseOptions,
  thisPidSpace,
} from '../../src/executor/executor-id-lease.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { newId } from '../support/fixtures.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';

let server: TestNatsServer;
let nats: Nats;
const log = createLogger('test', 'error');

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connectNats(server.url, 'executor-id-lease-test');
});

afterAll(async () => {
  await nats?.nc.close();
  await server?.dispose();
});

/** A process of this machine that has exited: its pid names no one. */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(String(child.stdout).trim());
}

const timing = { ttlMs: 1500, refreshMs: 300 };
type Holder = NonNullable<ExecutorIdLeaseOptions['holder']>;
const lease = (id: string, holder: Holder) => new ExecutorIdLease(nats.nc, id, log, { ...timing, holder });
const elsewhere = (pid: number) => ({ host: 'another-host', pid, since: new Date().toISOString() });
const here = (pid: number) => ({
  host: hostname(),
  pid,
  since: new Date().toISOString(),
  pidSpace: thisPidSpace(),
});

describe('the executor id lease', () => {
  it('refuses a second executor with the id while the first lives, naming it; released, the id is free at once', async () => {
    const id = `lease-${newId().slice(0, 8)}`;
    const first = lease(id, elsewhere(41));
    await first.acquire();
    const second = lease(id, elsewhere(42));
    const refused = await second.acquire().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect(String((refused as Error).message)).toMatch(
      /CV_EXECUTOR_ID: .*running already \(host another-host, pid 41/,
    );

    await first.release();
    const started = Date.now();
    await second.acquire();
    expect(Date.now() - started).toBeLessThan(timing.ttlMs);
    await second.release();
  });

  /**
   * A holder in a process of its own (naming `killed`, or itself when undefined), SIGKILLed once it
   * holds the id; how long `next` then waits.
   */
  async function takenAfterKill(killed: Holder | undefined, next: Holder): Promise<number> {
    const id = `lease-${newId().slice(0, 8)}`;
    const holder = spawn(
      'node_modules/.bin/node',
      [
        '--import',
        'tsx',
        'test/support/lease-holder.process.ts',
        server.url,
        id,
        JSON.stringify({ ...timing, holder: killed }),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => holder.once('exit', r));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (b: Buffer) => String(b).includes('held') && resolve());
      holder.once('exit', (code) => reject(new Error(`the holder exited ${code} before it held the id`)));
    });
    holder.kill('SIGKILL');
    await exited;
    const started = Date.now();
    const taker = lease(id, next);
    await taker.acquire();
    const waited = Date.now() - started;
    await taker.release();
    return waited;
  }

  it('waits out the entry of an executor killed on another host, then takes the id', async () => {
    expect(await takenAfterKill(elsewhere(43), elsewhere(44))).toBeGreaterThan(timing.ttlMs / 2);
  });

  it('takes the id at once from a process of this pid namespace that is gone', async () => {
    // The holder names itself: its own pid, gone once it is killed and reaped.
    expect(await takenAfterKill(undefined, here(process.pid))).toBeLessThan(timing.ttlMs / 2);
  });

  it('waits out a holder with this host name in a pid namespace of its own, whatever its pid', async () => {
    // Two executor containers on the host network: one host name, pids that mean nothing to the other.
    const otherContainer = { ...here(deadPid()), pidSpace: 'another-boot/pid:[4026532000]' };
    expect(await takenAfterKill(otherContainer, here(process.pid))).toBeGreaterThan(timing.ttlMs / 2);
  });

  it('refuses while a live process of this pid namespace holds the id', async () => {
    const id = `lease-${newId().slice(0, 8)}`;
    // This test worker's parent is alive for as long as the test runs.
    const first = lease(id, here(process.ppid));
    await first.acquire();
    const second = lease(id, here(process.pid));
    await expect(second.acquire()).rejects.toBeInstanceOf(ConfigError);
    await first.release();
  });

  it('keeps its id across a NATS outage longer than its entry lives, when no one took it meanwhile', async () => {
    const id = `lease-${newId().slice(0, 8)}`;
    const own = await connectNats(server.url, 'executor-id-lease-outage');
    const holder = new ExecutorIdLease(own.nc, id, log, { ...timing, holder: elsewhere(45) });
    await holder.acquire();
    // Its refreshes fail for twice the entry's life.
    await server.stop();
    await new Promise((r) => setTimeout(r, timing.ttlMs * 2));
    await server.start();
    // Once its refreshes reach the server again, a second executor with the id is refused: the holder
    // has written its entry anew (or the old one had not lapsed).
    await waitUntil(
      'the holder refreshes again',
      async () => {
        const second = lease(id, elsewhere(46));
        return second.acquire().then(
          async () => {
            await second.release();
            return false;
          },
          (err: unknown) => err instanceof ConfigError,
        );
      },
      30_000,
    );
    await holder.release();
    await own.nc.close();
  }, 60_000);

  it('reports, as an error naming the id, that another process took its id while it ran', async () => {
    const id = `lease-${newId().slice(0, 8)}`;
    const lines: string[] = [];
    const watched = createLogger('test', 'error', (l) => lines.push(l));
    const holder = new ExecutorIdLease(nats.nc, id, watched, { ...timing, holder: elsewhere(47) });
    await holder.acquire();
    // Another process wrote the entry (as one does that took the id after it lapsed).
    const kv = await new Kvm(nats.nc).open(EXECUTOR_BUCKET);
    await kv.put(id, JSON.stringify(elsewhere(48)));
    await waitUntil(
      'the loss reported',
      async () => lines.some((l) => l.includes('another executor took this executor id') && l.includes(id)),
      10_000,
    );
    // It did not take the id back: the entry is still the other's.
    expect(JSON.parse((await kv.get(id))!.string()).pid).toBe(48);
    await holder.release();
    expect(JSON.parse((await kv.get(id))!.string()).pid).toBe(48);
  });
});
