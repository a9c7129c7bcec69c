// The workflow page's audit history: its event log from the JSON API (GET /workflows/{id}/history,
// paged by the sequence of the last commit read), shown oldest first as a timeline. Events the page's
// live stream reports for this workflow (app.js dispatches them as `cv:event`) make it read on from
// where it stopped, so the timeline grows without a reload and no event is shown twice. Every value
// is set as text (textContent, <time> attributes): event data is user data.
(() => {
  const list = document.getElementById('history');
  if (!list) return;
  const state = document.getElementById('history-state');
  const more = document.getElementById('history-more');
  const workflowId = document.getElementById('workflow-actions')?.dataset.workflow;
  const PAGE = 50;
  let after = 0;
  let reading = false;
  let again = false;

  /** `WorkflowBuildCompleted` → `Workflow build completed`. */
  const words = (type) =>
    type.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/ (\w)/g, (_, c) => ` ${c.toLowerCase()}`);

  const TONE = {
    WorkflowTerminated: 'bad',
    WorkflowBuildFailed: 'bad',
    WorkflowDeleted: 'bad',
    WorkflowPaused: 'warn',
    TickSkipped: 'warn',
    TicksWithdrawn: 'warn',
    WorkflowResumed: 'ok',
    WorkflowBuildCompleted: 'ok',
    WorkflowCreated: 'ok',
  };

  /** The few facts of an event worth a line; the whole of it is in the details below. */
  function summary(e) {
    const d = e.data || {};
    switch (e.type) {
      case 'WorkflowCreated':
        return `${d.kind ?? ''} “${d.name ?? ''}”`;
      case 'WorkflowUpdated':
        return `changed ${Object.keys(d.changes || {}).join(', ') || 'nothing'}${d.rebuild ? ' (rebuild)' : ''}`;
      case 'WorkflowTerminated':
        return d.reason === 'consecutive_failures'
          ? 'after consecutive failures'
          : d.reason === 'run_limit'
            ? 'after its last scheduled run (max_runs)'
            : 'by the user';
      case 'WorkflowBuildFailed':
        return d.reason ?? '';
      case 'JobScheduled':
        return `job ${String(d.job_id ?? '').slice(0, 8)} · ${{ MANUAL: 'run now', BACKFILL: 'backfill', CHAIN: 'chain' }[d.trigger] ?? 'scheduled'}`;
      case 'JobOutcomeRecorded':
        return `job ${String(d.job_id ?? '').slice(0, 8)} ${String(d.outcome ?? '').toLowerCase()} · streak ${d.consecutive_failures ?? 0}`;
      case 'JobReleased':
        return `job ${String(d.job_id ?? '').slice(0, 8)}`;
      case 'TickSkipped':
        return `reason: ${d.reason ?? ''}`;
      case 'ChainSkipped':
        return `chained run after job ${String(d.caused_by?.job_id ?? '').slice(0, 8)} skipped: ${d.reason ?? ''}`;
      case 'BackfillRequested':
        return `${d.jobs ?? 0} tick(s) of ${d.from ?? ''} → ${d.to ?? ''} (${d.overlap ?? ''})`;
      case 'TicksWithdrawn':
        return `${(d.ticks || []).length} tick(s), ${d.reason ?? ''}`;
      default:
        return '';
    }
  }

  function item(e) {
    const li = document.createElement('li');
    li.dataset.tone = TONE[e.type] ?? 'idle';
    li.dataset.sequence = String(e.sequence);
    li.dataset.type = e.type;
    const time = document.createElement('time');
    time.setAttribute('datetime', e.occurred_at);
    const title = document.createElement('strong');
    title.textContent = words(e.type);
    const text = document.createElement('span');
    text.className = 'muted';
    text.textContent = summary(e);
    const details = document.createElement('details');
    const more = document.createElement('summary');
    more.textContent = 'Event';
    const pre = document.createElement('pre');
    pre.className = 'json';
    pre.textContent = JSON.stringify(
      { id: e.id, type: e.type, version: e.version, causation_id: e.causation_id, data: e.data },
      null,
      2,
    );
    details.append(more, pre);
    li.append(time, ' ', title, ' ', text, details);
    Cv.formatTimes(li);
    return li;
  }

  function setState() {
    const n = list.children.length;
    state.textContent = n === 0 ? 'No event yet.' : `${n} event${n === 1 ? '' : 's'}`;
  }

  /** Reads one page after the last sequence read; `all` reads on to the end (live catch-up). */
  async function read(all) {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const res = await Cv.api(
          'GET',
          `${list.dataset.history}?limit=${PAGE}${after ? `&after=${after}` : ''}`,
        );
        if (!res.ok) {
          state.textContent = Cv.problemText(res);
          return;
        }
        const from = after;
        for (const e of res.body.items) if (e.sequence > from) list.append(item(e));
        const last = res.body.items.at(-1);
        if (last) after = last.sequence;
        more.hidden = res.body.next_after === null;
        if (res.body.next_after !== null && all) again = true;
      } while (again);
    } catch (err) {
      state.textContent = err.message;
      return;
    } finally {
      reading = false;
    }
    setState();
  }

  more.addEventListener('click', () => read(false));
  document.addEventListener('cv:event', (ev) => {
    const e = ev.detail;
    if (e.aggregate === 'workflow' && e.aggregate_id === workflowId) read(true);
  });
  read(false);
})();
