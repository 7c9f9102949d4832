/**
 * Step 4, throttle and quota: the key's quota in its plan, then one token from every bucket
 * that applies — the plan's (or its per-method) throttle for the key, the stage's (per-method)
 * throttle, the account's — all or none; a throttled request does not count against the quota.
 */
import { ThrottleSettings, UsagePlan } from '../model';
import { ACCOUNT_THROTTLE, ThrottleRegistry, TokenBucket } from './throttle';
import { DataPlaneEnv, fail, NEXT, RequestState, StepResult } from './request-state';

const ACCOUNT = 'account';

/** Whether an object has no own keys (without allocating a key list). */
function isEmpty(o: object): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return false;
  return true;
}

function perMethodThrottle(plan: UsagePlan, st: RequestState): ThrottleSettings | undefined {
  const apiId = st.api!.id;
  const stageName = st.stage!.name;
  for (const s of plan.apiStages) {
    if (s.apiId !== apiId || s.stage !== stageName) continue;
    if (isEmpty(s.throttle)) return undefined;
    const path = st.resource!.path;
    return s.throttle[`${path}/${st.method!.httpMethod}`] ?? s.throttle[`${path}/${st.req.method}`];
  }
  return undefined;
}

function stageThrottle(st: RequestState): ThrottleSettings | undefined {
  const settings = st.stage!.methodSettings;
  if (settings.size === 0) return undefined;
  const path = st.resource!.path;
  const httpMethod = st.method!.httpMethod;
  return settings.get(`${path} ${httpMethod}`) ?? settings.get(`${path} *`) ?? settings.get('/* *');
}

export function throttleAndQuota(st: RequestState, env: DataPlaneEnv): StepResult {
  const { now, key, plan } = st;
  const stage = st.stage!;
  const t = env.options.throttles;
  const buckets: (TokenBucket | undefined)[] = [];
  if (key && plan) {
    if (plan.quota && env.options.quotas.remaining(plan.id, key.id, plan.quota, now) <= 0) return fail(st, 'QUOTA_EXCEEDED');
    const perMethod = perMethodThrottle(plan, st);
    // Buckets per key: one for the plan, one per throttled method of the plan (keyed by its settings object).
    if (perMethod) buckets.push(t.bucketOf(key, perMethod, perMethod, now));
    else buckets.push(t.bucketOf(key, plan, plan.throttle, now));
  }
  const stageSetting = stageThrottle(st);
  if (stageSetting) buckets.push(t.bucketOf(st.method!, stage, stageSetting, now));
  buckets.push(t.bucketOf(env, ACCOUNT, env.options.accountThrottle ?? ACCOUNT_THROTTLE, now));
  if (!ThrottleRegistry.tryTakeAll(buckets, now)) return fail(st, 'THROTTLED');
  if (key && plan) {
    env.options.quotas.count(plan.id, key.id, plan.quota, now);
    env.options.onCounted?.();
  }
  return NEXT;
}
