// The integrator of examples/integrator.ts on real NATS: its durable consumer sees one user's commits
// in order and none of another's, resumes after its last ack when stopped and recreated, and the
// credentials of docs/nats-integrator.conf let it do exactly that and no more.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectIntegrator,
  durableName,
  ensureConsumer,
  type IntegratorCommit,
  runIntegrator,
} from '../../examples/integrator.ts';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { EventStore } from '../../src/events/event-store.ts';
import { streamDefinitions, streamNames } from '../../src/events/stream-definitions.ts';
import type { WorkflowCommand } from '../../src/events/workflow-events.ts';
import { resolveNatsServer } from '../../src/stack/nats-binary.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createHeartbeat, newId } from '../support/fixtures.ts';
import { freePort } from '../support/nats-server.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

/** Creates a workflow and pauses and resumes it: three commits on its subject; returns their sequences. */
async function workflowCommits(commands: CommandHandler, userId: string): Promise<number[]> {
  const id = newId();
  const seqs: number[] = [];
  const run = async (command: WorkflowCommand) =>
    seqs.push(
      (await commands.handle(workflowDecider, { commandId: newId(), userId, aggregateId: id, command }))
        .version,
    );
  await run(createHeartbeat(userId, id));
  await run({ type: 'PauseWorkflow', data: {} });
  await run({ type: 'ResumeWorkflow', data: {} });
  return seqs;
}

/** Runs the integrator until it has `count` commits, then stops it. */
async function collect(nc: NatsConnection, userId: string, count: number): Promise<IntegratorCommit[]> {
  const seen: IntegratorCommit[] = [];
  const abort = new AbortController();
  const done = runIntegrator(
    nc,
    userId,
    (commit) => {
      seen.push(commit);
      if (seen.length >= count) abort.abort();
    },
    abort.signal,
  );
  const timer = setTimeout(() => abort.abort(), 15_000);
  await done;
  clearTimeout(timer);
  return seen;
}

describe('integrator durable consumer', () => {
  it("sees one user's commits in order, none of another's, and resumes after its last ack", async () => {
    const commands = env.runtime.commands;
    const alice = newId();
    const bob = newId();
    const first = [
      ...(await workflowCommits(commands, alice)),
      ...(await workflowCommits(commands, bob)),
      ...(await workflowCommits(commands, alice)),
    ];
    const aliceFirst = [...first.slice(0, 3), ...first.slice(6)];

    let nc = await connectIntegrator(env.config.NATS_URL, alice);
    const before = await collect(nc, alice, 6);
    await nc.close();
    expect(before.map((c) => c.sequence)).toEqual(aliceFirst);
    for (const c of before) {
      expect(c.subject.startsWith(`cv.evt.${alice}.`)).toBe(true);
      for (const e of c.events) expect(e.userId).toBe(alice);
    }
    expect(before[0]!.events[0]).toMatchObject({
      type: 'WorkflowCreated',
      version: 1,
      aggregate: 'workflow',
    });

    // While it is stopped, both users go on.
    const later = [...(await workflowCommits(commands, bob)), ...(await workflowCommits(commands, alice))];
    nc = await connectIntegrator(env.config.NATS_URL, alice);
    const after = await collect(nc, alice, 3);
    await nc.close();
    expect(after.map((c) => c.sequence)).toEqual(later.slice(3));
    const info = await env.runtime.nats.jsm.consumers.info(streamNames.events, durableName(alice));
    expect(info.ack_floor.stream_seq).toBe(later.at(-1));
    expect(info.num_pending).toBe(0);
  });
});

describe('integrator credentials (docs/nats-integrator.conf)', () => {
  let server: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'cv-nats-auth-'));
  afterAll(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads its own user events and is refused everything else', async () => {
    const alice = newId();
    const bob = newId();
    const conf = readFileSync('docs/nats-integrator.conf', 'utf8').replaceAll('INTEGRATOR_USER_ID', alice);
    writeFileSync(join(dir, 'nats.conf'), conf);
    const port = await freePort();
    const monitor = await freePort();
    server = spawn(
      await resolveNatsServer(() => {}),
      [
        '-c',
        join(dir, 'nats.conf'),
        '-a',
        '127.0.0.1',
        '-p',
        String(port),
        '-m',
        String(monitor),
        '-sd',
        dir,
      ],
      { stdio: 'ignore' },
    );
    await waitUntil(
      'nats-server with accounts',
      async () => (await fetch(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`)).ok,
    );
    const url = `nats://127.0.0.1:${port}`;

    const system = await connect({ servers: url, user: 'chronoverse', pass: 'change-me-system' });
    const jsm = await jetstreamManager(system);
    const { description: _, ...events } = streamDefinitions({ logBufferMaxAgeHours: 1 })[0]!;
    await jsm.streams.add(events);
    const commands = new CommandHandler(new EventStore(jetstream(system), jsm));
    const aliceSeqs = await workflowCommits(commands, alice);
    await workflowCommits(commands, bob);

    const nc = await connectIntegrator(url, alice, { user: 'integrator', pass: 'change-me-integrator' });
    const seen = await collect(nc, alice, 3);
    expect(seen.map((c) => c.sequence)).toEqual(aliceSeqs);

    // Another user's events: neither by a consumer nor by a subscription.
    const ijsm = await jetstreamManager(nc, { checkAPI: false });
    await expect(
      ijsm.consumers.add(streamNames.events, {
        durable_name: durableName(alice),
        filter_subject: `cv.evt.${bob}.>`,
      }),
    ).rejects.toThrow(/permission|timeout/i);
    await expect(ensureConsumer(ijsm, bob)).rejects.toThrow(/permission|timeout/i);
    await expect(ijsm.streams.info(streamNames.events)).rejects.toThrow(/permission|timeout/i);
    const sub = nc.subscribe(`cv.evt.${bob}.>`);
    const refused = (async () => {
      for await (const _m of sub) return 'message';
      return 'closed';
    })().catch((err: unknown) => String(err));
    expect(await refused).toMatch(/permission/i);
    await nc.close();
    await system.close();
  });
});
