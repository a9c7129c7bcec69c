// One job: its timeline (scheduled → queued → started → ended, with lateness), its result, and the
// live log (log.js: EventSource on the API's own stream, only the rows in view in the DOM, lines as
// text nodes; search, stdout/stderr filter, #L<n> links; the raw download once the job is final).
import type { JobRow, WorkflowRow } from '../../infra/database.ts';
import { Badge, durationWords, Time } from '../components.tsx';
import { Layout } from '../layout.tsx';

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELED']);
const TRIGGER_WORDS = {
  AUTOMATIC: 'Scheduled',
  MANUAL: 'Manual (run now)',
  BACKFILL: 'Backfill',
  CHAIN: 'Chain',
} as const;

export function JobPage(props: { email: string; w: WorkflowRow; job: JobRow }) {
  const { w, job } = props;
  const base = `/workflows/${w.id}/jobs/${job.id}`;
  // Late from when it was meant to start: with jitter, its fire time.
  const due = job.fire_at ?? job.scheduled_at;
  const lateness = job.started_at && due ? job.started_at.getTime() - due.getTime() : undefined;
  return (
    <Layout
      title={`Job ${job.id.slice(0, 8)} · ${w.name}`}
      page="job"
      email={props.email}
      scripts={['log.js']}
      styles={['log.css']}
    >
      <p class="crumbs">
        <a href="/">Workflows</a> / <a href={`/w/${w.id}`}>{w.name}</a> /
      </p>
      <div class="title-row">
        <h1>
          Job <span class="mono">{job.id.slice(0, 8)}</span>
        </h1>
        <Badge status={job.status} live={{ 'data-job-status': job.id }} />
      </div>
      <div class="actions" id="job-actions" data-workflow={w.id} data-job={job.id}>
        <button type="button" data-action="cancel" disabled={FINAL.has(job.status)}>
          ⊘ Cancel
        </button>
        <span id="action-error" class="error" role="alert" />
      </div>
      <div class="grid">
        <section class="card">
          <h2>Timeline</h2>
          <ol class="timeline">
            <li>
              <span class="step">Scheduled</span> <Time at={job.scheduled_at} />
            </li>
            {job.fire_at && (
              <li>
                <span class="step">Fires at</span> <Time at={job.fire_at} />{' '}
                <span class="muted">
                  (jitter: {durationWords(job.fire_at.getTime() - job.scheduled_at.getTime())} after)
                </span>
              </li>
            )}
            <li>
              <span class="step">Queued</span>{' '}
              <Time at={job.queued_at} live={{ 'data-job-queued': job.id }} />
            </li>
            <li>
              <span class="step">Started</span>{' '}
              <Time at={job.started_at} live={{ 'data-job-started': job.id }} />
              {lateness !== undefined && (
                <span class="muted"> ({durationWords(Math.max(0, lateness))} late)</span>
              )}
            </li>
            <li>
              <span class="step">Ended</span>{' '}
              <Time at={job.completed_at} live={{ 'data-job-ended': job.id }} />
            </li>
          </ol>
        </section>
        <section class="card">
          <h2>Result</h2>
          <dl class="facts">
            <dt>Trigger</dt>
            <dd>
              {TRIGGER_WORDS[job.trigger]}
              {job.caused_by_job_id && job.caused_by_workflow_id && (
                <>
                  {' '}
                  after job{' '}
                  <a class="mono" href={`/w/${job.caused_by_workflow_id}/jobs/${job.caused_by_job_id}`}>
                    {job.caused_by_job_id.slice(0, 8)}
                  </a>
                </>
              )}
            </dd>
            <dt>Attempt</dt>
            <dd>{String(job.attempt)}</dd>
            <dt>Exit code</dt>
            <dd data-job-exit={job.id}>{job.exit_code === null ? '—' : String(job.exit_code)}</dd>
            {job.failure_kind && (
              <>
                <dt>Failure</dt>
                <dd>
                  {job.failure_kind} · {job.failure_reason ?? ''}
                </dd>
              </>
            )}
            {job.error_message && (
              <>
                <dt>Error</dt>
                <dd class="error-text">{job.error_message}</dd>
              </>
            )}
            {job.image_digest && (
              <>
                <dt>Image digest</dt>
                <dd class="mono">{job.image_digest}</dd>
              </>
            )}
          </dl>
        </section>
      </div>
      <section class="card" aria-labelledby="log-title">
        <div class="log-head">
          <h2 id="log-title">Log</h2>
          <label>
            Stream{' '}
            <select id="log-stream" aria-controls="log">
              <option value="">All</option>
              <option value="stdout">stdout</option>
              <option value="stderr">stderr</option>
            </select>
          </label>
          <search class="log-search">
            <label for="log-search">Search</label>
            <input
              type="search"
              id="log-search"
              autocomplete="off"
              spellcheck={false}
              placeholder="Find in log (/)"
              aria-controls="log"
              aria-describedby="log-matches"
              aria-keyshortcuts="/"
            />
            <button
              type="button"
              id="log-prev"
              class="ghost"
              aria-label="Previous match (Shift+Enter)"
              disabled
            >
              ↑
            </button>
            <button type="button" id="log-next" class="ghost" aria-label="Next match (Enter)" disabled>
              ↓
            </button>
            <span id="log-matches" class="muted" role="status" />
          </search>
          <span id="log-state" class="muted" role="status">
            Connecting…
          </span>
          <button type="button" id="log-follow" class="ghost" hidden>
            ↓ Follow
          </button>
          {/* The raw log is there once the job is final (before, the API answers 409); log.js shows the link at `end`. */}
          <a
            id="log-download"
            class="log-download"
            href={`${base}/logs/raw`}
            download={`job-${job.id}.log`}
            hidden={!FINAL.has(job.status)}
          >
            Download
          </a>
        </div>
        {/* Rows are recycled as the log scrolls, so additions are not announced (aria-live off); #log-state says how many lines there are. */}
        <div
          id="log"
          role="log"
          class="log"
          data-stream={`${base}/events`}
          tabindex={0}
          aria-label="Job log"
          aria-live="off"
        />
      </section>
    </Layout>
  );
}
