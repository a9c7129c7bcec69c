// /workflows/{id}/jobs/{jobId}/logs: pages, search, raw download, and the live tail (SSE). Lines are
// read from ClickHouse `job_logs` (and, for the tail, from the live buffer CV_LOGS). Every route
// first checks that the job is the caller's and belongs to that workflow: otherwise 404.
import { createRoute, z } from '@hono/zod-openapi';
import { ConflictError, UnavailableError, ValidationError } from '../errors.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { logSubject } from '../events/subjects.ts';
import { utf8Text } from '../events/utf8.ts';
import { isRetained, type LogBatch } from '../logs/log-batch.ts';
import { ownedJobFromLog } from '../queries/jobs.ts';
import {
  compareKeys,
  decodeLogCursor,
  type LogKey,
  type LogScope,
  matchOffsets,
  parsedMessage,
  type ServedLogLine,
  ZERO_KEY,
} from '../queries/logs.ts';
import { mapPage } from '../queries/paging.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createRouter } from './app-env.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors, conflictErrors, ProblemSchema } from './problem-schema.ts';
import type { RouteDeps } from './route-deps.ts';
import { JobParams } from './schemas/job-schemas.ts';
import { lineEventId, parseLineEventId, tailJobLog } from './sse-log-tail.ts';
import type { StreamSources } from './sse-sources.ts';
import { openSse } from './sse-stream.ts';

const tags = ['logs'];
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELED']);

export interface LogRouteDeps extends RouteDeps {
  readonly sources: StreamSources;
  readonly log: Logger;
  /** How long a raw download waits for the log processor to store a final job's last lines. */
  readonly rawCatchUpMs?: number;
}

const LogStream = z.enum(['stdout', 'stderr']);

const LogLine = z
  .object({
    timestamp: z.string().openapi({ format: 'date-time', description: 'When the line was read (UTC, ms)' }),
    message: z.string(),
    sequence_num: z.number().int().openapi({ description: 'Position in the attempt, from 1, both streams' }),
    stream: LogStream,
    attempt: z.number().int().openapi({ description: 'The attempt that printed the line' }),
  })
  .openapi('LogLine');

const LogPage = z.object({ items: z.array(LogLine), next_cursor: z.string().nullable() }).openapi('LogPage');

const MatchOffset = z
  .object({
    start: z.number().int().openapi({ description: 'Offset of the match in the message, in code points' }),
    end: z.number().int().openapi({ description: 'End of the match (exclusive), in code points' }),
  })
  .openapi('LogMatch');

const LogSearchPage = z
  .object({
    items: z.array(LogLine.extend({ matches: z.array(MatchOffset) }).openapi('LogSearchHit')),
    next_cursor: z.string().nullable(),
  })
  .openapi('LogSearchPage');

const pageFields = {
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  order: z
    .enum(['asc', 'desc'])
    .default('desc')
    .openapi({ description: 'By sequence: desc (newest first, the default) or asc' }),
  stream: LogStream.optional(),
};

const LogListQuery = z.object(pageFields);
const LogSearchQuery = z.object({
  q: z.string().min(1).max(256).openapi({ description: 'Case-insensitive substring of the line' }),
  ...pageFields,
});
const RawQuery = z.object({
  format: z
    .enum(['txt', 'json', 'jsonl'])
    .default('txt')
    .openapi({ description: 'txt: the lines; json: one array; jsonl: one object per line' }),
});
const LastEventIdHeader = z.object({
  'last-event-id': z
    .string()
    .max(40)
    .optional()
    .openapi({ description: 'The id of the last event received: the stream resumes after it' }),
});

const problem = (description: string) => ({
  content: { 'application/problem+json': { schema: ProblemSchema } },
  description,
});

const eventStream = (description: string) => ({
  content: {
    'text/event-stream': {
      schema: z.string().openapi({
        description:
          'Events `log` (id: the sequence, `<attempt>:<sequence>` after the first attempt; data: a LogLine as JSON), then `end` (data: {"status": final status}); comments `: keep-alive` every 15 s. Resume with Last-Event-ID.',
      }),
    },
  },
  description,
});

const lineJson = (l: ServedLogLine) => ({
  timestamp: l.timestamp,
  message: l.message,
  sequence_num: l.sequence_num,
  stream: l.stream,
  attempt: l.attempt,
});

const RAW_FORMATS = {
  txt: { type: 'text/plain; charset=utf-8', ext: 'log' },
  json: { type: 'application/json', ext: 'json' },
  jsonl: { type: 'application/x-ndjson', ext: 'jsonl' },
} as const;

function rawEntry(line: ServedLogLine): string {
  return JSON.stringify({ ...lineJson(line), message: parsedMessage(line.message) });
}

export function logRoutes(deps: LogRouteDeps) {
  const app = createRouter();

  /** The caller's job of that workflow, as its actor sees it now. */
  const ownedJob = (userId: string, workflowId: string, jobId: string) =>
    ownedJobFromLog(deps.commands, userId, workflowId, jobId, deps.archive);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/jobs/{jobId}/logs',
      tags,
      security,
      summary: "A page of the job's log lines",
      request: { params: JobParams, query: LogListQuery },
      responses: { 200: json(LogPage, 'Lines by sequence, newest first unless order=asc'), ...commonErrors },
    }),
    async (c) => {
      const { id, jobId } = c.req.valid('param');
      const q = c.req.valid('query');
      const cursor = decodeLogCursor(q.cursor);
      await ownedJob(c.var.userId, id, jobId);
      const page = await deps.sources
        .logQueries()
        .page(
          { userId: c.var.userId, workflowId: id, jobId },
          { order: q.order, limit: q.limit, cursor, stream: q.stream },
        );
      return c.json(mapPage(page, lineJson), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/jobs/{jobId}/logs/search',
      tags,
      security,
      summary: 'Lines containing a text (case-insensitive), with the offsets of every match',
      request: { params: JobParams, query: LogSearchQuery },
      responses: { 200: json(LogSearchPage, 'Matching lines by sequence'), ...commonErrors },
    }),
    async (c) => {
      const { id, jobId } = c.req.valid('param');
      const q = c.req.valid('query');
      const cursor = decodeLogCursor(q.cursor);
      await ownedJob(c.var.userId, id, jobId);
      const page = await deps.sources
        .logQueries()
        .page(
          { userId: c.var.userId, workflowId: id, jobId },
          { order: q.order, limit: q.limit, cursor, stream: q.stream, contains: q.q },
        );
      return c.json(
        mapPage(page, (l) => ({ ...lineJson(l), matches: matchOffsets(l.message, q.q) })),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/jobs/{jobId}/logs/raw',
      tags,
      security,
      summary: "The job's whole log, oldest first, as a download (final jobs only)",
      request: { params: JobParams, query: RawQuery },
      responses: {
        200: {
          description: 'The log, streamed, oldest first (Content-Disposition: attachment)',
          content: {
            'text/plain': { schema: z.string().openapi({ description: 'One message per line' }) },
            'application/json': {
              schema: z.array(LogLine.extend({ message: z.unknown() })).openapi({
                description: 'message is the parsed JSON when the line is a JSON object or array',
              }),
            },
            'application/x-ndjson': {
              schema: z.string().openapi({ description: 'One JSON object per line, as in the json format' }),
            },
          },
        },
        ...commonErrors,
        409: { ...conflictErrors[409], description: 'The job is not final yet (job_not_final)' },
        503: problem('The last lines are not stored yet (logs_not_ready); retry shortly'),
      },
    }),
    async (c) => {
      const { id, jobId } = c.req.valid('param');
      const { format } = c.req.valid('query');
      const userId = c.var.userId;
      const job = await ownedJob(userId, id, jobId);
      if (!FINAL.has(job.status))
        throw new ConflictError(
          'job_not_final',
          `The job is ${job.status}; its log can be downloaded once it is final`,
        );
      const scope: LogScope = { userId, workflowId: id, jobId };
      await waitUntilStored(deps, scope);
      const lines = deps.sources.logQueries().stream(scope);
      // The first line is read before answering, so a failing query is a problem response, not a cut body.
      const first = await lines.next();
      const encoder = new TextEncoder();
      const entry = (line: ServedLogLine, index: number): string => {
        if (format === 'txt') return `${line.message}\n`;
        if (format === 'jsonl') return `${rawEntry(line)}\n`;
        return `${index === 0 ? '[' : ','}\n${rawEntry(line)}`;
      };
      let index = 0;
      let pending: IteratorResult<ServedLogLine> | undefined = first;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            let chunk = '';
            while (chunk.length < 64 * 1024) {
              const next = pending ?? (await lines.next());
              pending = undefined;
              if (next.done) {
                if (format === 'json') chunk += index === 0 ? '[]\n' : '\n]\n';
                if (chunk) controller.enqueue(encoder.encode(chunk));
                controller.close();
                return;
              }
              chunk += entry(next.value, index++);
            }
            controller.enqueue(encoder.encode(chunk));
          } catch (err) {
            deps.log.error('raw log download failed', { error: err, jobId });
            controller.error(new Error('log download failed'));
          }
        },
        async cancel() {
          await lines.return(undefined);
        },
      });
      const { type, ext } = RAW_FORMATS[format];
      // A streamed body: the typed helpers (c.json, c.text) only know whole bodies.
      return new Response(body, {
        status: 200,
        headers: {
          'Content-Type': type,
          'Content-Disposition': `attachment; filename="job-${jobId}.${ext}"`,
          'Cache-Control': 'private, no-store',
          'X-Content-Type-Options': 'nosniff',
        },
      }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/jobs/{jobId}/events',
      tags,
      security,
      summary: "The job's log, live (server-sent events), then `end` once the job is final",
      request: { params: JobParams, headers: LastEventIdHeader },
      responses: {
        200: eventStream('Every line after Last-Event-ID (or from the start), live'),
        ...commonErrors,
      },
    }),
    async (c) => {
      const { id, jobId } = c.req.valid('param');
      const lastEventId = c.req.valid('header')['last-event-id'];
      const from = lastEventId === undefined || lastEventId === '' ? ZERO_KEY : parseLineEventId(lastEventId);
      if (!from)
        throw new ValidationError(
          'invalid_last_event_id',
          'Last-Event-ID must be an id this stream gave out',
          {
            field: 'last-event-id',
          },
        );
      const userId = c.var.userId;
      await ownedJob(userId, id, jobId);
      const nats = await deps.sources.nats();
      const tailDeps = {
        nats,
        commands: deps.commands,
        queries: deps.sources.logQueries(),
        log: deps.log,
        ...(deps.archive ? { archive: deps.archive } : {}),
      };
      return openSse(c, deps.log, (channel) =>
        tailJobLog(
          tailDeps,
          { userId, workflowId: id, jobId },
          from,
          {
            line: (line) =>
              channel.send({
                event: 'log',
                id: lineEventId({ attempt: line.attempt, sequence: line.sequence_num }),
                data: JSON.stringify(lineJson(line)),
              }),
            end: (status) => channel.send({ event: 'end', data: JSON.stringify({ status }) }),
          },
          channel.signal,
        ),
      );
    },
  );

  return app;
}

/**
 * A final job's lines are all in CV_LOGS, but the log processor may not have copied the last ones
 * yet: wait (briefly) until ClickHouse holds the buffer's last line, so a download is never short.
 * A job whose lines are not kept (`log_retention: false`) downloads as an empty log at once.
 */
async function waitUntilStored(deps: LogRouteDeps, scope: LogScope): Promise<void> {
  const nats = await deps.sources.nats();
  const last = await nats.jsm.direct.getMessage(streamNames.logs, {
    last_by_subj: logSubject(scope.userId, scope.jobId),
  });
  // A job of a workflow without log retention stores nothing: there is nothing to wait for.
  if (!last || !isRetained(last.header)) return;
  const batch = JSON.parse(utf8Text(last.data)) as LogBatch;
  const tail = batch.lines.at(-1);
  if (!tail) return;
  const wanted: LogKey = { attempt: batch.attempt, sequence: tail.seq };
  const queries = deps.sources.logQueries();
  const deadline = Date.now() + (deps.rawCatchUpMs ?? 10_000);
  while (compareKeys(await queries.lastKey(scope), wanted) < 0) {
    if (Date.now() > deadline)
      throw new UnavailableError(
        'logs_not_ready',
        'The last lines of this log are still being stored; retry shortly',
        {
          details: { retry_after_seconds: 5 },
        },
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
