// The backfill form of a workflow's page: sends POST /workflows/{id}/backfill with the CSRF header,
// puts the API's refusals beside the field they name (as text), and on success reloads the page, whose
// list of backfills then holds the new one. While a listed backfill has jobs not ended, its progress
// is read again from GET /workflows/{id}/backfills every 2 s (set as text).
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
    let open = !res?.ok;
    for (const b of res?.ok ? res.body.items : []) {
      const row = section.querySelector(`tr[data-backfill="${CSS.escape(b.id)}"]`);
      if (!row) continue;
      const ended = b.completed + b.failed + b.canceled;
      row.querySelector('[data-backfill-progress]').textContent = words(b);
      const bar = row.querySelector('progress');
      bar.max = b.jobs || 1;
      bar.value = ended;
      row.dataset.open = ended < b.jobs ? 'yes' : 'no';
      if (ended < b.jobs) open = true;
    }
    if (open) setTimeout(refresh, 2000);
  }
  if (section.querySelector('tr[data-open="yes"]')) setTimeout(refresh, 2000);

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
