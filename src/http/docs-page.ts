// A page that renders the OpenAPI document without any third-party script: it fetches
// /openapi.json and lists every operation. Text goes in through textContent, so nothing from the
// document is ever interpreted as HTML.
export function docsPage(specUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chronoverse API</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
  h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
  .op { margin: .4rem 0; padding: .5rem .75rem; border: 1px solid #e4e4e4; border-radius: 6px; }
  .method { display: inline-block; min-width: 4.5rem; font-weight: 600; font-family: ui-monospace, monospace; }
  .path { font-family: ui-monospace, monospace; }
  details pre { background: #f6f6f6; padding: .5rem; overflow: auto; }
</style>
</head>
<body>
<h1>Chronoverse API</h1>
<p>The machine-readable document: <a id="spec-link"></a></p>
<div id="ops">Loading…</div>
<script>
const specUrl = ${JSON.stringify(specUrl)};
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
document.getElementById('spec-link').textContent = specUrl;
document.getElementById('spec-link').href = specUrl;
fetch(specUrl).then((r) => r.json()).then((spec) => {
  const root = document.getElementById('ops');
  root.textContent = '';
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, op });
    }
  }
  for (const [tag, ops] of byTag) {
    root.appendChild(el('h2', tag));
    for (const { path, method, op } of ops) {
      const box = el('div', undefined, 'op');
      box.appendChild(el('span', method.toUpperCase(), 'method'));
      box.appendChild(el('span', path, 'path'));
      if (op.summary) box.appendChild(el('div', op.summary));
      const details = el('details');
      details.appendChild(el('summary', 'request and responses'));
      details.appendChild(el('pre', JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2)));
      box.appendChild(details);
      root.appendChild(box);
    }
  }
}).catch((err) => { document.getElementById('ops').textContent = 'Could not load the API document: ' + err; });
</script>
</body>
</html>`;
}
