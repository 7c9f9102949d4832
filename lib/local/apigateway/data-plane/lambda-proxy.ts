/** AWS_PROXY integrations: the proxy event to the Lambda function, its result validated as API Gateway does. */
import { GatewayResponseType } from './gateway-responses';
import { IntegrationResult } from './mock-integration';
import { FORBIDDEN_HEADER_NAMES } from './http-integration';
import { proxyEventBase } from './lambda-event';
import { DataPlaneEnv, RequestState } from './request-state';

export async function invokeLambdaProxy(st: RequestState, env: DataPlaneEnv): Promise<IntegrationResult | { gateway: GatewayResponseType; message?: string; status?: number }> {
  const method = st.method!;
  const fn = env.model.functions.get(method.integration.functionArn ?? '');
  if (!fn) return { gateway: 'API_CONFIGURATION_ERROR' };
  const { req, headers } = st;
  const ct = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const binary = st.api!.binaryMediaTypes.some((t) => t === '*/*' || t.toLowerCase() === ct || (t.endsWith('/*') && ct.startsWith(t.slice(0, -1).toLowerCase())));
  const event = {
    ...proxyEventBase(st, env),
    body: req.body.length === 0 ? null : binary ? req.body.toString('base64') : req.body.toString('utf8'),
    isBase64Encoded: binary && req.body.length > 0,
  };
  // The function's Date follows the gateway's clock (--clock), as the scheduled jobs' do.
  const r = await env.options.lambdas.invoke(fn, event, st.requestId, method.integration.timeoutMs, env.options.clock() - Date.now());
  if (r.failure === 'timeout') return { gateway: 'INTEGRATION_TIMEOUT' };
  if (r.failure === 'crash') return { gateway: 'DEFAULT_5XX', status: 502 };
  if (r.error) {
    env.options.log?.(`${st.requestId} Lambda ${fn.logicalId} failed: ${r.error.errorType}: ${r.error.errorMessage}`);
    return { gateway: 'DEFAULT_5XX', status: 502 };
  }
  const out = parseProxyResult(r.result);
  if (typeof out === 'string') {
    env.options.log?.(`${st.requestId} Execution failed due to configuration error: Malformed Lambda proxy response (${out})`);
    return { gateway: 'DEFAULT_5XX', status: 502 };
  }
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
