/**
 * `keygate local --watch` on an example app, as a user runs it: the CLI in its own process with
 * `--app "<command>"` (as cdk's --app: the partner API example has no cdk.json of its own), the
 * example's stack from examples/partner-api, an edit that adds a route; checked over HTTP and
 * through the real AWS SDK. The app file lives in a temp folder (the watched one) so the
 * repository's sources are never edited.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { APIGatewayClient, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { REPO_ROOT, Running, startCli } from '../support/run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(240_000);

function app(extraRoute: boolean): string {
  const lib = (m: string) => JSON.stringify(path.join(REPO_ROOT, 'node_modules', m));
  return `
import { App } from ${lib('aws-cdk-lib')};
import * as apigw from ${lib('aws-cdk-lib/aws-apigateway')};
import { PartnerApiStack } from ${JSON.stringify(path.join(REPO_ROOT, 'examples', 'partner-api', 'partner-api-stack'))};
const app = new App();
const stack = new PartnerApiStack(app, 'KeygatePartnerApi', { env: { account: '123456789012', region: 'us-east-1' } });
${extraRoute ? `stack.api.addRoute('GET /ping', new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode": 200}' }, integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': '{"pong":true}' } }] }), { methodOptions: { methodResponses: [{ statusCode: '200' }] } });` : ''}
app.synth();
`;
}

let dir: string;
let cli: Running | undefined;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-watch-example-'));
  fs.writeFileSync(path.join(dir, 'app.ts'), app(false));
});
afterAll(async () => {
  if (cli) {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, test: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr:\n${cli?.stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the partner API example under --watch --app "<command>": an added route is served, the key keeps its value', async () => {
  const command = `${path.join(REPO_ROOT, 'node_modules', '.bin', 'ts-node')} --transpile-only app.ts`;
  cli = await startCli(['local', '--watch', '--app', command, '--port', '0', '--json', '--show-values'], dir);
  const info = JSON.parse(cli.firstLine) as { controlPlane: string; apis: Array<{ stages: Array<{ name: string; url: string }> }>; keys: Array<{ id: string; name: string; value: string; usagePlans: string[] }> };
  const key = info.keys.find((k) => k.name === 'globex') as { id: string; value: string };
  const prod = info.apis.flatMap((a) => a.stages).find((s) => s.name === 'prod') as { url: string };
  const get = async (route: string) => (await fetch(`${prod.url}${route}`, { headers: { authorization: `Key ${key.value}` } })).status;
  expect(await get('/orders')).toBe(200);
  expect(await get('/ping')).toBe(403);
  await until('the watcher', () => (cli as Running).stderr().includes('watching'));

  fs.writeFileSync(path.join(dir, 'app.ts'), app(true));
  await until('the change', () => /applied|not applied|failed to synthesize/.test((cli as Running).stderr()));
  expect(cli.stderr()).toMatch(/keygate local: applied \d+ changes:[\s\S]*\[\+\] AWS::ApiGateway::Method PartnerApi\/Api\/Default\/ping\/GET/);
  // (Only /ping after the change: the authorizer's cached policy allows the one method it was asked for, as on AWS.)
  expect(await get('/ping')).toBe(200);
  const client = new APIGatewayClient({ endpoint: info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  expect((await client.send(new GetApiKeyCommand({ apiKey: key.id, includeValue: true }))).value).toBe(key.value);
  expect(cli.stderr()).not.toContain(key.value);
});
