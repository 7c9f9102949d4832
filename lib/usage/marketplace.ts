import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { KeygateError } from '../errors';
import { bundledHandlerCode } from '../common/handler-code';
import { keygateLogGroup } from '../common/function-logs';
import { acknowledgeNag, LAMBDA_BASIC_EXECUTION_REASON, LAMBDA_BASIC_EXECUTION_ROLE, nagArn } from '../common/nag';
import type { ITier } from '../tier';
import { MARKETPLACE_CUSTOMER_TAG } from '../shared/marketplace';

/** Properties of MarketplaceSubscriptions. */
export interface MarketplaceSubscriptionsProps {
  /** The tier sold on AWS Marketplace: its usage plan gets the product code. */
  readonly tier: ITier;
  /** The product code AWS Marketplace gave the SaaS product. */
  readonly productCode: string;
  /**
   * The SNS topic AWS Marketplace publishes the product's subscription notifications to
   * (`arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-<product code>`).
   */
  readonly subscriptionTopic: sns.ITopic;
  /**
   * Create the `ApiGatewayMarketplaceMeteringRole` that API Gateway meters with (one per account:
   * turn it off in all but one stack).
   * @default true
   */
  readonly createMeteringRole?: boolean;
}

/**
 * Sell the API as SaaS on AWS Marketplace: a handler for the product's subscription
 * notifications creates the customer's key (customerId = the Marketplace customer) in the
 * tier on subscribe and disables it on unsubscribe; the metering role lets API Gateway report
 * each key's requests to Marketplace under its customerId.
 */
export class MarketplaceSubscriptions extends Construct {
  /** The tier sold on AWS Marketplace. */
  public readonly tier: ITier;
  /** The product code its usage plan carries. */
  public readonly productCode: string;
  public readonly handler: lambda.Function;
  /** The role API Gateway meters with, if this construct made it. */
  public readonly meteringRole?: iam.Role;

  constructor(scope: Construct, id: string, props: MarketplaceSubscriptionsProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.productCode) && !/^[a-z0-9]{1,255}$/i.test(props.productCode)) {
      throw KeygateError.of(this, 'productCode', 'must be the Marketplace product code (letters and digits)', props.productCode);
    }
    this.tier = props.tier;
    this.productCode = props.productCode;
    this.handler = new lambda.Function(this, 'Handler', {
      code: bundledHandlerCode('marketplace-subscriptions'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      timeout: Duration.minutes(1),
      description: 'keygate: AWS Marketplace subscriptions create and disable API keys',
      environment: { USAGE_PLAN_ID: props.tier.usagePlanId, PRODUCT_CODE: props.productCode },
      logGroup: keygateLogGroup(this, 'HandlerLogs'),
    });
    acknowledgeNag(this.handler, LAMBDA_BASIC_EXECUTION_ROLE, LAMBDA_BASIC_EXECUTION_REASON);
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName?: string) => stack.formatArn({ service: 'apigateway', account: '', resource, resourceName, arnFormat: resourceName ? ArnFormat.SLASH_RESOURCE_NAME : ArnFormat.NO_RESOURCE_NAME });
    this.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['apigateway:GET', 'apigateway:POST'], resources: [arn('/apikeys')] }));
    this.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['apigateway:PATCH'], resources: [arn('/apikeys', '*')] }));
    // The one-key rule (sdk/marketplace-customer.ts): a key it made that lost the race with the portal's goes.
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['apigateway:DELETE'], resources: [arn('/apikeys', '*')], conditions: { StringLike: { [`aws:ResourceTag/${MARKETPLACE_CUSTOMER_TAG}`]: '*' } },
    }));
    this.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['apigateway:POST'], resources: [arn('/usageplans', `${props.tier.usagePlanId}/keys`), arn('/tags', '*')] }));
    this.setProductCode(props.tier, props.productCode);
    props.subscriptionTopic.addSubscription(new subscriptions.LambdaSubscription(this.handler));
    if (props.createMeteringRole ?? true) {
      this.meteringRole = new iam.Role(this, 'MeteringRole', {
        roleName: 'ApiGatewayMarketplaceMeteringRole',
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        description: 'API Gateway meters API key usage to AWS Marketplace (SaaS products)',
        inlinePolicies: { metering: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['aws-marketplace:BatchMeterUsage', 'aws-marketplace:ResolveCustomer'], resources: ['*'] })] }) },
      });
    }
    const apigwArn = nagArn(this, 'apigateway', '');
    Validations.of(this).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', reason: 'aws-marketplace:BatchMeterUsage and ResolveCustomer have no resource-level permissions (the metering role AWS documents for API Gateway).' },
      { id: `AwsSolutions::AwsSolutions-IAM5[Resource::${apigwArn}/apikeys/*]`, reason: 'The handler enables and disables the keys of the customer a notification names; their ids exist only at run time.' },
      { id: `AwsSolutions::AwsSolutions-IAM5[Resource::${apigwArn}/tags/*]`, reason: 'CreateApiKey with tags needs apigateway:POST on the new key\'s tags resource, whose id exists only at run time.' },
    );
  }

  /**
   * CloudFormation's AWS::ApiGateway::UsagePlan has no ProductCode: it is set with
   * UpdateUsagePlan (`/productCode`) when the stack is deployed, and removed with the construct.
   */
  private setProductCode(tier: ITier, productCode: string): void {
    const patch = (op: string, value?: string): cr.AwsSdkCall => ({
      service: 'APIGateway', action: 'updateUsagePlan',
      parameters: { usagePlanId: tier.usagePlanId, patchOperations: [{ op, path: '/productCode', ...(value === undefined ? {} : { value }) }] },
      physicalResourceId: cr.PhysicalResourceId.of(`${tier.usagePlanId}/productCode`),
    });
    const stack = Stack.of(this);
    new cr.AwsCustomResource(this, 'ProductCode', {
      onCreate: patch('replace', productCode),
      onUpdate: patch('replace', productCode),
      onDelete: patch('remove'),
      installLatestAwsSdk: false,
      logGroup: keygateLogGroup(this, 'ProductCodeLogs'),
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
        actions: ['apigateway:PATCH'],
        resources: [stack.formatArn({ service: 'apigateway', account: '', resource: '/usageplans', resourceName: tier.usagePlanId, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
      })]),
    });
  }
}
