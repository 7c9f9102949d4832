import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { KeyProtectedApi, KeyValue } from '../../lib';

/**
 * keygate's second example: a partner API where the key travels in the Authorization
 * header and a Lambda authorizer hands it to API Gateway as `usageIdentifierKey`
 * (apiKeySource AUTHORIZER), with staging and prod stages, a Cognito-protected report
 * route, a key rotation in progress and a key value kept in an existing secret.
 */
export class PartnerApiStack extends Stack {
  public readonly api: KeyProtectedApi;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    // Partners send `Authorization: Key <api key>`; the authorizer lets API Gateway meter
    // that key against the partner's usage plan. Real authorizers would also check who
    // the caller is (a signed token); this one shows the usageIdentifierKey contract.
    const authorizerFunction = new lambda.Function(this, 'KeyAuthorizer', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      timeout: Duration.seconds(5),
      code: lambda.Code.fromInline(`
exports.handler = async (event) => {
  const header = (event.headers && (event.headers.Authorization || event.headers.authorization)) || '';
  const match = /^Key ([A-Za-z0-9]{20,128})$/.exec(header);
  const effect = match ? 'Allow' : 'Deny';
  return {
    principalId: match ? 'partner' : 'anonymous',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }] },
    usageIdentifierKey: match ? match[1] : undefined,
  };
};`),
    });
    const authorizer = new apigw.RequestAuthorizer(this, 'PartnerAuthorizer', {
      handler: authorizerFunction,
      identitySources: [apigw.IdentitySource.header('Authorization')],
      resultsCacheTtl: Duration.minutes(5),
    });

    this.api = new KeyProtectedApi(this, 'PartnerApi', {
      restApiName: 'keygate-partner-api',
      apiKeySource: apigw.ApiKeySourceType.AUTHORIZER,
      defaultAuthorizer: authorizer,
      stage: { throttle: { rateLimit: 500, burstLimit: 1000 } },
    });
    const staging = this.api.addStage('staging', {
      throttle: { rateLimit: 20, burstLimit: 40 },
      methodThrottles: { 'POST /orders': { rateLimit: 5, burstLimit: 10 } },
      loggingLevel: apigw.MethodLoggingLevel.INFO,
    });

    const orders = new apigw.MockIntegration({
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
      integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': '{"orders":[]}' } }],
    });
    const accepted = new apigw.MockIntegration({
      requestTemplates: { 'application/json': '{"statusCode": 202}' },
      integrationResponses: [{ statusCode: '202', responseTemplates: { 'application/json': '{"accepted":true}' } }],
    });
    this.api.addRoute('GET /orders', orders, { methodOptions: { methodResponses: [{ statusCode: '200' }] } });
    this.api.addRoute('POST /orders', accepted, { methodOptions: { methodResponses: [{ statusCode: '202' }] } });
    this.api.addRoute('ANY /files/{proxy+}', new apigw.HttpIntegration('https://files.example.com/{proxy}', {
      proxy: true,
      options: { requestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' } },
    }), { methodOptions: { requestParameters: { 'method.request.path.proxy': true } } });

    // Partner staff read reports with their Cognito login; no key needed on that route.
    const userPool = new cognito.UserPool(this, 'PartnerStaff', {
      removalPolicy: RemovalPolicy.DESTROY,
      passwordPolicy: { minLength: 12, requireSymbols: true, requireDigits: true, requireLowercase: true, requireUppercase: true },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
    });
    this.api.addRoute('GET /reports', orders, {
      apiKeyRequired: false,
      authorizer: new apigw.CognitoUserPoolsAuthorizer(this, 'StaffAuthorizer', { cognitoUserPools: [userPool] }),
      methodOptions: { methodResponses: [{ statusCode: '200' }] },
    });

    const partner = this.api.addTier('Partner', {
      throttle: { rateLimit: 50, burstLimit: 100 },
      quota: { limit: 5_000_000, period: apigw.Period.MONTH, offset: 0 },
      stages: [this.api.defaultStage],
      methodThrottles: { 'POST /orders': { rateLimit: 10, burstLimit: 20 } },
    });
    const sandbox = this.api.addTier('Sandbox', {
      throttle: { rateLimit: 2, burstLimit: 5 },
      quota: { limit: 1_000, period: apigw.Period.WEEK, offset: 1 },
      stages: [staging],
    });

    // Rotation in progress: generation 2 is live beside 1; deploy `generations: [2]` later.
    const globex = this.api.addClient('globex', {
      tiers: [partner, sandbox],
      keyValue: KeyValue.secretsManager(),
      generations: [1, 2],
    });
    // A partner whose key value is kept in a secret managed elsewhere.
    this.api.addClient('umbrella', {
      tiers: [partner],
      keyValue: KeyValue.fromSecretValue(SecretValue.secretsManager('keygate/partners/umbrella')),
      tags: { tier: 'partner' },
    });

    new CfnOutput(this, 'ProdUrl', { value: this.api.url });
    new CfnOutput(this, 'StagingUrl', { value: staging.urlForPath('/') });
    new CfnOutput(this, 'GlobexSecret', { value: globex.secret!.secretArn, description: 'Newest key generation of globex' });

    const acknowledgements: Array<[string, string]> = [
      ['AwsSolutions-APIG2', 'Mock integrations and a pass-through proxy; request validation belongs to the backends.'],
      ['AwsSolutions-APIG3', 'Example stack: throttles and quotas come from usage plans; attach a WAF web ACL in production.'],
      ['AwsSolutions-COG4', 'Partner routes use a Lambda request authorizer (the key travels in Authorization); only the staff route uses Cognito.'],
      ['AwsSolutions-COG2', 'MFA is optional for partner staff in this example; require it in production.'],
      ['AwsSolutions-COG3', 'Cognito advanced security (threat protection) is a paid feature left to the deployer.'],
      ['AwsSolutions-COG8', 'Plus feature plan not needed for the example.'],
    ];
    for (const [ruleId, reason] of acknowledgements) Validations.of(this).acknowledge({ id: `AwsSolutions::${ruleId}`, reason });
    Validations.of(authorizerFunction).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'This example\'s own function: the AWS-managed minimum for a Lambda function that writes its own logs.',
    });
  }
}
