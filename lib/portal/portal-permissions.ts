import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Aws, Stack, Token, Validations } from 'aws-cdk-lib';
import { TAG_PORTAL } from '../shared/portal';
import { MARKETPLACE_CUSTOMER_TAG } from '../shared/marketplace';

/**
 * The portal Lambda's rights on API Gateway, no more: list and read keys (it filters by its
 * tags), create keys only tagged with this portal, change, tag and delete only keys that carry
 * this portal's tag, read the offered tiers' plans, their keys and their usage, and associate keys with
 * those plans only. API Gateway authorizes by tags on API keys (aws:RequestTag on CreateApiKey,
 * aws:ResourceTag on the key for UpdateApiKey, DeleteApiKey, TagResource and UntagResource).
 */
export function grantPortalKeys(fn: lambda.IFunction, portalId: string, planIds: string[], marketplace = false): void {
  const stack = Stack.of(fn);
  // Always the AWS::Region pseudo parameter (never a fixed env's region), so the cdk-nag
  // acknowledgements read the same with or without an env.
  const arn = (resource: string, resourceName?: string) => `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::${resource}${resourceName === undefined ? '' : `/${resourceName}`}`;
  const ours = { StringEquals: { [`aws:ResourceTag/${TAG_PORTAL}`]: portalId } };
  const statements = [
    new iam.PolicyStatement({ sid: 'ReadKeys', actions: ['apigateway:GET'], resources: [arn('/apikeys'), arn('/apikeys', '*')] }),
    new iam.PolicyStatement({
      sid: 'CreatePortalKeys', actions: ['apigateway:POST'], resources: [arn('/apikeys')],
      conditions: { StringEquals: { [`aws:RequestTag/${TAG_PORTAL}`]: portalId } },
    }),
    new iam.PolicyStatement({ sid: 'ChangePortalKeys', actions: ['apigateway:PATCH', 'apigateway:DELETE'], resources: [arn('/apikeys', '*')], conditions: ours }),
    new iam.PolicyStatement({ sid: 'TagPortalKeys', actions: ['apigateway:PUT', 'apigateway:DELETE'], resources: [arn('/tags', '*')], conditions: ours }),
    // GetUsagePlan, GetUsage and GetUsagePlanKeys (the idle rule reads which keys are in the plan).
    new iam.PolicyStatement({
      sid: 'OfferedPlans', actions: ['apigateway:GET'],
      resources: planIds.flatMap((id) => [arn('/usageplans', id), arn('/usageplans', `${id}/usage`), arn('/usageplans', `${id}/keys`)]),
    }),
    new iam.PolicyStatement({
      sid: 'AssociateWithOfferedPlans', actions: ['apigateway:POST', 'apigateway:DELETE'],
      resources: planIds.flatMap((id) => [arn('/usageplans', `${id}/keys`), arn('/usageplans', `${id}/keys/*`)]),
    }),
  ];
  if (marketplace) statements.push(...marketplaceStatements(arn));
  for (const s of statements) fn.addToRolePolicy(s);
  for (const id of planIds) {
    const ref = Token.isUnresolved(id) ? (stack.resolve(id) as { Ref?: string }).Ref : id;
    Validations.of(fn).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/usageplans/${Token.isUnresolved(id) ? `<${ref}>` : id}/keys/*]`,
      reason: 'Removing a consumer\'s key (its id is unknown at synth) from this offered tier\'s usage plan, and no other plan.',
    });
  }
  if (marketplace) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'aws-marketplace:ResolveCustomer has no resource-level permissions (Service Authorization Reference, AWS Marketplace Metering Service); it is the only action on *.',
    });
  }
}

/**
 * Selling on AWS Marketplace: ResolveCustomer for the buyer's registration token, and renaming
 * and tagging a key the subscription handler made for a Marketplace customer (tagged
 * keygate:marketplace-customer) when the portal links it to the consumer.
 */
function marketplaceStatements(arn: (resource: string, resourceName?: string) => string): iam.PolicyStatement[] {
  const marketplaceKeys = { StringLike: { [`aws:ResourceTag/${MARKETPLACE_CUSTOMER_TAG}`]: '*' } };
  return [
    new iam.PolicyStatement({ sid: 'ResolveMarketplaceCustomers', actions: ['aws-marketplace:ResolveCustomer'], resources: ['*'] }),
    new iam.PolicyStatement({ sid: 'ClaimMarketplaceKeys', actions: ['apigateway:PATCH'], resources: [arn('/apikeys', '*')], conditions: marketplaceKeys }),
    new iam.PolicyStatement({ sid: 'TagMarketplaceKeys', actions: ['apigateway:PUT'], resources: [arn('/tags', '*')], conditions: marketplaceKeys }),
  ];
}
