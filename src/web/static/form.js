// The workflow form: shows the fields of the chosen kind and schedule, turns the form into the body
// of POST /workflows (create) or PUT /workflows/{id} (edit, with If-Match: the version shown), and
// puts each validation error of the API beside the field it names. Errors are set as text.
(() => {
  const form = document.getElementById('workflow-form');
  if (!form) return;
  const field = (name) => form.elements.namedItem(name);
  const value = (name) => field(name).value.trim();
  const editing = Boolean(form.dataset.workflow);

  function showSections() {
    const kind = field('kind').value;
    for (const el of form.querySelectorAll('[data-kind]')) el.hidden = el.dataset.kind !== kind;
    const type = field('schedule_type').value;
    for (const el of form.querySelectorAll('[data-schedule]')) el.hidden = el.dataset.schedule !== type;
  }
  form.addEventListener('change', showSections);
  showSections();

  /** A number for the API, or the text itself so that the API names what is wrong with it. */
  const number = (text) => (text !== '' && Number.isFinite(Number(text)) ? Number(text) : text);

  function lines(text) {
    return text
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l.trim() !== '');
  }

  /** The chain's chosen workflows per outcome, or null when none is chosen. */
  function chosenChain() {
    const chain = {};
    for (const outcome of ['on_success', 'on_failure', 'on_end']) {
      const select = field(`chain_${outcome}`);
      const ids = select ? [...select.selectedOptions].map((o) => o.value) : [];
      if (ids.length) chain[outcome] = ids;
    }
    return Object.keys(chain).length ? chain : null;
  }

  function body() {
    const kind = field('kind').value;
    const b = { name: value('name') };
    if (!editing) b.kind = kind;
    const payload = {};
    if (kind === 'HEARTBEAT') {
      payload.endpoint = value('endpoint');
      if (value('expected_status_code')) payload.expected_status_code = number(value('expected_status_code'));
      const headers = {};
      for (const line of lines(field('headers').value)) {
        const at = line.indexOf(':');
        const name = (at < 0 ? line : line.slice(0, at)).trim();
        const v = at < 0 ? '' : line.slice(at + 1).trim();
        headers[name] = name in headers ? [].concat(headers[name], v) : v;
      }
      payload.headers = headers;
    } else {
      payload.image = value('image');
      payload.cmd = lines(field('cmd').value);
      const env = {};
      for (const line of lines(field('env').value)) {
        const at = line.indexOf('=');
        env[at < 0 ? line : line.slice(0, at)] = at < 0 ? '' : line.slice(at + 1);
      }
      payload.env = env;
      const resources = {};
      for (const r of ['cpus', 'memory_mb', 'pids']) if (value(r)) resources[r] = number(value(r));
      if (Object.keys(resources).length) payload.resources = resources;
      payload.network = value('network');
    }
    if (value('timeout')) payload.timeout = value('timeout');
    b.payload = payload;
    const type = value('schedule_type');
    if (type === 'interval') b.interval = number(value('interval'));
    if (type === 'cron') b.schedule = { cron: value('cron'), timezone: value('timezone') || 'UTC' };
    if (type === 'at') b.at = value('at');
    for (const k of ['overlap_policy', 'catch_up', 'start_at', 'end_at']) if (value(k)) b[k] = value(k);
    if (value('max_runs')) b.max_runs = number(value('max_runs'));
    if (value('jitter_seconds')) b.jitter_seconds = number(value('jitter_seconds'));
    const dst = {};
    if (value('dst_nonexistent')) dst.nonexistent = value('dst_nonexistent');
    if (value('dst_repeated')) dst.repeated = value('dst_repeated');
    if (Object.keys(dst).length) b.dst = dst;
    b.max_consecutive_job_failures_allowed = number(value('max_consecutive_job_failures_allowed'));
    b.log_retention = field('log_retention').checked;
    const chain = chosenChain();
    // On an edit, no choice removes the chain (null); on a create it is simply left out.
    if (chain || editing) b.chain = chain;
    return b;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    Cv.clearFieldErrors(form, document.getElementById('form-error'));
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const res = editing
        ? await Cv.api('PUT', `/workflows/${form.dataset.workflow}`, body(), {
            'If-Match': `"${form.dataset.version}"`,
          })
        : await Cv.api('POST', '/workflows', body());
      if (res.ok) {
        location.assign(`/w/${editing ? form.dataset.workflow : res.body.id}`);
        return;
      }
      if (res.status === 412 || res.status === 409) {
        document.getElementById('form-error').textContent =
          `${Cv.problemText(res)} The workflow changed since this page was loaded: reload it to edit the current version.`;
        return;
      }
      Cv.showFieldErrors(form, document.getElementById('form-error'), res);
    } catch (err) {
      document.getElementById('form-error').textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
})();
