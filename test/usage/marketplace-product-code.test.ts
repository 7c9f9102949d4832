/**
 * The usage plan's AWS Marketplace product code on the local gateway: MarketplaceSubscriptions
 * sets it with an AwsCustomResource (CloudFormation's UsagePlan has no ProductCode), which
 * `keygate local` runs as AWS does (aws-cdk-lib's own handler from the synthesized asset, its
 * SDK call pointed at the local control plane). GetUsagePlan through the real SDK shows it; a
 * restart with --state keeps it; a watched change of the product code sends Update, removing the
 * construct sends Delete (onDelete removes the code).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as sns from 'aws-cdk-lib/aws-sns';
import { APIGatewayClient, GetUsagePlanCommand, UpdateUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { App, Stack } from 'aws-cdk-lib';
import { KeyProtectedApi, MarketplaceSubscriptions } from '../../lib';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { unemulatedCalls } from '../../lib/local/cloudformation/aws-custom-resource';
import { mock } from '../support/keygate-fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

function synth(outdir: string, productCode?: string): string {
  const app = new App({ outdir });
  const stack = new Stack(app, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const tier = api.addTier('Marketplace', { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: apigw.Period.MONTH } });
  const topic = new sns.Topic(stack, 'MarketplaceNotifications', { enforceSSL: true });
  if (productCode) new MarketplaceSubscriptions(stack, 'Marketplace', { tier, productCode, subscriptionTopic: topic });
  return app.synth().directory;
}

describe('the product code on the local usage plan', () => {
  let workDir: string;
  let gateway: LocalGateway | undefined;
  let client: APIGatewayClient;
  const lines: string[] = [];

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-mp-code-'));
  });

  afterAll(async () => {
    await gateway?.close();
    client?.destroy();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function start(dir: string): Promise<LocalGateway> {
    await gateway?.close();
    gateway = await startLocalGateway({ assemblyDir: dir, statePath: path.join(workDir, 'state.json'), log: (l) => lines.push(l) });
    client?.destroy();
    client = new APIGatewayClient({ endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    return gateway;
  }

  const planId = () => [...gateway!.model.plans.values()].find((p) => p.name.includes('Marketplace'))!.id;
  const productCodeOf = async () => (await client.send(new GetUsagePlanCommand({ usagePlanId: planId() }))).productCode;

  test('Create: the AwsCustomResource runs aws-cdk-lib\'s handler; GetUsagePlan shows the code; it is not listed as not emulated', async () => {
    const g = await start(synth(path.join(workDir, 'v1'), 'prodcodeAAA111'));
    expect(await productCodeOf()).toBe('prodcodeAAA111');
    expect(g.model.unsupported.map((u) => u.type)).not.toContain('Custom::AWS');
    expect(lines.join('\n')).toMatch(/custom resource Shop\/MarketplaceProductCode\w+ \(Custom::AWS\): Create done/);
  });

  test('a restart with the state keeps the code without sending the resource again', async () => {
    lines.length = 0;
    await start(path.join(workDir, 'v1'));
    expect(await productCodeOf()).toBe('prodcodeAAA111');
    expect(lines.join('\n')).not.toMatch(/Custom::AWS\): (Create|Update)/);
  });

  test('Update: a watched change of the product code replaces it (onUpdate)', async () => {
    const applied = await gateway!.apply(synth(path.join(workDir, 'v2'), 'prodcodeBBB222'));
    expect(applied.customResourceEvents.map((e) => `${e.type} ${e.requestType}`)).toEqual(['Custom::AWS Update']);
    expect(await productCodeOf()).toBe('prodcodeBBB222');
  });

  test('Delete: a watched change that removes MarketplaceSubscriptions removes the code (onDelete)', async () => {
    const applied = await gateway!.apply(synth(path.join(workDir, 'v3')));
    expect(applied.customResourceEvents.map((e) => `${e.type} ${e.requestType}`)).toEqual(['Custom::AWS Delete']);
    expect(await productCodeOf()).toBeUndefined();
  });

  test('the control plane validates the path\'s value as API Gateway does', async () => {
    await expect(client.send(new UpdateUsagePlanCommand({ usagePlanId: planId(), patchOperations: [{ op: 'replace', path: '/productCode', value: 'not a code!' }] })))
      .rejects.toThrow(/Invalid productCode: "not a code!"/);
  });
});

test('an AwsCustomResource calling a service keygate local does not emulate stays listed as not emulated', () => {
  const call = (service: string) => JSON.stringify({ service, action: 'getParameter', parameters: {} });
  expect(unemulatedCalls({ Create: call('SSM'), Delete: call('@aws-sdk/client-api-gateway') })).toBe('it calls SSM, which keygate local does not emulate');
  expect(unemulatedCalls({ Create: call('APIGateway'), Update: call('@aws-sdk/client-api-gateway'), Delete: call('MarketplaceMetering') })).toBeUndefined();
});
