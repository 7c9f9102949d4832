/**
 * AWS Marketplace: the construct's template and cdk-nag, and the subscription handler end to
 * end: a notification published to the app's topic on the local SNS (real SNS SDK) is handed
 * to the handler as Lambda receives it from SNS, which creates, disables and re-enables keys on
 * the local control plane (real API Gateway SDK).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as sns from 'aws-cdk-lib/aws-sns';
import { APIGatewayClient, GetApiKeysCommand, GetUsagePlanKeysCommand } from '@aws-sdk/client-api-gateway';
import { ListTopicsCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KeyProtectedApi, MarketplaceSubscriptions } from '../../lib';
import { handler, handleSubscription } from '../../lib/handlers/marketplace-subscriptions';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { mock } from '../support/keygate-fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

const PRODUCT = 'prodcode0123456789abcdef';

function marketplaceApp(outdir?: string, env?: { account: string; region: string }) {
  const app = new App(outdir ? { outdir } : {});
  const stack = new Stack(app, 'Shop', { env });
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const tier = api.addTier('Marketplace', { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: apigw.Period.MONTH } });
  // Stands in for the topic AWS Marketplace owns (aws-mp-subscription-notification-<product code>).
  const topic = new sns.Topic(stack, 'MarketplaceNotifications', { enforceSSL: true });
  new MarketplaceSubscriptions(stack, 'Marketplace', { tier, productCode: PRODUCT, subscriptionTopic: topic });
  return { app, stack };
}

test('template: the handler on the topic, the product code on the tier\'s plan, the metering role', () => {
  const t = Template.fromStack(marketplaceApp().stack);
  t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { PRODUCT_CODE: PRODUCT, USAGE_PLAN_ID: { Ref: Match.stringLikeRegexp('^ApiMarketplace') } } } });
  t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda' });
  t.hasResourceProperties('AWS::IAM::Role', {
    RoleName: 'ApiGatewayMarketplaceMeteringRole',
    AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } }], Version: '2012-10-17' },
  });
  t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
    Action: 'apigateway:DELETE', Condition: { StringLike: { 'aws:ResourceTag/keygate:marketplace-customer': '*' } },
  })]) } });
  const create = JSON.stringify(Object.values(t.findResources('Custom::AWS'))[0].Properties.Create);
  expect(create).toMatch(/updateUsagePlan/);
  expect(create).toContain(`\\"path\\":\\"/productCode\\",\\"value\\":\\"${PRODUCT}\\"`);
  expect(() => new MarketplaceSubscriptions(new Stack(new App(), 'X'), 'M', { tier: undefined as never, productCode: 'not a code!', subscriptionTopic: undefined as never }))
    .toThrow(/productCode.*must be the Marketplace product code \(letters and digits\)/);
});

test.each([[undefined], [{ account: '123456789012', region: 'us-east-1' }]])('cdk-nag (env %j): nothing is left on the marketplace construct (keygate acknowledges the basic role of its function)', (env) => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-mp-nag-'));
  try {
    const { app } = marketplaceApp(outdir, env);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try { app.synth(); } catch { /* the rest of the app's findings; ours are read below */ }
    const report = (JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[] })
      .pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    const findings = (report?.violations ?? []).flatMap((v) => v.violatingConstructs.filter((c) => /^Shop\/Marketplace\//.test(c.constructPath)).map((c) => `${v.ruleName} ${c.constructPath}`));
    expect(findings).toEqual([]);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

describe('subscribe and unsubscribe against the local SNS and control plane', () => {
  let workDir: string;
  let gateway: LocalGateway;
  let client: APIGatewayClient;
  let snsClient: SNSClient;
  let planId: string;
  let topicArn: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-mp-'));
    const { app } = marketplaceApp(path.join(workDir, 'cdk.out'));
    gateway = await startLocalGateway({ assemblyDir: app.synth().directory, log: () => undefined });
    const local = { endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    client = new APIGatewayClient(local);
    snsClient = new SNSClient(local);
    planId = [...gateway.model.plans.values()][0].id;
    Object.assign(process.env, { AWS_ENDPOINT_URL: gateway.info.controlPlane, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1', USAGE_PLAN_ID: planId, PRODUCT_CODE: PRODUCT });
  });

  afterAll(async () => {
    process.env = saved;
    await gateway?.close();
    client?.destroy();
    snsClient?.destroy();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  /** Publishes a notification on the local SNS and delivers it to the handler as SNS invokes Lambda. */
  async function notify(action: string, customer: string, product = PRODUCT) {
    const topics = await snsClient.send(new ListTopicsCommand({}));
    topicArn = (topics.Topics ?? []).map((t) => t.TopicArn ?? '').find((a) => a.includes('MarketplaceNotifications')) ?? '';
    const message = JSON.stringify({ action, 'customer-identifier': customer, 'product-code': product });
    const { MessageId } = await snsClient.send(new PublishCommand({ TopicArn: topicArn, Message: message }));
    const received = gateway.sns.messages.find((m) => m.messageId === MessageId)!;
    return handler({ Records: [{ Sns: { Message: received.message } }] });
  }

  const keysOf = async (customerId: string) => (await client.send(new GetApiKeysCommand({ customerId }))).items ?? [];

  test('subscribe creates the key in the tier with the customerId; a retry changes nothing; unsubscribe disables; resubscribe enables', async () => {
    expect(await notify('subscribe-success', 'CUST-1')).toEqual([{ action: 'subscribe-success', customerId: 'CUST-1', outcome: 'created', keyIds: [expect.any(String)] }]);
    const [key] = await keysOf('CUST-1');
    expect(key).toMatchObject({ name: 'marketplace-CUST-1', customerId: 'CUST-1', enabled: true, tags: { 'keygate:marketplace-customer': 'CUST-1' } });
    const members = (await client.send(new GetUsagePlanKeysCommand({ usagePlanId: planId }))).items ?? [];
    expect(members.map((m) => m.id)).toContain(key.id);

    expect((await notify('subscribe-success', 'CUST-1'))[0].outcome).toBe('already active');
    expect(await keysOf('CUST-1')).toHaveLength(1);

    expect((await notify('unsubscribe-pending', 'CUST-1'))[0].outcome).toBe('ignored: unsubscribe-pending');
    expect((await keysOf('CUST-1'))[0].enabled).toBe(true);
    expect((await notify('unsubscribe-success', 'CUST-1'))[0]).toEqual({ action: 'unsubscribe-success', customerId: 'CUST-1', outcome: 'disabled', keyIds: [key.id] });
    expect((await keysOf('CUST-1'))[0].enabled).toBe(false);

    expect((await notify('subscribe-success', 'CUST-1'))[0].outcome).toBe('enabled');
    expect((await keysOf('CUST-1'))[0].enabled).toBe(true);
  });

  test('another product\'s notice and a malformed customer are not acted on', async () => {
    expect((await notify('subscribe-success', 'CUST-2', 'otherproduct'))[0].outcome).toBe(`ignored: product otherproduct is not ${PRODUCT}`);
    expect(await keysOf('CUST-2')).toEqual([]);
    await expect(handleSubscription(client, { usagePlanId: planId, productCode: PRODUCT }, { action: 'subscribe-success', 'customer-identifier': '../x', 'product-code': PRODUCT }))
      .rejects.toThrow('the notification\'s customer-identifier is missing or malformed: "../x"');
  });
});
