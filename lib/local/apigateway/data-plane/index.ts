/**
 * The data plane: serves a stage of an API as API Gateway's request flow does, one module per
 * step, each taking the request's state —
 *   route → authorize → identify key → throttle and quota → integrate → gateway response.
 * A step goes on or stops (with a failure or the integration's response); the last step
 * answers either way. The pipeline stays synchronous until a step has to wait (a Lambda
 * function, an HTTP backend), so the common path answers without an extra event-loop turn.
 */
import { authorize } from './authorize';
import { identifyKey } from './identify-key';
import { integrate } from './integrate';
import { DataPlaneEnv, DataPlaneOptions, DataPlaneRequest, DataPlaneResponse, newRequestState, RequestState, Step } from './request-state';
import { respond } from './respond';
import { route } from './route';
import { throttleAndQuota } from './throttle-and-quota';
import { Model } from '../model';

export { MAX_BODY_BYTES, parseQuery } from './request-state';
export type { DataPlaneOptions, DataPlaneRequest, DataPlaneResponse, RequestRecord } from './request-state';
export { parseProxyResult } from './lambda-proxy';

/** API Gateway's request flow, in order. */
export const PIPELINE: readonly Step[] = [route, authorize, identifyKey, throttleAndQuota, integrate];

export type DataPlaneHandler = (req: DataPlaneRequest) => DataPlaneResponse | Promise<DataPlaneResponse>;

/** The data plane of a model: a function from a request to its response; never throws (internal errors become a 500). */
export function createDataPlane(model: Model, options: DataPlaneOptions): DataPlaneHandler {
  const env: DataPlaneEnv = { model, options, routers: new WeakMap(), authCache: new Map() };
  return (req) => run(newRequestState(req, env), env, 0);
}

function run(st: RequestState, env: DataPlaneEnv, from: number): DataPlaneResponse | Promise<DataPlaneResponse> {
  try {
    for (let i = from; i < PIPELINE.length; i++) {
      const r = PIPELINE[i](st, env);
      if (r === true) continue;
      if (r === false) return respond(st, env);
      const next = i + 1;
      return r.then((goOn) => (goOn ? run(st, env, next) : respond(st, env)), (e: unknown) => internalError(st, env, e));
    }
    return respond(st, env);
  } catch (e) {
    return internalError(st, env, e);
  }
}

function internalError(st: RequestState, env: DataPlaneEnv, e: unknown): DataPlaneResponse {
  env.options.log?.(`${st.requestId} internal error: ${(e as Error)?.stack ?? String(e)}`);
  st.response = undefined;
  st.failure = { type: 'DEFAULT_5XX' };
  return respond(st, env);
}
