// The job page's live log: the API's stream GET /workflows/{id}/jobs/{jobId}/events in one native
// EventSource, which resumes after a dropped connection with Last-Event-ID (the browser sends the id
// of the last line it got). Lines are kept in order by their (attempt, sequence) and never added
// twice, also when a refused stream is opened anew after the session was refreshed. Every line is
// text: ANSI colour codes become classes on spans whose content is a text node, never HTML.
(() => {
  const box = document.getElementById('log');
  if (!box) return;
  const state = document.getElementById('log-state');
  const followButton = document.getElementById('log-follow');
  const streamFilter = document.getElementById('log-stream');
  let last = { attempt: 0, sequence: 0 };
  let count = 0;
  let follow = true;
  let ended = false;

  const after = (a, b) => a.attempt > b.attempt || (a.attempt === b.attempt && a.sequence > b.sequence);

  // SGR colour codes: 30–37 / 90–97 foreground, 1 bold, 0 reset. Anything else is dropped.
  const ESC = String.fromCharCode(27);
  const SGR = new RegExp(`${ESC}\\[([0-9;]*)m`, 'g');
  const OTHER_ESCAPES = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');

  function appendMessage(parent, message) {
    let classes = [];
    let at = 0;
    const text = (s) => {
      if (!s) return;
      const clean = s.replace(OTHER_ESCAPES, '');
      if (classes.length === 0) parent.append(document.createTextNode(clean));
      else {
        const span = document.createElement('span');
        span.className = classes.join(' ');
        span.textContent = clean;
        parent.append(span);
      }
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
  }

  function nearBottom() {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  }

  function addLine(line) {
    const key = { attempt: line.attempt, sequence: line.sequence_num };
    if (!after(key, last)) return;
    last = key;
    count += 1;
    const row = document.createElement('div');
    row.className = `ln ${line.stream === 'stderr' ? 'stderr' : 'stdout'}`;
    row.id = `L${count}`;
    row.dataset.stream = line.stream;
    if (streamFilter.value && streamFilter.value !== line.stream) row.hidden = true;
    const no = document.createElement('a');
    no.className = 'no';
    no.href = `#L${count}`;
    no.textContent = String(count);
    const msg = document.createElement('span');
    msg.className = 'msg';
    appendMessage(msg, line.message);
    row.append(no, msg);
    box.append(row);
    if (follow) box.scrollTop = box.scrollHeight;
    setState();
  }

  function setState(text) {
    state.textContent = text ?? `${count} line${count === 1 ? '' : 's'}${ended ? '' : ' · live'}`;
    box.dataset.lines = String(count);
  }

  box.addEventListener('scroll', () => {
    follow = nearBottom();
    followButton.hidden = follow;
  });
  followButton.addEventListener('click', () => {
    follow = true;
    followButton.hidden = true;
    box.scrollTop = box.scrollHeight;
  });
  streamFilter.addEventListener('change', () => {
    for (const row of box.children)
      row.hidden = Boolean(streamFilter.value) && row.dataset.stream !== streamFilter.value;
  });

  function open(attempt) {
    const es = new EventSource(box.dataset.stream);
    es.addEventListener('open', () => setState());
    es.addEventListener('log', (m) => addLine(JSON.parse(m.data)));
    es.addEventListener('end', (m) => {
      ended = true;
      es.close();
      const status = JSON.parse(m.data).status;
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

  open(0);
})();
