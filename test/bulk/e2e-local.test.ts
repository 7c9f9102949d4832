/**
 * End to end against the local gateway's control plane: the reconciler runs in-process (the
 * local gateway does not run custom resources) with the real AWS SDK pointed at the local
 * control plane, reading the manifest and the plan references from the synthesized assembly
 * as the Lambda would read them from S3 and from CloudFormation.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Module from 'module';
import { APIGatewayClient, ApiKey, CreateApiKeyCommand, GetApiKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { ClientSetEntry } from '../../lib';
import { ClientSetEvent, ClientSetResourceProperties, createHandlers } from '../../lib/bulk/reconciler/handler';
import { ClientSetManifest, ownerMarker } from '../../lib/bulk/reconciler/manifest';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { bulkFixture, generatedClients } from './support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const N = 2000;
const FROZEN = Date.parse('2026-11-28T12:00:00Z');

let workDir: string;
let gateway: LocalGateway;
let client: APIGatewayClient;
const commands: string[] = [];

interface Synthesized {
  readonly dir: string;
  readonly props: ClientSetResourceProperties;
}

/** Synthesizes the test app with `clients` and returns the custom resource's properties, resolved. */
function synth(name: string, clients: ClientSetEntry[], planIdByLogicalId?: Map<string, string>): Synthesized {
  const dir = path.join(workDir, name);
  const f = bulkFixture('Bulk', { outdir: dir });
  f.api.addClientSet('Customers', { clients });
  const assembly = f.app.synth();
  const template = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${f.stack.artifactId}.template.json`), 'utf-8'));
  const [resource] = Object.values(template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>)
    .filter((r) => r.Type === 'Custom::KeygateClientSet');
  const p = resource.Properties as { SetId: string; ManifestKey: string; Tiers: Record<string, { Ref: string }>; BatchSize: string };
  const tiers: Record<string, string> = {};
  for (const [key, ref] of Object.entries(p.Tiers)) tiers[key] = planIdByLogicalId?.get(ref.Ref) ?? ref.Ref;
  return { dir: assembly.directory, props: { SetId: p.SetId, ManifestBucket: assembly.directory, ManifestKey: p.ManifestKey, Tiers: tiers, BatchSize: p.BatchSize } };
}

function handlers() {
  return createHandlers({
    apigw: client,
    // As the Lambda reads it from the asset bucket: the staged asset of the assembly.
    loadManifest: async (dir, key) => JSON.parse(fs.readFileSync(path.join(dir, `asset.${key}`), 'utf-8')) as ClientSetManifest,
    controlPlane: { limiter: null },
    reconcile: { log: () => undefined },
  });
}

async function untilComplete(event: ClientSetEvent): Promise<{ created: number; updated: number; deleted: number }> {
  const h = handlers();
  const time = { getRemainingTimeInMillis: () => 600_000 };
  const first = await h.onEvent(event, time);
  const total = { created: Number(first.Data?.Created), updated: Number(first.Data?.Updated), deleted: Number(first.Data?.Deleted) };
  for (let i = 0; i < 5; i++) {
    const next = await h.isComplete({ ...event, PhysicalResourceId: first.PhysicalResourceId }, time);
    total.created += Number(next.Data?.Created);
    total.updated += Number(next.Data?.Updated);
    total.deleted += Number(next.Data?.Deleted);
    if (next.IsComplete) return total;
  }
  throw new Error('not complete after 5 isComplete calls');
}

async function ownedKeys(setId: string): Promise<Map<string, ApiKey>> {
  const out = new Map<string, ApiKey>();
  let position: string | undefined;
  do {
    const page = await client.send(new GetApiKeysCommand({ limit: 500, position, includeValues: true }));
    for (const key of page.items ?? []) if ((key.description ?? '').startsWith(ownerMarker(setId))) out.set(key.name ?? '', key);
    position = page.position;
  } while (position);
  return out;
}

async function call(url: string, key: string | undefined): Promise<number> {
  const res = await fetch(`${url}/items`, { headers: key ? { 'x-api-key': key } : {} });
  await res.text();
  return res.status;
}

let v1: Synthesized;
let planIds: Map<string, string>;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-bulk-e2e-'));
  v1 = synth('v1', generatedClients(N));
  gateway = await startLocalGateway({ assemblyDir: v1.dir, port: 0, clock: () => FROZEN, log: () => undefined });
  client = new APIGatewayClient({ endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  client.middlewareStack.add((next, context) => (args) => {
    commands.push(context.commandName ?? '?');
    return next(args);
  }, { step: 'initialize', name: 'recordCommands' });
  const plans = await client.send(new GetUsagePlansCommand({ limit: 500 }));
  planIds = new Map((plans.items ?? []).map((plan) => [plan.tags?.['aws:cloudformation:logical-id'] ?? '', plan.id ?? '']));
  v1 = { ...v1, props: { ...v1.props, Tiers: Object.fromEntries(Object.entries(v1.props.Tiers).map(([k, ref]) => [k, planIds.get(ref) ?? ref])) } };
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  client?.destroy();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('2,000 clients: create, change 100, remove 50, re-run idle; the data plane follows', async () => {
  const planName = new Map([...planIds].map(([logicalId, id]) => [id, /^Api(Free|Pro|Enterprise)/.exec(logicalId)?.[1] ?? logicalId]));
  const plansOf = (name: string) => gateway.info.keys.find((k) => k.name === name)?.usagePlans ?? [];

  // 1. Create.
  const created = await untilComplete({ RequestType: 'Create', ResourceProperties: v1.props });
  expect(created.created).toBe(N);
  let keys = await ownedKeys(v1.props.SetId);
  expect(keys.size).toBe(N);
  const removedValue = keys.get(generatedClients(N)[N - 1].name)?.value ?? '';
  expect(removedValue).toMatch(/^[A-Za-z0-9]{40}$/);
  expect(commands.filter((c) => c === 'ImportApiKeysCommand')).toHaveLength(Math.ceil(N / 500));
  expect(plansOf('customer-00002')).toEqual(['Pro']);
  expect(plansOf('customer-00001')).toEqual(['Enterprise']);

  // 2. Change 100 (50 Free → Pro, 50 disabled), remove the last 50.
  const base = generatedClients(N);
  const free = base.filter((c) => c.tierNames?.[0] === 'Free' && c.enabled !== false).map((c) => c.name);
  const moved = new Set(free.slice(0, 50));
  const disabled = new Set(free.slice(50, 100));
  const next = base.slice(0, N - 50).map((c) => (moved.has(c.name) ? { ...c, tierNames: ['Pro'] } : disabled.has(c.name) ? { ...c, enabled: false } : c));
  const removed = base.slice(N - 50).map((c) => c.name);
  const v2 = synth('v2', next, planIds);
  commands.length = 0;
  const updated = await untilComplete({ RequestType: 'Update', ResourceProperties: v2.props, OldResourceProperties: v1.props, PhysicalResourceId: 'x' });
  expect(updated).toEqual({ created: 0, updated: 100, deleted: 50 });
  keys = await ownedKeys(v1.props.SetId);
  expect(keys.size).toBe(N - 50);
  const [someMoved] = moved;
  expect(plansOf(someMoved)).toEqual(['Pro']);
  expect(keys.get([...disabled][0])?.enabled).toBe(false);
  for (const name of removed) expect(keys.has(name)).toBe(false);

  // 3. Re-run with no change: reads only.
  commands.length = 0;
  const idle = await untilComplete({ RequestType: 'Update', ResourceProperties: v2.props, OldResourceProperties: v2.props, PhysicalResourceId: 'x' });
  expect(idle).toEqual({ created: 0, updated: 0, deleted: 0 });
  expect(commands.filter((c) => !c.startsWith('Get'))).toEqual([]);
  expect(commands.length).toBeGreaterThan(0);

  // 4. The data plane: frozen clock, so a throttle bucket does not refill between calls.
  const url = gateway.info.apis[0].stages[0].url;
  const valueOf = (name: string) => keys.get(name)?.value ?? '';
  // A removed key: 403 (its value was read while it existed).
  expect(await call(url, removedValue)).toBe(403);
  // A disabled key: 403.
  expect(await call(url, valueOf([...disabled][0]))).toBe(403);
  // A key still on Free (burst 2): the third call at the same instant is throttled.
  const stillFree = free[100];
  expect([await call(url, valueOf(stillFree)), await call(url, valueOf(stillFree)), await call(url, valueOf(stillFree))]).toEqual([200, 200, 429]);
  // A key moved to Pro (burst 20): five calls at the same instant pass.
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push(await call(url, valueOf(someMoved)));
  expect(statuses).toEqual([200, 200, 200, 200, 200]);
  expect(planName.size).toBeGreaterThanOrEqual(3);
  lastProps = v2.props;
}, 180_000);

let lastProps: ClientSetResourceProperties | undefined;

test('the bundled Lambda (as deployed) deletes its set on stack delete, at DeleteApiKey\'s 5 per second, and nothing else', async () => {
  expect(lastProps).toBeDefined();
  // A second, small set beside the first one (its own SetId), created in-process.
  const small: ClientSetResourceProperties = { ...lastProps!, SetId: 'Bulk/Api/Clients/Small', ManifestBucket: workDir, ManifestKey: 'small.json' };
  fs.writeFileSync(path.join(workDir, 'asset.small.json'), JSON.stringify({ version: 1, clients: Array.from({ length: 21 }, (_, i) => ({ name: `small-${i}`, tiers: ['t0'] })) }));
  await untilComplete({ RequestType: 'Create', ResourceProperties: small });
  expect((await ownedKeys(small.SetId)).size).toBe(21);
  const others = (await ownedKeys(lastProps!.SetId)).size;
  const foreign = await client.send(new CreateApiKeyCommand({ name: 'small-1', description: 'hand-made', enabled: true }));

  // The esbuild bundle of the reconciler from the assembly, loaded like Lambda loads it, with
  // AWS SDK v3 resolved from node_modules (the runtime's copy in Lambda).
  const assetDir = fs.readdirSync(v1.dir).map((name) => path.join(v1.dir, name)).find((p) => fs.existsSync(path.join(p, 'index.js')));
  expect(assetDir).toBeDefined();
  const file = path.join(assetDir ?? '', 'index.js');
  const bundle = new Module(file);
  bundle.filename = file;
  bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.resolve(__dirname, '..', '..'));
  (bundle as unknown as { _compile(code: string, file: string): void })._compile(fs.readFileSync(file, 'utf-8'), file);
  const lambda = bundle.exports as { isComplete(event: ClientSetEvent, context: { getRemainingTimeInMillis(): number }): Promise<{ IsComplete: boolean; Data: Record<string, number> }> };

  // The bundle runs in Node's own context (not Jest's sandbox): set the environment there.
  const outer = new Module('outer-process.js');
  (outer as unknown as { _compile(code: string, file: string): void })._compile('module.exports = { process, console };', 'outer-process.js');
  const { process: realProcess, console: realConsole } = outer.exports as { process: NodeJS.Process; console: Console };
  const realEnv = realProcess.env;
  const saved = { ...realEnv };
  Object.assign(realEnv, {
    AWS_ENDPOINT_URL_API_GATEWAY: gateway.info.controlPlane, AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
  });
  const log = jest.spyOn(realConsole, 'log').mockImplementation(() => undefined);
  try {
    const started = Date.now();
    const result = await lambda.isComplete({ RequestType: 'Delete', ResourceProperties: small, PhysicalResourceId: 'x' }, { getRemainingTimeInMillis: () => 600_000 });
    expect(result).toEqual({ IsComplete: true, Data: { Created: 0, Updated: 0, Deleted: 21, Unchanged: 0, Pending: 0 } });
    // 21 deletes: the first at once, then 5 per second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3900);
    expect(log.mock.calls.flat().join('\n')).toMatch(/\[keygate client set Bulk\/Api\/Clients\/Small\] complete: created 0, updated 0, deleted 21/);
  } finally {
    log.mockRestore();
    for (const key of Object.keys(realEnv)) if (!(key in saved)) delete realEnv[key];
    Object.assign(realEnv, saved);
  }
  expect((await ownedKeys(small.SetId)).size).toBe(0);
  expect((await ownedKeys(lastProps!.SetId)).size).toBe(others);
  expect(gateway.info.keys.some((k) => k.id === foreign.id)).toBe(true);
}, 120_000);
