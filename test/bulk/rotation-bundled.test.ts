/**
 * A rotating client set with every party's own code: the Provider framework's runtime and the
 * bundled reconciler from a real synth (lifecycle-harness.ts), and the bundled rotation Lambda
 * from the same cloud assembly, which the local Secrets Manager runs in a Lambda worker when
 * the reconciler calls RotateSecret (the local gateway's default, as `keygate local` does).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { APIGatewayClient, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KeyProtectedApi, KeyRotation } from '../../lib';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { Lifecycle, Network, providerAssets, SimClock } from './lifecycle-harness';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ASSET_BUCKET = 'cdk-hnb659fds-assets-123456789012-us-east-1';
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };
let workDir: string;
let gateway: LocalGateway;
let network: Network;
let lifecycle: Lifecycle;

afterAll(async () => {
  await lifecycle?.close();
  await network?.close();
  await gateway?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('Create runs the first rotation of each client in the bundled rotation Lambda: a working key in each secret', async () => {
  // GIVEN a synthesized stack with a rotating set of two clients
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-rotating-set-bundled-'));
  const app = new App({ outdir: workDir });
  const stack = new Stack(app, 'Lifecycle');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /items', new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode": 200}' }, integrationResponses: [{ statusCode: '200' }] }),
    { methodOptions: { methodResponses: [{ statusCode: '200' }] } });
  api.addTier('Free', { throttle: { rateLimit: 100, burstLimit: 100 } });
  api.addClientSet('Partners', { clients: [{ name: 'acme', tierNames: ['Free'] }, { name: 'globex', tierNames: ['Free'] }], setId: 'partners', rotation: KeyRotation.every(Duration.days(30)) });
  app.synth();
  const template = JSON.parse(fs.readFileSync(path.join(workDir, 'Lifecycle.template.json'), 'utf-8'));
  const clock = new SimClock(Date.now());
  gateway = await startLocalGateway({ assemblyDir: workDir, port: 0, runCustomResources: false, clock: () => clock.now(), log: () => undefined });
  const endpoint = gateway.info.controlPlane;
  const apigwClient = new APIGatewayClient({ endpoint, region: 'us-east-1', credentials });
  const secrets = new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials });
  const plans = await apigwClient.send(new GetUsagePlansCommand({ limit: 500 }));
  const planIds = new Map((plans.items ?? []).map((plan) => [plan.tags?.['aws:cloudformation:logical-id'] ?? '', plan.id ?? '']));
  const functionArns = new Map([...gateway.model.functions].map(([arn, fn]) => [fn.logicalId, arn]));
  // CloudFormation's side: Refs of tiers, the asset bucket, the rotation Lambda's ARN as the gateway knows it.
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value !== 'object' || value === null) return value;
    const obj = value as Record<string, unknown>;
    if ('Ref' in obj) return planIds.get(String(obj.Ref)) ?? obj;
    if ('Fn::Sub' in obj) return ASSET_BUCKET;
    if ('Fn::GetAtt' in obj) return functionArns.get(String((obj['Fn::GetAtt'] as string[])[0])) ?? obj;
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(v)]));
  };
  const [logicalId, resource] = Object.entries(template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).find(([, r]) => r.Type === 'Custom::KeygateClientSet') ?? [];
  if (!logicalId || !resource) throw new Error('no client set resource');
  const props = resolve(resource.Properties) as Record<string, unknown>;
  expect(String((props.Rotation as { LambdaArn: string }).LambdaArn)).toMatch(/^arn:aws:lambda:us-east-1:123456789012:function:/);
  network = new Network(gateway.port, ASSET_BUCKET);
  network.serveAssetsOf(workDir);
  lifecycle = new Lifecycle(providerAssets(workDir, template), clock, network, await network.start(), 120_000);
  await lifecycle.start();

  try {
    // WHEN CloudFormation creates the set
    const created = await lifecycle.send({ RequestType: 'Create', LogicalResourceId: logicalId, ResourceProperties: props });

    // THEN each client's secret holds the value of a key the bundled Lambda made, and it works
    expect({ status: created.Status, reason: created.Status === 'SUCCESS' ? '' : created.Reason }).toEqual({ status: 'SUCCESS', reason: '' });
    const stage = gateway.info.apis[0].stages[0];
    for (const client of ['acme', 'globex']) {
      const described = await secrets.send(new DescribeSecretCommand({ SecretId: `keygate/partners/${client}` }));
      expect({ client, rotated: described.LastRotatedDate !== undefined, enabled: described.RotationEnabled }).toEqual({ client, rotated: true, enabled: true });
      const value = (await secrets.send(new GetSecretValueCommand({ SecretId: `keygate/partners/${client}` }))).SecretString ?? '';
      const res = await fetch(`${stage.url}/items`, { headers: { 'x-api-key': value } });
      await res.arrayBuffer();
      expect({ client, status: res.status }).toEqual({ client, status: 200 });
    }
  } finally {
    apigwClient.destroy();
    secrets.destroy();
  }
}, 120_000);
