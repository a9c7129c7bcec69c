// GET /events over a real socket: a user's workflow and job state changes and new notifications,
// live, scoped to the owner, resumable with Last-Event-ID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** Server-sent events of one connection, collected as they arrive; close() drops it. */
function connect(client: ApiClient, lastEventId?: string) {
  const abort = new AbortController();
  const events: SseEvent[] = [];
  const opened = fetch(`${client.baseUrl}/events`, {
    headers: {
      authorization: `Bearer ${client.token}`,
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
    signal: abort.signal,
  });
  const reading = (async () => {
    const res = await opened;
    if (res.status !== 200) throw new Error(`GET /events: ${res.status} ${await res.text()}`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e: SseEvent = { event: 'message', id: undefined, data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('data: ')) e.data += line.slice(6);
        }
        if (e.data) events.push(e);
      }
    }
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) throw err;
  });
  return {
    events,
    states: () => events.filter((e) => e.event === 'state').map((e) => ({ id: e.id, ...JSON.parse(e.data) })),
    notifications: () => events.filter((e) => e.event === 'notification').map((e) => JSON.parse(e.data)),
    async until(what: string, ok: () => boolean, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!ok()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      abort.abort();
      await reading;
    },
    opened,
  };
}

let system: TestSystem;
let alice: ApiClient;
let bob: ApiClient;

const heartbeat = (name: string) => ({
  name,
  kind: 'HEARTBEAT',
  payload: { endpoint: 'http://127.0.0.1:9/' },
  interval: 60,
});

beforeAll(async () => {
  system = await startSystem();
  alice = new ApiClient(system.baseUrl);
  bob = new ApiClient(system.baseUrl);
  await alice.signUp('alice.events@example.com');
  await bob.signUp('bob.events@example.com');
});

afterAll(async () => {
  await system?.dispose();
});

describe('GET /events', () => {
  it("streams the owner's state changes and notifications, resumes with Last-Event-ID, shows B nothing of A", async () => {
    expect(
      (await alice.request('PATCH', '/users/me', { body: { notification_preference: 'ALL' } })).status,
    ).toBe(200);
    // /events reads the preference from the users read model: wait until it has the change.
    await waitUntil(
      'preference stored',
      async () =>
        (await alice.get<{ notification_preference: string }>('/users/me')).body.notification_preference ===
        'ALL',
      10_000,
    );
    const a = connect(alice);
    const b = connect(bob);
    expect((await a.opened).headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The server subscribes before it answers: from here on nothing is missed.
    await b.opened;

    const wf = (await alice.post<{ id: string }>('/workflows', heartbeat('watched'))).body.id;
    const bobs = (await bob.post<{ id: string }>('/workflows', heartbeat('bobs'))).body.id;
    await a.until('WorkflowCreated', () => a.states().some((s) => s.type === 'WorkflowCreated'));
    const created = a.states().find((s) => s.type === 'WorkflowCreated')!;
    expect(created).toMatchObject({
      aggregate: 'workflow',
      aggregate_id: wf,
      data: { name: 'watched', kind: 'HEARTBEAT' },
    });
    expect(created.id).toMatch(/^\d+$/);
    expect(Date.parse(created.occurred_at)).not.toBeNaN();

    expect((await alice.post(`/workflows/${wf}/pause`)).status).toBe(200);
    await a.until('paused notification', () => a.notifications().some((n) => n.title === 'Workflow paused'));
    const paused = a.events.find((e) => e.event === 'notification')!;
    expect(JSON.parse(paused.data)).toMatchObject({
      kind: 'WEB_INFO',
      entity_id: wf,
      entity_type: 'WORKFLOW',
      action_url: `/workflows/${wf}`,
      read_at: null,
    });
    const pausedState = a.events.find(
      (e) => e.event === 'state' && JSON.parse(e.data).type === 'WorkflowPaused',
    )!;
    expect(paused.id).toBe(pausedState.id);

    await b.until("B's own workflow", () => b.states().some((s) => s.aggregate_id === bobs));
    // Ids are stream sequences of the owner's commits, increasing.
    const ids = a.states().map((s) => Number(s.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    await a.close();
    const lastSeen = a.events.at(-1)!.id!;

    // While A is away: a resume, a run-now and its job's events.
    expect((await alice.post(`/workflows/${wf}/resume`)).status).toBe(200);
    const jobId = (await alice.post<{ job_id: string }>(`/workflows/${wf}/jobs/schedule`)).body.job_id;
    const again = connect(alice, lastSeen);
    await again.until('the job queued', () =>
      again.states().some((s) => s.aggregate === 'job' && s.aggregate_id === jobId && s.type === 'JobQueued'),
    );
    const resumed = again.states();
    expect(resumed[0]).toMatchObject({ type: 'WorkflowResumed', aggregate_id: wf });
    expect(Number(resumed[0].id)).toBeGreaterThan(Number(lastSeen));
    // Nothing seen before the drop comes again.
    const before = new Set(a.states().map((s) => `${s.id}:${s.type}`));
    expect(resumed.filter((s) => before.has(`${s.id}:${s.type}`))).toEqual([]);
    expect(resumed.map((s) => s.type)).toEqual(
      expect.arrayContaining(['JobScheduled', 'JobCreated', 'JobQueued']),
    );
    await again.close();

    // B saw only B's own events.
    await b.close();
    expect(b.events.length).toBeGreaterThan(0);
    const mine = new Set([bobs]);
    expect(b.states().filter((s) => !mine.has(s.aggregate_id))).toEqual([]);
    expect(JSON.stringify(b.events)).not.toContain(wf);
  });

  it('needs a session and a numeric Last-Event-ID', async () => {
    expect((await fetch(`${system.baseUrl}/events`)).status).toBe(401);
    const res = await alice.get('/events', { 'last-event-id': 'x1' });
    expect(res.status).toBe(422);
  });
});
