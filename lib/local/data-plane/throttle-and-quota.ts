/**
 * Step 4, throttle and quota: the key's quota in its plan, then one token from every bucket
 * that applies — the plan's (or its per-method) throttle for the key, the stage's (per-method)
 * throttle, the account's — all or none; a throttled request does not count against the quota.
 */
import { TokenBucket } from '../throttle';
import { ACCOUNT_THROTTLE, ThrottleRegistry } from '../throttle';
import { DataPlaneEnv, fail, NEXT, RequestState, StepResult } from './request-state';

export function throttleAndQuota(st: RequestState, env: DataPlaneEnv): StepResult {
  const { now, key, plan } = st;
  const stage = st.stage!;
  const resourcePath = st.resource!.path;
  const httpMethod = st.method!.httpMethod;
  const t = env.options.throttles;
  const buckets: (TokenBucket | undefined)[] = [];
  if (key && plan) {
    if (plan.quota && env.options.quotas.remaining(plan.id, key.id, plan.quota, now) <= 0) return fail(st, 'QUOTA_EXCEEDED');
    const apiStage = plan.apiStages.find((s) => s.apiId === st.api!.id && s.stage === stage.name);
    const perMethod = apiStage?.throttle[`${resourcePath}/${httpMethod}`] ?? apiStage?.throttle[`${resourcePath}/${st.req.method}`];
    if (perMethod) buckets.push(t.bucket(`pm|${plan.id}|${key.id}|${resourcePath}|${httpMethod}`, perMethod, now));
    else buckets.push(t.bucket(`p|${plan.id}|${key.id}`, plan.throttle, now));
  }
  const stageSetting = stage.methodSettings.get(`${resourcePath} ${httpMethod}`)
    ?? stage.methodSettings.get(`${resourcePath} *`)
    ?? stage.methodSettings.get('/* *');
  if (stageSetting) buckets.push(t.bucket(`s|${st.api!.id}|${stage.name}|${resourcePath}|${httpMethod}`, stageSetting, now));
  buckets.push(t.bucket('account', env.options.accountThrottle ?? ACCOUNT_THROTTLE, now));
  if (!ThrottleRegistry.tryTakeAll(buckets, now)) return fail(st, 'THROTTLED');
  if (key && plan) {
    env.options.quotas.count(plan.id, key.id, plan.quota, now);
    env.options.onCounted?.();
  }
  return NEXT;
}
