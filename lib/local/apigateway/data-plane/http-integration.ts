/** HTTP and HTTP_PROXY integrations: the request mapped to the backend URI, the backend's answer read back. */
import * as http from 'http';
import * as https from 'https';
import { GatewayResponseType } from './gateway-responses';
import { MAX_BODY_BYTES, RequestState } from './request-state';

/** Hop-by-hop and framing headers that are never passed through. */
export const FORBIDDEN_HEADER_NAMES = new Set(['connection', 'content-length', 'transfer-encoding', 'date', 'keep-alive', 'upgrade']);

export type BackendResult = { status: number; headers: Record<string, string>; body: Buffer } | { gateway: GatewayResponseType; message?: string };

/** Sends the request to the integration's backend; `bodyOverride` is the rendered request template of a non-proxy integration. */
export function forwardHttp(st: RequestState, bodyOverride: Buffer | undefined): Promise<BackendResult> {
  const integration = st.method!.integration;
  const proxy = integration.type === 'HTTP_PROXY';
  const { req, headers } = st;
  const pathParams = st.rc.pathParams;
  const query = st.query.single;
  const stageVariables = st.stage!.variables;
  const uri = integration.uri ?? '';
  // integration.request.* parameters mapped from method.request.* (or literals); path params fall back to the method's own.
  const mapped: { path: Record<string, string>; querystring: Record<string, string>; header: Record<string, string> } = { path: {}, querystring: {}, header: {} };
  for (const [dest, src] of Object.entries(integration.requestParameters)) {
    const d = /^integration\.request\.(path|querystring|header)\.(.+)$/.exec(dest);
    if (!d) continue;
    const s = src.trim();
    const m = /^method\.request\.(path|querystring|header)\.(.+)$/.exec(s);
    const v = s.startsWith("'") && s.endsWith("'") ? s.slice(1, -1)
      : m ? (m[1] === 'path' ? pathParams[m[2]] : m[1] === 'querystring' ? query[m[2]] : headers[m[2].toLowerCase()]) : undefined;
    if (v !== undefined) mapped[d[1] as 'path' | 'querystring' | 'header'][d[1] === 'header' ? d[2].toLowerCase() : d[2]] = v;
  }
  let target = uri.replace(/\$\{stageVariables\.([A-Za-z0-9_]+)\}/g, (_w, name: string) => stageVariables[name] ?? '');
  target = target.replace(/\{([^}]+?)\+?\}/g, (_w, name: string) => {
    const v = mapped.path[name] ?? pathParams[name] ?? '';
    // Path parameters cannot hold '/' except greedy ones, whose slashes stay path separators.
    return v.split('/').map(encodeURIComponent).join('/');
  });
  if (proxy && req.rawQuery) target += (target.includes('?') ? '&' : '?') + req.rawQuery;
  const extraQuery = Object.entries(mapped.querystring).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  if (extraQuery) target += (target.includes('?') ? '&' : '?') + extraQuery;
  let url: URL;
  try { url = new URL(target); } catch { return Promise.resolve({ gateway: 'API_CONFIGURATION_ERROR', message: `invalid integration URI ${uri}` }); }
  const outHeaders: Record<string, string> = {};
  if (proxy) for (const [k, v] of Object.entries(headers)) if (!FORBIDDEN_HEADER_NAMES.has(k) && k !== 'host') outHeaders[k] = v;
  Object.assign(outHeaders, mapped.header);
  const lib = url.protocol === 'https:' ? https : http;
  const method = !integration.httpMethod || integration.httpMethod === 'ANY' ? req.method : integration.httpMethod;
  return new Promise((resolve) => {
    const r = lib.request(url, { method, headers: outHeaders, timeout: integration.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { size += c.length; if (size <= MAX_BODY_BYTES) chunks.push(c); });
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !FORBIDDEN_HEADER_NAMES.has(k)) h[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
      });
      res.on('error', () => resolve({ gateway: 'INTEGRATION_FAILURE' }));
    });
    r.on('timeout', () => { r.destroy(); resolve({ gateway: 'INTEGRATION_TIMEOUT' }); });
    r.on('error', () => resolve({ gateway: 'INTEGRATION_FAILURE', message: 'Internal server error' }));
    const outBody = bodyOverride ?? req.body;
    r.end(outBody.length ? outBody : undefined);
  });
}
