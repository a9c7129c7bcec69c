// The dashboard's client script (plain JavaScript, no build step). It writes through the JSON API
// with the session cookie and the CSRF header, keeps the session alive (POST /auth/refresh on a 401,
// else back to the login page with a message), follows the user's live stream GET /events to update
// what the page shows, and formats times. Text from the server is only ever set as text
// (textContent, createTextNode), never parsed as HTML.
const Cv = (() => {
  const body = document.body;
  const STATUS = JSON.parse(body.dataset.statuses || '{}');

  function cookie(name) {
    for (const part of document.cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === name) return decodeURIComponent(v.join('='));
    }
    return '';
  }

  function toLogin(expired) {
    const next = location.pathname + location.search;
    const params = new URLSearchParams();
    if (expired) params.set('expired', '1');
    if (next !== '/') params.set('next', next);
    const qs = params.toString();
    location.assign(qs ? `/login?${qs}` : '/login');
  }

  let refreshing = null;
  /**
   * Renews the session; resolves true when it was. A refresh token works once (a second use ends the
   * session), so one refresh at a time in this page, and across this browser's tabs by a Web Lock:
   * a tab that waited for another's refresh finds a new CSRF cookie and refreshes no more.
   */
  function refreshSession() {
    const before = cookie('cv_csrf');
    const refresh = async () => {
      const now = cookie('cv_csrf');
      if (now && now !== before) return true;
      try {
        const r = await fetch('/auth/refresh', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'X-CSRF-Token': now },
        });
        return r.ok;
      } catch {
        return false;
      }
    };
    refreshing ??= (
      navigator.locks ? navigator.locks.request('cv-session-refresh', refresh) : refresh()
    ).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  /** Whether the session still holds (renewed if it had to be); false after sending the page to login. */
  async function sessionHolds() {
    try {
      return (await api('GET', '/users/me')).ok;
    } catch {
      return false;
    }
  }

  /** Set when the page is being left: a stream closed by leaving is no failure. */
  let leaving = false;
  window.addEventListener('beforeunload', () => {
    leaving = true;
  });
  window.addEventListener('pagehide', () => {
    leaving = true;
  });
  const isLeaving = () => leaving;

  /** A call of the JSON API; a 401 refreshes the session once and retries, else goes to login. */
  async function api(method, path, data, extraHeaders, retried) {
    const headers = { Accept: 'application/json', ...extraHeaders };
    if (method !== 'GET') headers['X-CSRF-Token'] = cookie('cv_csrf');
    const init = { method, credentials: 'same-origin', headers };
    if (data !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(data);
    }
    const res = await fetch(path, init);
    if (res.status === 401 && !retried && !path.startsWith('/auth/')) {
      if (await refreshSession()) return api(method, path, data, extraHeaders, true);
      toLogin(true);
      throw new Error('Your session has expired');
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { ok: res.ok, status: res.status, body: json, retryAfter: res.headers.get('Retry-After') };
  }

  /** What a refusal says, for the user: the API's detail, with the field when it names one. */
  function problemText(res) {
    const p = res.body;
    if (p && typeof p.detail === 'string') return p.detail;
    return `The request failed (${res.status})`;
  }

  // ---- badges and times -------------------------------------------------------------------------

  function setBadge(el, status) {
    const look = STATUS[status] || { icon: '?', label: status, tone: 'idle' };
    el.className = `badge tone-${look.tone}`;
    el.dataset.status = status;
    el.querySelector('.icon').textContent = look.icon;
    el.querySelector('.label').textContent = look.label;
  }

  function makeBadge(status, attrs) {
    const el = document.createElement('span');
    const icon = document.createElement('span');
    icon.className = 'icon';
    icon.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.className = 'label';
    el.append(icon, document.createTextNode(' '), label);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    setBadge(el, status);
    return el;
  }

  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  function relativeText(ms) {
    const s = Math.round((ms - Date.now()) / 1000);
    const abs = Math.abs(s);
    if (abs < 45) return relative.format(s, 'second');
    if (abs < 2700) return relative.format(Math.round(s / 60), 'minute');
    if (abs < 79200) return relative.format(Math.round(s / 3600), 'hour');
    return relative.format(Math.round(s / 86400), 'day');
  }

  function formatTime(el) {
    const ms = Date.parse(el.getAttribute('datetime'));
    if (Number.isNaN(ms)) return;
    const at = new Date(ms);
    el.textContent = relativeText(ms);
    el.title = `${at.toLocaleString()} (local)\n${at
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC')}`;
  }

  /** Replaces a time slot (a <time>, or the dash for none) with the given instant. */
  function setTime(el, iso) {
    const t = document.createElement('time');
    for (const a of el.attributes) if (a.name.startsWith('data-')) t.setAttribute(a.name, a.value);
    t.setAttribute('datetime', iso);
    formatTime(t);
    el.replaceWith(t);
  }

  function formatTimes(root) {
    for (const el of root.querySelectorAll('time[datetime]')) formatTime(el);
  }

  function toast(title, message, tone) {
    const box = document.getElementById('toasts');
    if (!box) return;
    const t = document.createElement('div');
    t.className = `toast tone-${tone || 'idle'}`;
    const strong = document.createElement('strong');
    strong.textContent = title;
    t.append(strong);
    if (message) {
      const p = document.createElement('div');
      p.textContent = message;
      t.append(p);
    }
    box.append(t);
    setTimeout(() => t.remove(), 8000);
  }

  // ---- a form's errors beside its fields -------------------------------------------------------

  /** Empties a form's error slots (data-error-for) and its general error line. */
  function clearFieldErrors(form, general) {
    for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = '';
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    general.textContent = '';
  }

  /** The error slot for a field the API named, or of the nearest field above it (payload.headers.X → payload.headers). */
  function slotFor(form, name) {
    let path = String(name || '');
    while (path) {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
      if (slot && !slot.closest('[hidden]')) return slot;
      path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
    }
    return undefined;
  }

  /** Puts each error of a refusal beside the field it names, as text; the rest in `general`. */
  function showFieldErrors(form, general, res) {
    const p = res.body || {};
    const errors =
      Array.isArray(p.errors) && p.errors.length ? p.errors : [{ field: p.field, message: p.detail }];
    const rest = [];
    for (const e of errors) {
      const slot = slotFor(form, e.field);
      if (!slot) {
        rest.push(e.field && e.field !== 'body' ? `${e.field}: ${e.message}` : e.message);
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent}; ${e.message}` : e.message;
      slot.closest('.field')?.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
    }
    if (rest.length) general.textContent = rest.join(' ');
    form.querySelector('[aria-invalid="true"]')?.focus();
  }

  return {
    STATUS,
    cookie,
    toLogin,
    refreshSession,
    sessionHolds,
    isLeaving,
    api,
    problemText,
    setBadge,
    makeBadge,
    setTime,
    formatTimes,
    toast,
    clearFieldErrors,
    showFieldErrors,
  };
})();

// ---- sign up, log in, log out, resume ----------------------------------------------------------

function setupAuthForm() {
  const form = document.getElementById('auth-form');
  if (!form) return;
  const error = document.getElementById('form-error');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      if (form.dataset.mode === 'signup') {
        const reg = await Cv.api('POST', '/auth/register', { email, password });
        if (!reg.ok) {
          error.textContent = Cv.problemText(reg);
          return;
        }
      }
      const login = await Cv.api('POST', '/auth/login', { email, password });
      if (!login.ok) {
        error.textContent = Cv.problemText(login);
        return;
      }
      location.assign(form.dataset.next || '/');
    } catch (err) {
      error.textContent = `Could not reach the server: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
}

function setupLogout() {
  const button = document.getElementById('logout');
  if (!button) return;
  button.addEventListener('click', async () => {
    await fetch('/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': Cv.cookie('cv_csrf') },
    }).catch(() => {});
    location.assign('/login?logged_out=1');
  });
}

async function resumeSession() {
  // A page that found no valid access cookie: renew the session once, else log in again.
  const key = 'cv-resumed-at';
  const last = Number(sessionStorage.getItem(key) || 0);
  if (Date.now() - last > 10_000 && (await Cv.refreshSession())) {
    sessionStorage.setItem(key, String(Date.now()));
    location.reload();
  } else {
    Cv.toLogin(true);
  }
}

function setupThemeToggle() {
  const button = document.getElementById('theme-toggle');
  if (!button) return;
  const order = ['system', 'dark', 'light'];
  const show = () => {
    const current = document.documentElement.dataset.theme || 'system';
    button.setAttribute('aria-label', `Colour theme: ${current}`);
    button.title = `Colour theme: ${current}`;
  };
  show();
  button.addEventListener('click', () => {
    const current = document.documentElement.dataset.theme || 'system';
    const next = order[(order.indexOf(current) + 1) % order.length];
    if (next === 'system') {
      delete document.documentElement.dataset.theme;
      localStorage.removeItem('cv-theme');
    } else {
      document.documentElement.dataset.theme = next;
      localStorage.setItem('cv-theme', next);
    }
    show();
  });
}

// ---- workflow and job actions ------------------------------------------------------------------

const CONFIRM = {
  terminate: 'Terminate this workflow? It never fires again and cannot be resumed.',
  cancel: 'Cancel this job?',
};

function setWorkflowActions(status) {
  const box = document.getElementById('workflow-actions');
  if (!box) return;
  box.dataset.status = status;
  const enabled = {
    run: status !== 'TERMINATED',
    pause: status === 'ACTIVE',
    resume: status === 'PAUSED',
    terminate: status !== 'TERMINATED',
    delete: status === 'TERMINATED',
  };
  for (const b of box.querySelectorAll('button[data-action]')) b.disabled = !enabled[b.dataset.action];
}

function setupActions() {
  document.addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-action]');
    if (!button) return;
    const box = button.closest('[data-workflow]');
    const wf = box.dataset.workflow;
    const action = button.dataset.action;
    const error = document.getElementById('action-error');
    if (CONFIRM[action] && !confirm(CONFIRM[action])) return;
    if (
      action === 'delete' &&
      !confirm(
        `Delete the workflow “${button.dataset.name}”? It leaves the list for good; its history stays readable.`,
      )
    )
      return;
    error.textContent = '';
    button.disabled = true;
    if (action === 'delete') {
      try {
        const res = await Cv.api('DELETE', `/workflows/${wf}`);
        if (!res.ok) error.textContent = Cv.problemText(res);
        else location.assign('/');
      } catch (err) {
        error.textContent = err.message;
      } finally {
        button.disabled = false;
      }
      return;
    }
    const path =
      action === 'run'
        ? `/workflows/${wf}/jobs/schedule`
        : action === 'cancel'
          ? `/workflows/${wf}/jobs/${box.dataset.job}/cancel`
          : `/workflows/${wf}/${action}`;
    try {
      const res = await Cv.api('POST', path);
      if (!res.ok) {
        error.textContent = Cv.problemText(res);
        return;
      }
      if (action === 'run') {
        upsertJobRow(wf, res.body.job_id, {
          status: 'PENDING',
          scheduled_at: res.body.scheduled_at,
          trigger: 'MANUAL',
        });
        Cv.toast('Job scheduled', `Job ${res.body.job_id.slice(0, 8)} will run now`, 'busy');
      } else if (action === 'cancel') {
        applyJobStatus(box.dataset.job, res.body.status);
      } else {
        applyWorkflowStatus(wf, res.body.status);
      }
    } catch (err) {
      error.textContent = err.message;
    } finally {
      if (action === 'run')
        button.disabled = document.getElementById('workflow-actions')?.dataset.status === 'TERMINATED';
    }
  });
}

// ---- bulk pause / resume / terminate on the workflows list ----------------------------------------

const BULK_DONE = { pause: 'Paused', resume: 'Resumed', terminate: 'Terminated' };

function setupBulk() {
  const bar = document.getElementById('bulk-actions');
  if (!bar) return;
  const all = document.getElementById('bulk-all');
  const picks = () => [...document.querySelectorAll('input[data-bulk-pick]')];
  const chosen = () => picks().filter((p) => p.checked);
  const refresh = () => {
    const n = chosen().length;
    document.getElementById('bulk-selected').textContent = n ? `${n} selected` : 'None selected';
    for (const b of bar.querySelectorAll('button[data-bulk]')) b.disabled = n === 0;
    all.checked = n > 0 && n === picks().length;
    all.indeterminate = n > 0 && n < picks().length;
  };
  all.addEventListener('change', () => {
    for (const p of picks()) p.checked = all.checked;
    refresh();
  });
  document.addEventListener('change', (ev) => {
    if (ev.target.matches?.('input[data-bulk-pick]')) refresh();
  });
  bar.addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-bulk]');
    if (!button) return;
    const action = button.dataset.bulk;
    const ids = chosen().map((p) => p.dataset.bulkPick);
    if (!ids.length) return;
    if (action === 'terminate' && !confirm(`Terminate ${ids.length} workflow(s)? They never fire again.`))
      return;
    for (const b of bar.querySelectorAll('button[data-bulk]')) b.disabled = true;
    // One call per workflow; each row shows its own outcome.
    await Promise.all(
      ids.map(async (id) => {
        const out = document.querySelector(`[data-bulk-result="${id}"]`);
        out.dataset.outcome = 'busy';
        out.textContent = '…';
        try {
          const res = await Cv.api('POST', `/workflows/${id}/${action}`);
          if (res.ok) {
            applyWorkflowStatus(id, res.body.status);
            out.dataset.outcome = 'ok';
            out.textContent = BULK_DONE[action];
          } else {
            out.dataset.outcome = 'error';
            out.textContent = Cv.problemText(res);
          }
        } catch (err) {
          out.dataset.outcome = 'error';
          out.textContent = err.message;
        }
      }),
    );
    refresh();
  });
  refresh();
}

// ---- live updates ------------------------------------------------------------------------------

function each(selector, fn) {
  for (const el of document.querySelectorAll(selector)) fn(el);
}

function applyWorkflowStatus(wf, status) {
  each(`[data-wf-status="${wf}"]`, (el) => Cv.setBadge(el, status));
  if (document.getElementById('workflow-actions')?.dataset.workflow !== wf) return;
  setWorkflowActions(status);
  // Fires listed while active are not coming any more; after a resume, a reload lists them anew.
  const upcoming = document.querySelector('#upcoming ol.upcoming');
  if (status !== 'ACTIVE' && upcoming) {
    const none = document.createElement('p');
    none.className = 'muted';
    none.id = 'upcoming-none';
    none.textContent = 'None while the workflow is not active.';
    upcoming.replaceWith(none);
  }
}

function applyJobStatus(job, status) {
  each(`[data-job-status="${job}"]`, (el) => Cv.setBadge(el, status));
  if (['COMPLETED', 'FAILED', 'CANCELED'].includes(status)) {
    each(`#job-actions[data-job="${job}"] button[data-action=cancel]`, (b) => {
      b.disabled = true;
    });
  }
}

/** A job of the workflow on its page: added at the top of the unfiltered first page when new. */
function upsertJobRow(wf, job, fields) {
  const tbody = document.querySelector(`tbody[data-jobs-of="${wf}"]`);
  if (!tbody) return;
  if (tbody.querySelector(`tr[data-job="${job}"]`)) return;
  if (tbody.dataset.liveInsert !== 'yes') return;
  document.getElementById('no-jobs')?.remove();
  const tr = document.createElement('tr');
  tr.dataset.job = job;
  const cell = (child) => {
    const td = document.createElement('td');
    if (child) td.append(child);
    tr.append(td);
    return td;
  };
  const link = document.createElement('a');
  link.href = `/w/${wf}/jobs/${job}`;
  link.className = 'mono';
  link.textContent = job.slice(0, 8);
  cell(link);
  cell(Cv.makeBadge(fields.status, { 'data-job-status': job }));
  cell(
    document.createTextNode(
      { MANUAL: 'Manual', BACKFILL: 'Backfill', CHAIN: 'Chain' }[fields.trigger] ?? 'Scheduled',
    ),
  );
  const slot = (attr) => {
    const s = document.createElement('span');
    s.className = 'muted';
    s.textContent = '—';
    if (attr) s.setAttribute(attr, job);
    return s;
  };
  const scheduled = slot();
  cell(scheduled);
  if (fields.scheduled_at) Cv.setTime(scheduled, fields.scheduled_at);
  cell(slot('data-job-started'));
  cell(slot('data-job-ended'));
  cell().setAttribute('data-job-result', job);
  tbody.prepend(tr);
}

const WORKFLOW_STATUS_OF = {
  WorkflowPaused: 'PAUSED',
  WorkflowResumed: 'ACTIVE',
  WorkflowTerminated: 'TERMINATED',
};
const BUILD_STATUS_OF = {
  WorkflowBuildQueued: 'QUEUED',
  WorkflowBuildStarted: 'STARTED',
  WorkflowBuildCompleted: 'COMPLETED',
  WorkflowBuildFailed: 'FAILED',
  WorkflowBuildCanceled: 'CANCELED',
};
const JOB_STATUS_OF = {
  JobQueued: 'QUEUED',
  JobStarted: 'RUNNING',
  JobCompleted: 'COMPLETED',
  JobRetryScheduled: 'QUEUED',
  JobCanceled: 'CANCELED',
};

let newWorkflows = 0;

function applyState(e) {
  // Page scripts of their own (history.js) follow the same stream through this event.
  document.dispatchEvent(new CustomEvent('cv:event', { detail: e }));
  const id = e.aggregate_id;
  const data = e.data || {};
  if (e.aggregate === 'workflow') {
    if (WORKFLOW_STATUS_OF[e.type]) applyWorkflowStatus(id, WORKFLOW_STATUS_OF[e.type]);
    if (BUILD_STATUS_OF[e.type])
      each(`[data-wf-build="${id}"]`, (el) => Cv.setBadge(el, BUILD_STATUS_OF[e.type]));
    if (e.type === 'JobScheduled' && data.trigger === 'AUTOMATIC')
      each(`[data-wf-last-fired="${id}"]`, (el) => Cv.setTime(el, data.scheduled_at));
    if (e.type === 'JobOutcomeRecorded') {
      each(`[data-wf-streak="${id}"]`, (el) => {
        el.textContent = String(data.consecutive_failures);
        el.dataset.count = String(data.consecutive_failures);
      });
    }
    if (e.type === 'WorkflowUpdated' && typeof data.changes?.name === 'string') {
      each(`[data-wf-name="${id}"]`, (el) => {
        el.textContent = data.changes.name;
      });
    }
    if (e.type === 'WorkflowDeleted') each(`tr[data-workflow="${id}"]`, (el) => el.classList.add('deleted'));
    if (e.type === 'WorkflowCreated' && document.body.dataset.page === 'workflows') {
      newWorkflows += 1;
      const note = document.getElementById('new-workflows');
      note.querySelector('.text').textContent =
        newWorkflows === 1 ? `New workflow: ${data.name}.` : `${newWorkflows} new workflows.`;
      note.hidden = false;
    }
    return;
  }
  if (e.aggregate === 'job') {
    if (e.type === 'JobCreated') {
      each(`[data-wf-last-run="${data.workflow_id}"]`, (cell) => {
        const time = document.createElement('span');
        cell.replaceChildren(Cv.makeBadge('PENDING', { 'data-job-status': id }), ' ', time);
        Cv.setTime(time, data.scheduled_at);
      });
      upsertJobRow(data.workflow_id, id, {
        status: 'PENDING',
        scheduled_at: data.scheduled_at,
        trigger: data.trigger,
      });
      return;
    }
    let status = JOB_STATUS_OF[e.type];
    if (e.type === 'JobFailed') status = data.will_retry ? undefined : 'FAILED';
    if (status) applyJobStatus(id, status);
    if (e.type === 'JobQueued') each(`[data-job-queued="${id}"]`, (el) => Cv.setTime(el, e.occurred_at));
    if (e.type === 'JobStarted') each(`[data-job-started="${id}"]`, (el) => Cv.setTime(el, e.occurred_at));
    if (['JobCompleted', 'JobFailed', 'JobCanceled'].includes(e.type) && status) {
      each(`[data-job-ended="${id}"]`, (el) => Cv.setTime(el, e.occurred_at));
      if (data.exit_code !== undefined) {
        each(`[data-job-exit="${id}"]`, (el) => {
          el.textContent = String(data.exit_code);
        });
      }
      if (e.type === 'JobFailed') {
        each(`[data-job-result="${id}"]`, (el) => {
          el.textContent = [data.failure_kind, data.reason].filter(Boolean).join(' · ');
        });
      }
    }
  }
}

const TONE_OF_KIND = {
  WEB_ALERT: 'bad',
  WEB_ERROR: 'bad',
  WEB_WARN: 'warn',
  WEB_SUCCESS: 'ok',
  WEB_INFO: 'idle',
};

// ---- notifications: the header's unread badge and the drawer -------------------------------------

/** The unread notifications this page knows, by id, newest first in the drawer. */
const unread = new Map();
/** Set once the drawer's list came from the API; until then the badge keeps the server's count. */
let unreadLoaded = false;

/** The dashboard page of a notification's action_url (an API path): /workflows/… → /w/…. */
function dashboardUrl(actionUrl) {
  const m = /^\/workflows\/([0-9a-f-]{36})(?:\/jobs\/([0-9a-f-]{36}))?$/i.exec(actionUrl || '');
  if (!m) return null;
  return m[2] ? `/w/${m[1]}/jobs/${m[2]}` : `/w/${m[1]}`;
}

function showUnreadCount(count, more) {
  const badge = document.getElementById('notif-count');
  const toggle = document.getElementById('notif-toggle');
  if (!badge || !toggle) return;
  badge.textContent = more ? `${count}+` : String(count);
  badge.dataset.count = String(count);
  badge.hidden = count === 0;
  toggle.setAttribute('aria-label', `Notifications: ${count}${more ? '+' : ''} unread`);
}

function notificationItem(n) {
  const li = document.createElement('li');
  li.className = 'notif';
  li.dataset.tone = TONE_OF_KIND[n.kind] || 'idle';
  li.dataset.notification = n.id;
  const head = document.createElement('div');
  head.className = 'notif-title';
  const href = dashboardUrl(n.action_url);
  const title = document.createElement(href ? 'a' : 'strong');
  if (href) title.href = href;
  title.textContent = n.title;
  const time = document.createElement('span');
  head.append(title, ' ', time);
  Cv.setTime(time, n.created_at);
  const message = document.createElement('p');
  message.className = 'notif-message';
  message.textContent = n.message;
  const read = document.createElement('button');
  read.type = 'button';
  read.className = 'ghost notif-read';
  read.dataset.read = n.id;
  read.textContent = 'Mark read';
  li.append(head, message, read);
  return li;
}

function renderNotifications() {
  const list = document.getElementById('notif-list');
  if (!list) return;
  const items = [...unread.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  list.replaceChildren(...items.map(notificationItem));
  document.getElementById('notif-empty').hidden = items.length > 0;
  document.getElementById('notif-read-all').disabled = items.length === 0;
}

function addNotification(n) {
  if (n.read_at || unread.has(n.id)) return;
  unread.set(n.id, n);
  const badge = document.getElementById('notif-count');
  // Before the list is loaded, the server's count is the base that live ones add to.
  const base = unreadLoaded ? unread.size : Number(badge?.dataset.count || 0) + 1;
  showUnreadCount(base, false);
  renderNotifications();
}

/** The unread notifications from the API (after the stream opened, so none is missed between). */
async function loadNotifications() {
  if (!document.getElementById('notif-list')) return;
  const res = await Cv.api('GET', '/notifications?unread=true&limit=100');
  if (!res.ok) return;
  for (const n of res.body.items) if (!n.read_at) unread.set(n.id, n);
  unreadLoaded = true;
  showUnreadCount(unread.size, res.body.next_cursor !== null);
  renderNotifications();
}

async function markRead(ids) {
  const error = document.getElementById('notif-error');
  error.textContent = '';
  try {
    const res = await Cv.api('POST', '/notifications/read', { ids });
    if (!res.ok) {
      error.textContent = Cv.problemText(res);
      return;
    }
    for (const id of ids) unread.delete(id);
    showUnreadCount(unread.size, false);
    renderNotifications();
  } catch (err) {
    error.textContent = err.message;
  }
}

function setupNotifications() {
  const toggle = document.getElementById('notif-toggle');
  const drawer = document.getElementById('notif-drawer');
  if (!toggle || !drawer) return;
  const open = (yes) => {
    drawer.hidden = !yes;
    toggle.setAttribute('aria-expanded', String(yes));
    if (yes && !unreadLoaded) loadNotifications().catch(() => {});
  };
  toggle.addEventListener('click', () => open(drawer.hidden));
  document.getElementById('notif-close').addEventListener('click', () => {
    open(false);
    toggle.focus();
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !drawer.hidden) {
      ev.stopImmediatePropagation();
      open(false);
      toggle.focus();
    }
  });
  drawer.addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-read]');
    if (!button) return;
    button.disabled = true;
    markRead([button.dataset.read]).finally(() => {
      button.disabled = false;
    });
  });
  document.getElementById('notif-read-all').addEventListener('click', () => {
    if (unread.size) markRead([...unread.keys()]);
  });
  renderNotifications();
}

function setLive(state, label) {
  const el = document.getElementById('live');
  if (!el) return;
  el.dataset.state = state;
  el.querySelector('.live-label').textContent = label;
  document.documentElement.dataset.live = state;
  // Page scripts of their own (backfill.js) read what they show once more when the stream opens.
  document.dispatchEvent(new CustomEvent('cv:live', { detail: state }));
}

/** A workflow as GET /workflows/{id} has it, onto the page. */
function applyWorkflow(w) {
  applyWorkflowStatus(w.id, w.status);
  each(`[data-wf-build="${w.id}"]`, (el) => Cv.setBadge(el, w.build_status));
  each(`[data-wf-streak="${w.id}"]`, (el) => {
    el.textContent = String(w.consecutive_job_failures);
    el.dataset.count = String(w.consecutive_job_failures);
  });
}

/** A job as GET /workflows/{id}/jobs/{jobId} has it, onto the page. */
function applyJob(j) {
  upsertJobRow(j.workflow_id, j.id, j);
  applyJobStatus(j.id, j.status);
  if (j.queued_at) each(`span[data-job-queued="${j.id}"]`, (el) => Cv.setTime(el, j.queued_at));
  if (j.started_at) each(`span[data-job-started="${j.id}"]`, (el) => Cv.setTime(el, j.started_at));
  if (j.completed_at) each(`span[data-job-ended="${j.id}"]`, (el) => Cv.setTime(el, j.completed_at));
  if (j.exit_code !== null) {
    each(`[data-job-exit="${j.id}"]`, (el) => {
      el.textContent = String(j.exit_code);
    });
  }
}

/**
 * Once the stream is open: what changed between the server rendering this page and the stream's
 * start (which begins with new events) is read once from the JSON API, so the page misses nothing.
 * Events that arrive meanwhile are applied as well; both converge on the latest state.
 */
async function reconcile() {
  const page = document.body.dataset.page;
  if (page === 'workflows') {
    const here = new URLSearchParams(location.search);
    const params = new URLSearchParams({ limit: '50' });
    for (const [from, to] of [
      ['q', 'query'],
      ['kind', 'kind'],
      ['status', 'status'],
      ['build_status', 'build_status'],
      ['cursor', 'cursor'],
    ]) {
      if (here.get(from)) params.set(to, here.get(from));
    }
    const res = await Cv.api('GET', `/workflows?${params}`);
    if (res.ok) for (const w of res.body.items) applyWorkflow(w);
  }
  if (page === 'workflow') {
    const wf = document.getElementById('workflow-actions').dataset.workflow;
    const w = await Cv.api('GET', `/workflows/${wf}`);
    if (w.ok) applyWorkflow(w.body);
    const tbody = document.querySelector('tbody[data-jobs-of]');
    if (tbody?.dataset.liveInsert === 'yes') {
      const jobs = await Cv.api('GET', `/workflows/${wf}/jobs?limit=25`);
      if (jobs.ok) for (const j of [...jobs.body.items].reverse()) applyJob(j);
    }
  }
  if (page === 'job') {
    const box = document.getElementById('job-actions');
    const j = await Cv.api('GET', `/workflows/${box.dataset.workflow}/jobs/${box.dataset.job}`);
    if (j.ok) applyJob(j.body);
  }
}

/**
 * The user's stream: one EventSource per page, which the browser resumes with Last-Event-ID after a
 * dropped connection. A stream the server refused (a 401 once the access token expired, a 503) is
 * opened anew after a pause that doubles up to a minute, once the session holds (renewed if it had
 * to be); the page is then loaded again, since what it shows may have missed events meanwhile.
 */
function setupLive(attempt = 0) {
  if (!document.getElementById('live')) return;
  const es = new EventSource('/events');
  es.addEventListener('open', () => {
    if (attempt > 0) {
      location.reload();
      return;
    }
    setLive('open', 'Live');
    reconcile().catch(() => {});
    loadNotifications().catch(() => {});
  });
  es.addEventListener('state', (m) => applyState(JSON.parse(m.data)));
  es.addEventListener('notification', (m) => {
    const n = JSON.parse(m.data);
    Cv.toast(n.title, n.message, TONE_OF_KIND[n.kind]);
    addNotification(n);
  });
  es.addEventListener('error', async () => {
    if (Cv.isLeaving()) return;
    if (es.readyState !== EventSource.CLOSED) {
      setLive('connecting', 'Reconnecting…');
      return;
    }
    setLive('closed', 'Offline');
    if (!(await Cv.sessionHolds())) return;
    setTimeout(() => setupLive(attempt + 1), Math.min(60_000, 1000 * 2 ** attempt));
  });
  window.addEventListener('pagehide', () => es.close());
}

function setupKeys() {
  document.addEventListener('keydown', (ev) => {
    const typing = ev.target.closest?.('input, textarea, select');
    if (ev.key === '/' && !typing) {
      const search = document.getElementById('search');
      if (search) {
        ev.preventDefault();
        search.focus();
      }
    }
    if (ev.key === 'Escape' && !typing && document.body.dataset.page !== 'workflows') {
      const crumbs = document.querySelectorAll('.crumbs a');
      if (crumbs.length) location.assign(crumbs[crumbs.length - 1].href);
    }
  });
}

Cv.formatTimes(document);
setInterval(() => Cv.formatTimes(document), 30_000);
setupThemeToggle();
setupAuthForm();
setupLogout();
setupActions();
setupBulk();
setupNotifications();
setupLive();
setupKeys();
if (document.body.dataset.page === 'resume') resumeSession();
