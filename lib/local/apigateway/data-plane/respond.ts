/**
 * Step 6, gateway response: the integration's response, or — when a step stopped the request —
 * the gateway response of its type (the API's override, else AWS's default), with the
 * request-id headers; then the stage's access log line and the observer's record.
 */
import { renderAccessLogLine } from './access-log';
import { renderGatewayResponse, RenderedResponse } from './gateway-responses';
import { DataPlaneEnv, DataPlaneResponse, RequestState } from './request-state';

export function respond(st: RequestState, env: DataPlaneEnv): DataPlaneResponse {
  let out = st.response;
  const failure = st.failure;
  let error: RenderedResponse['error'] | undefined;
  if (!out || failure) {
    const f = failure ?? { type: 'DEFAULT_5XX' as const };
    const r = renderGatewayResponse(st.api, f.type, st.rc, f.message);
    error = r.error;
    const hasOwnStatus = st.api?.gatewayResponses.get(f.type)?.statusCode !== undefined;
    out = { status: f.status !== undefined && !hasOwnStatus ? f.status : r.status, headers: r.headers, body: r.body };
  }
  out.headers['x-amzn-requestid'] = st.requestId;
  out.headers['x-amz-apigw-id'] = st.context.extendedRequestId as string;
  const { accessLog, logEvent, onRequest } = env.options;
  const group = st.stage?.accessLogGroup;
  if ((accessLog !== undefined || (logEvent !== undefined && group !== undefined)) && st.stage?.accessLogFormat !== undefined) {
    const line = accessLogLine(st, env, out, error, st.stage.accessLogFormat);
    accessLog?.(line);
    if (group !== undefined) logEvent?.(group, line, st.now);
  }
  if (onRequest !== undefined) {
    try {
      onRequest({
        time: st.now, apiId: st.req.apiId, stage: st.req.stage, httpMethod: st.req.method, resourcePath: st.resource?.path ?? '',
        path: st.req.rawPath, status: out.status, errorResponseType: failure?.type, apiKeyId: st.key?.id,
      latencyMs: env.options.clock() - st.now,
      });
    } catch (e) {
      // An observer's bug must not change the answer.
      env.options.log?.(`${st.requestId} onRequest observer failed: ${(e as Error)?.message ?? String(e)}`);
    }
  }
  return out;
}

/** `$context.error` is the gateway response's (absent when the integration answered: API Gateway then writes `-`). */
function accessLogLine(st: RequestState, env: DataPlaneEnv, r: DataPlaneResponse, error: RenderedResponse['error'] | undefined, format: string): string {
  const length = typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length;
  const ctx = { ...st.context, status: r.status, responseLength: length, responseLatency: env.options.clock() - st.now, error };
  return renderAccessLogLine(format, ctx);
}
