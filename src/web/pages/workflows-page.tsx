// The workflows list: filters and search in the query string (a plain GET form), keyset paging, and
// per row its name, kind, schedule in words, status, build status, next fire, last run (its newest
// job) and failure streak. Status, build, last run and streak are updated live by app.js.
import type { JobRow, WorkflowRow } from '../../infra/database.ts';
import type { Page } from '../../queries/paging.ts';
import { Badge, Pager, Select, Time, withQuery } from '../components.tsx';
import { Layout } from '../layout.tsx';
import { scheduleWords } from '../schedule-words.ts';

export interface WorkflowsQuery {
  q?: string | undefined;
  kind?: string | undefined;
  status?: string | undefined;
  build_status?: string | undefined;
}

export interface WorkflowListItem {
  readonly row: WorkflowRow;
  readonly nextFire: string | null;
  /** The workflow's newest job, if it has any. */
  readonly lastJob: JobRow | undefined;
}

export function WorkflowsPage(props: {
  email: string;
  query: WorkflowsQuery;
  page: Page<WorkflowListItem>;
  paged: boolean;
}) {
  const { query, page } = props;
  const filtered = Boolean(query.q || query.kind || query.status || query.build_status);
  return (
    <Layout title="Workflows" page="workflows" email={props.email}>
      <div class="title-row">
        <h1>Workflows</h1>
        <p id="new-workflows" class="notice" hidden>
          <span class="text" /> <a href="/">Show</a>
        </p>
      </div>
      <form class="filters" method="get" action="/">
        <label>
          Search{' '}
          <input type="search" name="q" value={query.q ?? ''} placeholder="Name contains…" id="search" />
        </label>
        <Select name="kind" label="Kind" value={query.kind} options={['HEARTBEAT', 'CONTAINER']} />
        <Select
          name="status"
          label="Status"
          value={query.status}
          options={['ACTIVE', 'PAUSED', 'TERMINATED']}
        />
        <Select
          name="build_status"
          label="Build"
          value={query.build_status}
          options={['NONE', 'QUEUED', 'STARTED', 'COMPLETED', 'FAILED', 'CANCELED']}
        />
        <button type="submit">Filter</button>
        {filtered && <a href="/">Clear</a>}
      </form>
      {page.items.length === 0 ? (
        <p class="empty">
          {filtered || props.paged ? 'No workflow matches.' : 'No workflows yet.'}{' '}
          <a href="/new">Create a workflow</a>
        </p>
      ) : (
        <div class="table-wrap">
          <div class="bulk" id="bulk-actions">
            <span id="bulk-selected" class="muted">
              None selected
            </span>
            <button type="button" data-bulk="pause" disabled>
              Pause
            </button>
            <button type="button" data-bulk="resume" disabled>
              Resume
            </button>
            <button type="button" class="danger" data-bulk="terminate" disabled>
              Terminate
            </button>
          </div>
          <table class="list" id="workflows">
            <thead>
              <tr>
                <th scope="col" class="pick">
                  <input type="checkbox" id="bulk-all" aria-label="Select all workflows on this page" />
                </th>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Schedule</th>
                <th scope="col">Status</th>
                <th scope="col">Build</th>
                <th scope="col">Next fire</th>
                <th scope="col">Last run</th>
                <th scope="col">Failures</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map(({ row: w, nextFire, lastJob }) => (
                <tr data-workflow={w.id}>
                  <td class="pick">
                    <input type="checkbox" data-bulk-pick={w.id} aria-label={`Select ${w.name}`} />
                  </td>
                  <td>
                    <a href={`/w/${w.id}`} class="name" data-wf-name={w.id}>
                      {w.name}
                    </a>
                    <span class="bulk-result" data-bulk-result={w.id} role="status" />
                  </td>
                  <td>{w.kind}</td>
                  <td>{scheduleWords(w.schedule)}</td>
                  <td>
                    <Badge status={w.status} live={{ 'data-wf-status': w.id }} />
                  </td>
                  <td>
                    <Badge status={w.build_status} live={{ 'data-wf-build': w.id }} />
                  </td>
                  <td>
                    <Time at={w.status === 'ACTIVE' ? nextFire : null} />
                  </td>
                  <td data-wf-last-run={w.id}>
                    {lastJob ? (
                      <>
                        <Badge status={lastJob.status} live={{ 'data-job-status': lastJob.id }} />{' '}
                        <Time at={lastJob.created_at} />
                      </>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  <td>
                    <span
                      class="streak"
                      data-wf-streak={w.id}
                      data-count={String(w.consecutive_job_failures)}
                    >
                      {String(w.consecutive_job_failures)}
                    </span>
                    <span class="muted"> / {String(w.max_consecutive_job_failures_allowed)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager
        next={page.next_cursor ? withQuery('/', { ...query }, { cursor: page.next_cursor }) : null}
        label="More workflows"
      />
    </Layout>
  );
}
