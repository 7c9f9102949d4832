/**
 * Step 3, identify the API key (methods that require one): from the x-api-key header or the
 * authorizer's usageIdentifierKey; it must exist, be enabled, and be in a usage plan of this
 * stage — else 403 Forbidden, as API Gateway answers every one of these cases.
 */
import { isKeyRefused } from './expiry';
import { DataPlaneEnv, fail, NEXT, RequestState, StepResult } from './request-state';

export function identifyKey(st: RequestState, env: DataPlaneEnv): StepResult {
  if (!st.method!.apiKeyRequired) return NEXT;
  const api = st.api!;
  const presented = api.apiKeySource === 'AUTHORIZER' ? st.auth?.usageIdentifierKey : st.headers['x-api-key'];
  const key = presented ? env.model.findKeyByValue(presented) : undefined;
  // Disabled, or expired as the stack's KeyExpiry job would have disabled it by now.
  if (!key || isKeyRefused(key, st.now)) return fail(st, 'INVALID_API_KEY');
  const plan = env.model.planFor(key.id, api.id, st.stage!.name);
  if (!plan) return fail(st, 'INVALID_API_KEY');
  // The request's own identity object (made for this request): filled in place, no copy.
  const identity = st.context.identity as Record<string, unknown>;
  identity.apiKey = presented;
  identity.apiKeyId = key.id;
  st.key = key;
  st.plan = plan;
  return NEXT;
}
