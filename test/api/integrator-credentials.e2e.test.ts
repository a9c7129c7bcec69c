// Issued integrator credentials against a real nats-server configured as `chronoverse nats-config`
// prints it (two accounts, the API's auth callout): Chronoverse's roles connect as `chronoverse`, an
// integrator with the token POST /integrations/nats-credentials gave it. The token reads its owner's
// events and job logs (live and through its consumers) and is refused everything else: another user's
// subjects and consumers, the dispatch stream, the JetStream API of the streams, publishing, writing
// through reply subjects, and — once revoked or when it is garbage — connecting at all.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithCredential, type IntegratorCommit, runIntegrator } from '../../examples/integrator.ts';
import { loadNatsIssuer } from '../../src/auth/nats-issuer.ts';
import { integratorServerConfig } from '../../src/events/integrator-access.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { ApiClient } from '../support/system.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

interface Credential {
  id: string;
  name: string;
  user_id: string;
  token?: string;
  inbox_prefix: string;
  api_prefix: string;
  subjects: { events: string; logs: string };
  consumers: { stream: string; name: string; filter_subject: string }[];
}

const SESSION_SECONDS = 3;
const dir = mkdtempSync(join(tmpdir(), 'cv-integrators-'));
let nats: TestNatsServer;
let dbs: TestDatabases;
let api: RoleProcess;
/** Chronoverse's own connection (the `chronoverse` user): to look at the streams from outside. */
let system: NatsConnection;
let sjsm: JetStreamManager;
let baseUrl: string;
const alice = { client: undefined as unknown as ApiClient, id: '' };
const bob = { client: undefined as unknown as ApiClient, id: '' };
const open: NatsConnection[] = [];

beforeAll(async () => {
  const issuerDir = join(dir, 'issuer');
  const issuer = await loadNatsIssuer({ CV_NATS_ISSUER_SEED: undefined, CV_NATS_ISSUER_KEY_DIR: issuerDir });
  const password = randomBytes(16).toString('hex');
  const configFile = join(dir, 'nats.conf');
  writeFileSync(
    configFile,
    integratorServerConfig({ issuerPublicKey: issuer.getPublicKey(), chronoversePassword: password }),
  );
  nats = await startNatsServer({ configFile });

  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  dbs = await createTestDatabases({
    NATS_URL: `nats://chronoverse:${password}@127.0.0.1:${nats.port}`,
    CV_HTTP_PORT: String(port),
  });
  api = startRole('api,projector', dbs.config, {
    CV_JWT_KEY_DIR: join(dir, 'jwt'),
    CV_NATS_ISSUER_KEY_DIR: issuerDir,
    CV_NATS_SESSION_SECONDS: String(SESSION_SECONDS),
    CV_LOG_LEVEL: 'warn',
  });
  try {
    await waitUntil('api up', async () => (await fetch(`${baseUrl}/healthz`)).ok, 60_000);
  } catch (err) {
    throw new Error(`${String(err)}\n${api.output()}`);
  }
  system = await connect({ servers: nats.url, user: 'chronoverse', pass: password });
  sjsm = await jetstreamManager(system);
  alice.client = new ApiClient(baseUrl);
  alice.id = await alice.client.signUp('alice-integrations@example.com');
  bob.client = new ApiClient(baseUrl);
  bob.id = await bob.client.signUp('bob-integrations@example.com');
}, 120_000);

afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => {});
  await system?.close();
  await api?.kill('SIGTERM');
  await dbs?.dispose();
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function issue(client: ApiClient, name = 'sync'): Promise<Credential> {
  const res = await client.post<Credential>('/integrations/nats-credentials', { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** An integrator's connection with its token; errors the server sends it are collected. */
async function connectWith(
  credential: Pick<Credential, 'token' | 'inbox_prefix'>,
  options: { maxReconnectAttempts?: number } = {},
): Promise<{ nc: NatsConnection; errors: string[] }> {
  const nc = await connect({
    servers: nats.url,
    token: credential.token ?? '',
    inboxPrefix: credential.inbox_prefix,
    maxReconnectAttempts: options.maxReconnectAttempts ?? 0,
    reconnectTimeWait: 200,
  });
  open.push(nc);
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
  })();
  return { nc, errors };
}

async function createWorkflow(client: ApiClient, name: string): Promise<string> {
  const res = await client.post<{ id: string }>('/workflows', {
    name,
    kind: 'HEARTBEAT',
    payload: { endpoint: 'http://127.0.0.1:9/health' },
    interval: 60,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Resolves with what ends a subscription: its first message's subject, or the error that closed it. */
function firstOf(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject);
  return (async () => {
    for await (const m of sub) return `message ${m.subject}`;
    return 'closed';
  })().catch((err: unknown) => `error ${String(err)}`);
}

const refusal = /permission/i;

describe('integrator credentials issued by the API', () => {
  it("read the owner's events and job logs, live and through their consumers", {
    timeout: 60_000,
  }, async () => {
    const cred = await issue(alice.client, 'billing sync');
    expect(cred.token).toMatch(/^cvn_[A-Za-z0-9_-]{43}$/);
    expect(cred.subjects).toEqual({ events: `cv.evt.${alice.id}.>`, logs: `cv.logs.${alice.id}.>` });
    expect(cred.consumers.map((c) => [c.stream, c.filter_subject])).toEqual([
      [streamNames.events, `cv.evt.${alice.id}.>`],
      [streamNames.logs, `cv.logs.${alice.id}.>`],
    ]);
    const listed = await alice.client.get<{ items: Credential[] }>('/integrations/nats-credentials');
    expect(listed.body.items.map((c) => c.id)).toContain(cred.id);
    expect(JSON.stringify(listed.body)).not.toContain(cred.token);
    expect(
      (await bob.client.get<{ items: Credential[] }>('/integrations/nats-credentials')).body.items,
    ).toEqual([]);

    const { nc, errors } = await connectWith(cred);
    const live = firstOf(nc, cred.subjects.events);
    const liveLogs = firstOf(nc, cred.subjects.logs);
    await nc.flush();
    await createWorkflow(bob.client, 'not for alice');
    const workflowId = await createWorkflow(alice.client, 'for alice');
    expect(await live).toBe(`message cv.evt.${alice.id}.workflow.${workflowId}`);

    // The durable consumer: the user's history, then the new workflow; never bob's.
    const js = jetstream(nc, { apiPrefix: cred.api_prefix });
    const consumer = await js.consumers.get(streamNames.events, cred.consumers[0]!.name);
    const subjects: string[] = [];
    while (!subjects.includes(`cv.evt.${alice.id}.workflow.${workflowId}`)) {
      const batch = await consumer.fetch({ max_messages: 10, expires: 2_000 });
      let n = 0;
      for await (const m of batch) {
        subjects.push(m.subject);
        await m.ackAck();
        n++;
      }
      if (n === 0) break;
    }
    expect(subjects).toContain(`cv.evt.${alice.id}.user.${alice.id}`);
    expect(subjects).toContain(`cv.evt.${alice.id}.workflow.${workflowId}`);
    expect(subjects.every((s) => s.startsWith(`cv.evt.${alice.id}.`))).toBe(true);
    const info = await sjsm.consumers.info(streamNames.events, cred.consumers[0]!.name);
    expect(info.num_ack_pending).toBe(0);

    // Job logs: lines as an executor ships them, for alice's job and bob's.
    system.publish(`cv.logs.${bob.id}.job-b`, 'bob line');
    system.publish(`cv.logs.${alice.id}.job-a`, 'alice line');
    await system.flush();
    expect(await liveLogs).toBe(`message cv.logs.${alice.id}.job-a`);
    const logs = await js.consumers.get(streamNames.logs, cred.consumers[1]!.name);
    const line = await logs.next({ expires: 5_000 });
    expect(line?.subject).toBe(`cv.logs.${alice.id}.job-a`);
    expect(line?.string()).toBe('alice line');
    await line?.ackAck();
    // (Its authorization may have ended and been renewed meanwhile: the session here is 3 s.)
    expect(errors.filter((e) => /permission/i.test(e))).toEqual([]);
  });

  it('serve examples/integrator.ts as the documentation says', { timeout: 60_000 }, async () => {
    const cred = await issue(alice.client, 'example');
    const workflowId = await createWorkflow(alice.client, 'followed by the example');
    const nc = await connectWithCredential(nats.url, cred as Credential & { token: string });
    open.push(nc);
    const seen: IntegratorCommit[] = [];
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 20_000);
    await runIntegrator(
      nc,
      alice.id,
      (commit) => {
        seen.push(commit);
        if (commit.subject === `cv.evt.${alice.id}.workflow.${workflowId}`) abort.abort();
      },
      abort.signal,
      { consumer: cred.consumers[0]!.name, apiPrefix: cred.api_prefix },
    );
    clearTimeout(timer);
    expect(seen.at(-1)?.subject).toBe(`cv.evt.${alice.id}.workflow.${workflowId}`);
    expect(seen.every((c) => c.events.every((e) => e.userId === alice.id))).toBe(true);
  });

  it('refuse every other subject, consumer, stream API and publish', { timeout: 60_000 }, async () => {
    const cred = await issue(alice.client, 'attacker');
    const bobs = await issue(bob.client, 'bob');
    const { nc, errors } = await connectWith(cred);
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2_000, apiPrefix: cred.api_prefix });
    // The server's own JetStream API subjects too, not only those under the integrators' prefix.
    const direct = await jetstreamManager(nc, { checkAPI: false, timeout: 2_000 });

    // Another user's live subjects, everything, and another connection's inbox.
    for (const subject of [
      `cv.evt.${bob.id}.>`,
      `cv.logs.${bob.id}.>`,
      'cv.>',
      '>',
      `${bobs.inbox_prefix}.>`,
      '_INBOX.>',
    ]) {
      expect(await firstOf(nc, subject), subject).toMatch(/error .*permission/i);
    }

    // No consumer may be created: not on the dispatch work queue, not even its own filter on CV_EVENTS.
    for (const m of [jsm, direct]) {
      await expect(
        m.consumers.add(streamNames.dispatch, { durable_name: 'steal', ack_policy: AckPolicy.Explicit }),
      ).rejects.toThrow(refusal);
      await expect(
        m.consumers.add(streamNames.events, {
          durable_name: `mine-${cred.id}`,
          filter_subject: `cv.evt.${alice.id}.>`,
          ack_policy: AckPolicy.Explicit,
        }),
      ).rejects.toThrow(refusal);
      // Another credential's consumer (bob's), the dispatch consumers, and the JetStream API of every stream.
      await expect(m.consumers.info(streamNames.events, bobs.consumers[0]!.name)).rejects.toThrow(refusal);
      await expect(m.consumers.info(streamNames.dispatch, 'executors-default')).rejects.toThrow(refusal);
      for (const stream of [streamNames.events, streamNames.dispatch, streamNames.logs]) {
        await expect(m.streams.info(stream)).rejects.toThrow(refusal);
        await expect(m.streams.getMessage(stream, { seq: 1 })).rejects.toThrow(refusal);
      }
      await expect(m.streams.list().next()).rejects.toThrow(refusal);
    }
    await expect(
      jetstream(nc, { apiPrefix: cred.api_prefix }).consumers.get(
        streamNames.events,
        bobs.consumers[0]!.name,
      ),
    ).rejects.toThrow(refusal);
    await expect(
      nc.request(`$JS.API.DIRECT.GET.${streamNames.events}`, '{"seq":1}', { timeout: 1_000 }),
    ).rejects.toThrow(refusal);

    // Bob's own integrator follows his events live meanwhile.
    const { nc: bobNc } = await connectWith(bobs);
    const toBob: { subject: string; data: string }[] = [];
    bobNc.subscribe(bobs.subjects.events, {
      callback: (_e, m) => {
        toBob.push({ subject: m.subject, data: m.string() });
      },
    });
    await bobNc.flush();

    // Publishing: an event, a dispatch, a log line. None reaches a stream.
    const before = await Promise.all(
      [streamNames.events, streamNames.dispatch, streamNames.logs].map(
        async (s) => (await sjsm.streams.info(s)).state.messages,
      ),
    );
    nc.publish(`cv.evt.${alice.id}.workflow.forged`, '[]');
    nc.publish('cv.dispatch.default', '{}');
    nc.publish(`cv.logs.${bob.id}.job`, 'forged line');
    // A reply subject is checked by no permission: the consumer's answers sent to a stream's subject
    // would be stored in one shared account. Across the accounts they come back to the integrators'.
    nc.publish(`${cred.api_prefix}.CONSUMER.INFO.${streamNames.events}.${cred.consumers[0]!.name}`, '', {
      reply: `cv.logs.${bob.id}.forged-by-reply`,
    });
    nc.publish(
      `${cred.api_prefix}.CONSUMER.MSG.NEXT.${streamNames.events}.${cred.consumers[0]!.name}`,
      '{"batch":5}',
      {
        reply: 'cv.dispatch.default',
      },
    );
    // Answers sent to bob's live subjects do arrive there (the integrators share one account), but
    // none of them is a commit under bob's subject: a consumer's JSON, an empty status, or alice's own
    // events under alice's subjects. An integrator that keeps only its own commits is not fooled.
    nc.publish(`${cred.api_prefix}.CONSUMER.INFO.${streamNames.events}.${cred.consumers[0]!.name}`, '', {
      reply: `cv.evt.${bob.id}.workflow.spoofed`,
    });
    nc.publish(
      `${cred.api_prefix}.CONSUMER.MSG.NEXT.${streamNames.events}.${cred.consumers[0]!.name}`,
      '{"batch":2}',
      {
        reply: `cv.evt.${bob.id}.workflow.spoofed`,
      },
    );
    await nc.flush();
    await new Promise((r) => setTimeout(r, 1_000));
    const bobsCommits = toBob.filter((m) => {
      if (!m.subject.startsWith(`cv.evt.${bob.id}.`)) return false;
      try {
        const events = JSON.parse(m.data) as { userId?: string }[];
        return Array.isArray(events) && events.length > 0 && events.every((e) => e.userId === bob.id);
      } catch {
        return false;
      }
    });
    expect(bobsCommits).toEqual([]);
    const after = await Promise.all(
      [streamNames.events, streamNames.dispatch, streamNames.logs].map(
        async (s) => (await sjsm.streams.info(s)).state.messages,
      ),
    );
    expect(after).toEqual(before);
    expect(errors.join('\n')).toMatch(/Permissions Violation for Publish to "cv\.evt\./);
    expect(errors.join('\n')).toMatch(/Permissions Violation for Publish to "cv\.dispatch\.default"/);
    // The connection survived all of it, and still reads its own events.
    expect(nc.isClosed()).toBe(false);
    expect((await jsm.consumers.info(streamNames.events, cred.consumers[0]!.name)).name).toBe(
      cred.consumers[0]!.name,
    );
  });

  it('refuse garbage and revoked tokens; revoking ends an open connection within the session', {
    timeout: 60_000,
  }, async () => {
    const cred = await issue(alice.client, 'to revoke');
    for (const token of ['cvn_garbage', 'not-even-ours', `${cred.token}x`, '']) {
      await expect(connectWith({ token, inbox_prefix: cred.inbox_prefix }), token).rejects.toThrow(
        /authorization/i,
      );
    }
    await expect(
      connect({ servers: nats.url, user: 'chronoverse', pass: 'wrong', maxReconnectAttempts: 0 }),
    ).rejects.toThrow(/authorization/i);

    const { nc } = await connectWith(cred, { maxReconnectAttempts: 2 });
    const closed = nc.closed();
    // Only the owner can revoke it; someone else's attempt is the same 404 as an unknown id.
    expect((await bob.client.request('DELETE', `/integrations/nats-credentials/${cred.id}`)).status).toBe(
      404,
    );
    expect((await alice.client.request('DELETE', `/integrations/nats-credentials/${cred.id}`)).status).toBe(
      204,
    );
    expect((await alice.client.request('DELETE', `/integrations/nats-credentials/${cred.id}`)).status).toBe(
      404,
    );
    const listed = await alice.client.get<{ items: Credential[] }>('/integrations/nats-credentials');
    expect(listed.body.items.map((c) => c.id)).not.toContain(cred.id);

    await expect(connectWith(cred)).rejects.toThrow(/authorization/i);
    // Its consumers are gone at once; its open connection is closed when its authorization ends and
    // cannot come back.
    await expect(sjsm.consumers.info(streamNames.events, cred.consumers[0]!.name)).rejects.toThrow(
      /not found/i,
    );
    await expect(sjsm.consumers.info(streamNames.logs, cred.consumers[1]!.name)).rejects.toThrow(
      /not found/i,
    );
    const started = Date.now();
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('still open')), 20_000)),
    ]);
    expect(Date.now() - started).toBeLessThan(SESSION_SECONDS * 1000 + 10_000);
  });
});
