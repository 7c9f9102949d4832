/**
 * Custom resources at start, end to end: the bulk example's client set (a smaller set, the
 * same stack) runs through the CDK Provider framework's runtime from the synthesized asset and
 * keygate's bundled reconciler in the local Lambda runner, against the local control plane;
 * checked through the real AWS SDK and the data plane over HTTP. `--state` + restart keeps the
 * values (no event), removing 10 clients retires them through the reconciler's Update; removing
 * the whole set (and with it its provider's functions) deletes its keys through the old provider,
 * kept next to the state file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { APIGatewayClient, ApiKey, GetApiKeyCommand, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { addExampleApi, BulkStack } from '../../examples/bulk/bulk-stack';
import { LocalGateway, startLocalGateway } from '../../lib/local';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

const CLIENTS = 60;
let work: string;
const logs: string[] = [];

function synth(name: string, clients: number): string {
  const outdir = path.join(work, name);
  const app = new App({ outdir });
  new BulkStack(app, 'KeygateBulk', { clients, env: { account: '123456789012', region: 'us-east-1' } });
  return app.synth().directory;
}

async function start(assemblyDir: string, statePath: string): Promise<{ gw: LocalGateway; client: APIGatewayClient }> {
  const gw = await startLocalGateway({ assemblyDir, port: 0, statePath, log: (l) => logs.push(l) });
  const client = new APIGatewayClient({ endpoint: `http://127.0.0.1:${gw.port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  return { gw, client };
}

/** The set's keys by name, with values (the control plane's GetApiKeys includeValues). */
async function keysByName(client: APIGatewayClient): Promise<Map<string, ApiKey>> {
  const out = new Map<string, ApiKey>();
  let position: string | undefined;
  do {
    const page = await client.send(new GetApiKeysCommand({ limit: 500, position, includeValues: true }));
    for (const k of page.items ?? []) out.set(k.name ?? '', k);
    position = page.position;
  } while (position);
  return out;
}

async function call(gw: LocalGateway, value: string): Promise<number> {
  const stage = gw.info.apis[0].stages[0];
  return (await fetch(`${stage.url}/reports`, { headers: { 'x-api-key': value } })).status;
}

beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-cr-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the client set runs at start; keys answer 200, survive a restart with --state, and removed clients are retired by an Update', async () => {
  const full = synth('full', CLIENTS);
  const statePath = path.join(work, 'state.json');
  let { gw, client } = await start(full, statePath);
  let values: Map<string, string>;
  try {
    const keys = await keysByName(client);
    expect([...keys.keys()].filter((n) => n.startsWith('customer-'))).toHaveLength(CLIENTS);
    const first = keys.get('customer-00001') as ApiKey;
    const read = await client.send(new GetApiKeyCommand({ apiKey: first.id, includeValue: true }));
    expect(read.value).toMatch(/^[A-Za-z0-9]{20,}$/);
    expect(await call(gw, read.value as string)).toBe(200);
    // customer-00097 is declared disabled.
    expect(keys.get('customer-00097')).toBeUndefined();
    expect(await call(gw, 'x'.repeat(40))).toBe(403);
    values = new Map([...keys].map(([n, k]) => [n, k.value as string]));
    expect(logs.filter((l) => l.includes('Custom::KeygateClientSet') && l.includes('Create done'))).toHaveLength(1);
    const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
    expect(Object.values(state.customResources)).toEqual([expect.objectContaining({ type: 'Custom::KeygateClientSet', physicalResourceId: expect.stringMatching(/^keygate-client-set:/), data: { Keys: CLIENTS, Retired: 0 } })]);
    // No key value in the log.
    for (const v of values.values()) expect(logs.join('\n')).not.toContain(v);
  } finally {
    await gw.close();
  }

  // Restart, same app: no event, the same values.
  logs.length = 0;
  ({ gw, client } = await start(full, statePath));
  try {
    const keys = await keysByName(client);
    expect(new Map([...keys].map(([n, k]) => [n, k.value as string]))).toEqual(values);
    expect(logs.filter((l) => l.includes('custom resource'))).toEqual([]);
    expect(await call(gw, values.get('customer-00002') as string)).toBe(200);
  } finally {
    await gw.close();
  }

  // Ten clients fewer: Update retires them; the others keep their values.
  const fewer = synth('fewer', CLIENTS - 10);
  ({ gw, client } = await start(fewer, statePath));
  try {
    expect(logs.filter((l) => l.includes('Update done'))).toHaveLength(1);
    const keys = await keysByName(client);
    const removed = [...values.keys()].filter((n) => Number(n.slice(-5)) > CLIENTS - 10);
    expect(removed).toHaveLength(10);
    for (const name of removed) {
      const k = keys.get(name);
      // Retired: disabled (the next deploy deletes it).
      expect(k === undefined || k.enabled === false).toBe(true);
      expect(await call(gw, values.get(name) as string)).toBe(403);
    }
    expect(keys.get('customer-00001')?.value).toBe(values.get('customer-00001'));
    expect(await call(gw, values.get('customer-00001') as string)).toBe(200);
    const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
    expect(Object.values(state.customResources)).toEqual([expect.objectContaining({ data: expect.objectContaining({ Retired: 10 }) })]);
  } finally {
    await gw.close();
  }
});

/** The bulk example's stack without its client set: the Provider framework and the reconciler are gone too. */
function synthWithoutSet(name: string): string {
  const outdir = path.join(work, name);
  const app = new App({ outdir });
  addExampleApi(new Stack(app, 'KeygateBulk', { env: { account: '123456789012', region: 'us-east-1' } }), 'Api');
  return app.synth().directory;
}

test('a restart whose app dropped the client set and its provider deletes the set\'s keys through the old provider, kept next to the state file', async () => {
  const withSet = synth('with-set', 5);
  const statePath = path.join(work, 'dropped.json');
  const kept = `${statePath}.assembly`;
  let { gw, client } = await start(withSet, statePath);
  let values: string[];
  try {
    values = [...(await keysByName(client)).values()].map((k) => k.value as string);
    expect(values).toHaveLength(5);
    for (const v of values) expect(await call(gw, v)).toBe(200);
  } finally {
    await gw.close();
  }
  // The kept copy: the manifests and templates and only the providers' code (the framework's asset and the reconciler's), not the clients' file asset.
  const assets = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('asset.')).sort();
  expect(fs.existsSync(path.join(kept, 'manifest.json'))).toBe(true);
  expect(fs.existsSync(path.join(kept, 'KeygateBulk.template.json'))).toBe(true);
  expect(fs.existsSync(path.join(kept, 'tree.json'))).toBe(false);
  expect(assets(withSet)).toHaveLength(3);
  expect(assets(kept)).toHaveLength(2);
  expect(assets(withSet)).toEqual(expect.arrayContaining(assets(kept)));
  expect(assets(kept).filter((a) => fs.existsSync(path.join(kept, a, 'framework.js')))).toHaveLength(1);
  expect(fs.readdirSync(kept).sort()).toEqual([...assets(kept), 'KeygateBulk.assets.json', 'KeygateBulk.template.json', 'manifest.json'].sort());

  logs.length = 0;
  const without = synthWithoutSet('without-set');
  ({ gw, client } = await start(without, statePath));
  try {
    expect(logs.filter((l) => /Custom::KeygateClientSet\): Delete done/.test(l))).toHaveLength(1);
    expect(logs.filter((l) => /is not a Lambda function of this app/.test(l))).toEqual([]);
    expect([...(await keysByName(client)).keys()].filter((n) => n.startsWith('customer-'))).toEqual([]);
    for (const v of values) expect(await call(gw, v)).toBe(403);
    expect(JSON.parse(fs.readFileSync(statePath, 'utf8')).customResources).toEqual({});
    // Nothing left to keep: the copy is gone, no temp folder is left beside it.
    expect(fs.readdirSync(work).filter((f) => f.startsWith('dropped.json.'))).toEqual([]);
  } finally {
    await gw.close();
  }
});
