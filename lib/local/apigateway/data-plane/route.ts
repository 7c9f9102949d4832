/** Step 1, route: the stage, then the resource and method of the request (else 403 Missing Authentication Token). */
import { methodFor, Router, splitPath } from './router';
import { DataPlaneEnv, fail, MAX_BODY_BYTES, NEXT, RequestState, StepResult } from './request-state';

export function route(st: RequestState, env: DataPlaneEnv): StepResult {
  const { api, stage, req } = st;
  if (!api || !stage) return fail(st, 'INVALID_API_KEY', 'Forbidden');
  if (req.body.length > MAX_BODY_BYTES) return fail(st, 'REQUEST_TOO_LARGE');
  const segments = splitPath(req.rawPath);
  if (!segments) return fail(st, 'BAD_REQUEST_PARAMETERS', 'Invalid path');
  let router = env.routers.get(api);
  if (!router) {
    router = new Router(api);
    env.routers.set(api, router);
  }
  const match = router.match(segments);
  const method = match ? methodFor(match.resource, req.method) : undefined;
  if (!match || !method) return fail(st, 'MISSING_AUTHENTICATION_TOKEN');
  Object.assign(st.rc.pathParams, match.pathParams);
  st.context.resourceId = match.resource.id;
  st.context.resourcePath = match.resource.path;
  st.resource = match.resource;
  st.method = method;
  return NEXT;
}
