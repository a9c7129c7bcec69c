// The analytics page: totals and four charts (runs by outcome, duration and lateness p50/p95, log
// lines) from the JSON API, drawn with uPlot (served from this origin), each with a table of the same
// numbers. Colours come from the page's CSS variables, so the charts follow light and dark mode; every
// label is text, never HTML.
(() => {
  const root = document.getElementById('analytics');
  if (!root) return;
  const errorBox = document.getElementById('analytics-error');
  const bucket = root.dataset.bucket;

  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const seconds = (ms) => (ms === null || ms === undefined ? null : ms / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  /** A bucket's start as local text: `14:00` by hour, `Dec 6` by day. */
  function bucketLabel(iso) {
    const d = new Date(iso);
    return bucket === 'hour'
      ? `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${pad(d.getHours())}:00`
      : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  }

  function durationText(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
    return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  }

  function showTotals(t) {
    const facts = [
      ['Jobs', t.jobs_total],
      ['Completed', t.jobs_completed],
      ['Failed', t.jobs_failed],
      ['Canceled', t.jobs_canceled],
      ['Average duration', durationText(t.average_duration_ms)],
      ['Log lines stored', t.log_lines],
    ];
    if (t.workflows !== undefined) facts.unshift(['Workflows', t.workflows]);
    const dl = document.getElementById('totals');
    dl.replaceChildren();
    for (const [k, v] of facts) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = String(v);
      dd.dataset.total = k.toLowerCase().replaceAll(' ', '_');
      dl.append(dt, dd);
    }
  }

  function fillTable(id, headers, rows) {
    const table = document.getElementById(`table-${id}`);
    const thead = document.createElement('thead');
    const tr = document.createElement('tr');
    for (const h of headers) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = h;
      tr.append(th);
    }
    thead.append(tr);
    const tbody = document.createElement('tbody');
    for (const r of rows) {
      const row = document.createElement('tr');
      for (const cell of r) {
        const td = document.createElement('td');
        td.textContent = cell === null || cell === undefined ? '—' : String(cell);
        row.append(td);
      }
      tbody.append(row);
    }
    table.replaceChildren(thead, tbody);
  }

  const charts = [];

  /** The x axis spans the asked range; each bucket's value sits at its middle. */
  let xRange = [0, 1];

  function chart(id, series, data, opts = {}) {
    const box = document.getElementById(`chart-${id}`);
    const axis = {
      stroke: css('--muted'),
      grid: { stroke: css('--border'), width: 1 },
      ticks: { show: false },
    };
    const u = new uPlot(
      {
        width: Math.max(280, box.clientWidth),
        height: 220,
        scales: {
          x: { time: true, range: () => xRange },
          y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
        },
        axes: [axis, { ...axis, size: 56, values: opts.yValues }],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        series: [
          {
            label: bucket === 'hour' ? 'Hour' : 'Day',
            value: (_u, v) => (v === null ? '—' : bucketLabel(new Date((v - half) * 1000).toISOString())),
          },
          ...series,
        ],
      },
      data,
      box,
    );
    charts.push([u, box]);
    return u;
  }

  let half = 0;

  function draw(series) {
    const points = series.points;
    half = (bucket === 'hour' ? 3600 : 86_400) / 2;
    xRange = [Date.parse(series.from) / 1000, Date.parse(series.to) / 1000];
    const xs = points.map((p) => Date.parse(p.at) / 1000 + half);
    const bars = uPlot.paths.bars({ size: [0.7, 48], gap: 1 });
    // Stacked by hand: each series is the sum of those below it, drawn tallest first, so every bar
    // shows its parts; the legend and the table give each part's own count.
    const completed = points.map((p) => p.completed);
    const failed = points.map((p, i) => completed[i] + p.failed);
    const canceled = points.map((p, i) => failed[i] + p.canceled);
    const own = [null, points.map((p) => p.canceled), points.map((p) => p.failed), completed];
    const count = (si) => (_u, _v, _s, i) => (i === null || i === undefined ? '—' : String(own[si][i]));
    chart(
      'runs',
      [
        {
          label: 'Canceled',
          fill: css('--idle'),
          stroke: css('--idle'),
          paths: bars,
          points: { show: false },
          value: count(1),
        },
        {
          label: 'Failed',
          fill: css('--bad'),
          stroke: css('--bad'),
          paths: bars,
          points: { show: false },
          value: count(2),
        },
        {
          label: 'Completed',
          fill: css('--ok'),
          stroke: css('--ok'),
          paths: bars,
          points: { show: false },
          value: count(3),
        },
      ],
      [xs, canceled, failed, completed],
    );
    const sec = (_u, vals) => vals.map((v) => `${+v.toFixed(2)} s`);
    const line = (label, color, dash) => ({
      label,
      stroke: color,
      width: 2,
      dash,
      spanGaps: false,
      points: { show: true, size: 5 },
      value: (_u, v) => (v === null || v === undefined ? '—' : `${v.toFixed(2)} s`),
    });
    chart(
      'duration',
      [line('p50', css('--accent')), line('p95', css('--warn'), [6, 4])],
      [xs, points.map((p) => seconds(p.duration_p50_ms)), points.map((p) => seconds(p.duration_p95_ms))],
      { yValues: sec },
    );
    chart(
      'lateness',
      [line('p50', css('--accent')), line('p95', css('--warn'), [6, 4])],
      [xs, points.map((p) => seconds(p.lateness_p50_ms)), points.map((p) => seconds(p.lateness_p95_ms))],
      { yValues: sec },
    );
    chart(
      'logs',
      [{ label: 'Lines', fill: css('--busy'), stroke: css('--busy'), paths: bars, points: { show: false } }],
      [xs, points.map((p) => p.log_lines)],
    );

    const when = bucket === 'hour' ? 'Hour' : 'Day';
    fillTable(
      'runs',
      [when, 'Completed', 'Failed', 'Canceled', 'Not ended'],
      points.map((p) => [bucketLabel(p.at), p.completed, p.failed, p.canceled, p.active]),
    );
    fillTable(
      'duration',
      [when, 'p50', 'p95'],
      points.map((p) => [
        bucketLabel(p.at),
        durationText(p.duration_p50_ms),
        durationText(p.duration_p95_ms),
      ]),
    );
    fillTable(
      'lateness',
      [when, 'p50', 'p95'],
      points.map((p) => [
        bucketLabel(p.at),
        durationText(p.lateness_p50_ms),
        durationText(p.lateness_p95_ms),
      ]),
    );
    fillTable(
      'logs',
      [when, 'Lines'],
      points.map((p) => [bucketLabel(p.at), p.log_lines]),
    );
    root.dataset.loaded = 'yes';
  }

  let resizing;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      for (const [u, box] of charts) u.setSize({ width: Math.max(280, box.clientWidth), height: 220 });
    }, 100);
  });

  /**
   * A read the API cannot answer for now (503: a store is down or busy) is asked again as its
   * Retry-After says (1 to 5 s), up to five times, with the reason shown meanwhile: the page recovers
   * by itself from a short outage instead of staying blank.
   */
  async function read(path) {
    for (let attempt = 1; ; attempt++) {
      const res = await Cv.api('GET', path);
      if (res.status !== 503 || attempt >= 5) return res;
      errorBox.textContent = `${Cv.problemText(res)} Trying again…`;
      const wait = Math.min(5, Math.max(1, Number(res.retryAfter) || 1));
      await new Promise((r) => setTimeout(r, wait * 1000));
    }
  }

  // data-loaded says how loading ended: `yes`, or `error` with the reason in the error box.
  (async () => {
    try {
      const [totals, series] = await Promise.all([read(root.dataset.totals), read(root.dataset.series)]);
      if (!totals.ok || !series.ok) {
        errorBox.textContent = Cv.problemText(totals.ok ? series : totals);
        root.dataset.loaded = 'error';
        return;
      }
      errorBox.textContent = '';
      showTotals(totals.body);
      draw(series.body);
    } catch (err) {
      errorBox.textContent = err.message;
      root.dataset.loaded = 'error';
    }
  })();
})();
