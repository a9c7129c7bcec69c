// The API against its own document, /openapi.json, as an outside fuzzer would drive it: for every
// operation, requests generated from the document's schemas (fast-check, seeded). A request the
// document calls valid gets a 2xx or a documented domain answer (404 for an id that names nothing,
// 409 for a state that refuses, 412 for a precondition) — never a 422 for what the document allows;
// a request it calls invalid (an unknown body property where there may be none, a missing required
// one, a value of the wrong type, an id that is not a UUID) gets a documented 4xx; every answer is one
// the document lists, with the Content-Type and body schema it gives (Ajv, JSON Schema 2020-12); and
// none is a 500. CV_CONTRACT_RUNS sets the valid requests per operation (default 200; a third as
// many invalid ones; `npm run test:contract` runs 2,000); CV_CONTRACT_SEED the seed (printed on failure).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseValidator } from '../support/contract/response-validator.ts';
import { type Doc, type Schema, SchemaArbitraries } from '../support/contract/schema-arbitrary.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

const RUNS = Number(process.env.CV_CONTRACT_RUNS ?? 200);
const SEED = Number(process.env.CV_CONTRACT_SEED ?? 20261206);

/** Operations left out, and why. */
const LEFT_OUT: Record<string, string> = {
  streamEvents: 'a live stream: it answers 200 and stays open (tested in events.e2e)',
  streamJobLog: 'a live stream: it answers 200 and stays open (tested in logs.e2e)',
  logout: 'it would end the session the rest of the run uses (tested in sessions.e2e)',
};

/** Documented answers a valid request may get besides 2xx, per operation (default: 404, 409, 412). */
const DOMAIN_ANSWERS: Record<string, number[]> = {
  login: [401, 429],
  refreshTokens: [401, 403],
  register: [409, 429],
};

/**
 * 422 codes a valid request may still get, per operation: rules that relate two fields, which a JSON
 * Schema cannot state and the operation's description does (the series' `from` before `to`, and at
 * most 744 buckets between them).
 */
const RELATION_CODES: Record<string, string[]> = {
  getAnalyticsSeries: ['invalid_range', 'range_too_large'],
  // An expiry must lie ahead of the moment the request arrives, which no schema can state.
  createApiKey: ['expires_at_in_past'],
  // jitter_seconds at most the schedule's shortest gap between ticks; none on a one-off.
  // A chain names workflows of the caller's (not just any UUID) and closes no cycle.
  createWorkflow: ['invalid_jitter', 'chain_target_not_found'],
  updateWorkflow: ['invalid_jitter', 'chain_target_not_found', 'chain_cycle'],
  // from before to, to not after now, at most CV_BACKFILL_MAX_TICKS ticks between them.
  backfillWorkflow: ['invalid_range', 'backfill_in_future', 'backfill_too_large'],
  // A webhook URL must parse as a URL (not just match its pattern), reach no address the operator has
  // not allowed, and be https:// outside the operator's networks; workflow_id names one of the caller's.
  createWebhook: ['invalid_url', 'url_not_allowed', 'insecure_url', 'webhook_workflow_not_found'],
  updateWebhook: ['invalid_url', 'url_not_allowed', 'insecure_url', 'webhook_workflow_not_found'],
};

let system: TestSystem;
let user: ApiClient;
let doc: Doc;
let arbitraries: SchemaArbitraries;
let validator: ResponseValidator;
const ids = { heartbeat: '', container: '', job: '' };

beforeAll(async () => {
  // No executor: nothing a generated workflow names is ever run or fetched.
  system = await startSystem({}, 'api,projector,scheduler');
  user = new ApiClient(system.baseUrl);
  await user.signUp('contract@example.com');
  doc = (await user.get<Doc>('/openapi.json')).body;
  arbitraries = new SchemaArbitraries(doc);
  validator = new ResponseValidator(doc);
  const create = async (body: Record<string, unknown>) => {
    const res = await user.post<{ id: string }>('/workflows', body);
    expect(res.status).toBe(201);
    return res.body.id;
  };
  ids.heartbeat = await create({
    name: 'contract heartbeat',
    kind: 'HEARTBEAT',
    payload: { endpoint: 'http://127.0.0.1:9/health' },
    interval: 60,
  });
  ids.container = await create({
    name: 'contract container',
    kind: 'CONTAINER',
    payload: { image: 'chronoverse/busybox:local' },
    interval: 60,
  });
  const run = await user.post<{ job_id: string }>(`/workflows/${ids.heartbeat}/jobs/schedule`);
  expect(run.status).toBe(201);
  ids.job = run.body.job_id;
});

afterAll(async () => {
  await system?.dispose();
});

type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Schema };
type Operation = {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
};
type Request = {
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: unknown;
  /** What makes it invalid, if it is meant to be. */
  flaw?: string;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const asText = (name: string) => ({
  type: 'string',
  contentMediaType: 'application/json',
  contentSchema: ref(name),
});

/** The body's schema for this target: an update's payload is the payload of the workflow's kind. */
function bodySchema(op: Operation, workflowId: string | undefined): Schema | undefined {
  const schema = op.requestBody?.content['application/json']?.schema;
  if (!schema || op.operationId !== 'updateWorkflow') return schema;
  const resolved = arbitraries.resolve(schema);
  const kind =
    workflowId === ids.heartbeat
      ? 'HeartbeatPayload'
      : workflowId === ids.container
        ? 'ContainerPayload'
        : undefined;
  if (!kind) return resolved;
  const properties = {
    ...(resolved.properties as Record<string, Schema>),
    payload: { anyOf: [ref(kind), asText(kind)] },
  };
  return { ...resolved, properties };
}

/** Cross-field rules the document states in words: end_at is not before start_at. */
function withSemantics(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = { ...(body as Record<string, unknown>) };
  if (typeof b.start_at === 'string' && typeof b.end_at === 'string' && b.end_at < b.start_at) {
    [b.start_at, b.end_at] = [b.end_at, b.start_at];
  }
  return b;
}

function validRequest(template: string, op: Operation): fc.Arbitrary<Request> {
  const params = op.parameters ?? [];
  const pathArbs: Record<string, fc.Arbitrary<string>> = {};
  for (const p of params.filter((q) => q.in === 'path')) {
    pathArbs[p.name] =
      p.name === 'jobId'
        ? fc.oneof({ weight: 3, arbitrary: fc.constant(ids.job) }, { weight: 1, arbitrary: fc.uuid() })
        : fc.oneof(
            { weight: 2, arbitrary: fc.constant(ids.heartbeat) },
            { weight: 2, arbitrary: fc.constant(ids.container) },
            { weight: 1, arbitrary: fc.uuid() },
          );
  }
  const queryArbs: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of params.filter((q) => q.in === 'query')) {
    // A cursor is what an earlier page gave out: a generated one is not a cursor the document allows.
    if (p.name === 'cursor') continue;
    queryArbs[p.name] = arbitraries.valid(p.schema);
  }
  const headerArbs: Record<string, fc.Arbitrary<string>> = {};
  for (const p of params.filter((q) => q.in === 'header')) {
    if (p.name === 'idempotency-key') headerArbs[p.name] = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
    if (p.name === 'if-match') headerArbs[p.name] = fc.nat(50).map((n) => `"${n}"`);
  }
  return fc
    .record({
      pathParams: fc.record(pathArbs),
      query: fc.record(queryArbs, {
        requiredKeys: params.filter((q) => q.in === 'query' && q.required).map((q) => q.name),
      }),
      headers: fc.record(headerArbs, { requiredKeys: [] }),
    })
    .chain(({ pathParams, query, headers }) => {
      const schema = bodySchema(op, pathParams.id);
      const body = schema
        ? op.requestBody?.required
          ? arbitraries.valid(schema).map(withSemantics)
          : fc.option(arbitraries.valid(schema).map(withSemantics), { nil: undefined })
        : fc.constant(undefined);
      return body.map((b) => ({
        path: template.replace(/\{(\w+)\}/g, (_, name: string) => pathParams[name] ?? ''),
        query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
        headers: Object.fromEntries(
          Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined),
        ),
        ...(b === undefined ? {} : { body: b }),
      }));
    });
}

/** A valid request with one flaw the document forbids. */
function invalidRequest(template: string, op: Operation): fc.Arbitrary<Request> | undefined {
  const flaws: fc.Arbitrary<(r: Request) => Request>[] = [];
  const schema = op.requestBody?.content['application/json']?.schema;
  const body = schema ? arbitraries.resolve(schema) : undefined;
  if (body && body.type === 'object' && body.additionalProperties === false) {
    flaws.push(
      fc.constant((r: Request) => ({
        ...r,
        body: { ...(r.body as object), unknown_field: 1 },
        flaw: 'unknown body property',
      })),
    );
  }
  for (const name of (body?.required as string[] | undefined) ?? []) {
    flaws.push(
      fc.constant((r: Request) => {
        const b = { ...(r.body as Record<string, unknown>) };
        delete b[name];
        return { ...r, body: b, flaw: `no ${name}` };
      }),
    );
  }
  for (const [name, prop] of Object.entries((body?.properties as Record<string, Schema> | undefined) ?? {})) {
    const t = arbitraries.resolve(prop).type;
    if (t === 'integer' || t === 'boolean') {
      flaws.push(
        fc.constant((r: Request) => ({
          ...r,
          body: { ...(r.body as object), [name]: 'not a value' },
          flaw: `${name} a string`,
        })),
      );
    }
  }
  for (const p of op.parameters ?? []) {
    const t = arbitraries.resolve(p.schema);
    if (p.in === 'query' && (t.type === 'integer' || Array.isArray(t.enum))) {
      flaws.push(
        fc.constant((r: Request) => ({
          ...r,
          query: { ...r.query, [p.name]: 'NOT_A_VALUE' },
          flaw: `${p.name} not a value`,
        })),
      );
    }
    if (p.in === 'query' && p.name === 'cursor') {
      // A cursor this API did not give out, of the shape its cursors have (base64url text).
      flaws.push(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/).map((c) => (r: Request) => ({
          ...r,
          query: { ...r.query, cursor: c },
          flaw: 'a cursor not given out',
        })),
      );
    }
    if (p.in === 'path') {
      flaws.push(
        fc.constant((r: Request) => ({
          ...r,
          path: template.replace(/\{(\w+)\}/g, (_, n: string) =>
            n === p.name ? 'not-a-uuid' : n === 'jobId' ? ids.job : ids.heartbeat,
          ),
          flaw: `${p.name} not a UUID`,
        })),
      );
    }
  }
  if (flaws.length === 0) return undefined;
  return fc
    .tuple(validRequest(template, op), fc.oneof(...flaws))
    .map(([r, flaw]) => flaw({ ...r, body: r.body ?? (body ? {} : undefined) }));
}

async function send(method: string, r: Request) {
  const search = new URLSearchParams(r.query).toString();
  const res = await fetch(`${system.baseUrl}${r.path}${search ? `?${search}` : ''}`, {
    method: method.toUpperCase(),
    headers: {
      authorization: `Bearer ${user.token}`,
      ...r.headers,
      ...(r.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: the validator says whether the document allows that
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body };
}

describe('every operation of /openapi.json', () => {
  it('is tested or left out with a reason', async () => {
    const all = Object.values(doc.paths).flatMap((item) =>
      Object.values(item).map((op) => (op as Operation).operationId),
    );
    // Each operation left out exists (a renamed one would otherwise be left out of nothing).
    expect(all.filter((id) => id in LEFT_OUT).sort()).toEqual(Object.keys(LEFT_OUT).sort());
    expect(all.length - Object.keys(LEFT_OUT).length).toBeGreaterThan(25);
  });

  it('answers valid requests with 2xx or a documented domain answer, invalid ones with a documented 4xx, never 500', {
    timeout: 600_000,
  }, async () => {
    const report: string[] = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const [method, raw] of Object.entries(item)) {
        const op = raw as Operation;
        if (op.operationId in LEFT_OUT) continue;
        const domain = DOMAIN_ANSWERS[op.operationId] ?? [404, 409, 412];
        const check = (r: Request, a: Awaited<ReturnType<typeof send>>, valid: boolean) => {
          const problems = validator.check(template, method, a.status, a.contentType, a.body);
          const relation =
            a.status === 422 &&
            (RELATION_CODES[op.operationId] ?? []).includes((a.body as { code?: string } | null)?.code ?? '');
          const ok = valid
            ? (a.status >= 200 && a.status < 300) || domain.includes(a.status) || relation
            : a.status >= 400 && a.status < 500;
          if (!ok) problems.push(`${valid ? 'valid' : `invalid (${r.flaw})`} request answered ${a.status}`);
          if (problems.length > 0) {
            throw new Error(
              `${method.toUpperCase()} ${r.path}?${new URLSearchParams(r.query)} ${JSON.stringify(r.body) ?? ''}\n→ ${a.status} ${JSON.stringify(a.body)?.slice(0, 400)}\n${problems.join('\n')}`,
            );
          }
        };
        await fc.assert(
          fc.asyncProperty(validRequest(template, op), async (r) => check(r, await send(method, r), true)),
          { seed: SEED, numRuns: RUNS },
        );
        const invalid = invalidRequest(template, op);
        if (invalid) {
          await fc.assert(
            fc.asyncProperty(invalid, async (r) => check(r, await send(method, r), false)),
            { seed: SEED, numRuns: Math.ceil(RUNS / 3) },
          );
        }
        report.push(op.operationId);
      }
    }
    expect(report.length).toBeGreaterThan(25);
  });
});
