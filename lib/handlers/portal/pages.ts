/**
 * The portal's pages: one HTML page, its script and its style, served by the portal's API
 * from its own origin with a strict Content-Security-Policy (no inline script or style, no
 * other origin). The script builds every piece of text with `textContent`, never HTML, so a
 * hostile name or tier description stays text. The ID token lives in the script's memory and
 * goes in the Authorization header; there is no cookie.
 */
import { ApiRoute } from './config';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

/** The page; `base` (`./` or `./<stage>/`) makes its relative URLs work with or without a trailing slash in the address. */
export function indexHtml(title: string, base: string, marketplace: { marketplaceToken?: string; error?: string } = {}): string {
  const t = escapeHtml(title);
  // The fulfillment page hands the registration token to the script in an attribute (no inline script under the CSP).
  const token = marketplace.marketplaceToken ? ` data-marketplace-token="${escapeHtml(marketplace.marketplaceToken)}"` : '';
  const error = marketplace.error ? ` data-message="${escapeHtml(marketplace.error)}"` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t}</title><link rel="stylesheet" href="${escapeHtml(base)}style.css"></head>
<body data-base="${escapeHtml(base)}"${token}${error}>
<header><h1>${t}</h1><span id="who"></span> <button id="sign-out" hidden>Sign out</button></header>
<p id="message" role="status"></p>
<main>
<section id="auth">
  <h2>Sign in or sign up</h2>
  <label>E-mail <input id="email" type="email" autocomplete="username"></label>
  <label>Password <input id="password" type="password" autocomplete="current-password"></label>
  <button id="sign-in">Sign in</button> <button id="sign-up">Sign up</button>
  <div id="confirm-box" hidden><label>Confirmation code <input id="code" inputmode="numeric"></label> <button id="confirm">Confirm</button></div>
</section>
<section id="consumer" hidden>
  <h2>Your subscription</h2>
  <div id="subscription"></div>
  <div id="key-box" hidden><p>Your API key (shown once: copy it now)</p><code id="key-value"></code> <button id="copy-key">Copy</button></div>
  <div id="actions" hidden><button id="roll">Roll key</button> <button id="reveal">Show key</button> <button id="cancel">Cancel subscription</button>
    <label>Change tier <select id="tier-select"></select></label> <button id="change-tier">Change</button></div>
  <h3>Usage per day</h3><table id="usage"><thead><tr><th>Day (UTC)</th><th>Requests</th></tr></thead><tbody></tbody></table>
  <h2>Tiers</h2><ul id="tiers"></ul>
  <h2>API reference</h2><p id="api-url"></p><table id="reference"><thead><tr><th>Method</th><th>Path</th><th>Key</th><th>Try it</th></tr></thead><tbody></tbody></table>
</section>
<section id="admin" hidden>
  <h2>Consumers</h2>
  <table id="consumers"><thead><tr><th>E-mail</th><th>Tier</th><th>Key id</th><th>Status</th><th>Requests (30 days)</th><th></th></tr></thead><tbody></tbody></table>
</section>
</main>
<script src="${escapeHtml(base)}app.js"></script>
</body></html>`;
}

export const STYLE_CSS = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}
header{display:flex;gap:1rem;align-items:baseline}h1{flex:1}label{display:inline-block;margin:.25rem .5rem .25rem 0}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;max-width:30rem;overflow-wrap:anywhere}
code{background:#f3f3f3;padding:.1rem .3rem;overflow-wrap:anywhere}#message{min-height:1.5rem;color:#8a1c00}
li{margin:.25rem 0}button{margin:.1rem}`;

/** The API reference rows: method, path, whether a key is needed, and a ready curl line (the key placeholder is filled in by the page). */
export function apiReference(apiUrl: string, routes: ApiRoute[]): { method: string; path: string; apiKeyRequired: boolean; curl: string }[] {
  const base = apiUrl.replace(/\/$/, '');
  return routes.map((r) => ({
    ...r,
    curl: `curl${r.method === 'GET' ? '' : ` -X ${r.method}`}${r.apiKeyRequired ? ' -H "x-api-key: $KEY"' : ''} "${base}${r.path}"`,
  }));
}
