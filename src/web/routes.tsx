// The web dashboard, served by the API role: server-rendered pages (hono/jsx) that read through
// src/queries for the user of the session cookie, and static client scripts that write through the
// JSON API (cookie + X-CSRF-Token) and follow the user's live streams (GET /events, a job's
// /events). Every page is sent with a Content-Security-Policy that allows scripts from this origin
// only: no inline script, no inline style, no other origin.
import { type Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { CommandHandler } from '../actors/command-handler.ts';
import type { AuthServices } from '../auth/auth-services.ts';
import { AppError, NotFoundError, UnavailableError } from '../errors.ts';
import type { JobTable, WorkflowRow, WorkflowTable } from '../infra/database.ts';
import { storeOutage } from '../infra/store-outage.ts';
import { listBackfills } from '../queries/backfills.ts';
import type { Db } from '../queries/db.ts';
import { findJob, lastJobs, listJobs } from '../queries/jobs.ts';
import { listNotifications } from '../queries/notifications.ts';
import { mapPage } from '../queries/paging.ts';
import { listTicks } from '../queries/ticks.ts';
import { currentUser } from '../queries/users.ts';
import { chainsOf, findWorkflow, listWorkflows } from '../queries/workflows.ts';
import { preview } from '../scheduler/preview.ts';
import { specOf } from '../scheduler/tick-plan.ts';
import type { Logger } from '../telemetry/logger.ts';
import { serveAsset } from './assets.ts';
import { UnreadContext, type UnreadCount } from './layout.tsx';
import { AnalyticsPage } from './pages/analytics-page.tsx';
import { AuthPage, ErrorPage, ResumePage } from './pages/auth-pages.tsx';
import { JobPage } from './pages/job-page.tsx';
import { type ChainTarget, WorkflowForm } from './pages/workflow-form.tsx';
import { WorkflowPage } from './pages/workflow-page.tsx';
import { WorkflowsPage } from './pages/workflows-page.tsx';
import { pageSession, safeNext } from './session.ts';

export interface DashboardDeps {
  readonly db: Db;
  readonly commands: CommandHandler;
  readonly auth: Pick<AuthServices, 'tokens'>;
  readonly log?: Logger;
  readonly now?: () => Date;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const WORKFLOW_KINDS: readonly WorkflowTable['kind'][] = ['HEARTBEAT', 'CONTAINER'];
const WORKFLOW_STATUSES: readonly WorkflowTable['status'][] = ['ACTIVE', 'PAUSED', 'TERMINATED'];
const BUILD_STATUSES: readonly WorkflowTable['build_status'][] = [
  'NONE',
  'QUEUED',
  'STARTED',
  'COMPLETED',
  'FAILED',
  'CANCELED',
];
const JOB_STATUSES: readonly JobTable['status'][] = [
  'PENDING',
  'QUEUED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
];
const TRIGGERS: readonly JobTable['trigger'][] = ['AUTOMATIC', 'MANUAL', 'BACKFILL', 'CHAIN'];

/** The value if it is one of the allowed ones; a filter the page does not know is no filter. */
function oneOf<T extends string>(allowed: readonly T[], value: string | undefined): T | undefined {
  return allowed.find((a) => a === value);
}

/** Text from the query string, without NUL (which no store accepts) and of a sane length. */
function text(value: string | undefined, max = 256): string | undefined {
  if (!value) return undefined;
  const clean = value.replaceAll('\u0000', '').slice(0, max);
  return clean || undefined;
}

/** The unread count of the signed-in user of a request, for the header's badge. */
const unreadOf = new WeakMap<Context, UnreadCount>();

function html(c: Context, node: unknown, status = 200): Response {
  const unread = unreadOf.get(c);
  const tree = unread ? (
    <UnreadContext.Provider value={unread}>{node as Child}</UnreadContext.Provider>
  ) : (
    node
  );
  return c.html(`<!doctype html>${String(tree)}`, status as 200, {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  });
}

type Render = (c: Context, userId: string, email: string) => Promise<Response>;

export function dashboardRoutes(deps: DashboardDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? (() => new Date());

  /** A page for the signed-in user: else resume the session (refresh) or log in; errors as pages. */
  function page(render: Render) {
    return async (c: Context): Promise<Response> => {
      let email: string | undefined;
      try {
        const session = await pageSession(c, deps.auth.tokens);
        if (session.kind === 'refreshable') return html(c, <ResumePage />);
        if (session.kind === 'none') {
          const here = c.req.path + (new URL(c.req.url).search ?? '');
          return c.redirect(here === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`, 302);
        }
        const [user, unread] = await Promise.all([
          currentUser(deps.db, deps.commands, session.userId),
          listNotifications(deps.db, session.userId, { unread: true, limit: 99 }),
        ]);
        email = user.email;
        unreadOf.set(c, { count: unread.items.length, more: unread.next_cursor !== null });
        return await render(c, session.userId, email);
      } catch (thrown) {
        const err = storeOutage(thrown as Error) ?? thrown;
        if (err instanceof NotFoundError) {
          return html(
            c,
            <ErrorPage status={404} title="Not found" detail="There is no such page here." email={email} />,
            404,
          );
        }
        if (err instanceof UnavailableError) {
          c.header('Retry-After', String(err.retryAfterSeconds));
          return html(
            c,
            <ErrorPage
              status={503}
              title="Unavailable"
              detail="A store did not answer. Try again in a moment."
              email={email}
            />,
            503,
          );
        }
        if (err instanceof AppError && err.status < 500) {
          return html(
            c,
            <ErrorPage status={err.status} title="Cannot show this" detail={err.message} email={email} />,
            err.status,
          );
        }
        deps.log?.error('dashboard page failed', { error: err, path: c.req.path });
        return html(
          c,
          <ErrorPage
            status={500}
            title="Something went wrong"
            detail="The error has been logged."
            email={email}
          />,
          500,
        );
      }
    };
  }

  app.get('/assets/:name', (c) => serveAsset(c, c.req.param('name')) ?? c.notFound());

  for (const mode of ['login', 'signup'] as const) {
    app.get(`/${mode}`, async (c) => {
      const next = safeNext(c.req.query('next'));
      const session = await pageSession(c, deps.auth.tokens);
      if (session.kind === 'user') return c.redirect(next, 302);
      const message = c.req.query('expired')
        ? 'expired'
        : c.req.query('logged_out')
          ? 'logged_out'
          : undefined;
      return html(c, <AuthPage mode={mode} next={next} message={message} />);
    });
  }

  app.get(
    '/',
    page(async (c, userId, email) => {
      const query = {
        q: text(c.req.query('q')),
        kind: oneOf(WORKFLOW_KINDS, c.req.query('kind')),
        status: oneOf(WORKFLOW_STATUSES, c.req.query('status')),
        build_status: oneOf(BUILD_STATUSES, c.req.query('build_status')),
      };
      const cursor = text(c.req.query('cursor'), 512);
      const rows = await listWorkflows(deps.db, userId, { ...query, cursor, limit: 50 });
      const at = now();
      const last = await lastJobs(
        deps.db,
        userId,
        rows.items.map((w) => w.id),
      );
      const items = mapPage(rows, (row) => ({ row, nextFire: nextFire(row, at), lastJob: last.get(row.id) }));
      return html(c, <WorkflowsPage email={email} query={query} page={items} paged={Boolean(cursor)} />);
    }),
  );

  app.get(
    '/w/:id',
    page(async (c, userId, email) => {
      const id = c.req.param('id') ?? '';
      if (!UUID.test(id)) throw new NotFoundError('workflow_not_found', 'No such workflow');
      const w = await findWorkflow(deps.db, userId, id);
      const query = {
        status: oneOf(JOB_STATUSES, c.req.query('status')),
        trigger: oneOf(TRIGGERS, c.req.query('trigger')),
        cursor: text(c.req.query('cursor'), 512),
        ticks_cursor: text(c.req.query('ticks_cursor'), 512),
      };
      const [jobs, ticks, backfills, chains] = await Promise.all([
        listJobs(deps.db, userId, id, { ...query, limit: 25 }),
        listTicks(deps.db, userId, id, { cursor: query.ticks_cursor, limit: 20 }),
        listBackfills(deps.db, userId, id, 20),
        w.chain ? chainsOf(deps.db, userId) : new Map<string, { name: string }>(),
      ]);
      const upcoming = w.status === 'ACTIVE' ? safePreview(w, now(), 5) : [];
      const names = new Map([...chains].map(([wid, { name }]) => [wid, name]));
      return html(
        c,
        <WorkflowPage
          email={email}
          w={w}
          jobs={jobs}
          ticks={ticks}
          upcoming={upcoming}
          backfills={backfills}
          names={names}
          query={query}
        />,
      );
    }),
  );

  // Not /analytics: that path is the JSON API's (GET /analytics, the totals).
  app.get(
    '/stats',
    page(async (c, userId, email) => {
      const id = text(c.req.query('workflow'));
      if (id !== undefined && !UUID.test(id))
        throw new NotFoundError('workflow_not_found', 'No such workflow');
      const [workflow, workflows] = await Promise.all([
        id === undefined ? undefined : findWorkflow(deps.db, userId, id),
        listWorkflows(deps.db, userId, { limit: 200 }),
      ]);
      const bucket = c.req.query('bucket') === 'day' ? 'day' : 'hour';
      return html(
        c,
        <AnalyticsPage email={email} query={{ workflow, bucket }} workflows={workflows.items} />,
      );
    }),
  );

  app.get(
    '/new',
    page(async (c, userId, email) =>
      html(c, <WorkflowForm email={email} chainTargets={await chainTargets(deps.db, userId)} />),
    ),
  );

  app.get(
    '/w/:id/edit',
    page(async (c, userId, email) => {
      const id = c.req.param('id') ?? '';
      if (!UUID.test(id)) throw new NotFoundError('workflow_not_found', 'No such workflow');
      const [workflow, targets] = await Promise.all([
        findWorkflow(deps.db, userId, id),
        chainTargets(deps.db, userId, id),
      ]);
      return html(c, <WorkflowForm email={email} workflow={workflow} chainTargets={targets} />);
    }),
  );

  app.get(
    '/w/:id/jobs/:jobId',
    page(async (c, userId, email) => {
      const id = c.req.param('id') ?? '';
      const jobId = c.req.param('jobId') ?? '';
      if (!UUID.test(id) || !UUID.test(jobId)) throw new NotFoundError('job_not_found', 'No such job');
      const w = await findWorkflow(deps.db, userId, id);
      const job = await findJob(deps.db, userId, id, jobId);
      return html(c, <JobPage email={email} w={w} job={job} />);
    }),
  );

  return app;
}

/** The workflows a chain may name: the user's others, by name. */
async function chainTargets(db: Db, userId: string, self?: string): Promise<ChainTarget[]> {
  const all = await chainsOf(db, userId);
  return [...all]
    .filter(([id]) => id !== self)
    .map(([id, { name }]) => ({ id, name }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** The next fires of a workflow, as GET /workflows/{id}/schedule/preview computes them. */
function safePreview(w: WorkflowRow, at: Date, count: number) {
  const from = w.last_tick_at && w.last_tick_at > at ? w.last_tick_at : at;
  try {
    return preview(specOf(w.schedule, w.created_at, w.id), from, count);
  } catch {
    return [];
  }
}

function nextFire(w: WorkflowRow, at: Date): string | null {
  if (w.status !== 'ACTIVE') return null;
  return safePreview(w, at, 1)[0]?.at ?? null;
}
