// The backfill form of a workflow's page: sends POST /workflows/{id}/backfill with the CSRF header,
// puts the API's refusals beside the field they name (as text), and on success reloads the page, whose
// list of backfills then holds the new one. While a listed backfill has jobs not ended, its progress
// is read again from GET /workflows/{id}/backfills (set as text) whenever the page's live stream
// reports an event of the workflow (a job's end is recorded on it), and once as the stream opens.
(() => {
  const section = document.getElementById('backfills');
  if (!section) return;
  const workflow = document.getElementById('workflow-actions')?.dataset.workflow;

  /** As progressWords in backfills.tsx. */
  function words(b) {
    const ended = b.completed + b.failed + b.canceled;
    return [
      `${ended} of ${b.jobs} done`,
      b.failed > 0 && `${b.failed} failed`,
      b.canceled > 0 && `${b.canceled} canceled`,
      b.running > 0 && `${b.running} running`,
      b.pending > 0 && `${b.pending} waiting`,
    ]
      .filter(Boolean)
      .join(' · ');
  }

  async function refresh() {
    if (!workflow || Cv.isLeaving()) return;
    const res = await Cv.api('GET', `/workflows/${workflow}/backfills`).catch(() => undefined);
    for (const b of res?.ok ? res.body.items : []) {
      const row = section.querySelector(`tr[data-backfill="${CSS.escape(b.id)}"]`);
      if (!row) continue;
      const ended = b.completed + b.failed + b.canceled;
      row.querySelector('[data-backfill-progress]').textContent = words(b);
      const bar = row.querySelector('progress');
      bar.max = b.jobs || 1;
      bar.value = ended;
      row.dataset.open = ended < b.jobs ? 'yes' : 'no';
    }
  }
  const open = () => section.querySelector('tr[data-open="yes"]') !== null;
  let timer;
  document.addEventListener('cv:event', (ev) => {
    const e = ev.detail;
    if (e.aggregate !== 'workflow' || e.aggregate_id !== workflow || timer || !open()) return;
    // The list is a read model, a moment behind the log: read it shortly after the event.
    timer = setTimeout(() => {
      timer = undefined;
      void refresh();
    }, 500);
  });
  // What changed between the rendering and the stream's start (which begins with new events).
  document.addEventListener('cv:live', (ev) => {
    if (ev.detail === 'open' && open()) void refresh();
  });

  const form = document.getElementById('backfill-form');
  if (!form) return;
  const general = document.getElementById('backfill-error');
  const value = (name) => form.elements.namedItem(name).value.trim();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    Cv.clearFieldErrors(form, general);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const res = await Cv.api('POST', `/workflows/${form.dataset.workflow}/backfill`, {
        from: value('from'),
        to: value('to'),
        overlap: value('overlap'),
      });
      if (res.ok) {
        // The answer comes once the backfill is in the log; its list (a read model) follows within a
        // moment: the page is read again when the list holds it (or after 5 s).
        for (let i = 0; i < 20; i++) {
          const list = await Cv.api('GET', `/workflows/${form.dataset.workflow}/backfills`);
          if (list.ok && list.body.items.some((b) => b.id === res.body.backfill_id)) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        location.reload();
        return;
      }
      Cv.showFieldErrors(form, general, res);
    } catch (err) {
      general.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
})();
