/**
 * The local dashboard's routes, under `/_keygate/dashboard` on the gateway's port:
 *
 *   GET /_keygate/dashboard?token=T   trades this run's token for a cookie, then redirects
 *   GET /_keygate/dashboard           the page (and app.js, app.css)
 *   GET /_keygate/dashboard/state.json the data the page polls
 *
 * Every request must name a loopback Host, must not come from another site, must only read,
 * and must carry the token (cookie or `token` query parameter).
 */
import * as http from 'http';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { checkBrowserRules, checkReadOnly, Refusal, SessionToken } from './guard';
import { PAGE_CSS, PAGE_HTML, PAGE_SCRIPT } from './page';
import { SnapshotSources, takeSnapshot } from './snapshot';

export const DASHBOARD_PATH = '/_keygate/dashboard';
/** Everything under this prefix belongs to keygate, not to the emulated control plane. */
const KEYGATE_PREFIX = '/_keygate/';

const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

const ASSETS: Record<string, { type: string; body: string }> = {
  [DASHBOARD_PATH]: { type: 'text/html; charset=utf-8', body: PAGE_HTML },
  [`${DASHBOARD_PATH}/app.js`]: { type: 'text/javascript; charset=utf-8', body: PAGE_SCRIPT },
  [`${DASHBOARD_PATH}/app.css`]: { type: 'text/css; charset=utf-8', body: PAGE_CSS },
};

export interface DashboardOptions extends SnapshotSources {
  readonly clock: () => number;
  /** The gateway's port (known once it listens). */
  readonly port: () => number;
  /** Where refusals are reported. */
  readonly log: (line: string) => void;
  /** This run's secret. Default: a new random one. */
  readonly token?: SessionToken;
}

export class Dashboard {
  private readonly token: SessionToken;

  constructor(private readonly opts: DashboardOptions) {
    this.token = opts.token ?? new SessionToken();
  }

  /** Whether a request path is the dashboard's (or another keygate-reserved path). */
  static owns(path: string): boolean {
    return path.startsWith(KEYGATE_PREFIX);
  }

  /** The URL to open: it carries this run's token, so print it only to the user's own terminal. */
  get url(): string {
    return `http://127.0.0.1:${this.opts.port()}${DASHBOARD_PATH}?token=${this.token.value}`;
  }

  private get cookieName(): string {
    // Cookies ignore ports: one name per port keeps two gateways from overwriting each other's.
    return `keygate_dashboard_${this.opts.port()}`;
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, rawQuery: string): void {
    const refusal: Refusal = checkBrowserRules(req.headers) ?? checkReadOnly(req.method);
    if (refusal) {
      this.opts.log(`keygate local: dashboard refused ${req.method} ${path}: ${refusal.reason}`);
      const headers: Record<string, string> = refusal.status === 405 ? { allow: 'GET, HEAD' } : {};
      return this.send(req, res, refusal.status, 'text/plain; charset=utf-8', `${refusal.reason}\n`, headers);
    }
    const queryToken = new URLSearchParams(rawQuery).get('token') ?? undefined;
    if (queryToken !== undefined) {
      if (!this.token.matches(queryToken)) return this.unauthorized(req, res, 'the token in this URL is not this run\'s');
      if (path === DASHBOARD_PATH) {
        // Trade the token for a cookie and drop it from the address bar (and from history).
        const cookie = serializeCookie(this.cookieName, this.token.value, { httpOnly: true, sameSite: 'strict', path: KEYGATE_PREFIX });
        return this.send(req, res, 303, 'text/plain; charset=utf-8', '', { location: DASHBOARD_PATH, 'set-cookie': cookie });
      }
    } else if (!this.token.matches(parseCookies(req.headers.cookie ?? '')[this.cookieName])) {
      return this.unauthorized(req, res, 'no valid dashboard cookie');
    }
    const asset = ASSETS[path];
    if (asset) return this.send(req, res, 200, asset.type, asset.body);
    if (path === `${DASHBOARD_PATH}/state.json`) {
      return this.send(req, res, 200, 'application/json', JSON.stringify(takeSnapshot(this.opts, this.opts.clock())));
    }
    return this.send(req, res, 404, 'text/plain; charset=utf-8', `no dashboard resource at ${path}\n`);
  }

  private unauthorized(req: http.IncomingMessage, res: http.ServerResponse, why: string): void {
    this.send(req, res, 401, 'text/plain; charset=utf-8',
      `keygate local dashboard: ${why}. Open the dashboard URL that keygate local printed when it started (it carries this run's token).\n`);
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...SECURITY_HEADERS, ...extra, 'content-type': type, 'content-length': String(Buffer.byteLength(body)) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
