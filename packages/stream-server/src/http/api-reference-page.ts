/**
 * A self-contained page that renders /openapi.json as a readable reference: every operation with its parameters,
 * request body and answers. No framework, no CDN: it works offline and behind strict CSPs that allow same-origin
 * scripts.
 */
export const API_REFERENCE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Notetaker Stream API reference</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem 4rem; color: #1b1b1f; }
  h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; text-transform: capitalize; }
  section { border: 1px solid #e3e3e8; border-radius: 8px; margin: 1rem 0; padding: .75rem 1rem; }
  .method { display: inline-block; min-width: 4.5rem; font-weight: 700; font-family: ui-monospace, monospace; }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px; } pre { background: #f6f6f8; padding: .5rem; overflow: auto; border-radius: 6px; }
  .get { color: #0a7a3d; } .post { color: #2557c7; } .delete { color: #b42318; } .put { color: #8a5a00; }
  summary { cursor: pointer; }
</style>
</head>
<body>
<h1>Notetaker Stream API</h1>
<p id="intro">Generated from the service's route definitions: <a href="/openapi.json">/openapi.json</a>.</p>
<div id="ops">Loading…</div>
<script type="module">
  const doc = await (await fetch('/openapi.json')).json();
  const el = (tag, props = {}, ...children) => { const e = Object.assign(document.createElement(tag), props); e.append(...children); return e; };
  const resolve = (schema) => schema && schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
  const json = (value) => el('pre', {}, JSON.stringify(value, null, 2));
  document.getElementById('intro').prepend(doc.info.description + ' ');
  const requestId = doc.components.headers && doc.components.headers['X-Request-Id'];
  if (requestId) document.getElementById('intro').append(el('p', {}, 'Every route takes and answers ', el('code', {}, 'X-Request-Id'), ': ' + requestId.description));
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, op });
    }
  }
  const root = document.getElementById('ops');
  root.textContent = '';
  for (const [tag, ops] of byTag) {
    root.append(el('h2', {}, tag));
    for (const { path, method, op } of ops) {
      const section = el('section', {}, el('div', {}, el('span', { className: 'method ' + method }, method.toUpperCase()), el('code', {}, path)), el('p', {}, op.summary || ''));
      if (op.description) section.append(el('p', {}, op.description));
      const auth = (op.security || []).map((s) => Object.keys(s)[0]).join(', ');
      if (auth) section.append(el('p', {}, 'Auth: ', el('code', {}, auth)));
      // Shared parameters ($ref: X-Request-Id) are said once, above.
      for (const p of (op.parameters || []).filter((p) => !p.$ref)) section.append(el('p', {}, el('code', {}, p.in + ' ' + p.name + (p.required ? ' (required)' : '')), ' ', p.description || ''));
      const body = op.requestBody && op.requestBody.content['application/json'];
      if (body) section.append(el('details', {}, el('summary', {}, 'Request body'), json(resolve(body.schema))));
      for (const [status, r] of Object.entries(op.responses || {})) {
        const content = r.content && (r.content['application/json'] || Object.values(r.content)[0]);
        section.append(el('details', {}, el('summary', {}, status + ' — ' + (r.description || '')), content ? json(resolve(content.schema)) : ''));
      }
      root.append(section);
    }
  }
</script>
</body>
</html>
`;
