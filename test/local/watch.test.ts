/**
 * `keygate local --watch`, end to end: a CDK app in a temp folder (plain JavaScript, so each
 * synth is quick), the gateway serving it, the watcher re-synthesizing on an edit and applying
 * it; checked through the real AWS SDK and HTTP.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { APIGatewayClient, GetApiKeyCommand, GetApiKeysCommand, GetUsageCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { synthesizeApp } from '../../lib/local/synth';
import { isSourceChange, watchApp } from '../../lib/local/command/watch';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

const CDK = path.dirname(require.resolve('aws-cdk-lib/package.json'));

function app(routes: string[], broken = false): string {
  return `${broken ? 'this is not javascript(' : ''}
const cdk = require(${JSON.stringify(CDK)});
const apigw = require(${JSON.stringify(path.join(CDK, 'aws-apigateway'))});
const app = new cdk.App();
const stack = new cdk.Stack(app, 'WatchApp');
const api = new apigw.RestApi(stack, 'Api', { deployOptions: { stageName: 'prod' } });
const ok = new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode": 200}' }, integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': '{"ok":true}' } }] });
for (const name of ${JSON.stringify(routes)}) api.root.addResource(name).addMethod('GET', ok, { apiKeyRequired: true, methodResponses: [{ statusCode: '200' }] });
const key = api.addApiKey('Key', { apiKeyName: 'watched' });
const plan = api.addUsagePlan('Plan', { name: 'plan', quota: { limit: 1000, period: apigw.Period.DAY }, apiStages: [{ api, stage: api.deploymentStage }] });
plan.addApiKey(key);
app.synth();
`;
}

let dir: string;
let gw: LocalGateway | undefined;
let stop: (() => void) | undefined;
const printed: string[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-watch-'));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
  fs.writeFileSync(path.join(dir, 'app.js'), app(['pets']));
});
afterAll(async () => {
  stop?.();
  await gw?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, test: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; printed:\n${printed.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('node_modules, cdk.out* and .git are not sources', () => {
  expect(isSourceChange('lib/stack.ts')).toBe(true);
  expect(isSourceChange('node_modules/x/index.js')).toBe(false);
  expect(isSourceChange('cdk.out.bulk/manifest.json')).toBe(false);
  expect(isSourceChange('.git/index')).toBe(false);
});

test('an edit that adds a route keeps the key value and its quota count; a synth error keeps the app running', async () => {
  const assemblyDir = await synthesizeApp({ cwd: dir });
  gw = await startLocalGateway({ assemblyDir, port: 0, log: () => undefined });
  const client = new APIGatewayClient({ endpoint: `http://127.0.0.1:${gw.port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const keyId = (await client.send(new GetApiKeysCommand({}))).items?.[0].id as string;
  const value = (await client.send(new GetApiKeyCommand({ apiKey: keyId, includeValue: true }))).value as string;
  const planId = (await client.send(new GetUsagePlansCommand({}))).items?.[0].id as string;
  const url = () => (gw as LocalGateway).info.apis[0].stages[0].url;
  for (let i = 0; i < 3; i++) expect((await fetch(`${url()}/pets`, { headers: { 'x-api-key': value } })).status).toBe(200);
  expect((await fetch(`${url()}/owners`, { headers: { 'x-api-key': value } })).status).toBe(403);

  stop = watchApp(gw, { cwd: dir, assemblyDir, debounceMs: 200, print: (l) => printed.push(l) });
  fs.writeFileSync(path.join(dir, 'app.js'), app(['pets', 'owners']));
  await until('the change', () => printed.some((l) => l.includes('applied')));
  const summary = printed.find((l) => l.includes('applied')) as string;
  expect(summary).toContain('[+] AWS::ApiGateway::Resource Api/Default/owners');
  expect(summary).toContain('[+] AWS::ApiGateway::Method Api/Default/owners/GET');
  expect(summary).toMatch(/\[~\] AWS::ApiGateway::Stage Api\/DeploymentStage\.prod|\[-\] AWS::ApiGateway::Deployment/);
  expect(summary).not.toMatch(/ApiKey|UsagePlan/);

  expect((await fetch(`${url()}/owners`, { headers: { 'x-api-key': value } })).status).toBe(200);
  expect((await client.send(new GetApiKeyCommand({ apiKey: keyId, includeValue: true }))).value).toBe(value);
  const today = new Date().toISOString().slice(0, 10);
  const usage = await client.send(new GetUsageCommand({ usagePlanId: planId, keyId, startDate: today, endDate: today }));
  // Three calls before the edit, one after: the count carried over.
  expect(usage.items?.[keyId]?.[0]).toEqual([4, 996]);

  // A synth error: printed, the app keeps serving.
  printed.length = 0;
  fs.writeFileSync(path.join(dir, 'app.js'), app(['pets', 'owners'], true));
  await until('the synth error', () => printed.some((l) => l.includes('failed to synthesize')));
  expect(printed.join('\n')).toContain('SyntaxError');
  expect((await fetch(`${url()}/owners`, { headers: { 'x-api-key': value } })).status).toBe(200);
  expect((await fetch(`${url()}/pets`, { headers: { 'x-api-key': value } })).status).toBe(200);
});
