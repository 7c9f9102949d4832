/**
 * The dashboard's request checks: the control plane's rules (loopback Host names only,
 * no cross-site browser requests, from ../request-guard) plus, since a browser page cannot
 * sign requests with SigV4, a random per-start token that only the terminal running
 * `keygate local` sees.
 */
import { createHash, randomBytes, timingSafeEqual } from 'crypto';
import * as http from 'http';
import { checkLoopbackHost, checkNotCrossSite } from '../request-guard';

/** Why a request is refused, or undefined if the check passes. */
export type Refusal = { readonly status: number; readonly reason: string } | undefined;

/** The control plane's browser rules (../request-guard): loopback Host names only, no cross-site request (another port of localhost is another site). */
export function checkBrowserRules(headers: http.IncomingHttpHeaders): Refusal {
  const r = checkLoopbackHost(headers) ?? checkNotCrossSite(headers);
  return r ? { status: r.status, reason: r.message } : undefined;
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
