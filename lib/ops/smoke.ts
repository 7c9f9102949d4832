import { APIGatewayClient, ApiKey, GetResourcesCommand, Resource, UsagePlan } from '@aws-sdk/client-api-gateway';
import { randomBytes } from 'crypto';
import { UsageError } from './errors';
import { listApiKeys, listUsagePlans } from '../sdk/paginate';
import { splitRoute } from '../shared/route-pattern';
import { resolveKey } from '../sdk/resolve';

export interface SmokeCheck {
  readonly check: string;
  readonly expected: string;
  readonly actual: string;
  readonly pass: boolean;
  /** A skipped check neither passes nor fails the run. */
  readonly skipped?: boolean;
  readonly detail?: string;
}

export interface SmokeResult {
  readonly url: string;
  readonly method: string;
  readonly checks: SmokeCheck[];
  readonly pass: boolean;
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

export interface SmokeOptions {
  /** The stage URL (e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod), or the full URL when no route. */
  readonly url: string;
  /** `METHOD /path`, appended to the URL. Default: GET the URL itself. */
  readonly route?: string;
  /** A working key value. */
  readonly keyValue: string;
  /** The burst limit to exceed; undefined skips the burst check (with `burstNote` as reason). */
  readonly burst?: number;
  readonly burstNote?: string;
  /** Requests beyond the burst. Default max(10, burst / 5). */
  readonly extra?: number;
  /** Largest burst the check fires (default 2000). */
  readonly maxRequests?: number;
  readonly timeoutMs?: number;
  readonly fetch?: FetchLike;
}

/** Parses `GET /pets` into method and path. */
export function parseRoute(route: string): { method: string; path: string } {
  const split = splitRoute(route);
  if (!split) throw new UsageError(`--route must look like 'GET /pets', not "${route}".`);
  return { method: split.httpMethod, path: split.path };
}

/**
 * apiId and stage of a stage URL, if it names them: an execute-api URL
 * (`https://ID.execute-api.REGION.amazonaws.com/STAGE`) or the local gateway's
 * (`http://127.0.0.1:PORT/restapis/ID/STAGE/_user_request_`).
 */
export function parseStageUrl(url: string): { apiId: string; stage: string } | undefined {
  try {
    const u = new URL(url);
    const local = /^\/restapis\/([^/]+)\/([^/]+)\/_user_request_(?:\/|$)/.exec(u.pathname);
    if (local) return { apiId: local[1], stage: local[2] };
    const m = /^([a-z0-9]+)\.execute-api\./.exec(u.hostname);
    const stage = u.pathname.split('/').filter(Boolean)[0];
    return m && stage ? { apiId: m[1], stage } : undefined;
  } catch {
    return undefined;
  }
}

/** True when the URL goes below a stage (`…/prod/pets`, `…/_user_request_/pets`): a full URL. */
function namesRoute(url: string): boolean {
  try {
    const u = new URL(url);
    const local = /^\/restapis\/[^/]+\/[^/]+\/_user_request_(\/.*)?$/.exec(u.pathname);
    if (local) return (local[1] ?? '').replace(/\/+$/, '') !== '';
    return /\.execute-api\./.test(u.hostname) && u.pathname.split('/').filter(Boolean).length > 1;
  } catch {
    return false;
  }
}

/**
 * The route `keygate smoke` checks when no --route is given: the shortest GET without path
 * parameters that requires an API key, read from the API's resources (GetResources through
 * the control plane). A URL that names no API id, or an API without such a route, is a
 * UsageError that says to pass --route.
 */
export async function pickSmokeRoute(client: APIGatewayClient, url: string): Promise<string | undefined> {
  if (namesRoute(url)) return undefined; // a full URL: GET it as it is
  const stage = parseStageUrl(url);
  if (!stage) {
    throw new UsageError(`${url} names no API id (expected https://ID.execute-api.REGION.amazonaws.com/STAGE, or the local gateway's stage URL), `
      + 'so keygate cannot find a route that needs a key: pass --route \'GET /path\' (a GET that requires an API key).');
  }
  const resources: Resource[] = [];
  let position: string | undefined;
  do {
    const page = await client.send(new GetResourcesCommand({ restApiId: stage.apiId, embed: ['methods'], limit: 500, position }));
    resources.push(...(page.items ?? []));
    position = page.position;
  } while (position);
  const keyed = resources
    .filter((r) => r.path && !r.path.includes('{') && r.resourceMethods?.GET?.apiKeyRequired === true)
    .map((r) => r.path!)
    .sort((a, b) => a.length - b.length || a.localeCompare(b));
  if (keyed.length === 0) {
    throw new UsageError(`API ${stage.apiId} has no GET route without path parameters that requires an API key: pass --route 'METHOD /path'.`);
  }
  return `GET ${keyed[0]}`;
}

/** Picks the plan that governs `url` among the key's plans and returns its burst limit. */
export function burstForUrl(plans: readonly UsagePlan[], url: string): { burst?: number; plan?: UsagePlan; note: string } {
  const stage = parseStageUrl(url);
  let candidates = plans.filter((p) => p.throttle?.burstLimit !== undefined);
  if (stage) {
    const covering = candidates.filter((p) => (p.apiStages ?? []).some((s) => s.apiId === stage.apiId && s.stage === stage.stage));
    if (covering.length > 0) candidates = covering;
  }
  if (candidates.length === 0) return { note: plans.length === 0 ? 'the key is in no usage plan' : 'the key\'s plans have no throttle' };
  const plan = candidates.reduce((a, b) => ((a.throttle?.burstLimit ?? 0) <= (b.throttle?.burstLimit ?? 0) ? a : b));
  return { burst: plan.throttle?.burstLimit, plan, note: `plan ${plan.name} (burst ${plan.throttle?.burstLimit}, rate ${plan.throttle?.rateLimit}/s)` };
}

export interface SmokeKey {
  readonly value: string;
  readonly key?: ApiKey;
  readonly plans: UsagePlan[];
}

/** Looks up a key (name or id) with its value and plans. */
export async function smokeKeyFromRef(client: APIGatewayClient, ref: string): Promise<SmokeKey> {
  const key = await resolveKey(client, ref, { includeValue: true });
  if (!key.value) throw new UsageError(`Could not read the value of key ${ref}.`);
  return { value: key.value, key, plans: await listUsagePlans(client, key.id) };
}

/** Finds the key that has `value` (to learn its plans); undefined when there is none. */
export async function smokeKeyFromValue(client: APIGatewayClient, value: string): Promise<SmokeKey> {
  const key = (await listApiKeys(client, { includeValues: true })).find((k) => k.value === value);
  return { value, key, plans: key ? await listUsagePlans(client, key.id) : [] };
}

async function call(fetchImpl: FetchLike, url: string, method: string, key: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key !== undefined) headers['x-api-key'] = key;
  const hasBody = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
  if (hasBody) headers['content-type'] = 'application/json';
  try {
    const res = await fetchImpl(url, { method, headers, body: hasBody ? '{}' : undefined, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as { message?: string; cause?: { code?: string } };
    return { status: 0, body: `${e.cause?.code ?? ''} ${e.message ?? String(err)}`.trim() };
  }
}

/** `403 Forbidden`: the status and the gateway's message (or the start of the body). */
function describe(r: { status: number; body: string }): string {
  if (r.status === 0) return `no response (${r.body})`;
  let text = r.body.replace(/\s+/g, ' ').trim();
  try {
    const parsed: unknown = JSON.parse(r.body);
    if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') text = (parsed as { message: string }).message;
  } catch {
    // not JSON
  }
  return `${r.status}${text ? ` ${text.slice(0, 40)}` : ''}`;
}

/** Why the valid key got 403: a URL that names no API id is a more likely cause than the key. */
function validKey403(url: string): string {
  if (parseStageUrl(url)) return 'the key is unknown, disabled, or in no usage plan of this stage';
  return 'the URL names no API id and stage (not https://ID.execute-api.REGION.amazonaws.com/STAGE): check the URL first '
    + '(a wrong path or a custom domain\'s missing base path answers 403 to every key); otherwise the key is unknown, disabled, or in no usage plan of this stage';
}

/**
 * Checks a stage as a client would: no key → 403, a wrong key → 403, the key → 2xx, and a
 * burst above the plan's burst limit → at least one 429.
 */
export async function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
  const { method, path } = options.route ? parseRoute(options.route) : { method: 'GET', path: '' };
  const url = options.url.replace(/\/+$/, '') + path;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`"${options.url}" is not a URL.`);
  }
  const fetchImpl: FetchLike = options.fetch ?? ((u, init) => fetch(u, init));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const checks: SmokeCheck[] = [];

  const noKey = await call(fetchImpl, url, method, undefined, timeoutMs);
  checks.push({ check: 'no key', expected: '403', actual: describe(noKey), pass: noKey.status === 403 });

  const wrong = await call(fetchImpl, url, method, randomBytes(20).toString('hex'), timeoutMs);
  checks.push({ check: 'unknown key', expected: '403', actual: describe(wrong), pass: wrong.status === 403 });

  const ok = await call(fetchImpl, url, method, options.keyValue, timeoutMs);
  checks.push({
    check: 'valid key', expected: '2xx', actual: describe(ok), pass: ok.status >= 200 && ok.status < 300,
    ...(ok.status === 429 ? { detail: 'throttled or quota used up: wait for the quota period to reset, or use another key' } : {}),
    ...(ok.status === 403 ? { detail: validKey403(options.url) } : {}),
  });

  const maxRequests = options.maxRequests ?? 2000;
  if (options.burst === undefined) {
    checks.push({ check: 'burst', expected: '≥1 429', actual: 'not run', pass: true, skipped: true, detail: options.burstNote ?? 'burst limit unknown: pass --burst N' });
  } else {
    const n = options.burst + (options.extra ?? Math.max(10, Math.ceil(options.burst / 5)));
    if (n > maxRequests) {
      checks.push({ check: 'burst', expected: '≥1 429', actual: 'not run', pass: true, skipped: true, detail: `${n} requests would be needed (burst ${options.burst}); above --max-requests ${maxRequests}` });
    } else {
      const results = await Promise.all(Array.from({ length: n }, () => call(fetchImpl, url, method, options.keyValue, timeoutMs)));
      const count = (pred: (s: number) => boolean) => results.filter((r) => pred(r.status)).length;
      const throttled = count((s) => s === 429);
      const actual = `${count((s) => s >= 200 && s < 300)}×2xx ${throttled}×429${count((s) => s !== 429 && (s < 200 || s >= 300)) ? ` ${count((s) => s !== 429 && (s < 200 || s >= 300))}×other` : ''}`;
      checks.push({ check: `burst of ${n}`, expected: '≥1 429', actual, pass: throttled > 0, detail: options.burstNote });
    }
  }
  return { url, method, checks, pass: checks.every((c) => c.pass) };
}
