/** AWS::ApiGateway::UsagePlan → a plan with its API stages, throttles and quota. */
import { QuotaPeriod, ThrottleSettings, UsagePlan } from './model';
import { ResourceHandler } from '../cloudformation/context';
import { generatedName } from '../cloudformation/physical-ids';
import { num, obj, str, strMap, tagsToMap, throttleOf } from '../cloudformation/values';

const TYPE = 'AWS::ApiGateway::UsagePlan';

export const usagePlanHandler: ResourceHandler = {
  type: TYPE,
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const id = ctx.ref(logicalId) as string;
      const apiStages = (Array.isArray(p.ApiStages) ? p.ApiStages : []).map((sRaw) => {
        const s = obj(sRaw);
        const throttle: Record<string, ThrottleSettings> = {};
        for (const [k, v] of Object.entries(obj(s.Throttle))) {
          const t = throttleOf(v);
          if (t) throttle[k] = t;
        }
        const apiId = String(s.ApiId ?? '');
        const stage = String(s.Stage ?? '');
        const api = ctx.model.apis.get(apiId);
        if (!api) ctx.report(logicalId, TYPE, `its API stage ${apiId}/${stage} is not an API of this app`);
        else if (!api.stages.has(stage)) ctx.report(logicalId, TYPE, `stage ${stage} of API ${api.name} does not exist`);
        return { apiId, stage, throttle };
      });
      const planThrottle = throttleOf(p.Throttle);
      if (!planThrottle && apiStages.some((s) => Object.keys(s.throttle).length > 0)) {
        ctx.report(logicalId, TYPE, 'would fail to deploy: Can not define fine grain throttling if usage plan throttle is not defined (per-method throttles ignored)');
      }
      const q = obj(p.Quota);
      const limit = num(q.Limit);
      const plan: UsagePlan = {
        // CloudFormation names a plan made without UsagePlanName.
        id, name: str(p.UsagePlanName) ?? generatedName(ctx, logicalId), description: str(p.Description),
        apiStages: planThrottle ? apiStages : apiStages.map((s) => ({ ...s, throttle: {} })),
        throttle: planThrottle,
        quota: limit !== undefined ? { limit, offset: num(q.Offset) ?? 0, period: (str(q.Period) ?? 'MONTH') as QuotaPeriod } : undefined,
        tags: { ...strMap(tagsToMap(p.Tags)), ...ctx.tagsFor(logicalId) },
      };
      ctx.model.plans.set(id, plan);
      ctx.model.planKeys.set(id, new Set());
    }
  },
};
