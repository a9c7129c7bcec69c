// One workflow: its definition, run now / pause / resume / terminate (through the JSON API, from
// app.js), its upcoming fires, its chain, its jobs (status and trigger filters, keyset paging), its
// backfills (a form and their progress) and its tick ledger.
import type { JobRow, WorkflowRow } from '../../infra/database.ts';
import { maskSecrets } from '../../infra/secret-box.ts';
import type { BackfillProgress } from '../../queries/backfills.ts';
import type { Page } from '../../queries/paging.ts';
import type { TickRow } from '../../queries/ticks.ts';
import type { PreviewItem } from '../../scheduler/preview.ts';
import { Badge, durationWords, Pager, Select, Time, withQuery } from '../components.tsx';
import { Layout } from '../layout.tsx';
import { scheduleWords } from '../schedule-words.ts';
import { Backfills } from './backfills.tsx';

export interface WorkflowPageQuery {
  status?: string | undefined;
  trigger?: string | undefined;
  cursor?: string | undefined;
  ticks_cursor?: string | undefined;
}

function jobResult(j: JobRow): string {
  if (j.status === 'COMPLETED' && j.started_at && j.completed_at)
    return `in ${durationWords(j.completed_at.getTime() - j.started_at.getTime())}`;
  if (j.status === 'FAILED') return [j.failure_kind, j.failure_reason].filter(Boolean).join(' · ');
  return '';
}

export function JobRowView(props: { workflowId: string; job: JobRow }) {
  const j = props.job;
  return (
    <tr data-job={j.id}>
      <td>
        <a href={`/w/${props.workflowId}/jobs/${j.id}`} class="mono">
          {j.id.slice(0, 8)}
        </a>
      </td>
      <td>
        <Badge status={j.status} live={{ 'data-job-status': j.id }} />
      </td>
      <td>{{ AUTOMATIC: 'Scheduled', MANUAL: 'Manual', BACKFILL: 'Backfill', CHAIN: 'Chain' }[j.trigger]}</td>
      <td>
        <Time at={j.scheduled_at} />
      </td>
      <td>
        <Time at={j.started_at} live={{ 'data-job-started': j.id }} />
      </td>
      <td>
        <Time at={j.completed_at} live={{ 'data-job-ended': j.id }} />
      </td>
      <td data-job-result={j.id}>{jobResult(j)}</td>
    </tr>
  );
}

const TERMINATED_BECAUSE: Record<string, string> = {
  user: 'by the user',
  consecutive_failures: 'after too many consecutive failures',
  run_limit: 'after its last scheduled run (max_runs)',
};

const CHAIN_WORDS = { on_success: 'on success', on_failure: 'on failure', on_end: 'on any end' } as const;

/** The workflows the chain runs, per outcome, each linked by its name (or id, if gone). */
function ChainFacts(props: { w: WorkflowRow; names: ReadonlyMap<string, string> }) {
  const chain = props.w.chain ?? {};
  const outcomes = (['on_success', 'on_failure', 'on_end'] as const).filter((o) => (chain[o] ?? []).length);
  if (outcomes.length === 0) return null;
  return (
    <>
      <dt>Chain</dt>
      <dd id="chain-facts">
        {outcomes.map((o) => (
          <div>
            {CHAIN_WORDS[o]}:{' '}
            {(chain[o] ?? []).map((id, i) => (
              <>
                {i > 0 && ', '}
                <a href={`/w/${id}`}>{props.names.get(id) ?? id.slice(0, 8)}</a>
              </>
            ))}
          </div>
        ))}
      </dd>
    </>
  );
}

function Definition(props: { w: WorkflowRow; names: ReadonlyMap<string, string> }) {
  const { w } = props;
  const s = w.schedule;
  const policies = [
    s.overlap && `overlap: ${s.overlap}`,
    s.catch_up && `catch-up: ${s.catch_up}`,
    s.start_at && `from ${s.start_at}`,
    s.end_at && `until ${s.end_at}`,
    s.max_runs !== undefined && `at most ${s.max_runs} scheduled run${s.max_runs === 1 ? '' : 's'}`,
    s.jitter_seconds !== undefined && `jitter up to ${s.jitter_seconds} s`,
    s.dst?.nonexistent && `DST gap: ${s.dst.nonexistent}`,
    s.dst?.repeated && `DST repeat: ${s.dst.repeated}`,
  ].filter(Boolean);
  return (
    <section class="card">
      <h2>Definition</h2>
      <dl class="facts">
        <dt>Kind</dt>
        <dd>{w.kind}</dd>
        <dt>Schedule</dt>
        <dd>
          {scheduleWords(s)}
          {s.type === 'cron' && <code class="muted"> {s.cron}</code>}
        </dd>
        {policies.length > 0 && (
          <>
            <dt>Policies</dt>
            <dd>{policies.join(', ')}</dd>
          </>
        )}
        <ChainFacts w={w} names={props.names} />
        <dt>Build</dt>
        <dd>
          <Badge status={w.build_status} live={{ 'data-wf-build': w.id }} />
          {w.build_error && <span class="error-text"> {w.build_error}</span>}
        </dd>
        <dt>Failure streak</dt>
        <dd>
          <span class="streak" data-wf-streak={w.id} data-count={String(w.consecutive_job_failures)}>
            {String(w.consecutive_job_failures)}
          </span>{' '}
          of {String(w.max_consecutive_job_failures_allowed)} allowed
        </dd>
        <dt>Last tick fired</dt>
        <dd>
          <Time at={w.last_fired_at} live={{ 'data-wf-last-fired': w.id }} />
        </dd>
        <dt>Log retention</dt>
        <dd>{w.log_retention ? 'Lines are kept' : 'Lines are not kept'}</dd>
        {w.terminated_at && (
          <>
            <dt>Terminated</dt>
            <dd>
              <Time at={w.terminated_at} />{' '}
              {TERMINATED_BECAUSE[w.terminated_reason ?? ''] ?? w.terminated_reason ?? ''}
            </dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          <Time at={w.created_at} />
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time at={w.updated_at} />
        </dd>
      </dl>
      <details>
        <summary>Payload</summary>
        <pre class="json">{JSON.stringify(maskSecrets(w.payload), null, 2)}</pre>
      </details>
    </section>
  );
}

function Upcoming(props: { items: readonly PreviewItem[]; active: boolean }) {
  return (
    <section class="card" id="upcoming">
      <h2>Upcoming fires</h2>
      {!props.active ? (
        <p class="muted" id="upcoming-none">
          None while the workflow is not active.
        </p>
      ) : props.items.length === 0 ? (
        <p class="muted">The schedule has ended.</p>
      ) : (
        <ol class="upcoming">
          {props.items.map((p) => (
            <li>
              <Time at={p.at} /> <span class="muted">{p.local.replace(/\.\d+/, '').replace('T', ' ')}</span>
              {p.dst && <span class="tag">DST {p.dst}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Ticks(props: { w: WorkflowRow; ticks: Page<TickRow>; query: WorkflowPageQuery }) {
  return (
    <section class="card">
      <h2>Tick ledger</h2>
      {props.ticks.items.length === 0 ? (
        <p class="muted">No tick recorded yet.</p>
      ) : (
        <table class="list compact" id="ticks">
          <thead>
            <tr>
              <th scope="col">Nominal time</th>
              <th scope="col">Outcome</th>
              <th scope="col">Job / reason</th>
            </tr>
          </thead>
          <tbody>
            {props.ticks.items.map((t) => (
              <tr>
                <td>
                  <Time at={t.nominal_at} />
                </td>
                <td>
                  {t.outcome === 'fired' ? (
                    <span class="tone-text-ok">✓ fired</span>
                  ) : (
                    <span class="tone-text-warn">↷ skipped</span>
                  )}
                </td>
                <td>
                  {t.job_id ? (
                    <a class="mono" href={`/w/${props.w.id}/jobs/${t.job_id}`}>
                      {t.job_id.slice(0, 8)}
                    </a>
                  ) : (
                    (t.reason ?? '')
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        next={
          props.ticks.next_cursor
            ? withQuery(`/w/${props.w.id}`, { ...props.query }, { ticks_cursor: props.ticks.next_cursor })
            : null
        }
        label="Older ticks"
      />
    </section>
  );
}

/** The audit history: the workflow's own event log, read by history.js from GET /workflows/{id}/history. */
function History(props: { w: WorkflowRow }) {
  return (
    <section class="card">
      <h2>History</h2>
      <p class="muted">Every change to this workflow, as recorded in its event log, oldest first.</p>
      <ol class="history" id="history" data-history={`/workflows/${props.w.id}/history`} aria-live="polite" />
      <p class="history-state muted" id="history-state" role="status">
        Loading…
      </p>
      <button type="button" class="ghost" id="history-more" hidden>
        Show more
      </button>
    </section>
  );
}

export function WorkflowPage(props: {
  email: string;
  w: WorkflowRow;
  jobs: Page<JobRow>;
  ticks: Page<TickRow>;
  upcoming: readonly PreviewItem[];
  backfills: readonly BackfillProgress[];
  /** The names of the user's workflows, for the chain's links. */
  names: ReadonlyMap<string, string>;
  query: WorkflowPageQuery;
}) {
  const { w, jobs, query } = props;
  const firstPage = !query.cursor && !query.status && !query.trigger;
  return (
    <Layout title={w.name} page="workflow" email={props.email} scripts={['history.js', 'backfill.js']}>
      <p class="crumbs">
        <a href="/">Workflows</a> /
      </p>
      <div class="title-row">
        <h1 data-wf-name={w.id}>{w.name}</h1>
        <Badge status={w.status} live={{ 'data-wf-status': w.id }} />
      </div>
      <div class="actions" id="workflow-actions" data-workflow={w.id} data-status={w.status}>
        <button type="button" class="primary" data-action="run" disabled={w.status === 'TERMINATED'}>
          ▶ Run now
        </button>
        <button type="button" data-action="pause" disabled={w.status !== 'ACTIVE'}>
          ‖ Pause
        </button>
        <button type="button" data-action="resume" disabled={w.status !== 'PAUSED'}>
          ▷ Resume
        </button>
        <button type="button" class="danger" data-action="terminate" disabled={w.status === 'TERMINATED'}>
          ■ Terminate
        </button>
        <a class="button" href={`/w/${w.id}/edit`}>
          ✎ Edit
        </a>
        <a class="button" href={`/stats?workflow=${w.id}`}>
          ▤ Analytics
        </a>
        <button
          type="button"
          class="danger ghost"
          data-action="delete"
          data-name={w.name}
          disabled={w.status !== 'TERMINATED'}
          title="Only a terminated workflow can be deleted"
        >
          ✕ Delete
        </button>
        <span id="action-error" class="error" role="alert" />
      </div>
      <div class="grid">
        <Definition w={w} names={props.names} />
        <Upcoming items={props.upcoming} active={w.status === 'ACTIVE'} />
      </div>
      <section class="card">
        <h2>Jobs</h2>
        <form class="filters" method="get" action={`/w/${w.id}`}>
          <Select
            name="status"
            label="Status"
            value={query.status}
            options={['PENDING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED']}
          />
          <label>
            Trigger{' '}
            <select name="trigger">
              <option value="">Any</option>
              <option value="AUTOMATIC" selected={query.trigger === 'AUTOMATIC'}>
                Scheduled
              </option>
              <option value="MANUAL" selected={query.trigger === 'MANUAL'}>
                Manual
              </option>
              <option value="BACKFILL" selected={query.trigger === 'BACKFILL'}>
                Backfill
              </option>
              <option value="CHAIN" selected={query.trigger === 'CHAIN'}>
                Chain
              </option>
            </select>
          </label>
          <button type="submit">Filter</button>
        </form>
        <div class="table-wrap">
          <table class="list" id="jobs">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Scheduled</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            {/* New jobs are added live only to the unfiltered first page. */}
            <tbody data-jobs-of={w.id} data-live-insert={firstPage ? 'yes' : 'no'}>
              {jobs.items.map((j) => (
                <JobRowView workflowId={w.id} job={j} />
              ))}
            </tbody>
          </table>
        </div>
        {jobs.items.length === 0 && (
          <p class="muted" id="no-jobs">
            No jobs yet.
          </p>
        )}
        <Pager
          next={
            jobs.next_cursor
              ? withQuery(`/w/${w.id}`, { ...query, ticks_cursor: undefined }, { cursor: jobs.next_cursor })
              : null
          }
          label="Older jobs"
        />
      </section>
      <Backfills workflowId={w.id} terminated={w.status === 'TERMINATED'} backfills={props.backfills} />
      <Ticks w={w} ticks={props.ticks} query={query} />
      <History w={w} />
    </Layout>
  );
}
