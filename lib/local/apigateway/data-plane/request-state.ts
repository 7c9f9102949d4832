/**
 * The one object a data-plane request carries through the pipeline, and what every step
 * shares (the model, clocks, counters, caches). Each step reads it and fills in its part.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { GatewayResponseType, ResponseContext } from './gateway-responses';
import { LambdaRunner } from '../../lambda/runner';
import { ApiKey, ApiResource, Method, Model, RestApi, Stage, ThrottleSettings, UsagePlan } from '../model';
import { QuotaCounter } from './quota';
import { Router } from './router';
import { ThrottleRegistry } from './throttle';

/** API Gateway's payload limit for REST APIs. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** What the dashboard and other observers get once per finished data-plane request (never a key value). */
export interface RequestRecord {
  /** When the request arrived (ms since the epoch). */
  readonly time: number;
  readonly apiId: string;
  readonly stage: string;
  readonly httpMethod: string;
  /** The matched resource's path, e.g. `/pets/{id}`; undefined if no route matched. */
  readonly resourcePath?: string;
  /** The request path after the stage. */
  readonly path: string;
  readonly status: number;
  /** The gateway response type when API Gateway answered itself (INVALID_API_KEY, THROTTLED…). */
  readonly errorResponseType?: string;
  readonly apiKeyId?: string;
  readonly latencyMs: number;
}

export interface DataPlaneOptions {
  readonly clock: () => number;
  readonly lambdas: LambdaRunner;
  readonly quotas: QuotaCounter;
  readonly throttles: ThrottleRegistry;
  /** Called after a request was counted against a quota (to persist counters). */
  readonly onCounted?: () => void;
  readonly log?: (line: string) => void;
  /** Receives one line per request of stages with an access log format (rendered with `$context`). */
  readonly accessLog?: (line: string) => void;
  /** Receives each access-log line with its log group (the stage's DestinationArn), for the metric filters on it. */
  readonly logEvent?: (logGroup: string, line: string, time: number) => void;
  /** Called once per finished request. */
  readonly onRequest?: (record: RequestRecord) => void;
  /** The account-level throttle (default: API Gateway's 10,000 rps, burst 5,000). */
  readonly accountThrottle?: ThrottleSettings;
  /** COGNITO_USER_POOLS authorizers: the token's claims (as strings) when valid for one of the pools, else undefined. Default: none (500). */
  readonly verifyCognitoToken?: (providerArns: string[], token: string) => Promise<Record<string, string> | undefined>;
}

/** A request as the data plane sees it (already split from the URL by the server). */
export interface DataPlaneRequest {
  readonly apiId: string;
  readonly stage: string;
  /** Path after the stage, starting with `/` (raw, percent-encoded). */
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly method: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly host: string;
}

export interface DataPlaneResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer | string;
}

export interface ParsedQuery {
  readonly single: Record<string, string>;
  readonly multi: Record<string, string[]>;
}

/** Why API Gateway answered itself instead of the integration. */
export interface GatewayFailure {
  readonly type: GatewayResponseType;
  /** `$context.error.message` (default: the type's own message). */
  readonly message?: string;
  /** A status that replaces the type's default unless the API overrides the response's status. */
  readonly status?: number;
}

/** Result of an authorizer, as later steps use it. */
export interface AuthorizerOutcome {
  readonly principalId?: string;
  readonly context: Record<string, unknown>;
  readonly usageIdentifierKey?: string;
}

/** Everything shared by all requests of one gateway. */
export interface DataPlaneEnv {
  readonly model: Model;
  readonly options: DataPlaneOptions;
  readonly routers: WeakMap<RestApi, Router>;
  /** Lambda authorizer results by authorizer and identity, until their TTL. */
  readonly authCache: Map<string, { until: number; result: AuthorizerOutcome & { policy?: unknown } }>;
}

export interface RequestState {
  readonly req: DataPlaneRequest;
  readonly now: number;
  readonly requestId: string;
  readonly api?: RestApi;
  readonly stage?: Stage;
  /** Request headers with lowercase names and string values. */
  readonly headers: Record<string, string>;
  readonly query: ParsedQuery;
  /** `$context` of mapping templates, access logs and gateway responses. */
  readonly context: Record<string, unknown>;
  readonly rc: ResponseContext;
  /** Set by the route step. */
  resource?: ApiResource;
  method?: Method;
  /** Set by the authorize step (Lambda authorizers). */
  auth?: AuthorizerOutcome;
  /** Set by the identify-key step. */
  key?: ApiKey;
  plan?: UsagePlan;
  /** Set by the step that stops the pipeline: either a failure (a gateway response) or the integration's response. */
  failure?: GatewayFailure;
  response?: DataPlaneResponse;
}

/** What a step returns: go on, or stop (the state holds a failure or a response). */
export type StepResult = boolean;
/** true = go on to the next step. */
export const NEXT = true;
export const STOP = false;

export type Step = (st: RequestState, env: DataPlaneEnv) => StepResult | Promise<StepResult>;

/** Stops the pipeline with a gateway response. */
export function fail(st: RequestState, type: GatewayResponseType, message?: string, status?: number): StepResult {
  st.failure = { type, message, status };
  return STOP;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
let timeCache = { second: -1, text: '' };
/** `$context.requestTime` (CLF format), cached per second: it is built on every request. */
function requestTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === timeCache.second) return timeCache.text;
  const d = new Date(ms);
  timeCache = { second, text: `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000` };
  return timeCache.text;
}

const EMPTY_QUERY: ParsedQuery = Object.freeze({ single: Object.freeze({}) as Record<string, string>, multi: Object.freeze({}) as Record<string, string[]> });

/** Parses a query string into single- and multi-value maps (API Gateway keeps the last value as the single one). */
export function parseQuery(raw: string): ParsedQuery {
  if (!raw) return EMPTY_QUERY;
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const rk = eq < 0 ? part : part.slice(0, eq);
    const rv = eq < 0 ? '' : part.slice(eq + 1);
    let k: string;
    let v: string;
    try {
      k = decodeURIComponent(rk.replace(/\+/g, ' '));
      v = decodeURIComponent(rv.replace(/\+/g, ' '));
    } catch {
      k = rk;
      v = rv;
    }
    single[k] = v;
    (multi[k] ??= []).push(v);
  }
  return { single, multi };
}

/** Node's headers as strings: only `set-cookie` comes as a list, so the common case is used as is. */
function stringHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  if (h['set-cookie'] === undefined) return h as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

/** The state a request starts the pipeline with. */
export function newRequestState(req: DataPlaneRequest, env: DataPlaneEnv): RequestState {
  const now = env.options.clock();
  const requestId = randomUUID();
  const api = env.model.apis.get(req.apiId);
  const stage = api?.stages.get(req.stage);
  const headers = stringHeaders(req.headers);
  const query = parseQuery(req.rawQuery);
  const dot = req.host.indexOf('.');
  const context: Record<string, unknown> = {
    // 16 hex digits of the request id (skipping its dashes) and '=', like API Gateway's extended ids.
    requestId, extendedRequestId: `${requestId.slice(0, 8)}${requestId.slice(9, 13)}${requestId.slice(14, 18)}=`, apiId: req.apiId, stage: req.stage,
    accountId: env.model.accountId, httpMethod: req.method, path: `/${req.stage}${req.rawPath}`, protocol: 'HTTP/1.1',
    requestTime: requestTime(now), requestTimeEpoch: now, domainName: req.host, domainPrefix: dot < 0 ? req.host : req.host.slice(0, dot),
    identity: { sourceIp: req.sourceIp, userAgent: headers['user-agent'] ?? '' }, authorizer: {},
  };
  const rc: ResponseContext = { context, requestHeaders: headers, query: query.single, pathParams: {}, stageVariables: stage?.variables ?? {} };
  return { req, now, requestId, api, stage, headers, query, context, rc };
}
