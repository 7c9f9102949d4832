/**
 * Guards what the local gateway serves besides the APIs' stages (the control plane, and any
 * other local service or page it hosts) against the web pages a developer opens: any page can
 * send simple requests (form POSTs, GETs) to 127.0.0.1, and a DNS-rebinding page can read the
 * answers. Three separate checks, each usable on its own:
 *
 * - `checkLoopbackHost`: the Host header names a loopback address (a rebinding page's Host is
 *   its own domain name);
 * - `checkNotCrossSite`: no cross-site browser request (an Origin other than this server's, or
 *   `Sec-Fetch-Site: cross-site` / `same-site`);
 * - `checkSigV4Header`: an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
 *   Signature=…` header is present (any credentials: the AWS SDKs and the AWS CLI always sign,
 *   and a browser form can't set the header).
 */
import { IncomingHttpHeaders } from 'http';

/** Why a request was refused: an AWS-shaped error. */
export interface GuardRefusal {
  readonly status: number;
  /** The AWS error type (x-amzn-ErrorType). */
  readonly type: string;
  readonly message: string;
}

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The host name of a Host header value (without the port), lowercased; undefined if malformed. */
function hostnameOf(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(h);
  return m ? m[1] : undefined;
}

function isLoopbackHostname(name: string): boolean {
  return LOOPBACK_HOSTNAMES.has(name) || name.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(name);
}

export function checkLoopbackHost(headers: IncomingHttpHeaders): GuardRefusal | undefined {
  const host = headers.host;
  const name = host === undefined ? undefined : hostnameOf(host);
  if (name !== undefined && isLoopbackHostname(name)) return undefined;
  return {
    status: 403, type: 'AccessDeniedException',
    message: `keygate local serves only loopback Host names (localhost, 127.0.0.1, [::1]); refused Host ${JSON.stringify(host ?? '')}`,
  };
}

export function checkNotCrossSite(headers: IncomingHttpHeaders): GuardRefusal | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { status: 403, type: 'AccessDeniedException', message: `keygate local refuses cross-site browser requests (Sec-Fetch-Site: ${site})` };
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  let sameOrigin = false;
  try {
    const o = new URL(origin);
    sameOrigin = o.protocol === 'http:' && o.host.toLowerCase() === String(headers.host ?? '').toLowerCase() && isLoopbackHostname(o.hostname.toLowerCase());
  } catch {
    sameOrigin = false;
  }
  if (sameOrigin) return undefined;
  return { status: 403, type: 'AccessDeniedException', message: `keygate local refuses cross-site browser requests (Origin ${JSON.stringify(origin)})` };
}

const SIGV4 = /^AWS4-HMAC-SHA256\s+Credential=[^\s,/]+\/\d{8}\/[^\s,/]+\/[^\s,/]+\/aws4_request\s*,\s*SignedHeaders=[a-z0-9;-]+\s*,\s*Signature=[0-9a-f]{64}$/i;

export function checkSigV4Header(headers: IncomingHttpHeaders): GuardRefusal | undefined {
  const auth = headers.authorization;
  if (auth === undefined || auth === '') {
    return { status: 403, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  }
  if (!SIGV4.test(auth.trim())) {
    return {
      status: 403, type: 'IncompleteSignatureException',
      message: 'Authorization header requires \'Credential\', \'SignedHeaders\' and \'Signature\' parameters (AWS Signature Version 4, algorithm AWS4-HMAC-SHA256)',
    };
  }
  return undefined;
}

/** All three checks, in order: what the control plane requires. */
export function guardLocalService(headers: IncomingHttpHeaders): GuardRefusal | undefined {
  return checkLoopbackHost(headers) ?? checkNotCrossSite(headers) ?? checkSigV4Header(headers);
}
