/**
 * The dashboard's request checks: the control plane's rules (loopback Host names only,
 * no cross-site browser requests) plus, since a browser page cannot sign requests with
 * SigV4, a random per-start token that only the terminal running `keygate local` sees.
 * Each check is a small function so that a shared request guard can replace it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'crypto';
import * as http from 'http';

const LOOPBACK_HOST_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Why a request is refused, or undefined if the check passes. */
export type Refusal = { readonly status: number; readonly reason: string } | undefined;

/**
 * The Host header must name the loopback interface: a page on another site whose DNS name
 * was rebound to 127.0.0.1 still sends its own name and is refused.
 */
export function checkLoopbackHost(host: string | undefined): Refusal {
  const name = (host ?? '').toLowerCase().replace(/:\d+$/, '');
  if (LOOPBACK_HOST_NAMES.has(name)) return undefined;
  return { status: 403, reason: `Host ${JSON.stringify(host ?? '')} is not a loopback name (127.0.0.1, localhost or [::1])` };
}

/**
 * Browsers say where a request comes from: Sec-Fetch-Site must be same-origin or none (typed
 * or pasted URL), and an Origin, when sent, must be this gateway's own. Another port of
 * localhost is "same-site" and is refused too: it is another program.
 */
export function checkSameOrigin(headers: http.IncomingHttpHeaders, port: number): Refusal {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return { status: 403, reason: `cross-site request refused (Sec-Fetch-Site: ${site})` };
  const origin = headers.origin;
  if (origin !== undefined && !ownOrigins(port).has(origin.toLowerCase())) return { status: 403, reason: `cross-origin request refused (Origin: ${origin})` };
  return undefined;
}

function ownOrigins(port: number): Set<string> {
  return new Set([...LOOPBACK_HOST_NAMES].map((h) => `http://${h}:${port}`));
}

/** The dashboard only reads. */
export function checkReadOnly(method: string | undefined): Refusal {
  if (method === 'GET' || method === 'HEAD') return undefined;
  return { status: 405, reason: `method ${method ?? ''} not allowed: the dashboard is read-only (GET, HEAD)` };
}

/** A random secret for one run of the gateway, compared in constant time. */
export class SessionToken {
  readonly value: string;
  private readonly digest: Buffer;

  constructor(value = randomBytes(32).toString('base64url')) {
    this.value = value;
    this.digest = sha256(value);
  }

  matches(candidate: string | undefined): boolean {
    // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the length.
    return candidate !== undefined && timingSafeEqual(sha256(candidate), this.digest);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
