/**
 * Custom resources in CloudFormation's order, end to end: a CDK app in a temp folder (plain
 * JavaScript, quick to synthesize) with a Provider-framework custom resource whose onEvent
 * returns Data, and API Gateway resources that read it with `Fn::GetAtt` and `Ref`. The
 * framework's runtime comes from the synthesized asset, the onEvent function runs in the local
 * Lambda runner; checked through the real AWS SDK and HTTP.
 *
 * 1. Readers of a custom resource see its values on the first start, and after a watched change
 *    that adds such a pair.
 * 2. A failed Update (the provider refuses `Tier: broken`) rolls back as CloudFormation does:
 *    Update back to the old properties for what was updated (the failed one included), Delete for
 *    what was created; under --watch the app keeps serving as it was, and a start with --state
 *    fails after the same rollback, the state file still describing the previous app.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { APIGatewayClient, GetApiKeyCommand, GetApiKeysCommand, GetStageCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { synthesizeApp } from '../../lib/local/synth';
import { watchApp } from '../../lib/local/command/watch';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(180_000);

const CDK = path.dirname(require.resolve('aws-cdk-lib/package.json'));

interface Version {
  /** The `Tier` property of the custom resource the API reads (undefined: no custom resource at all). */
  readonly tier?: string;
  /** The `Tier` property of a second custom resource the first one depends on. */
  readonly audit?: string;
  /** Adds a third custom resource, created before the first one. */
  readonly extra?: boolean;
  readonly routes?: string[];
}

/** The onEvent handler: logs each event, refuses `Tier: broken`, returns Data from the properties. */
const ON_EVENT = `
exports.handler = async (event) => {
  const p = event.ResourceProperties;
  console.log('EVENT ' + JSON.stringify({ type: event.RequestType, name: p.Name, tier: p.Tier, old: event.OldResourceProperties ? event.OldResourceProperties.Tier : null, id: event.PhysicalResourceId || null }));
  if (event.RequestType !== 'Delete' && p.Tier === 'broken') throw new Error('tier broken is refused');
  return { PhysicalResourceId: 'tier-' + p.Name, Data: { Label: 'label-' + p.Tier } };
};`;

function app(v: Version): string {
  return `
const cdk = require(${JSON.stringify(CDK)});
const apigw = require(${JSON.stringify(path.join(CDK, 'aws-apigateway'))});
const lambda = require(${JSON.stringify(path.join(CDK, 'aws-lambda'))});
const cr = require(${JSON.stringify(path.join(CDK, 'custom-resources'))});
const app = new cdk.App();
const stack = new cdk.Stack(app, 'CrApp');
const v = ${JSON.stringify(v)};
let tier;
if (v.tier) {
  const onEvent = new lambda.Function(stack, 'OnEvent', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline(${JSON.stringify(ON_EVENT)}) });
  const provider = new cr.Provider(stack, 'Provider', { onEventHandler: onEvent });
  const make = (id, name, t) => new cdk.CustomResource(stack, id, { serviceToken: provider.serviceToken, resourceType: 'Custom::Tier', properties: { Name: name, Tier: t } });
  tier = make('Tier', 'gold', v.tier);
  if (v.audit) tier.node.addDependency(make('Audit', 'audit', v.audit));
  if (v.extra) tier.node.addDependency(make('Extra', 'extra', 'new'));
}
const label = tier ? tier.getAttString('Label') : 'no tier';
const api = new apigw.RestApi(stack, 'Api', { deployOptions: { stageName: 'prod', variables: { tier: label } } });
const ok = new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode": 200}' }, integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': '{"ok":true}' } }] });
for (const name of v.routes || ['pets']) api.root.addResource(name).addMethod('GET', ok, { apiKeyRequired: true, methodResponses: [{ statusCode: '200' }] });
const key = api.addApiKey('Key', { apiKeyName: 'reader', description: label });
const plan = api.addUsagePlan('Plan', { name: 'plan', description: tier ? cdk.Fn.join('', ['for ', tier.ref]) : 'for nobody', apiStages: [{ api, stage: api.deploymentStage }] });
plan.addApiKey(key);
app.synth();
`;
}

let dir: string;
const logs: string[] = [];
const gateways: LocalGateway[] = [];
const stops: Array<() => void> = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-cr-deploy-'));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
  logs.length = 0;
});
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  for (const gw of gateways.splice(0)) await gw.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function synth(v: Version): Promise<string> {
  fs.writeFileSync(path.join(dir, 'app.js'), app(v));
  return synthesizeApp({ cwd: dir });
}

async function start(assemblyDir: string, statePath?: string): Promise<{ gw: LocalGateway; client: APIGatewayClient }> {
  const gw = await startLocalGateway({ assemblyDir, port: 0, statePath, log: (l) => logs.push(l) });
  gateways.push(gw);
  const client = new APIGatewayClient({ endpoint: `http://127.0.0.1:${gw.port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  return { gw, client };
}

/** What the API's resources read of the custom resource, through the control plane. */
async function readers(gw: LocalGateway, client: APIGatewayClient) {
  const key = (await client.send(new GetApiKeysCommand({ nameQuery: 'reader' }))).items?.[0];
  const plan = (await client.send(new GetUsagePlansCommand({}))).items?.[0];
  const api = gw.info.apis[0];
  const stage = await client.send(new GetStageCommand({ restApiId: api.id, stageName: 'prod' }));
  return { keyDescription: key?.description, planDescription: plan?.description, stageVariable: stage.variables?.tier, keyId: key?.id as string };
}

/** The provider's events, as its onEvent function logged them. */
function events(): Array<{ type: string; name: string; tier: string; old: string | null; id: string | null }> {
  return logs.flatMap((l) => {
    const m = /EVENT (\{.*\})/.exec(l);
    return m ? [JSON.parse(m[1])] : [];
  });
}

async function call(gw: LocalGateway, route: string, value: string): Promise<number> {
  return (await fetch(`${gw.info.apis[0].stages[0].url}/${route}`, { headers: { 'x-api-key': value } })).status;
}

async function until(what: string, printed: string[], test: () => boolean, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; printed:\n${printed.join('\n')}\nlog:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('on the first start, resources that read a custom resource get its Data and physical id', async () => {
  const { gw, client } = await start(await synth({ tier: 'silver' }));
  expect(await readers(gw, client)).toEqual(expect.objectContaining({ keyDescription: 'label-silver', planDescription: 'for tier-gold', stageVariable: 'label-silver' }));
  expect(events()).toEqual([{ type: 'Create', name: 'gold', tier: 'silver', old: null, id: null }]);
  expect(gw.unsupported.filter((u) => /cannot resolve/.test(u.reason))).toEqual([]);
  const { keyId } = await readers(gw, client);
  const value = (await client.send(new GetApiKeyCommand({ apiKey: keyId, includeValue: true }))).value as string;
  expect(await call(gw, 'pets', value)).toBe(200);
});

test('a watched change that adds a custom resource and its readers resolves them at once, keeping the key', async () => {
  const first = await synth({});
  const { gw, client } = await start(first);
  const before = await readers(gw, client);
  expect(before).toEqual(expect.objectContaining({ keyDescription: 'no tier', stageVariable: 'no tier' }));
  const value = (await client.send(new GetApiKeyCommand({ apiKey: before.keyId, includeValue: true }))).value as string;
  expect(await call(gw, 'pets', value)).toBe(200);

  const printed: string[] = [];
  stops.push(watchApp(gw, { cwd: dir, assemblyDir: first, debounceMs: 200, print: (l) => printed.push(l) }));
  fs.writeFileSync(path.join(dir, 'app.js'), app({ tier: 'bronze' }));
  await until('the change', printed, () => printed.some((l) => /applied|not applied/.test(l)));
  expect(printed.join('\n')).toContain('[+] Custom::Tier Tier');
  expect(printed.join('\n')).toMatch(/custom resource CrApp\/Tier\w*: Create/);
  const after = await readers(gw, client);
  expect(after).toEqual(expect.objectContaining({ keyDescription: 'label-bronze', planDescription: 'for tier-gold', stageVariable: 'label-bronze', keyId: before.keyId }));
  expect(await call(gw, 'pets', value)).toBe(200);
});

test('a failed Update rolls back under --watch (the app serves as it was), and fails a start with --state after the same rollback', async () => {
  const statePath = path.join(dir, 'state.json');
  const v1 = await synth({ tier: 'silver', audit: 'silver' });
  const { gw, client } = await start(v1, statePath);
  const keyId = (await readers(gw, client)).keyId;
  const value = (await client.send(new GetApiKeyCommand({ apiKey: keyId, includeValue: true }))).value as string;
  expect(await call(gw, 'pets', value)).toBe(200);
  logs.length = 0;

  // v2: Audit updated, Extra created, then Tier's Update fails; the change also adds a route.
  const printed: string[] = [];
  stops.push(watchApp(gw, { cwd: dir, assemblyDir: v1, debounceMs: 200, print: (l) => printed.push(l) }));
  const v2: Version = { tier: 'broken', audit: 'gold', extra: true, routes: ['pets', 'owners'] };
  fs.writeFileSync(path.join(dir, 'app.js'), app(v2));
  await until('the failed change', printed, () => printed.some((l) => /applied/.test(l)));
  const out = printed.join('\n');
  expect(out).toContain('the change was not applied; still serving the previous version');
  expect(out).toMatch(/custom resource CrApp\/Tier\w* failed to update: .*tier broken is refused/);
  expect(out).toMatch(/rolled back, as CloudFormation does:\n {2}CrApp\/Audit\w* \(Custom::Tier\): Update back to its previous properties\n {2}CrApp\/Tier\w* \(Custom::Tier\): Update back to its previous properties\n {2}CrApp\/Extra\w* \(Custom::Tier\): created by the failed update: deleted/);
  const rollback = [
    { type: 'Update', name: 'audit', tier: 'silver', old: 'gold', id: 'tier-audit' },
    { type: 'Update', name: 'gold', tier: 'silver', old: 'broken', id: 'tier-gold' },
    { type: 'Delete', name: 'extra', tier: 'new', old: null, id: 'tier-extra' },
  ];
  expect(events()).toEqual([
    { type: 'Update', name: 'audit', tier: 'gold', old: 'silver', id: 'tier-audit' },
    { type: 'Create', name: 'extra', tier: 'new', old: null, id: null },
    { type: 'Update', name: 'gold', tier: 'broken', old: 'silver', id: 'tier-gold' },
    ...rollback,
  ]);
  // The previous app: its routes, its readers' values, the same key.
  expect(await readers(gw, client)).toEqual(expect.objectContaining({ keyDescription: 'label-silver', stageVariable: 'label-silver', keyId }));
  expect(await call(gw, 'pets', value)).toBe(200);
  expect(await call(gw, 'owners', value)).toBe(403);
  const records = () => JSON.parse(fs.readFileSync(statePath, 'utf8')).customResources as Record<string, { properties: { Tier: string } }>;
  expect(Object.entries(records()).map(([k, r]) => [k.replace(/[0-9A-F]{8}$/, ''), r.properties.Tier]).sort()).toEqual([['CrApp/Audit', 'silver'], ['CrApp/Tier', 'silver']]);

  // A start with --state on v2: the same update, the same rollback, and the start fails.
  stops.splice(0).forEach((stop) => stop());
  await gateways.splice(0)[0].close();
  logs.length = 0;
  const v2dir = await synth(v2);
  await expect(start(v2dir, statePath)).rejects.toThrow(/failed to update: .*tier broken is refused\nrolled back, as CloudFormation does:\n.*Audit.*Update back[\s\S]*Extra.*deleted/);
  expect(events().slice(3)).toEqual(rollback);
  expect(Object.values(records()).map((r) => r.properties.Tier)).toEqual(['silver', 'silver']);

  // The previous app starts again with no event; the key kept its value.
  logs.length = 0;
  const again = await start(v1, statePath);
  expect(events()).toEqual([]);
  expect(await call(again.gw, 'pets', value)).toBe(200);
});
