// Webhook delivery through failures, against real processes (api; projector as its own process so it
// can be killed), NATS, PostgreSQL and a real HTTP receiver:
// - the receiver is down (its port closed) for 30 s while events occur, then back: it gets every
//   event, each workflow's in log order, none lost, a repeat only ever with the same id and body;
// - the projector (the delivery worker) is SIGKILLed while a delivery is in flight, and more events
//   occur while it is dead: once it is restarted every event arrives, in order, none lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';
import {
  documentedVerifier,
  type Received,
  type Verify,
  WebhookReceiver,
} from '../support/webhook-receiver.ts';

const env = {
  CV_HEARTBEAT_ALLOWED_NETWORKS: '127.0.0.1',
  CV_WEBHOOK_BACKOFF_BASE_MS: '200',
  CV_WEBHOOK_BACKOFF_CAP_MS: '2000',
  CV_WEBHOOK_POLL_MS: '100',
  CV_WEBHOOK_TIMEOUT_SECONDS: '5',
  CV_WEBHOOK_DISABLE_AFTER_FAILURES: '10000',
};

let system: TestSystem;
let projector: RoleProcess;
let alice: ApiClient;
let verify: Verify;
const receiver = new WebhookReceiver();

const startProjector = async () => {
  projector = startRole('projector', system.dbs.config, { ...env, CV_LOG_LEVEL: 'info' });
  await projector.waitFor('projector started');
};

beforeAll(async () => {
  verify = await documentedVerifier();
  await receiver.start();
  system = await startSystem(env, 'api');
  await startProjector();
  alice = new ApiClient(system.baseUrl);
  await alice.signUp('alice-outage@example.com');
}, 120_000);

afterAll(async () => {
  await projector?.kill('SIGTERM');
  await system?.dispose();
  await receiver.stop();
});

async function createWorkflow(name: string): Promise<string> {
  const res = await alice.post<{ id: string }>('/workflows', {
    name,
    kind: 'HEARTBEAT',
    payload: { endpoint: 'https://example.invalid/health' },
    interval: 10_080,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function renames(ids: readonly string[], names: readonly string[]): Promise<void> {
  for (const name of names) {
    const answers = await Promise.all(
      ids.map((id) =>
        alice.request('PUT', `/workflows/${id}`, { body: { name: `${id.slice(0, 4)}-${name}` } }),
      ),
    );
    for (const a of answers) expect(a.status).toBe(200);
  }
}

const nameOf = (r: Received) =>
  r.body.type === 'WorkflowCreated'
    ? 'created'
    : (r.body.data.changes as { name: string }).name.split('-').slice(1).join('-');

/** Each workflow's events as first received: in log order, each exactly as expected. */
function expectEveryEventInOrder(ids: readonly string[], names: readonly string[], secret: string): void {
  const first = receiver.firstArrivals();
  for (const id of ids) {
    const mine = first.filter((r) => r.body.workflow_id === id);
    expect(mine.map(nameOf), id).toEqual(['created', ...names]);
    const sequences = mine.map((r) => r.body.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  }
  expect(first).toHaveLength(ids.length * (names.length + 1));
  // A repeat is the same delivery: same event id, same body; every one signed.
  const byId = new Map(first.map((r) => [r.body.id, r.raw]));
  for (const r of receiver.received) {
    expect(r.raw).toBe(byId.get(r.body.id));
    expect(r.headers['chronoverse-event-id']).toBe(r.body.id);
    expect(verify(secret, String(r.headers['chronoverse-signature']), r.raw)).toBe(true);
  }
}

async function subscribe(): Promise<{ id: string; secret: string }> {
  const res = await alice.post<{ id: string; secret: string }>('/webhooks', {
    url: receiver.url,
    event_types: ['WorkflowCreated', 'WorkflowUpdated'],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

type Delivery = { status: string; attempts: number; last_error: string | null };
const deliveries = async (hookId: string) =>
  (await alice.get<{ items: Delivery[] }>(`/webhooks/${hookId}/deliveries?limit=100`)).body.items;

describe('webhook delivery through failures', () => {
  it('a receiver down for 30 s then back gets every event, in order per workflow, none lost', async () => {
    const hook = await subscribe();
    receiver.received.length = 0;
    await receiver.stop();
    const downAt = Date.now();
    const ids = [await createWorkflow('a'), await createWorkflow('b'), await createWorkflow('c')];
    const names = Array.from({ length: 10 }, (_, i) => `n${i + 1}`);
    await renames(ids, names);
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - downAt))));

    const during = await deliveries(hook.id);
    expect(during).toHaveLength(33);
    expect(during.every((d) => d.status === 'pending')).toBe(true);
    // Only the three queue heads were tried, many times over, and the error says why.
    const tried = during.filter((d) => d.attempts > 0);
    expect(tried).toHaveLength(3);
    for (const d of tried) {
      expect(d.attempts).toBeGreaterThan(5);
      expect(d.last_error).toMatch(/ECONNREFUSED/);
    }

    const upAt = Date.now();
    await receiver.restart();
    await waitUntil('every event received', async () => receiver.firstArrivals().length >= 33, 30_000);
    const caughtUpMs = Date.now() - upAt;
    expectEveryEventInOrder(ids, names, hook.secret);
    await waitUntil(
      'all delivered in the log',
      async () => (await deliveries(hook.id)).every((d) => d.status === 'delivered'),
      10_000,
    );
    console.log(
      `receiver down 30 s: 33 events, ${receiver.received.length} requests after it came back, all received ${caughtUpMs} ms after`,
    );
    expect((await alice.request('DELETE', `/webhooks/${hook.id}`)).status).toBe(204);
  }, 120_000);

  it('the delivery worker SIGKILLed mid-delivery, with events occurring while it is dead, loses nothing', async () => {
    const hook = await subscribe();
    receiver.received.length = 0;
    receiver.mode = { slowMs: 1500 };
    let inFlight!: () => void;
    const firstRequest = new Promise<void>((r) => (inFlight = r));
    receiver.onRequest = () => inFlight();

    const ids = [await createWorkflow('k1'), await createWorkflow('k2')];
    await renames(ids, ['m1', 'm2', 'm3', 'm4', 'm5']);
    await firstRequest;
    await projector.kill('SIGKILL');
    const receivedBeforeKill = receiver.received.length;
    receiver.mode = 'ok';
    receiver.onRequest = undefined;
    // Events while the worker is dead (the API waits out its read-your-writes deadline: no projector).
    await renames(ids, ['d1', 'd2']);
    await startProjector();

    await waitUntil('every event received', async () => receiver.firstArrivals().length >= 16, 60_000);
    expectEveryEventInOrder(ids, ['m1', 'm2', 'm3', 'm4', 'm5', 'd1', 'd2'], hook.secret);
    await waitUntil(
      'all delivered in the log',
      async () => (await deliveries(hook.id)).every((d) => d.status === 'delivered'),
      15_000,
    );
    const repeats = receiver.received.length - receiver.firstArrivals().length;
    console.log(
      `SIGKILL mid-delivery: ${receivedBeforeKill} request(s) received and held unanswered at the kill, 16 events, ${repeats} repeat(s) (same id)`,
    );
  }, 120_000);
});
