import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Annotations, CfnOutput, Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Client, DeveloperPortal, Expiration, KeyProtectedApi, KeyRotation, KeyValue, Tier, UsageExport } from '../../lib';

/**
 * keygate's example: a pet store sold in three tiers to five clients.
 *
 * - `GET /health` is public (Mock); `GET /pets`, `POST /pets`, `GET /pets/{id}` need a key
 *   (Lambda); `GET /pets/types` needs a key (Mock).
 * - Tiers Free, Basic and Premium differ in throttle and quota; Basic throttles
 *   `POST /pets` harder.
 * - Clients acme (Basic), globex (Premium, value in Secrets Manager), initech (Free), soylent
 *   (Premium), whose key Secrets Manager rotates every 90 days with a 7-day overlap, and
 *   trial (Free), a two-week trial key that the stack's expiry job disables when it ends.
 * - Monitoring: alarms (5XX and 429 rates, quota warnings at 80 % and 100 % of a key's quota)
 *   on one alert topic, which mails the owner (`keygate local` prints the mail).
 */
export class PetStoreStack extends Stack {
  public readonly api: KeyProtectedApi;
  public readonly tiers: { readonly free: Tier; readonly basic: Tier; readonly premium: Tier };
  public readonly clients: Client[];

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    const handler = new lambda.Function(this, 'PetsHandler', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, 'handler')),
      timeout: Duration.seconds(10),
      memorySize: 256,
      description: 'keygate example pet store',
    });

    this.api = new KeyProtectedApi(this, 'PetStore', {
      restApiName: 'keygate-pet-store',
      description: 'keygate example: a pet store protected by API keys',
      stage: { throttle: { rateLimit: 100, burstLimit: 200 } },
    });
    // A demo: the key is the only check. A real API adds an authorizer (see examples/partner-api).
    Annotations.of(this.api).acknowledgeWarning('keygate:apiKeyOnlyAuthorization', 'demo API without user accounts');

    const pets = new apigw.LambdaIntegration(handler);
    this.api.addRoute('GET /health', mock('{"status":"ok"}'), { apiKeyRequired: false, methodOptions: { methodResponses: [{ statusCode: '200' }] } });
    this.api.addRoute('GET /pets', pets);
    this.api.addRoute('POST /pets', pets);
    this.api.addRoute('GET /pets/{id}', pets);
    this.api.addRoute('GET /pets/types', mock('{"types":["dog","cat","fish"]}'), { methodOptions: { methodResponses: [{ statusCode: '200' }] } });

    const free = this.api.addTier('Free', {
      description: 'Try it out',
      throttle: { rateLimit: 1, burstLimit: 2 },
      quota: { limit: 100, period: apigw.Period.DAY },
    });
    const basic = this.api.addTier('Basic', {
      description: 'Small teams',
      throttle: { rateLimit: 5, burstLimit: 10 },
      quota: { limit: 10_000, period: apigw.Period.MONTH },
      methodThrottles: { 'POST /pets': { rateLimit: 1, burstLimit: 2 } },
    });
    const premium = this.api.addTier('Premium', {
      description: 'Production use',
      throttle: { rateLimit: 50, burstLimit: 100 },
      quota: { limit: 1_000_000, period: apigw.Period.MONTH },
    });
    this.tiers = { free, basic, premium };

    this.clients = [
      this.api.addClient('acme', { tiers: [basic], description: 'Acme Corp', customerId: 'acme-001' }),
      this.api.addClient('globex', { tiers: [premium], keyValue: KeyValue.secretsManager(), description: 'Globex Inc' }),
      this.api.addClient('initech', { tiers: [free], description: 'Initech evaluation' }),
      this.api.addClient('soylent', { tiers: [premium], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(90), { overlap: Duration.days(7) }) }),
      // A two-week trial: 14 days after its key is created, the stack's KeyExpiry job disables it
      // and tells the owner (KeyExpiry.of(this).topic). `npm start -- --clock +15d` shows it expired.
      this.api.addClient('trial', { tiers: [free], description: 'Two-week trial', expires: Expiration.after(Duration.days(14)) }),
    ];

    // Monitoring: a CloudWatch dashboard, alarms and the key audit trail, all alerting one SNS topic.
    this.api.addDashboard();
    this.api.addAlarms();
    this.api.addAuditTrail();
    this.api.addQuotaWarnings();
    this.api.alertTopic.addSubscription(new subscriptions.EmailSubscription('api-owner@example.com'));

    // Self-service: developers sign up in the portal and get a key for Free or Basic at once,
    // for Premium once an admin approves. `npm start` prints its local URL.
    new DeveloperPortal(this, 'Portal', {
      api: this.api,
      title: 'Pet store developer portal',
      tiers: [{ tier: free }, { tier: basic }, { tier: premium, approval: true }],
      keyRollOverlap: Duration.days(1),
      keyLifetime: Duration.days(365),
      disableUnusedAfter: Duration.days(90),
    });

    new CfnOutput(this, 'InvokeUrl', { value: this.api.url, description: 'Base URL of the prod stage' });
    for (const client of this.clients) {
      const name = client.clientName;
      // A rotating client's keys belong to its rotation schedule: the stack knows only its secret.
      if (!client.rotationSchedule) new CfnOutput(this, `KeyId${name}`, { value: client.apiKey.keyId, description: `API key id of ${name}` });
      new CfnOutput(this, `ReadKey${name}`, {
        description: `Command that prints the API key of ${name}`,
        value: client.secret
          ? `aws secretsmanager get-secret-value --secret-id ${client.secret.secretArn} --query SecretString --output text`
          : `aws apigateway get-api-key --api-key ${client.apiKey.keyId} --include-value --query value --output text`,
      });
    }

    // Usage you can bill: daily rows per key in S3, Athena over them, every request streamed (docs/usage-and-billing.md).
    new UsageExport(this, 'Usage', { api: this.api, requestLogGroup: this.api.accessLogGroupOf(this.api.stages[0]) });

    // cdk-nag AwsSolutions: the choices this example made about its API, each with its reason.
    // (keygate acknowledges the findings on the resources it makes itself, with its reasons.)
    const acknowledgements: Array<[string, string]> = [
      ['AwsSolutions-APIG2', 'The handler validates the request body itself and answers 400; a model-based validator would duplicate it.'],
      ['AwsSolutions-APIG3', 'Example stack: throttles and quotas come from usage plans; attach a WAF web ACL in production.'],
      ['AwsSolutions-APIG4', 'Clients are identified by API keys and usage plans; the example has no end-user identities (see examples/partner-api for an authorizer).'],
      ['AwsSolutions-COG4', 'The pet store API identifies clients by API keys; its developer portal\'s Cognito-authorized API is the only user-facing one.'],
    ];
    for (const [ruleId, reason] of acknowledgements) Validations.of(this).acknowledge({ id: `AwsSolutions::${ruleId}`, reason });
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'This example\'s own function: the AWS-managed minimum for a Lambda function that writes its own logs.',
    });
  }
}

function mock(body: string): apigw.MockIntegration {
  return new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }],
  });
}
