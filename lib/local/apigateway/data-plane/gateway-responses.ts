/**
 * Gateway responses: the errors API Gateway answers itself (bad key, throttled, unknown
 * route…), with the defaults AWS uses and the overrides of AWS::ApiGateway::GatewayResponse.
 */
import { RestApi } from '../model';
import { renderVtl } from './vtl';

export type GatewayResponseType =
  | 'ACCESS_DENIED' | 'API_CONFIGURATION_ERROR' | 'AUTHORIZER_CONFIGURATION_ERROR' | 'AUTHORIZER_FAILURE'
  | 'BAD_REQUEST_PARAMETERS' | 'BAD_REQUEST_BODY' | 'EXPIRED_TOKEN' | 'INTEGRATION_FAILURE' | 'INTEGRATION_TIMEOUT'
  | 'INVALID_API_KEY' | 'INVALID_SIGNATURE' | 'MISSING_AUTHENTICATION_TOKEN' | 'QUOTA_EXCEEDED' | 'REQUEST_TOO_LARGE'
  | 'RESOURCE_NOT_FOUND' | 'THROTTLED' | 'UNAUTHORIZED' | 'UNSUPPORTED_MEDIA_TYPE' | 'WAF_FILTERED'
  | 'DEFAULT_4XX' | 'DEFAULT_5XX';

interface Default {
  readonly status: number;
  readonly message: string;
  /** Value of the x-amzn-ErrorType header API Gateway sends. */
  readonly errorType?: string;
}

export const DEFAULT_RESPONSES: Record<GatewayResponseType, Default> = {
  ACCESS_DENIED: { status: 403, message: 'User is not authorized to access this resource with an explicit deny', errorType: 'AccessDeniedException' },
  API_CONFIGURATION_ERROR: { status: 500, message: 'Internal server error' },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, message: 'Internal server error', errorType: 'AuthorizerConfigurationException' },
  AUTHORIZER_FAILURE: { status: 500, message: 'Internal server error', errorType: 'AuthorizerConfigurationException' },
  BAD_REQUEST_PARAMETERS: { status: 400, message: 'Bad request parameters', errorType: 'BadRequestException' },
  BAD_REQUEST_BODY: { status: 400, message: 'Invalid request body', errorType: 'BadRequestException' },
  EXPIRED_TOKEN: { status: 403, message: 'The security token included in the request is expired', errorType: 'ExpiredTokenException' },
  INTEGRATION_FAILURE: { status: 504, message: 'Internal server error' },
  INTEGRATION_TIMEOUT: { status: 504, message: 'Endpoint request timed out' },
  INVALID_API_KEY: { status: 403, message: 'Forbidden', errorType: 'ForbiddenException' },
  INVALID_SIGNATURE: { status: 403, message: 'Invalid signature', errorType: 'InvalidSignatureException' },
  MISSING_AUTHENTICATION_TOKEN: { status: 403, message: 'Missing Authentication Token', errorType: 'MissingAuthenticationTokenException' },
  QUOTA_EXCEEDED: { status: 429, message: 'Limit Exceeded', errorType: 'LimitExceededException' },
  REQUEST_TOO_LARGE: { status: 413, message: 'Request Too Long', errorType: 'RequestTooLongException' },
  RESOURCE_NOT_FOUND: { status: 404, message: 'Not Found', errorType: 'NotFoundException' },
  THROTTLED: { status: 429, message: 'Too Many Requests', errorType: 'TooManyRequestsException' },
  UNAUTHORIZED: { status: 401, message: 'Unauthorized', errorType: 'UnauthorizedException' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported Media Type', errorType: 'UnsupportedMediaTypeException' },
  WAF_FILTERED: { status: 403, message: 'Forbidden', errorType: 'ForbiddenException' },
  DEFAULT_4XX: { status: 400, message: 'Bad Request' },
  DEFAULT_5XX: { status: 500, message: 'Internal server error' },
};

const DEFAULT_TEMPLATE = '{"message":$context.error.messageString}';

/** What a gateway response can refer to: `$context.*`, `method.request.*`, stage variables. */
export interface ResponseContext {
  /** The `$context` object (without `error`, which is added here). */
  readonly context: Record<string, unknown>;
  readonly requestHeaders: Record<string, string>;
  readonly query: Record<string, string>;
  readonly pathParams: Record<string, string>;
  readonly stageVariables: Record<string, string>;
}

export interface RenderedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** `$context.error` of the response: message, quoted message and response type. */
  readonly error: { readonly message: string; readonly messageString: string; readonly responseType: GatewayResponseType };
}

/** Resolves a mapping expression: `'literal'`, `method.request.header.X`, `stageVariables.x`, `context.x.y`. */
export function mappingValue(expr: string, rc: ResponseContext): string | undefined {
  const e = expr.trim();
  if (e.startsWith("'") && e.endsWith("'") && e.length >= 2) return e.slice(1, -1);
  let m = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(e);
  if (m) {
    if (m[1] === 'header') return rc.requestHeaders[m[2].toLowerCase()];
    if (m[1] === 'querystring') return rc.query[m[2]];
    return rc.pathParams[m[2]];
  }
  m = /^stageVariables\.(.+)$/.exec(e);
  if (m) return rc.stageVariables[m[1]];
  m = /^context\.(.+)$/.exec(e);
  if (m) {
    let v: unknown = rc.context;
    for (const part of m[1].split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
    return v === undefined || v === null ? undefined : String(v);
  }
  return undefined;
}

/**
 * Renders the gateway response of `type` for `api` (override of the type, else the
 * DEFAULT_4XX/DEFAULT_5XX override, else AWS's default), with `message` as `$context.error.message`.
 */
export function renderGatewayResponse(api: RestApi | undefined, type: GatewayResponseType, rc: ResponseContext, message?: string): RenderedResponse {
  const d = DEFAULT_RESPONSES[type];
  const msg = message ?? d.message;
  const classDefault: GatewayResponseType = d.status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
  const override = api?.gatewayResponses.get(type) ?? api?.gatewayResponses.get(classDefault);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (d.errorType) headers['x-amzn-errortype'] = d.errorType;
  let status = d.status;
  let template = DEFAULT_TEMPLATE;
  if (override) {
    // Changing DEFAULT_4XX/5XX's status changes every response of that class without its own override (AWS docs).
    if (override.statusCode) {
      const s = Number(override.statusCode);
      if (Number.isInteger(s) && s >= 100 && s <= 599) status = s;
    }
    for (const [k, v] of Object.entries(override.responseParameters)) {
      const m = /^gatewayresponse\.header\.(.+)$/.exec(k);
      if (!m) continue;
      const value = mappingValue(v, rc);
      if (value !== undefined) headers[m[1].toLowerCase()] = value;
    }
    const types = Object.keys(override.responseTemplates);
    if (types.length > 0) {
      const ct = types.includes('application/json') ? 'application/json' : types[0];
      template = override.responseTemplates[ct];
      headers['content-type'] = ct;
    }
  }
  const error = { message: msg, messageString: JSON.stringify(msg), responseType: type };
  const context = { ...rc.context, error: { ...error, validationErrorString: '' } };
  let body: string;
  try {
    body = renderVtl(template, { context, stageVariables: rc.stageVariables, input: inputFor(rc), util: UTIL });
  } catch {
    body = JSON.stringify({ message: msg });
  }
  return { status, headers, body, error };
}

/** `$input` for templates that have no request body at hand. */
export function inputFor(rc: ResponseContext, body = ''): Record<string, unknown> {
  let parsed: unknown;
  const parse = (): unknown => {
    if (parsed === undefined) {
      try { parsed = body ? JSON.parse(body) : {}; } catch { parsed = {}; }
    }
    return parsed;
  };
  return {
    body,
    params: (name?: unknown) => {
      if (name === undefined) return { header: new HeaderMap(Object.entries(rc.requestHeaders)), querystring: new Map(Object.entries(rc.query)), path: new Map(Object.entries(rc.pathParams)) };
      const n = String(name);
      return rc.pathParams[n] ?? rc.query[n] ?? rc.requestHeaders[n.toLowerCase()] ?? '';
    },
    json: (p?: unknown) => JSON.stringify(jsonPath(parse(), String(p ?? '$')) ?? null),
    path: (p?: unknown) => jsonPath(parse(), String(p ?? '$')),
  };
}

/** Request headers for templates: HTTP header names are case-insensitive. */
class HeaderMap extends Map<string, string> {
  constructor(entries: [string, string][]) {
    super(entries.map(([k, v]) => [k.toLowerCase(), v]));
  }
  override get(k: string): string | undefined {
    return super.get(String(k).toLowerCase());
  }
  override has(k: string): boolean {
    return super.has(String(k).toLowerCase());
  }
}

/** A small JSONPath: `$`, `$.a.b`, `$['a']`, `$.a[0]`. */
export function jsonPath(root: unknown, p: string): unknown {
  if (!p.startsWith('$')) return undefined;
  let v: unknown = root;
  const re = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/g;
  let m: RegExpExecArray | null;
  const rest = p.slice(1);
  let consumed = 0;
  while ((m = re.exec(rest)) !== null) {
    if (m.index !== consumed) return undefined;
    consumed = m.index + m[0].length;
    const key = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return consumed === rest.length ? v : undefined;
}

/** `$util` of API Gateway mapping templates. */
export const UTIL = {
  escapeJavaScript: (s: unknown) => JSON.stringify(String(s ?? '')).slice(1, -1).replace(/'/g, "\\'"),
  urlEncode: (s: unknown) => encodeURIComponent(String(s ?? '')),
  urlDecode: (s: unknown) => { try { return decodeURIComponent(String(s ?? '')); } catch { return String(s ?? ''); } },
  base64Encode: (s: unknown) => Buffer.from(String(s ?? '')).toString('base64'),
  base64Decode: (s: unknown) => Buffer.from(String(s ?? ''), 'base64').toString('utf8'),
  parseJson: (s: unknown) => { try { return JSON.parse(String(s)); } catch { return undefined; } },
  toJson: (v: unknown) => JSON.stringify(v),
};
