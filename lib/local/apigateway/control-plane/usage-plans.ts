/**
 * Usage plans in the control plane: CreateUsagePlan's input, and
 * UpdateUsagePlan's patch operations (name, description, throttle, quota, AWS Marketplace product code, API stages and
 * per-method throttles `/apiStages/{apiId}:{stage}/throttle/{resourcePath}/{httpMethod}/…`).
 */
import { Json } from '../../service-error';
import { bad } from './routes';
import { apiGatewayError, ApiStage, Model, QuotaPeriod, QuotaSettings, ThrottleSettings, UsagePlan } from '../model';

const PERIODS: readonly string[] = ['DAY', 'WEEK', 'MONTH'];

function nonNegative(v: unknown, what: string, integer: boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw bad(`Invalid ${what}: ${String(v)}; must be a${integer ? 'n integer' : ' number'} greater than or equal to 0`);
  return n;
}

function throttleInput(v: unknown, where: string): ThrottleSettings | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${where} must be an object`);
  const t = v as Json;
  return {
    rateLimit: t.rateLimit === undefined ? undefined : nonNegative(t.rateLimit, `${where} rateLimit`, false),
    burstLimit: t.burstLimit === undefined ? undefined : nonNegative(t.burstLimit, `${where} burstLimit`, true),
  };
}

function quotaInput(v: unknown): QuotaSettings | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('quota must be an object');
  const q = v as Json;
  return checkedQuota({
    limit: nonNegative(q.limit ?? 0, 'quota limit', true), offset: nonNegative(q.offset ?? 0, 'quota offset', true), period: String(q.period ?? '') as QuotaPeriod,
  });
}

function checkedQuota(q: QuotaSettings): QuotaSettings {
  if (!PERIODS.includes(q.period)) throw bad(`Invalid quota period: ${q.period}; must be one of DAY, WEEK, MONTH`);
  if (q.period === 'DAY' && q.offset !== 0) throw bad('Quota offset must be 0 for a DAY period');
  if (q.period === 'WEEK' && q.offset > 6) throw bad('Quota offset must be between 0 and 6 for a WEEK period');
  if (q.period === 'MONTH' && q.offset > 27) throw bad('Quota offset must be between 0 and 27 for a MONTH period');
  return q;
}

function checkStage(model: Model, apiId: string, stage: string): void {
  const api = model.apis.get(apiId);
  if (!api) throw apiGatewayError('NotFoundException', `Invalid API identifier specified ${model.accountId}:${apiId}`);
  if (!api.stages.has(stage)) throw apiGatewayError('NotFoundException', `Invalid stage identifier specified ${apiId}:${stage}`);
}

function checkFineGrain(plan: Pick<UsagePlan, 'throttle' | 'apiStages'>): void {
  if (!plan.throttle && plan.apiStages.some((s) => Object.keys(s.throttle).length > 0)) {
    throw bad('Can not define fine grain throttling if usage plan throttle is not defined');
  }
}

/** A key may be in only one plan per API stage: adding a stage to a plan must not break that for its keys. */
function checkKeysAllowStage(model: Model, plan: UsagePlan, apiId: string, stage: string): void {
  for (const keyId of model.planKeys.get(plan.id) ?? []) {
    for (const other of model.plansOfKey(keyId)) {
      if (other.id !== plan.id && other.apiStages.some((s) => s.apiId === apiId && s.stage === stage)) {
        throw apiGatewayError('ConflictException', `API Key ${keyId} cannot reference multiple Usage Plans with the same API Stage: ${apiId}:${stage} is in ${other.id} and ${plan.id}`);
      }
    }
  }
}

/** CreateUsagePlan's body → a plan (validated, nothing stored). */
export function usagePlanFromInput(model: Model, body: Json, id: string): UsagePlan {
  if (typeof body.name !== 'string' || body.name === '') throw bad('Usage Plan name must be specified');
  const apiStages: ApiStage[] = [];
  if (body.apiStages !== undefined) {
    if (!Array.isArray(body.apiStages)) throw bad('apiStages must be a list');
    for (const raw of body.apiStages as Json[]) {
      const apiId = String(raw?.apiId ?? '');
      const stage = String(raw?.stage ?? '');
      checkStage(model, apiId, stage);
      const throttle: Record<string, ThrottleSettings> = {};
      for (const [k, t] of Object.entries((raw?.throttle ?? {}) as Json)) throttle[k] = throttleInput(t, `throttle ${k}`) ?? {};
      apiStages.push({ apiId, stage, throttle });
    }
  }
  const plan: UsagePlan = {
    id, name: body.name, description: typeof body.description === 'string' ? body.description : undefined, apiStages,
    throttle: throttleInput(body.throttle, 'throttle'), quota: quotaInput(body.quota),
    tags: typeof body.tags === 'object' && body.tags !== null && !Array.isArray(body.tags) ? { ...(body.tags as Record<string, string>) } : {},
  };
  checkFineGrain(plan);
  return plan;
}

/** `/apiStages/{apiId}:{stage}/throttle/{~1escaped~1path}/{METHOD}[/rateLimit|/burstLimit]`. */
const METHOD_THROTTLE_PATH = /^\/apiStages\/([^/:]+):([^/]+)\/throttle(?:\/([^/]+)\/([^/]+)(?:\/(rateLimit|burstLimit))?)?$/;

/** Applies UpdateUsagePlan's patch operations, all or none. */
export function updateUsagePlan(model: Model, plan: UsagePlan, body: Json): UsagePlan {
  const ops = body.patchOperations;
  if (ops !== undefined && !Array.isArray(ops)) throw bad('patchOperations must be a list');
  // Work on a copy; the plan changes only if every operation is valid.
  let next: Omit<UsagePlan, 'id' | 'tags'> = {
    name: plan.name, description: plan.description, throttle: plan.throttle, quota: plan.quota, productCode: plan.productCode,
    apiStages: plan.apiStages.map((s) => ({ ...s, throttle: { ...s.throttle } })),
  };
  for (const raw of (ops ?? []) as Json[]) {
    const op = String(raw?.op ?? '');
    const path = String(raw?.path ?? '');
    const value = raw?.value;
    if (!['add', 'remove', 'replace'].includes(op)) throw bad(`Invalid patch operation specified. Must be 'add'|'remove'|'replace'`);
    next = applyPlanPatch(model, plan, next, op, path, value);
  }
  checkFineGrain(next);
  for (const s of next.apiStages) if (!plan.apiStages.some((o) => o.apiId === s.apiId && o.stage === s.stage)) checkKeysAllowStage(model, plan, s.apiId, s.stage);
  plan.name = next.name;
  plan.description = next.description;
  plan.throttle = next.throttle;
  plan.quota = next.quota;
  plan.productCode = next.productCode;
  plan.apiStages = next.apiStages;
  return plan;
}

type PlanFields = Omit<UsagePlan, 'id' | 'tags'>;

function invalidOp(allowed: string): never {
  throw bad(`Invalid patch operation specified. Must be one of: [${allowed}]`);
}

function applyPlanPatch(model: Model, plan: UsagePlan, p: PlanFields, op: string, path: string, value: unknown): PlanFields {
  switch (path) {
    case '/name':
      if (op !== 'replace') invalidOp('replace');
      if (typeof value !== 'string' || value === '') throw bad('Usage Plan name must be specified');
      return { ...p, name: value };
    case '/description':
      if (op !== 'replace') invalidOp('replace');
      return { ...p, description: typeof value === 'string' && value !== '' ? value : undefined };
    case '/productCode':
      // The SaaS product's code, as AWS Marketplace issued it (AwsCustomResource of MarketplaceSubscriptions sets it).
      if (op === 'remove') return { ...p, productCode: undefined };
      if (op !== 'replace' && op !== 'add') invalidOp('add, remove, replace');
      if (typeof value !== 'string' || !/^[A-Za-z0-9]{1,255}$/.test(value)) throw bad(`Invalid productCode: ${JSON.stringify(String(value ?? '')).slice(0, 80)}`);
      return { ...p, productCode: value };
    case '/throttle':
      if (op !== 'remove') invalidOp('remove');
      return { ...p, throttle: undefined };
    case '/throttle/rateLimit':
    case '/throttle/burstLimit': {
      if (op !== 'replace') invalidOp('replace');
      const field = path.endsWith('rateLimit') ? 'rateLimit' : 'burstLimit';
      return { ...p, throttle: { ...p.throttle, [field]: nonNegative(value, `throttle ${field}`, field === 'burstLimit') } };
    }
    case '/quota':
      if (op !== 'remove') invalidOp('remove');
      return { ...p, quota: undefined };
    case '/quota/limit':
    case '/quota/offset':
    case '/quota/period': {
      if (op !== 'replace') invalidOp('replace');
      const q = p.quota ?? { limit: 0, offset: 0, period: 'MONTH' as QuotaPeriod };
      const field = path.slice('/quota/'.length) as keyof QuotaSettings;
      const v = field === 'period' ? String(value ?? '') : nonNegative(value, `quota ${field}`, true);
      return { ...p, quota: checkedQuota({ ...q, [field]: v }) };
    }
    case '/apiStages': {
      if (op !== 'add' && op !== 'remove') invalidOp('add, remove');
      // LocalStack's AWS-validated provider (update_usage_plan): "Invalid API Stage specified"
      // for a value that is not apiId:stage, a 404 naming api, stage and plan for an unknown one.
      const m = /^([^:]+):([^:]+)$/.exec(String(value ?? ''));
      if (!m) throw bad('Invalid API Stage specified');
      const [, apiId, stage] = m;
      if (op === 'remove' && !model.apis.get(apiId)?.stages.has(stage)) {
        throw apiGatewayError('NotFoundException', `Invalid API Stage {api: ${apiId}, stage: ${stage}} specified for usageplan ${plan.id}`);
      }
      const has = p.apiStages.some((s) => s.apiId === apiId && s.stage === stage);
      if (op === 'add') {
        checkStage(model, apiId, stage);
        if (has) throw apiGatewayError('ConflictException', `API stage ${apiId}:${stage} is already in usage plan ${plan.id}`);
        return { ...p, apiStages: [...p.apiStages, { apiId, stage, throttle: {} }] };
      }
      if (!has) throw apiGatewayError('NotFoundException', `API stage ${apiId}:${stage} is not in usage plan ${plan.id}`);
      return { ...p, apiStages: p.apiStages.filter((s) => !(s.apiId === apiId && s.stage === stage)) };
    }
  }
  return applyMethodThrottlePatch(plan, p, op, path, value);
}

/** A patch of `/apiStages/{apiId}:{stage}/throttle[/{resourcePath}/{httpMethod}[/rateLimit|burstLimit]]`. */
/** The paths UpdateUsagePlan patches (REF PatchOperation / UpdateUsagePlan), listed in its refusal. */
const PLAN_PATCH_PATHS = [
  '/name', '/description', '/productCode', '/throttle', '/throttle/rateLimit', '/throttle/burstLimit', '/quota', '/quota/limit', '/quota/offset', '/quota/period',
  '/apiStages', '/apiStages/{apiId}:{stage}/throttle', '/apiStages/{apiId}:{stage}/throttle/{resourcePath}/{httpMethod}[/rateLimit|/burstLimit]',
];

function applyMethodThrottlePatch(plan: UsagePlan, p: PlanFields, op: string, path: string, value: unknown): PlanFields {
  const m = METHOD_THROTTLE_PATH.exec(path);
  if (!m) throw bad(`Invalid patch path ${path}. Must be one of: [${PLAN_PATCH_PATHS.join(', ')}]`);
  const [, apiId, stage, rawResource, httpMethod, field] = m;
  const apiStage = p.apiStages.find((s) => s.apiId === apiId && s.stage === stage);
  if (!apiStage) throw apiGatewayError('NotFoundException', `API stage ${apiId}:${stage} is not in usage plan ${plan.id}`);
  const apiStages = p.apiStages.map((s) => (s === apiStage ? { ...s, throttle: { ...s.throttle } } : s));
  const target = apiStages.find((s) => s.apiId === apiId && s.stage === stage)!;
  if (rawResource === undefined) {
    // The whole per-method map of the stage: `remove` clears it.
    if (op !== 'remove') invalidOp('remove');
    target.throttle = {};
    return { ...p, apiStages };
  }
  const key = `${rawResource.replace(/~1/g, '/').replace(/~0/g, '~')}/${httpMethod.toUpperCase()}`;
  if (field === undefined) {
    if (op === 'remove') {
      if (!target.throttle[key]) throw apiGatewayError('NotFoundException', `No throttle for ${key} in API stage ${apiId}:${stage}`);
      delete target.throttle[key];
      return { ...p, apiStages };
    }
    invalidOp('remove');
  }
  if (op !== 'replace' && op !== 'add') invalidOp('add, replace');
  const n = nonNegative(value, `throttle ${field}`, field === 'burstLimit');
  target.throttle[key] = { ...target.throttle[key], [field!]: n };
  return { ...p, apiStages };
}
