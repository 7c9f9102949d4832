/**
 * The data plane: serves a stage of an API with API Gateway's semantics — routing,
 * authorizers, API keys, usage-plan throttles and quotas, stage and account throttles,
 * gateway responses, and the MOCK / HTTP / HTTP_PROXY / AWS_PROXY integrations.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { inputFor, renderGatewayResponse, GatewayResponseType, ResponseContext, RenderedResponse, UTIL } from './gateway-responses';
import { LambdaRunner } from './lambda-runner';
import { applyIntegrationResponse, IntegrationConfigError, IntegrationResult, pickTemplate, runMock, selectIntegrationResponse, UnsupportedMediaType } from './mock-integration';
import { isKeyRefused } from './expiry';
import { ApiKey, ApiResource, Authorizer, Method, Model, RestApi, Stage, ThrottleSettings } from './model';
import { QuotaCounter } from './quota';
import { methodFor, Router, splitPath } from './router';
import { ACCOUNT_THROTTLE, planKeyScope, ThrottleRegistry, TokenBucket } from './throttle';
import { renderAccessLogLine } from './access-log';
import { renderVtl } from './vtl';

/** API Gateway's payload limit for REST APIs. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

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
  /** The account-level throttle (default: API Gateway's 10,000 rps, burst 5,000). */
  readonly accountThrottle?: ThrottleSettings;
  /** [dashboard] Called once per finished request (for the local dashboard and tools). */
  readonly onRequest?: (record: RequestRecord) => void;
}

/** [dashboard] One finished data-plane request, as `LocalGatewayOptions.onRequest` receives it. */
export interface RequestRecord {
  /** When the request arrived (ms since the epoch, from the gateway's clock). */
  readonly time: number;
  readonly apiId: string;
  readonly stage: string;
  readonly httpMethod: string;
  /** The matched resource, e.g. `/pets/{id}`; empty when no route matched. */
  readonly resourcePath: string;
  /** The request path after the stage, e.g. `/pets/1`. */
  readonly path: string;
  readonly status: number;
  /** The gateway response type (`$context.error.responseType`), e.g. `THROTTLED`; absent when the integration answered. */
  readonly errorResponseType?: string;
  /** The id of the key the request was identified by (absent for public routes and invalid keys). */
  readonly apiKeyId?: string;
  readonly latencyMs: number;
}

/** What the steps of a request report to the observers of `DataPlane.handle`. */
interface RequestOutcome {
  context?: Record<string, unknown>;
  errorResponseType?: GatewayResponseType;
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

/** What the steps of one request share. */
interface RequestState {
  readonly req: DataPlaneRequest;
  readonly now: number;
  readonly requestId: string;
  readonly api: RestApi;
  readonly stage: Stage;
  readonly headers: Record<string, string>;
  readonly query: { single: Record<string, string>; multi: Record<string, string[]> };
  readonly context: Record<string, unknown>;
  readonly rc: ResponseContext;
  readonly gw: (type: GatewayResponseType, message?: string, status?: number) => DataPlaneResponse;
  readonly match: { resource: ApiResource; pathParams: Record<string, string> };
  readonly method: Method;
}

interface AuthResult {
  readonly principalId?: string;
  readonly context: Record<string, unknown>;
  readonly usageIdentifierKey?: string;
}

const FORBIDDEN_HEADER_NAMES = new Set(['connection', 'content-length', 'transfer-encoding', 'date', 'keep-alive', 'upgrade']);

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let timeCache = { second: -1, text: '' };
function requestTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === timeCache.second) return timeCache.text;
  timeCache = { second, text: formatRequestTime(ms) };
  return timeCache.text;
}
function formatRequestTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Parses a query string into single- and multi-value maps (API Gateway keeps the last value as the single one). */
export function parseQuery(raw: string): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  if (!raw) return { single, multi };
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

/** Glob match for IAM-style resources in authorizer policies (`*` and `?`). */
function arnMatches(pattern: string, arn: string): boolean {
  const re = new RegExp('^' + pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$');
  return re.test(arn);
}

export class DataPlane {
  private readonly routers = new WeakMap<RestApi, Router>();
  private readonly authCache = new Map<string, { until: number; result: AuthResult | 'deny' | 'unauthorized' }>();

  constructor(private readonly model: Model, private readonly opts: DataPlaneOptions) {}

  private router(api: RestApi): Router {
    let r = this.routers.get(api);
    if (!r) {
      r = new Router(api);
      this.routers.set(api, r);
    }
    return r;
  }

  /**
   * Handles one request; never throws (internal errors become a 500 gateway response).
   * Synchronous when nothing needs to wait (routing, keys, throttles, quotas, MOCK), so the
   * common path answers without an extra turn of the event loop; a promise otherwise.
   */
  handle(req: DataPlaneRequest): DataPlaneResponse | Promise<DataPlaneResponse> {
    if (!this.opts.accessLog && !this.opts.onRequest) return this.handleRequest(req);
    const started = this.opts.clock();
    const out: RequestOutcome = {};
    const log = (r: DataPlaneResponse): DataPlaneResponse => {
      const stage = this.model.apis.get(req.apiId)?.stages.get(req.stage);
      this.accessLogLine(stage, out.context ?? {}, r, started);
      // [dashboard] observer hook
      if (this.opts.onRequest) {
        const identity = out.context?.identity as { apiKeyId?: string } | undefined;
        this.opts.onRequest({
          time: started, apiId: req.apiId, stage: req.stage, httpMethod: req.method, resourcePath: String(out.context?.resourcePath ?? ''),
          path: req.rawPath || '/', status: r.status, errorResponseType: out.errorResponseType, apiKeyId: identity?.apiKeyId, latencyMs: this.opts.clock() - started,
        });
      }
      return r;
    };
    const r = this.handleRequest(req, out);
    return r instanceof Promise ? r.then(log) : log(r);
  }

  private handleRequest(req: DataPlaneRequest, out?: RequestOutcome): DataPlaneResponse | Promise<DataPlaneResponse> {
    const now = this.opts.clock();
    const requestId = randomUUID();
    const api = this.model.apis.get(req.apiId);
    const stage = api?.stages.get(req.stage);
    const headers = lowerHeaders(req.headers);
    const query = parseQuery(req.rawQuery);
    const context: Record<string, unknown> = {
      requestId, extendedRequestId: requestId.replace(/-/g, '').slice(0, 16) + '=', apiId: req.apiId, stage: req.stage,
      accountId: this.model.accountId, httpMethod: req.method, path: `/${req.stage}${req.rawPath}`, protocol: 'HTTP/1.1',
      requestTime: requestTime(now), requestTimeEpoch: now, domainName: req.host, domainPrefix: req.host.split('.')[0],
      identity: { sourceIp: req.sourceIp, userAgent: headers['user-agent'] ?? '' }, authorizer: {},
    };
    if (out) out.context = context;
    const rc: ResponseContext = { context, requestHeaders: headers, query: query.single, pathParams: {}, stageVariables: stage?.variables ?? {} };
    const gw = (type: GatewayResponseType, message?: string, status?: number): DataPlaneResponse => {
      if (out) out.errorResponseType = type; // [dashboard]
      const r: RenderedResponse = renderGatewayResponse(api, type, rc, message);
      context.error = r.error; // for the access log, as API Gateway's $context.error
      const hasOwnStatus = api?.gatewayResponses.get(type)?.statusCode !== undefined;
      return this.finish({ status: status !== undefined && !hasOwnStatus ? status : r.status, headers: r.headers, body: r.body }, requestId);
    };
    const internalError = (e: unknown): DataPlaneResponse => {
      this.opts.log?.(`${requestId} internal error: ${(e as Error)?.stack ?? String(e)}`);
      return gw('DEFAULT_5XX');
    };
    try {
      if (!api || !stage) return gw('INVALID_API_KEY', 'Forbidden');
      if (req.body.length > MAX_BODY_BYTES) return gw('REQUEST_TOO_LARGE');
      const segments = splitPath(req.rawPath);
      if (!segments) return gw('BAD_REQUEST_PARAMETERS', 'Invalid path');
      const match = this.router(api).match(segments);
      const method = match ? methodFor(match.resource, req.method) : undefined;
      if (!match || !method) return gw('MISSING_AUTHENTICATION_TOKEN');
      Object.assign(rc.pathParams, match.pathParams);
      context.resourceId = match.resource.id;
      context.resourcePath = match.resource.path;
      const st: RequestState = { req, now, requestId, api, stage, headers, query, context, rc, gw, match, method };

      // Authorization.
      if (method.authorizationType === 'AWS_IAM') {
        if (!headers['authorization']) return gw('MISSING_AUTHENTICATION_TOKEN');
        return gw('API_CONFIGURATION_ERROR', `AWS_IAM authorization of ${req.method} ${match.resource.path} is not emulated by keygate local`);
      }
      if (method.authorizationType === 'CUSTOM' || method.authorizationType === 'COGNITO_USER_POOLS') {
        const authorizer = method.authorizerId ? api.authorizers.get(method.authorizerId) : undefined;
        if (!authorizer) return gw('AUTHORIZER_CONFIGURATION_ERROR', `authorizer ${method.authorizerId ?? '(none)'} of ${req.method} ${match.resource.path} is not in the API`);
        const methodArn = `arn:aws:execute-api:${this.model.region}:${this.model.accountId}:${api.id}/${stage.name}/${req.method}${req.rawPath === '' ? '/' : req.rawPath}`;
        return this.authorize(authorizer, api, stage, req, headers, query, match.pathParams, methodArn, requestId, context).then((r) => {
          if (r === 'unauthorized') return gw('UNAUTHORIZED');
          if (r === 'deny') return gw('ACCESS_DENIED');
          if (typeof r === 'string') return gw('AUTHORIZER_FAILURE', r);
          context.authorizer = { ...r.context, principalId: r.principalId };
          return this.afterAuthorization(st, r);
        }).catch(internalError);
      }
      const r = this.afterAuthorization(st, undefined);
      return r instanceof Promise ? r.catch(internalError) : r;
    } catch (e) {
      return internalError(e);
    }
  }

  /** API key, usage plan, quota, throttles, then the integration. May throw (the caller turns it into a 500). */
  private afterAuthorization(st: RequestState, auth: AuthResult | undefined): DataPlaneResponse | Promise<DataPlaneResponse> {
    const { req, now, requestId, api, stage, headers, query, context, rc, gw, match, method } = st;
    let key: ApiKey | undefined;
    const buckets: (TokenBucket | undefined)[] = [];
    let planToCount: { planId: string; keyId: string } | undefined;
    const t = this.opts.throttles;
    if (method.apiKeyRequired) {
      const presented = api.apiKeySource === 'AUTHORIZER' ? auth?.usageIdentifierKey : headers['x-api-key'];
      key = presented ? this.model.findKeyByValue(presented) : undefined;
      if (!key || isKeyRefused(key, now)) return gw('INVALID_API_KEY');
      const plan = this.model.planFor(key.id, api.id, stage.name);
      if (!plan) return gw('INVALID_API_KEY');
      context.identity = { ...(context.identity as object), apiKey: presented, apiKeyId: key.id };
      if (plan.quota && this.opts.quotas.remaining(plan.id, key.id, plan.quota, now) <= 0) return gw('QUOTA_EXCEEDED');
      const apiStage = plan.apiStages.find((s) => s.apiId === api.id && s.stage === stage.name);
      const perMethod = apiStage?.throttle[`${match.resource.path}/${method.httpMethod}`] ?? apiStage?.throttle[`${match.resource.path}/${req.method}`];
      if (perMethod) buckets.push(t.bucket(`pm|${plan.id}|${key.id}|${match.resource.path}|${method.httpMethod}`, perMethod, now));
      else buckets.push(t.bucket(planKeyScope(plan.id, key.id), plan.throttle, now));
      planToCount = { planId: plan.id, keyId: key.id };
    }
    const stageSetting = stage.methodSettings.get(`${match.resource.path} ${method.httpMethod}`)
      ?? stage.methodSettings.get(`${match.resource.path} *`)
      ?? stage.methodSettings.get('/* *');
    buckets.push(t.bucket(`s|${api.id}|${stage.name}|${match.resource.path}|${method.httpMethod}`, stageSetting, now));
    buckets.push(t.bucket('account', this.opts.accountThrottle ?? ACCOUNT_THROTTLE, now));
    if (!ThrottleRegistry.tryTakeAll(buckets, now)) return gw('THROTTLED');
    if (planToCount) {
      const plan = this.model.plans.get(planToCount.planId);
      this.opts.quotas.count(planToCount.planId, planToCount.keyId, plan?.quota, now);
      this.opts.onCounted?.();
    }

    // Integration.
    const integration = method.integration;
    if (integration.unsupportedReason) {
      return gw('API_CONFIGURATION_ERROR', `keygate local cannot run the integration of ${req.method} ${match.resource.path}: ${integration.unsupportedReason}`);
    }
    const done = (result: IntegrationResult): DataPlaneResponse => this.finish({ status: result.status, headers: result.headers, body: result.body }, requestId);
    switch (integration.type) {
      case 'MOCK': {
        let result: IntegrationResult;
        try {
          result = runMock(integration, rc, req.body.length ? req.body.toString('utf8') : '', headers['content-type'], headers['accept']);
        } catch (e) {
          if (e instanceof UnsupportedMediaType) return gw('UNSUPPORTED_MEDIA_TYPE');
          if (e instanceof IntegrationConfigError) { this.opts.log?.(`${requestId} ${req.method} ${match.resource.path}: ${e.message}`); return gw('API_CONFIGURATION_ERROR'); }
          throw e;
        }
        return done(result);
      }
      case 'AWS_PROXY':
        return this.invokeProxy(api, stage, method, req, headers, query, match.pathParams, match.resource.path, context, requestId)
          .then((r) => ('gateway' in r ? gw(r.gateway, r.message, r.status) : done(r)));
      case 'HTTP_PROXY':
      case 'HTTP': {
        // Non-proxy HTTP: the request template (for the request's content type) builds the backend body.
        let bodyOverride: Buffer | undefined;
        if (integration.type === 'HTTP') {
          const picked = pickTemplate(integration.requestTemplates, headers['content-type']);
          if (picked) bodyOverride = Buffer.from(renderVtl(picked.template, { context: rc.context, input: inputFor(rc, req.body.toString('utf8')), util: UTIL, stageVariables: rc.stageVariables }));
          else if (Object.keys(integration.requestTemplates).length > 0 && integration.passthroughBehavior !== 'WHEN_NO_MATCH' && integration.passthroughBehavior !== undefined) {
            return gw('UNSUPPORTED_MEDIA_TYPE');
          }
        }
        return this.forward(integration.uri ?? '', integration.type === 'HTTP_PROXY', req, headers, match.pathParams, integration.timeoutMs,
          integration.httpMethod, integration.requestParameters, query.single, stage.variables, bodyOverride).then((r) => {
          if ('gateway' in r) return gw(r.gateway, r.message);
          if (integration.type === 'HTTP_PROXY') return done({ status: r.status, headers: r.headers, body: r.body });
          const ir = selectIntegrationResponse(integration.integrationResponses, String(r.status));
          if (!ir) return gw('API_CONFIGURATION_ERROR');
          return done(applyIntegrationResponse(ir, rc, { body: r.body.toString('utf8'), headers: r.headers }, headers['accept']));
        });
      }
      default:
        return gw('API_CONFIGURATION_ERROR', `integration type ${integration.type} is not supported`);
    }
  }

  private finish(r: DataPlaneResponse, requestId: string): DataPlaneResponse {
    r.headers['x-amzn-requestid'] = requestId;
    r.headers['x-amz-apigw-id'] = requestId.replace(/-/g, '').slice(0, 16) + '=';
    return r;
  }

  /** Writes the stage's access log line for a finished request, if it has a format and a log is attached. */
  private accessLogLine(stage: Stage | undefined, context: Record<string, unknown>, r: DataPlaneResponse, started: number, errorMessage?: string): void {
    if (!this.opts.accessLog || !stage?.accessLogFormat) return;
    const length = typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length;
    const error = errorMessage !== undefined ? { message: errorMessage, messageString: JSON.stringify(errorMessage) } : context.error;
    const ctx = { ...context, status: r.status, responseLength: length, responseLatency: this.opts.clock() - started, error };
    this.opts.accessLog(renderAccessLogLine(stage.accessLogFormat, ctx));
  }

  private async authorize(
    a: Authorizer, api: RestApi, stage: Stage, req: DataPlaneRequest, headers: Record<string, string>,
    query: { single: Record<string, string>; multi: Record<string, string[]> }, pathParams: Record<string, string>,
    methodArn: string, requestId: string, context: Record<string, unknown>,
  ): Promise<AuthResult | 'deny' | 'unauthorized' | string> {
    if (a.type === 'COGNITO_USER_POOLS') {
      const src = /^method\.request\.header\.(.+)$/.exec(a.identitySource || 'method.request.header.Authorization');
      if (!headers[(src?.[1] ?? 'authorization').toLowerCase()]) return 'unauthorized';
      return `Cognito user pool authorizer ${a.name} cannot verify tokens locally`;
    }
    // Identity sources.
    const sources = a.identitySource.split(',').map((s) => s.trim()).filter((s) => s);
    const identity: string[] = [];
    for (const s of sources) {
      const m = /^method\.request\.(header|querystring)\.(.+)$/.exec(s);
      const c = /^context\.(.+)$/.exec(s);
      const sv = /^stageVariables\.(.+)$/.exec(s);
      const v = m ? (m[1] === 'header' ? headers[m[2].toLowerCase()] : query.single[m[2]]) : c ? String(context[c[1]] ?? '') : sv ? stage.variables[sv[1]] : undefined;
      if (!v) return 'unauthorized';
      identity.push(v);
    }
    if (a.unsupportedReason || !a.functionArn) return `authorizer ${a.name}: ${a.unsupportedReason ?? 'no function'}`;
    const fn = this.model.functions.get(a.functionArn);
    if (!fn) return `authorizer ${a.name}: function not found`;
    if (a.type === 'TOKEN' && a.identityValidationExpression) {
      try {
        if (!new RegExp(`^(?:${a.identityValidationExpression})$`).test(identity[0] ?? '')) return 'unauthorized';
      } catch {
        return `authorizer ${a.name}: invalid IdentityValidationExpression`;
      }
    }
    const now = this.opts.clock();
    const cacheKey = `${a.id}|${identity.join('\u0000')}`;
    const canCache = a.ttlSeconds > 0 && identity.length > 0;
    const cached = canCache ? this.authCache.get(cacheKey) : undefined;
    let outcome: AuthResult | 'deny' | 'unauthorized' | undefined;
    let policy: unknown;
    if (cached && cached.until > now) outcome = cached.result;
    if (outcome === undefined || (typeof outcome === 'object' && !this.policyAllows(outcome, methodArn))) {
      if (cached && cached.until > now && typeof outcome === 'object') return 'deny';
      const event = a.type === 'TOKEN'
        ? { type: 'TOKEN', authorizationToken: identity[0], methodArn }
        : { type: 'REQUEST', methodArn, ...this.proxyEventBase(api, stage, req, headers, query, pathParams, String(context.resourcePath ?? ''), context, requestId) };
      const r = await this.opts.lambdas.invoke(fn, event, requestId);
      if (r.failure === 'timeout') return `authorizer ${a.name} timed out`;
      if (r.failure) return `authorizer ${a.name} crashed`;
      if (r.error) return r.error.errorMessage === 'Unauthorized' ? 'unauthorized' : `authorizer ${a.name} failed: ${r.error.errorMessage}`;
      const res = r.result as { principalId?: unknown; policyDocument?: unknown; context?: unknown; usageIdentifierKey?: unknown } | undefined;
      if (!res || typeof res !== 'object' || typeof res.policyDocument !== 'object' || res.policyDocument === null) return `authorizer ${a.name} returned no policyDocument`;
      policy = res.policyDocument;
      const ctx: Record<string, unknown> = {};
      if (res.context && typeof res.context === 'object') {
        for (const [k, v] of Object.entries(res.context as Record<string, unknown>)) {
          if (typeof v === 'object' && v !== null) return `authorizer ${a.name} returned a context value that is not a string, number or boolean (${k})`;
          ctx[k] = v;
        }
      }
      const result: AuthResult & { policy: unknown } = {
        principalId: res.principalId === undefined ? undefined : String(res.principalId), context: ctx,
        usageIdentifierKey: typeof res.usageIdentifierKey === 'string' ? res.usageIdentifierKey : undefined, policy,
      };
      outcome = result;
      if (canCache) this.authCache.set(cacheKey, { until: now + a.ttlSeconds * 1000, result: outcome });
      if (this.authCache.size > 10_000) this.authCache.clear();
    }
    if (typeof outcome !== 'object') return outcome;
    return this.policyAllows(outcome, methodArn) ? outcome : 'deny';
  }

  private policyAllows(result: AuthResult, methodArn: string): boolean {
    const policy = (result as AuthResult & { policy?: unknown }).policy as { Statement?: unknown } | undefined;
    const statements = Array.isArray(policy?.Statement) ? policy.Statement : policy?.Statement ? [policy.Statement] : [];
    let allowed = false;
    for (const sRaw of statements) {
      const s = sRaw as { Effect?: unknown; Action?: unknown; Resource?: unknown };
      const actions = ([] as unknown[]).concat(s.Action ?? []).map(String);
      if (!actions.some((x) => x === '*' || x === 'execute-api:*' || x === 'execute-api:Invoke')) continue;
      const resources = ([] as unknown[]).concat(s.Resource ?? []).map(String);
      if (!resources.some((r) => arnMatches(r, methodArn))) continue;
      if (s.Effect === 'Deny') return false;
      if (s.Effect === 'Allow') allowed = true;
    }
    return allowed;
  }

  private proxyEventBase(
    api: RestApi, stage: Stage, req: DataPlaneRequest, headers: Record<string, string>,
    query: { single: Record<string, string>; multi: Record<string, string[]> }, pathParams: Record<string, string>,
    resourcePath: string, context: Record<string, unknown>, requestId: string,
  ): Record<string, unknown> {
    const h: Record<string, string> = {};
    const mh: Record<string, string[]> = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i];
      h[k] = req.rawHeaders[i + 1];
      (mh[k] ??= []).push(req.rawHeaders[i + 1]);
    }
    let path = req.rawPath || '/';
    try { path = decodeURIComponent(path); } catch { /* keep raw */ }
    return {
      resource: resourcePath,
      path,
      httpMethod: req.method,
      headers: Object.keys(h).length ? h : null,
      multiValueHeaders: Object.keys(mh).length ? mh : null,
      queryStringParameters: Object.keys(query.single).length ? query.single : null,
      multiValueQueryStringParameters: Object.keys(query.multi).length ? query.multi : null,
      pathParameters: Object.keys(pathParams).length ? pathParams : null,
      stageVariables: Object.keys(stage.variables).length ? stage.variables : null,
      requestContext: {
        resourceId: context.resourceId, resourcePath, httpMethod: req.method, extendedRequestId: context.extendedRequestId,
        requestTime: context.requestTime, path: context.path, accountId: this.model.accountId, protocol: 'HTTP/1.1',
        stage: stage.name, domainPrefix: context.domainPrefix, requestTimeEpoch: context.requestTimeEpoch, requestId,
        identity: {
          cognitoIdentityPoolId: null, accountId: null, cognitoIdentityId: null, caller: null,
          sourceIp: req.sourceIp, principalOrgId: null, accessKey: null, cognitoAuthenticationType: null,
          cognitoAuthenticationProvider: null, userArn: null, userAgent: headers['user-agent'] ?? null, user: null,
          ...((context.identity as Record<string, unknown>).apiKey !== undefined
            ? { apiKey: (context.identity as Record<string, unknown>).apiKey, apiKeyId: (context.identity as Record<string, unknown>).apiKeyId }
            : {}),
        },
        domainName: req.host, apiId: api.id,
        ...(context.authorizer && Object.keys(context.authorizer as object).length ? { authorizer: context.authorizer } : {}),
      },
    };
  }

  private async invokeProxy(
    api: RestApi, stage: Stage, method: Method, req: DataPlaneRequest, headers: Record<string, string>,
    query: { single: Record<string, string>; multi: Record<string, string[]> }, pathParams: Record<string, string>,
    resourcePath: string, context: Record<string, unknown>, requestId: string,
  ): Promise<IntegrationResult | { gateway: GatewayResponseType; message?: string; status?: number }> {
    const fn = this.model.functions.get(method.integration.functionArn ?? '');
    if (!fn) return { gateway: 'API_CONFIGURATION_ERROR' };
    const ct = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const binary = api.binaryMediaTypes.some((t) => t === '*/*' || t.toLowerCase() === ct || (t.endsWith('/*') && ct.startsWith(t.slice(0, -1).toLowerCase())));
    const event = {
      ...this.proxyEventBase(api, stage, req, headers, query, pathParams, resourcePath, context, requestId),
      body: req.body.length === 0 ? null : binary ? req.body.toString('base64') : req.body.toString('utf8'),
      isBase64Encoded: binary && req.body.length > 0,
    };
    const r = await this.opts.lambdas.invoke(fn, event, requestId, method.integration.timeoutMs);
    if (r.failure === 'timeout') return { gateway: 'INTEGRATION_TIMEOUT' };
    if (r.failure === 'crash') return { gateway: 'DEFAULT_5XX', status: 502 };
    if (r.error) {
      this.opts.log?.(`${requestId} Lambda ${fn.logicalId} failed: ${r.error.errorType}: ${r.error.errorMessage}`);
      return { gateway: 'DEFAULT_5XX', status: 502 };
    }
    const out = parseProxyResult(r.result);
    if (typeof out === 'string') {
      this.opts.log?.(`${requestId} Execution failed due to configuration error: Malformed Lambda proxy response (${out})`);
      return { gateway: 'DEFAULT_5XX', status: 502 };
    }
    return out;
  }

  private forward(
    uri: string, proxy: boolean, req: DataPlaneRequest, headers: Record<string, string>, pathParams: Record<string, string>, timeoutMs: number,
    integrationMethod: string | undefined, requestParameters: Record<string, string>, query: Record<string, string>, stageVariables: Record<string, string>,
    bodyOverride?: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer } | { gateway: GatewayResponseType; message?: string }> {
    // integration.request.* parameters mapped from method.request.* (or literals); path params fall back to the method's own.
    const mapped: { path: Record<string, string>; querystring: Record<string, string>; header: Record<string, string> } = { path: {}, querystring: {}, header: {} };
    for (const [dest, src] of Object.entries(requestParameters)) {
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
    return new Promise((resolve) => {
      const r = lib.request(url, { method: !integrationMethod || integrationMethod === 'ANY' ? req.method : integrationMethod, headers: outHeaders, timeout: timeoutMs }, (res) => {
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
}

function lowerHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

/** Validates a Lambda proxy result; returns the response or a description of what is malformed. */
export function parseProxyResult(result: unknown): IntegrationResult | string {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return 'the result is not a JSON object';
  const r = result as Record<string, unknown>;
  const sc = typeof r.statusCode === 'string' && /^\d+$/.test(r.statusCode) ? Number(r.statusCode) : r.statusCode;
  if (typeof sc !== 'number' || !Number.isInteger(sc) || sc < 100 || sc > 599) return 'statusCode is missing or not an HTTP status';
  const headers: Record<string, string> = {};
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || Array.isArray(r.headers)) return 'headers is not an object';
    for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) {
      if (typeof v === 'object' && v !== null) return `header ${k} is not a string`;
      if (v !== null && v !== undefined) headers[k.toLowerCase()] = String(v);
    }
  }
  if (r.multiValueHeaders !== undefined && r.multiValueHeaders !== null) {
    if (typeof r.multiValueHeaders !== 'object' || Array.isArray(r.multiValueHeaders)) return 'multiValueHeaders is not an object';
    for (const [k, v] of Object.entries(r.multiValueHeaders as Record<string, unknown>)) {
      if (!Array.isArray(v)) return `multiValueHeaders.${k} is not a list`;
      headers[k.toLowerCase()] = v.map(String).join(', ');
    }
  }
  for (const k of Object.keys(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n]/.test(headers[k])) return `header ${k} is not a valid HTTP header`;
    if (FORBIDDEN_HEADER_NAMES.has(k)) delete headers[k];
  }
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return 'body is not a string';
  const text = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : text;
  headers['content-type'] ??= 'application/json';
  return { status: sc, headers, body };
}
