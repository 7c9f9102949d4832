import * as iam from 'aws-cdk-lib/aws-iam';
import { ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import type { IKeyProtectedApi } from '../api-contract';
import { registryOf } from '../registry';
import { Tier } from '../tier';

/** The usage plans of an API's tiers, rendered at synth, so tiers added later are included. */
export function lazyUsagePlanIds(api: IKeyProtectedApi): string[] {
  return Lazy.list({ produce: () => tiersOf(api).map((tier) => tier.usagePlanId) });
}

function tiersOf(api: IKeyProtectedApi): Tier[] {
  return registryOf(api).tiers.filter((tier): tier is Tier => tier instanceof Tier && tier.api === api);
}

/** Read access to the usage plans of an API's tiers: the plan, its keys and its usage. */
export function readUsagePlansStatement(api: IKeyProtectedApi): iam.PolicyStatement {
  const stack = Stack.of(api);
  const arn = (resourceName: string) => stack.formatArn({ service: 'apigateway', account: '', resource: '/usageplans', arnFormat: ArnFormat.SLASH_RESOURCE_NAME, resourceName });
  return new iam.PolicyStatement({
    actions: ['apigateway:GET'],
    resources: Lazy.list({ produce: () => tiersOf(api).flatMap((tier) => [arn(tier.usagePlanId), arn(`${tier.usagePlanId}/keys`), arn(`${tier.usagePlanId}/usage`)]) }),
  });
}
