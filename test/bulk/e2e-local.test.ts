/**
 * End to end against the local gateway's control plane: the reconciler runs in-process (the
 * local gateway does not run custom resources) with the real AWS SDK pointed at the local
 * control plane, reading the manifest and the plan references from the synthesized assembly
 * as the Lambda would read them from S3 and from CloudFormation.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { APIGatewayClient, ApiKey, GetApiKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { ClientSetEntry } from '../../lib';
import { ClientSetEvent, ClientSetResourceProperties, createHandlers } from '../../lib/handlers/client-set-reconciler/handler';
import { ClientSetManifest, parseDescription } from '../../lib/shared/manifest';
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

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Bulk/00000000-0000-4000-8000-000000000000';
let requests = 0;

/** onEvent, then isComplete until complete, as the Provider framework calls them (see lifecycle.test.ts for the framework itself). */
async function untilComplete(event: Omit<ClientSetEvent, 'StackId' | 'LogicalResourceId' | 'RequestId'>): Promise<void> {
  const h = handlers();
  const time = { getRemainingTimeInMillis: () => 600_000 };
  const full: ClientSetEvent = { ...event, StackId: STACK_ID, LogicalResourceId: 'ApiClientsCustomers', RequestId: `request-${++requests}` };
  const first = await h.onEvent(full, time);
  for (let i = 0; i < 5; i++) {
    const next = await h.isComplete({ ...full, PhysicalResourceId: first.PhysicalResourceId }, time);
    if (next.IsComplete) return;
  }
  throw new Error('not complete after 5 isComplete calls');
}

async function ownedKeys(setId: string): Promise<Map<string, ApiKey>> {
  const out = new Map<string, ApiKey>();
  let position: string | undefined;
  do {
    const page = await client.send(new GetApiKeysCommand({ limit: 500, position, includeValues: true }));
    for (const key of page.items ?? []) if (parseDescription(key.description)?.marker.setId === setId && !parseDescription(key.description)?.marker.retired) out.set(key.name ?? '', key);
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
  gateway = await startLocalGateway({ assemblyDir: v1.dir, port: 0, runCustomResources: false, clock: () => FROZEN, log: () => undefined });
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
  await untilComplete({ RequestType: 'Create', ResourceProperties: v1.props });
  let keys = await ownedKeys(v1.props.SetId);
  expect(keys.size).toBe(N);
  const removedValue = keys.get(generatedClients(N)[N - 1].name)?.value ?? '';
  expect(removedValue).toMatch(/^[A-Za-z0-9]{40}$/);
  expect(commands.filter((c) => c === 'ImportApiKeysCommand')).toHaveLength(Math.ceil(N / 500));
  expect(plansOf('customer-00002')).toEqual(['Pro']);
  expect(plansOf('customer-00001')).toEqual(['Enterprise']);

  // 2. Change 100 (50 Free → Pro, 50 disabled), remove the last 50 (retired: disabled, deleted by the next request).
  const base = generatedClients(N);
  const free = base.filter((c) => c.tierNames?.[0] === 'Free' && c.enabled !== false).map((c) => c.name);
  const moved = new Set(free.slice(0, 50));
  const disabled = new Set(free.slice(50, 100));
  const next = base.slice(0, N - 50).map((c) => (moved.has(c.name) ? { ...c, tierNames: ['Pro'] } : disabled.has(c.name) ? { ...c, enabled: false } : c));
  const removed = base.slice(N - 50).map((c) => c.name);
  const v2 = synth('v2', next, planIds);
  commands.length = 0;
  await untilComplete({ RequestType: 'Update', ResourceProperties: v2.props, OldResourceProperties: v1.props, PhysicalResourceId: 'x' });
  keys = await ownedKeys(v1.props.SetId);
  expect(keys.size).toBe(N - 50);
  const [someMoved] = moved;
  expect(plansOf(someMoved)).toEqual(['Pro']);
  expect(keys.get([...disabled][0])?.enabled).toBe(false);
  for (const name of removed) expect(keys.has(name)).toBe(false);

  // 3. Re-run with no change: reads only.
  commands.length = 0;
  // (another request: the 50 removed keys, retired by the update, are deleted now)
  await untilComplete({ RequestType: 'Update', ResourceProperties: v2.props, OldResourceProperties: v2.props, PhysicalResourceId: 'x' });
  expect(commands.filter((c) => c === 'DeleteApiKeyCommand')).toHaveLength(50);
  commands.length = 0;
  await untilComplete({ RequestType: 'Update', ResourceProperties: v2.props, OldResourceProperties: v2.props, PhysicalResourceId: 'x' });
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
}, 180_000);

