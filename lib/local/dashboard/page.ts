/**
 * The dashboard page, embedded as strings so that it travels inside the compiled and the
 * esbuild-bundled CLI alike (no file to locate at run time). The script builds the page with
 * DOM calls and `textContent` only: data is never parsed as HTML, so nothing needs escaping.
 * It polls `state.json` once a second.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>keygate local</title>
<link rel="stylesheet" href="/_keygate/dashboard/app.css">
<script src="/_keygate/dashboard/app.js" defer></script>
</head>
<body>
<header>
  <h1>keygate local</h1>
  <span id="totals" data-testid="totals"></span>
  <span id="status" data-testid="status">connecting…</span>
</header>
<main>
  <section>
    <h2>APIs and stages</h2>
    <div id="apis" data-testid="apis"></div>
  </section>
  <section>
    <h2>Keys</h2>
    <p class="note">Key values are never shown here. Ask the control plane: <code>aws apigateway get-api-key --api-key ID --include-value --endpoint-url URL</code></p>
    <table data-testid="keys">
      <thead><tr><th>Name</th><th>Key id</th><th>Enabled</th><th>Usage plan</th><th>Throttle tokens</th><th>Quota used</th><th>Quota remaining</th></tr></thead>
      <tbody id="keys"></tbody>
    </table>
  </section>
  <section class="tops">
    <div><h3>Top keys by requests</h3><ol id="top-requests" data-testid="top-requests"></ol></div>
    <div><h3>Top keys by 429s</h3><ol id="top-throttled" data-testid="top-throttled"></ol></div>
    <div><h3>Top keys by 403s</h3><ol id="top-forbidden" data-testid="top-forbidden"></ol></div>
  </section>
  <section>
    <h2>Latest requests</h2>
    <table data-testid="feed">
      <thead><tr><th>Time (UTC)</th><th>Stage</th><th>Method</th><th>Path</th><th>Status</th><th>Reason</th><th>Key</th><th>Latency</th></tr></thead>
      <tbody id="feed"></tbody>
    </table>
  </section>
  <section>
    <h2>Alarms and notifications</h2>
    <table data-testid="alarms">
      <thead><tr><th>Alarm</th><th>State</th><th>Since (UTC)</th><th>Reason</th></tr></thead>
      <tbody id="alarms"></tbody>
    </table>
    <table data-testid="deliveries">
      <thead><tr><th>Time (UTC)</th><th>Protocol</th><th>Endpoint</th><th>Subject</th><th>Delivered</th></tr></thead>
      <tbody id="deliveries"></tbody>
    </table>
  </section>
  <section>
    <h2>Scheduled jobs: local SNS and CloudWatch</h2>
    <p class="note">What the app's jobs and alarms published (newest first; message bodies are not shown).</p>
    <table data-testid="messages">
      <thead><tr><th>Time (UTC)</th><th>Topic</th><th>Subject</th><th>Size</th></tr></thead>
      <tbody id="messages"></tbody>
    </table>
    <table data-testid="data-points">
      <thead><tr><th>Time (UTC)</th><th>Namespace</th><th>Metric</th><th>Dimensions</th><th>Value</th></tr></thead>
      <tbody id="data-points"></tbody>
    </table>
  </section>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
:root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
td.bad { color: var(--bad); font-weight: 600; } td.ok { color: var(--ok); } td.warn { color: var(--warn); }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #f6f8fa; }
header { display: flex; gap: 1.5rem; align-items: baseline; padding: .75rem 1.25rem; background: #24292f; color: #fff; }
header h1 { margin: 0; font-size: 1.2rem; }
#status { margin-left: auto; color: #8fd19e; }
#status.down { color: #ff8182; }
main { padding: .5rem 1.25rem 2rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem 1rem; margin-top: 1rem; }
h2 { font-size: 1.05rem; margin: .5rem 0; }
h3 { font-size: .95rem; margin: .5rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.note { color: var(--muted); margin: 0 0 .5rem; }
.tops { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1rem; }
.tops ol { margin: 0; padding-left: 1.5rem; }
.s2 { color: var(--ok); } .s4 { color: var(--warn); } .s429, .s5 { color: var(--bad); }
.off { color: var(--bad); font-weight: 600; }
meter { width: 6rem; vertical-align: middle; margin-right: .4rem; }
.api { margin-bottom: .75rem; }
.api ul { margin: .25rem 0; }
.api table { width: auto; }
.api td { padding-right: 2.5rem; }
.empty { color: var(--muted); font-style: italic; }
`;

export const PAGE_SCRIPT = `'use strict';
(function () {
  var STATE_URL = '/_keygate/dashboard/state.json';
  var POLL_MS = 1000;

  /** An element with attributes and children (nodes, strings or lists); strings become text nodes, never HTML. */
  function el(tag, attrs) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (attrs[k] !== undefined) e.setAttribute(k, String(attrs[k])); });
    var children = Array.prototype.slice.call(arguments, 2).flat();
    children.forEach(function (c) {
      if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
    });
    return e;
  }
  function fill(id, children) {
    var target = document.getElementById(id);
    target.replaceChildren.apply(target, children);
  }
  function clock(ms) { return new Date(ms).toISOString().slice(11, 19); }
  function num(n) { return Number(n).toLocaleString('en-US'); }
  function statusClass(s) { return s === 429 ? 's429' : 's' + String(s).charAt(0); }
  function keyLabel(names, id) {
    if (!id) return '(no valid key)';
    return names[id] ? names[id] + ' (' + id + ')' : id;
  }

  function apiBlocks(apis) {
    if (apis.length === 0) return [el('p', { class: 'empty' }, 'No APIs in this assembly.')];
    return apis.map(function (a) {
      var stages = a.stages.map(function (s) {
        return el('li', { 'data-stage': s.name }, 'stage ', el('strong', null, s.name), ' ', el('code', null, s.url));
      });
      var routes = a.routes.map(function (r) {
        return el('tr', null, el('td', { class: 'mono' }, r.httpMethod), el('td', { class: 'mono' }, r.path), el('td', null, r.apiKeyRequired ? 'API key' : 'public'));
      });
      return el('div', { class: 'api', 'data-api-id': a.id },
        el('h3', null, a.name + ' ', el('span', { class: 'mono' }, a.id), ' · stack ' + a.stack),
        el('ul', null, stages),
        el('table', null, el('tbody', null, routes)));
    });
  }

  function keyRows(keys) {
    if (keys.length === 0) return [el('tr', null, el('td', { colspan: 7, class: 'empty' }, 'No keys.'))];
    var rows = [];
    keys.forEach(function (k) {
      var plans = k.plans.length ? k.plans : [null];
      plans.forEach(function (p) {
        var t = p && p.throttle;
        var q = p && p.quota;
        rows.push(el('tr', { 'data-key-id': k.id, 'data-plan-id': p ? p.id : undefined },
          el('td', { 'data-field': 'name' }, k.name || '(unnamed)'),
          el('td', { 'data-field': 'id', class: 'mono' }, k.id),
          el('td', { 'data-field': 'enabled', class: k.enabled ? '' : 'off' }, k.enabled ? 'yes' : 'DISABLED'),
          el('td', { 'data-field': 'plan' }, p ? p.name : '(no plan)'),
          el('td', null, t ? el('meter', { min: 0, max: t.burstLimit, value: t.tokens }) : null,
            el('span', { 'data-field': 'tokens' }, t ? String(Math.floor(t.tokens)) : '—'),
            t ? ' / ' + num(t.burstLimit) + ' at ' + num(t.rateLimit) + '/s' : ''),
          el('td', null, q ? el('meter', { min: 0, max: q.limit, value: q.used }) : null,
            el('span', { 'data-field': 'quota-used' }, q ? num(q.used) : '—'),
            q ? ' of ' + num(q.limit) + ' per ' + q.period.toLowerCase() : ''),
          el('td', { 'data-field': 'quota-remaining' }, q ? num(q.remaining) : '—')));
      });
    });
    return rows;
  }

  function topItems(list, names) {
    if (list.length === 0) return [el('li', { class: 'empty' }, 'none yet')];
    return list.map(function (c) {
      return el('li', { 'data-key-id': c.apiKeyId }, keyLabel(names, c.apiKeyId) + ': ', el('strong', { 'data-field': 'count' }, num(c.count)));
    });
  }

  function feedRows(feed, names) {
    if (feed.length === 0) return [el('tr', null, el('td', { colspan: 8, class: 'empty' }, 'No requests yet.'))];
    return feed.map(function (r) {
      return el('tr', { class: statusClass(r.status) },
        el('td', { class: 'mono' }, clock(r.time)),
        el('td', null, r.stage),
        el('td', { class: 'mono' }, r.httpMethod),
        el('td', { class: 'mono' }, r.path),
        el('td', { 'data-field': 'status' }, String(r.status)),
        el('td', { 'data-field': 'reason' }, r.errorResponseType || '—'),
        el('td', null, r.apiKeyId ? keyLabel(names, r.apiKeyId) : '—'),
        el('td', null, r.latencyMs + ' ms'));
    });
  }

  function messageRows(list) {
    if (list.length === 0) return [el('tr', null, el('td', { colspan: 4, class: 'empty' }, 'No SNS messages yet.'))];
    return list.map(function (m) {
      return el('tr', { 'data-message-id': m.messageId },
        el('td', { class: 'mono' }, clock(m.time)), el('td', null, m.topic), el('td', { 'data-field': 'subject' }, m.subject || '—'), el('td', null, m.bytes + ' B'));
    });
  }

  function dataPointRows(list) {
    if (list.length === 0) return [el('tr', null, el('td', { colspan: 5, class: 'empty' }, 'No CloudWatch data points yet.'))];
    return list.map(function (d) {
      var dims = Object.keys(d.dimensions).map(function (k) { return k + '=' + d.dimensions[k]; }).join(', ');
      return el('tr', null, el('td', { class: 'mono' }, clock(d.time)), el('td', null, d.namespace), el('td', { 'data-field': 'metric' }, d.metricName),
        el('td', { class: 'mono' }, dims || '—'), el('td', { 'data-field': 'value' }, num(d.value) + ' ' + d.unit));
    });
  }

  function alarmRows(list) {
    if (list.length === 0) return [el('tr', null, el('td', { colspan: 4, class: 'empty' }, 'The app has no alarms evaluated locally.'))];
    return list.map(function (a) {
      return el('tr', { 'data-alarm': a.name }, el('td', { class: 'mono' }, a.name),
        el('td', { 'data-field': 'state', class: a.state === 'ALARM' ? 'bad' : a.state === 'OK' ? 'ok' : 'warn' }, a.state),
        el('td', { class: 'mono' }, clock(a.since)), el('td', null, a.reason));
    });
  }

  function deliveryRows(list) {
    if (list.length === 0) return [el('tr', null, el('td', { colspan: 5, class: 'empty' }, 'Nothing delivered yet.'))];
    return list.map(function (d) {
      return el('tr', null, el('td', { class: 'mono' }, clock(d.time)), el('td', null, d.protocol), el('td', { class: 'mono' }, d.endpoint),
        el('td', { 'data-field': 'subject' }, d.subject || '—'), el('td', { 'data-field': 'delivered' }, (d.delivered ? 'yes' : 'no') + (d.detail ? ' (' + d.detail + ')' : '')));
    });
  }

  function render(s) {
    var names = {};
    s.keys.forEach(function (k) { names[k.id] = k.name; });
    fill('apis', apiBlocks(s.apis));
    fill('keys', keyRows(s.keys));
    fill('top-requests', topItems(s.top.requests, names));
    fill('top-throttled', topItems(s.top.throttled, names));
    fill('top-forbidden', topItems(s.top.forbidden, names));
    fill('feed', feedRows(s.feed, names));
    fill('messages', messageRows(s.messages));
    fill('data-points', dataPointRows(s.dataPoints));
    fill('alarms', alarmRows(s.alarms));
    fill('deliveries', deliveryRows(s.deliveries));
    document.getElementById('totals').textContent = num(s.requests) + ' requests since start';
  }

  function status(text, down) {
    var e = document.getElementById('status');
    e.textContent = text;
    e.className = down ? 'down' : '';
  }

  function poll() {
    fetch(STATE_URL, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) return r.text().then(function (t) { throw new Error(r.status + ' ' + t); });
        return r.json();
      })
      .then(function (s) { render(s); status('live · ' + clock(s.now) + ' UTC', false); },
        function (e) { status('disconnected: ' + e.message, true); })
      .then(function () { setTimeout(poll, POLL_MS); });
  }
  poll();
})();
`;
