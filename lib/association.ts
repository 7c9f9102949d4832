import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { formatProblem } from './errors';
import { registryOf, stageNameOf } from './registry';
import { MAX_PLANS_PER_KEY } from './shared/constants';
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
  return keyAssociationProblems(tiers).map(({ problem, value }) => formatProblem(owner, 'tiers', problem, value));
}

/** One broken association rule: what is wrong, and the bad value if there is one. */
export interface AssociationProblem {
  readonly problem: string;
  readonly value?: unknown;
}

/**
 * The association rules as a pure function of a key's tiers, for callers that report
 * problems in their own words (the bulk client set reports them by file line).
 */
export function keyAssociationProblems(tiers: Array<apigw.IUsagePlan & IConstruct>): AssociationProblem[] {
  const problems: AssociationProblem[] = [];
  const distinct = [...new Set(tiers)];
  if (distinct.length > MAX_PLANS_PER_KEY) {
    problems.push({ problem: `an API key can be in at most ${MAX_PLANS_PER_KEY} usage plans`, value: distinct.length });
  }
  const tierOfStage = new Map<IConstruct, TierLike>();
  for (const tier of distinct) {
    if (!isTierLike(tier)) continue;
    for (const stage of tier.coveredStages() ?? []) {
      const other = tierOfStage.get(stage);
      if (other) {
        problems.push({
          problem: `tiers '${other.tierName}' and '${tier.tierName}' both cover stage '${stageNameOf(stage)}' of ${stage.restApi.node.path}; a key can be in only one usage plan per API stage`,
        });
      } else {
        tierOfStage.set(stage, tier);
      }
    }
  }
  return problems;
}

function isTierLike(tier: IConstruct): tier is TierLike & apigw.IUsagePlan {
  return typeof (tier as Partial<TierLike>).coveredStages === 'function';
}
