/** AWS::ApiGateway::ApiKey → a key; its generated value is kept in the state file so it survives restarts. */
import { LocalServiceError } from '../service-error';
import { API_KEY_VALUE_PATTERN, generateKeyValue } from '../../shared/constants';
import { ResourceHandler } from '../cloudformation/context';
import { generatedName } from '../cloudformation/physical-ids';
import { bool, obj, str, strMap, tagsToMap } from '../cloudformation/values';

const TYPE = 'AWS::ApiGateway::ApiKey';

export const apiKeyHandler: ResourceHandler = {
  type: TYPE,
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const seed = ctx.seed(logicalId);
      let value = str(p.Value);
      if (value !== undefined && !API_KEY_VALUE_PATTERN.test(value)) {
        ctx.report(logicalId, TYPE, `would fail to deploy: its Value must be 20-128 alphanumeric characters (got ${value.length} characters)`);
        continue;
      }
      if (value === undefined) {
        value = ctx.persisted?.keyValues[seed] ?? generateKeyValue();
        ctx.generated.keyValues[seed] = value;
      }
      const stageKeys = (Array.isArray(p.StageKeys) ? p.StageKeys : []).map((s) => `${String(obj(s).RestApiId)}/${String(obj(s).StageName)}`);
      try {
        ctx.model.addKey({
          id: ctx.ref(logicalId) as string, name: str(p.Name) ?? generatedName(ctx, logicalId),
          description: str(p.Description), value, enabled: bool(p.Enabled, false), createdDate: ctx.now, lastUpdatedDate: ctx.now,
          customerId: str(p.CustomerId), stageKeys, tags: { ...strMap(tagsToMap(p.Tags)), ...ctx.tagsFor(logicalId) },
        });
      } catch (e) {
        if (!(e instanceof LocalServiceError)) throw e;
        ctx.report(logicalId, TYPE, `would fail to deploy: ${e.message} (another key has the same value)`);
      }
    }
  },
};

/** AWS::ApiGateway::UsagePlanKey → a plan-key association, with API Gateway's rules. */
export const usagePlanKeyHandler: ResourceHandler = {
  type: 'AWS::ApiGateway::UsagePlanKey',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      try {
        ctx.model.addPlanKey(String(p.UsagePlanId), String(p.KeyId));
      } catch (e) {
        if (!(e instanceof LocalServiceError)) throw e;
        ctx.report(logicalId, 'AWS::ApiGateway::UsagePlanKey', `would fail to deploy: ${e.message}`);
      }
    }
  },
};
