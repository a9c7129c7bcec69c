// Analytics of the signed-in user, or of one of their workflows: totals, then runs by outcome,
// duration and lateness percentiles and log lines over time. The page holds only the frame; the
// figures come from the JSON API (GET /analytics, /analytics/workflows/{id}, /analytics/series) and
// are drawn by analytics.js with uPlot, each chart with a table of the same numbers beside it.
import type { WorkflowRow } from '../../infra/database.ts';
import { Layout } from '../layout.tsx';

export interface AnalyticsQuery {
  readonly workflow?: WorkflowRow | undefined;
  readonly bucket: 'hour' | 'day';
}

const CHARTS = [
  { id: 'runs', title: 'Runs by outcome', unit: 'jobs' },
  { id: 'duration', title: 'Duration (start → end)', unit: 'seconds, p50 and p95' },
  { id: 'lateness', title: 'Lateness (nominal time → start)', unit: 'seconds, p50 and p95' },
  { id: 'logs', title: 'Log lines', unit: 'lines stored' },
] as const;

export function AnalyticsPage(props: {
  email: string;
  query: AnalyticsQuery;
  workflows: readonly Pick<WorkflowRow, 'id' | 'name'>[];
}) {
  const { workflow, bucket } = props.query;
  const totalsUrl = workflow ? `/analytics/workflows/${workflow.id}` : '/analytics';
  const seriesUrl = `/analytics/series?bucket=${bucket}${workflow ? `&workflow_id=${workflow.id}` : ''}`;
  return (
    <Layout
      title={workflow ? `Analytics · ${workflow.name}` : 'Analytics'}
      page="analytics"
      email={props.email}
      scripts={['uplot.js', 'analytics.js']}
      styles={['uplot.css']}
    >
      {workflow && (
        <p class="crumbs">
          <a href="/">Workflows</a> / <a href={`/w/${workflow.id}`}>{workflow.name}</a> /
        </p>
      )}
      <div class="title-row">
        <h1>{workflow ? `Analytics of ${workflow.name}` : 'Analytics'}</h1>
      </div>
      <form class="filters" method="get" action="/stats">
        <label>
          Workflow{' '}
          <select name="workflow">
            <option value="">All workflows</option>
            {props.workflows.map((w) => (
              <option value={w.id} selected={workflow?.id === w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Over{' '}
          <select name="bucket">
            <option value="hour" selected={bucket === 'hour'}>
              the last 24 hours, by hour
            </option>
            <option value="day" selected={bucket === 'day'}>
              the last 30 days, by day
            </option>
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      <div id="analytics" data-totals={totalsUrl} data-series={seriesUrl} data-bucket={bucket}>
        <section class="card">
          <h2>Totals</h2>
          <dl class="facts totals" id="totals">
            <dt>Loading…</dt>
            <dd />
          </dl>
        </section>
        <p id="analytics-error" class="error" role="alert" />
        <div class="charts">
          {CHARTS.map((c) => (
            <section class="card chart-card" aria-labelledby={`chart-${c.id}-title`}>
              <h2 id={`chart-${c.id}-title`}>
                {c.title} <span class="muted unit">{c.unit}</span>
              </h2>
              <div
                class="chart"
                id={`chart-${c.id}`}
                role="img"
                aria-label={`${c.title}: see the table below`}
              />
              <details>
                <summary>Table</summary>
                <div class="table-wrap">
                  <table class="list compact" id={`table-${c.id}`} />
                </div>
              </details>
            </section>
          ))}
        </div>
      </div>
    </Layout>
  );
}
