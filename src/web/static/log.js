// The job page's log viewer. Lines come from the API's stream GET /workflows/{id}/jobs/{jobId}/events
// in one native EventSource, which resumes after a dropped connection with Last-Event-ID (the browser
// sends the id of the last line it got, and the server goes on after it). Lines are kept in order by
// their (attempt, sequence) and never added twice, also when a refused stream is opened anew after the
// session was refreshed (that stream starts from the first line; the lines already held are skipped).
//
// Every line is kept in a JavaScript array; the DOM holds only the rows in view plus a few above and
// below (virtual scrolling: rows of one fixed height, a sizer as tall as all of them, the rendered
// rows placed at their offset), so a log of 100,000 lines scrolls like one of ten. Search, the
// stdout/stderr filter and #L<n> links work on the array, not on the DOM.
//
// Every line is text: ANSI colour codes become classes on spans whose content is a text node, search
// hits are <mark> elements around text nodes; nothing is ever parsed as HTML.
(() => {
  const box = document.getElementById('log');
  if (!box) return;
  const byId = (id) => document.getElementById(id);
  const state = byId('log-state');
  const followButton = byId('log-follow');
  const streamFilter = byId('log-stream');
  const searchInput = byId('log-search');
  const prevButton = byId('log-prev');
  const nextButton = byId('log-next');
  const matchesOut = byId('log-matches');
  const download = byId('log-download');

  /** Rows rendered above and below the visible ones. */
  const OVERSCAN = 20;

  const sizer = document.createElement('div');
  sizer.className = 'log-sizer';
  const rowsBox = document.createElement('div');
  rowsBox.className = 'log-rows';
  sizer.append(rowsBox);
  box.replaceChildren(sizer);

  /** The height of one row (CSS gives every row the same), measured once. */
  const ROW_H = (() => {
    const probe = document.createElement('div');
    probe.className = 'ln';
    probe.textContent = '0';
    rowsBox.append(probe);
    const h = probe.getBoundingClientRect().height;
    probe.remove();
    return h > 0 ? h : 20;
  })();

  // ---- the lines ----------------------------------------------------------------------------------

  /** Every line received, oldest first: { attempt, err (stderr), message, plain (without escapes) }. Line n is lines[n - 1]. */
  const lines = [];
  let last = { attempt: 0, sequence: 0 };
  let ended = false;
  const after = (a, b) => a.attempt > b.attempt || (a.attempt === b.attempt && a.sequence > b.sequence);

  // SGR colour codes: 30–37 / 90–97 foreground, 1 bold, 0 reset. Anything else is dropped.
  const ESC = String.fromCharCode(27);
  const SGR = new RegExp(`${ESC}\\[([0-9;]*)m`, 'g');
  const OTHER_ESCAPES = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');

  /** A message as [text, classes] pieces: the text without escape codes, the classes its SGR codes give. */
  function segmentsOf(message) {
    if (!message.includes(ESC)) return [[message, '']];
    const out = [];
    let classes = [];
    let at = 0;
    const text = (s) => {
      const clean = s.replace(OTHER_ESCAPES, '');
      if (clean) out.push([clean, classes.join(' ')]);
    };
    for (const m of message.matchAll(SGR)) {
      text(message.slice(at, m.index));
      at = m.index + m[0].length;
      for (const code of (m[1] || '0').split(';').map(Number)) {
        if (code === 0) classes = [];
        else if (code === 1) classes = [...classes.filter((c) => c !== 'ansi-bold'), 'ansi-bold'];
        else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97))
          classes = [...classes.filter((c) => !c.startsWith('ansi-fg')), `ansi-fg${code}`];
        else if (code === 39) classes = classes.filter((c) => !c.startsWith('ansi-fg'));
      }
    }
    text(message.slice(at));
    return out;
  }

  /** The text a line shows (what search looks in); the message itself when it has no escape. */
  const plainOf = (message) =>
    message.includes(ESC)
      ? segmentsOf(message)
          .map((s) => s[0])
          .join('')
      : message;

  function addLine(line) {
    const key = { attempt: line.attempt, sequence: line.sequence_num };
    if (!after(key, last)) return;
    const newAttempt = key.attempt !== last.attempt && lines.length > 0;
    last = key;
    lines.push({
      attempt: line.attempt,
      err: line.stream === 'stderr',
      message: line.message,
      plain: plainOf(line.message),
      first: newAttempt,
    });
    schedule();
  }

  // ---- the view: all lines, or one stream's -------------------------------------------------------

  /** null: every line; else the indexes of the shown stream's lines, ascending. */
  let view = null;
  /** Lines looked at for `view` so far. */
  let viewed = 0;
  const shown = (i) => !streamFilter.value || (lines[i].err ? 'stderr' : 'stdout') === streamFilter.value;
  const rowCount = () => (view ? view.length : lines.length);
  const lineAt = (row) => (view ? view[row] : row);

  /** The row of line index i, or of the first shown line after it when it is not shown. */
  function rowOf(i) {
    if (!view) return i;
    let lo = 0;
    let hi = view.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (view[mid] < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function extendView() {
    if (!view) {
      viewed = lines.length;
      return;
    }
    for (; viewed < lines.length; viewed++) if (shown(viewed)) view.push(viewed);
  }

  // ---- search -------------------------------------------------------------------------------------

  let pattern = null;
  /** Every match, in order: the line index and the offset in its text; `current` indexes them. */
  let matchLine = [];
  let matchStart = [];
  let current = -1;
  /** Lines searched so far. */
  let searched = 0;

  function searchNew() {
    if (!pattern) {
      searched = lines.length;
      return;
    }
    for (; searched < lines.length; searched++) {
      if (!shown(searched)) continue;
      const text = lines[searched].plain;
      pattern.lastIndex = 0;
      for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
        matchLine.push(searched);
        matchStart.push(m.index);
      }
    }
  }

  /** The matches in line i, as [start, end, isCurrent]. */
  function hitsIn(i) {
    if (!pattern) return [];
    const hits = [];
    const text = lines[i].plain;
    const here = current >= 0 && matchLine[current] === i ? matchStart[current] : -1;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m; m = pattern.exec(text))
      hits.push([m.index, m.index + m[0].length, m.index === here]);
    return hits;
  }

  function showMatches() {
    const n = matchLine.length;
    matchesOut.textContent = !pattern
      ? ''
      : n === 0
        ? 'No matches'
        : `${current < 0 ? 0 : current + 1} of ${n.toLocaleString('en')}`;
    prevButton.disabled = n === 0;
    nextButton.disabled = n === 0;
  }

  /** Searches anew (another query, another stream); the current match is the first one in or below view. */
  function runSearch() {
    const q = searchInput.value;
    pattern = q ? new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi') : null;
    matchLine = [];
    matchStart = [];
    current = -1;
    searched = 0;
    searchNew();
    dirty = true;
    if (matchLine.length) {
      const top = lineAt(Math.min(rowCount() - 1, Math.floor(box.scrollTop / ROW_H)));
      const k = matchLine.findIndex((i) => i >= top);
      goTo(Math.max(k, 0));
    } else {
      showMatches();
      schedule();
    }
  }

  /** Makes match k the current one and brings it into view. */
  function goTo(k) {
    const n = matchLine.length;
    if (n === 0) return;
    current = ((k % n) + n) % n;
    setFollow(false);
    revealRow(rowOf(matchLine[current]));
    dirty = true;
    render();
    rowsBox.querySelector('mark.current')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    showMatches();
  }

  let searchTimer = 0;
  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      searchTimer = 0;
      runSearch();
    }, 120);
  });
  searchInput.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    // A query typed and entered at once is searched first, then Enter moves on from its first match.
    if (searchTimer) {
      clearTimeout(searchTimer);
      searchTimer = 0;
      runSearch();
      return;
    }
    goTo(current + (ev.shiftKey ? -1 : 1));
  });
  prevButton.addEventListener('click', () => goTo(current - 1));
  nextButton.addEventListener('click', () => goTo(current + 1));

  // ---- rendering ----------------------------------------------------------------------------------

  /** Rows now in the DOM by line index, and the range of rows they are. */
  let rendered = new Map();
  let renderedFirst = -1;
  let renderedEnd = -1;
  /** Set when rendered rows no longer show what they should (search, target): they are made anew. */
  let dirty = true;
  /** The line number shown highlighted (from #L<n>), and one asked for that has not arrived yet. */
  let targetShown = 0;
  let target = 0;
  let follow = true;

  function put(parent, text, classes, hit) {
    let node;
    if (classes) {
      node = document.createElement('span');
      node.className = classes;
      node.textContent = text;
    } else node = document.createTextNode(text);
    if (hit) {
      const mark = document.createElement('mark');
      mark.className = hit[2] ? 'hit current' : 'hit';
      mark.append(node);
      node = mark;
    }
    parent.append(node);
  }

  /** The message as text nodes (coloured spans, search marks); `hits` are sorted [start, end, current]. */
  function appendMessage(parent, message, hits) {
    let offset = 0;
    let h = 0;
    for (const [text, classes] of segmentsOf(message)) {
      let at = 0;
      while (at < text.length) {
        while (h < hits.length && hits[h][1] <= offset + at) h++;
        const hit = hits[h];
        const inHit = hit && hit[0] <= offset + at;
        const end = inHit
          ? Math.min(text.length, hit[1] - offset)
          : hit
            ? Math.min(text.length, hit[0] - offset)
            : text.length;
        put(parent, text.slice(at, end), classes, inHit ? hit : undefined);
        at = end;
      }
      offset += text.length;
    }
  }

  function makeRow(i) {
    const line = lines[i];
    const n = i + 1;
    const row = document.createElement('div');
    row.className = `ln ${line.err ? 'stderr' : 'stdout'}`;
    if (n === targetShown) row.classList.add('target');
    if (current >= 0 && matchLine[current] === i) row.classList.add('current');
    if (line.first) {
      row.classList.add('attempt-start');
      row.title = `Attempt ${line.attempt}`;
    }
    row.dataset.line = String(n);
    row.dataset.stream = line.err ? 'stderr' : 'stdout';
    const no = document.createElement('a');
    no.className = 'no';
    no.href = `#L${n}`;
    // Out of the tab order: rows come and go as the log scrolls; the log itself takes the focus.
    no.tabIndex = -1;
    no.textContent = String(n);
    const msg = document.createElement('span');
    msg.className = 'msg';
    appendMessage(msg, line.message, hitsIn(i));
    row.append(no, msg);
    return row;
  }

  const maxScrollTop = () => Math.max(0, box.scrollHeight - box.clientHeight);
  const nearBottom = () => maxScrollTop() - box.scrollTop <= ROW_H;

  /** Renders the rows in view (plus the overscan); rows still in view are kept as they are. */
  function render() {
    const total = rowCount();
    sizer.style.height = `${total * ROW_H}px`;
    if (follow) box.scrollTop = maxScrollTop();
    const top = box.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const end = Math.min(total, Math.ceil((top + box.clientHeight) / ROW_H) + OVERSCAN);
    if (!dirty && first === renderedFirst && end === renderedEnd) return;
    const next = new Map();
    const rows = [];
    for (let r = first; r < end; r++) {
      const i = lineAt(r);
      const row = (!dirty && rendered.get(i)) || makeRow(i);
      next.set(i, row);
      rows.push(row);
    }
    rowsBox.style.top = `${first * ROW_H}px`;
    rowsBox.replaceChildren(...rows);
    rendered = next;
    renderedFirst = first;
    renderedEnd = end;
    dirty = false;
  }

  /** Scrolls so that a row is in view (centred when it was not). */
  function revealRow(row) {
    sizer.style.height = `${rowCount() * ROW_H}px`;
    const y = row * ROW_H;
    if (y >= box.scrollTop && y + ROW_H <= box.scrollTop + box.clientHeight) return;
    box.scrollTop = Math.max(0, y - (box.clientHeight - ROW_H) / 2);
  }

  function setFollow(on) {
    follow = on;
    followButton.hidden = on;
  }

  function setState(text) {
    const count = lines.length;
    const what = view
      ? `${view.length.toLocaleString('en')} of ${count.toLocaleString('en')}`
      : count.toLocaleString('en');
    state.textContent = text ?? `${what} line${count === 1 ? '' : 's'}${ended ? '' : ' · live'}`;
    box.dataset.lines = String(count);
  }

  /** The line from #L<n>, once it has arrived: scrolled to and highlighted; the filter shows it. */
  function showTarget() {
    if (!target || target > lines.length) return;
    const i = target - 1;
    targetShown = target;
    target = 0;
    if (view && !shown(i)) {
      streamFilter.value = '';
      applyFilter();
    }
    setFollow(false);
    revealRow(rowOf(i));
    dirty = true;
  }

  /** Everything that waits for new lines: the view, the search, a #L target, the state; then the rows. */
  function flush() {
    extendView();
    const before = matchLine.length;
    searchNew();
    if (matchLine.length !== before) {
      if (current < 0) current = 0;
      // A current match may get its first rendering now; other rows are unchanged.
      dirty = dirty || before === 0;
      showMatches();
    }
    showTarget();
    setState();
    render();
  }

  let frame = 0;
  function schedule() {
    if (!frame)
      frame = requestAnimationFrame(() => {
        frame = 0;
        flush();
      });
  }

  function applyFilter() {
    // Keep the first line in view in view (or the nearest shown one after it), unless following.
    const anchor = rowCount() ? lineAt(Math.min(rowCount() - 1, Math.floor(box.scrollTop / ROW_H))) : 0;
    view = streamFilter.value ? [] : null;
    viewed = 0;
    extendView();
    dirty = true;
    if (!follow) {
      sizer.style.height = `${rowCount() * ROW_H}px`;
      box.scrollTop = rowOf(anchor) * ROW_H;
    }
    if (pattern) runSearch();
    setState();
    render();
  }

  // ---- events of the page -------------------------------------------------------------------------

  box.addEventListener('scroll', () => {
    // Scrolled up by the user: stop following; back at the bottom: follow again.
    setFollow(nearBottom());
    schedule();
  });
  new ResizeObserver(() => schedule()).observe(box);
  followButton.addEventListener('click', () => {
    setFollow(true);
    render();
    box.focus({ preventScroll: true });
  });
  streamFilter.addEventListener('change', applyFilter);

  const hashLine = () => {
    const m = /^#L(\d{1,9})$/.exec(location.hash);
    return m ? Number(m[1]) : 0;
  };
  window.addEventListener('hashchange', () => {
    target = hashLine();
    if (!target) return;
    setFollow(false);
    flush();
  });
  // A line number sets the address's #L<n> and highlights its line (which is in view already).
  rowsBox.addEventListener('click', (ev) => {
    const link = ev.target.closest?.('a.no');
    if (!link || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    history.replaceState(history.state, '', link.getAttribute('href'));
    targetShown = Number(link.textContent);
    setFollow(false);
    dirty = true;
    render();
  });
  // "/" outside a field goes to the log's search (the workflows list has its own #search for it).
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== '/' || ev.target.closest?.('input, textarea, select') || byId('search')) return;
    ev.preventDefault();
    searchInput.focus();
    searchInput.select();
  });

  // ---- the stream ---------------------------------------------------------------------------------

  function open(attempt) {
    const es = new EventSource(box.dataset.stream);
    es.addEventListener('open', () => setState());
    es.addEventListener('log', (m) => addLine(JSON.parse(m.data)));
    es.addEventListener('end', (m) => {
      ended = true;
      es.close();
      flush();
      const status = JSON.parse(m.data).status;
      if (download) download.hidden = false;
      box.dataset.ended = status;
      setState();
    });
    es.addEventListener('error', async () => {
      if (ended || Cv.isLeaving()) return;
      if (es.readyState !== EventSource.CLOSED) {
        setState('Reconnecting…');
        return;
      }
      // Refused: most likely the session expired. Once it holds again (renewed), open the stream
      // anew after a pause that doubles up to a minute; lines already shown are skipped by their key.
      setState('Disconnected');
      if (!(await Cv.sessionHolds())) return;
      setTimeout(() => open(attempt + 1), Math.min(60_000, 1000 * 2 ** attempt));
    });
  }

  // A reloaded page may come back with the browser's restored filter and query.
  target = hashLine();
  if (target) setFollow(false);
  if (streamFilter.value) applyFilter();
  if (searchInput.value) runSearch();
  open(0);
})();
