import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { formatProblem } from './errors';
import { registryOf } from './registry';
import { MAX_PLANS_PER_KEY } from './validation';
import type { TierLike } from './registry';

/**
 * Creates the AWS::ApiGateway::UsagePlanKey that puts `key` in `tier`, under `scope` with
 * `id` (callers derive both from stable names). Every association in a stack depends on the
 * one created before it: API Gateway runs CreateUsagePlanKey one at a time per region and
 * answers 409 to parallel calls, which CloudFormation would otherwise make.
 */
export function associateKey(scope: Construct, id: string, key: apigw.IApiKeyRef, tier: apigw.IUsagePlan & IConstruct): apigw.CfnUsagePlanKey {
  const association = new apigw.CfnUsagePlanKey(scope, id, {
    keyId: key.apiKeyRef.apiKeyId,
    keyType: 'API_KEY',
    usagePlanId: tier.usagePlanRef.usagePlanId,
  });
  const registry = registryOf(scope);
  const stack = Stack.of(scope);
  const previous = registry.lastUsagePlanKey.get(stack);
  if (previous) association.node.addDependency(previous);
  registry.lastUsagePlanKey.set(stack, association);

  let associations = registry.associations.get(key);
  if (!associations) {
    associations = [];
    registry.associations.set(key, associations);
    const list = associations;
    scope.node.addValidation({ validate: () => validateKeyAssociations(key, list.map((a) => a.tier)) });
  }
  associations.push({ tier, scope });
  return association;
}

/**
 * A key may be in at most 10 usage plans, and in only one plan per API stage
 * (CloudFormation: "cannot reference multiple Usage Plans with the same API Stage").
 */
export function validateKeyAssociations(owner: IConstruct, tiers: Array<apigw.IUsagePlan & IConstruct>): string[] {
  const errors: string[] = [];
  const distinct = [...new Set(tiers)];
  if (distinct.length > MAX_PLANS_PER_KEY) {
    errors.push(formatProblem(owner, 'tiers', `an API key can be in at most ${MAX_PLANS_PER_KEY} usage plans`, distinct.length));
  }
  const tierOfStage = new Map<IConstruct, TierLike>();
  for (const tier of distinct) {
    if (!isTierLike(tier)) continue;
    for (const stage of tier.coveredStages() ?? []) {
      const other = tierOfStage.get(stage);
      if (other) {
        errors.push(formatProblem(owner, 'tiers',
          `tiers '${other.tierName}' and '${tier.tierName}' both cover stage '${stage.stageName}' of ${stage.restApi.node.path}; a key can be in only one usage plan per API stage`));
      } else {
        tierOfStage.set(stage, tier);
      }
    }
  }
  return errors;
}

function isTierLike(tier: IConstruct): tier is TierLike & apigw.IUsagePlan {
  return typeof (tier as Partial<TierLike>).coveredStages === 'function';
}
