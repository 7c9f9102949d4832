/**
 * A client set through CloudFormation's lifecycle, run by the CDK Provider framework's own
 * runtime from a real synth (see lifecycle-harness.ts), against the local gateway's control
 * plane with its rate limits on and a 60-second Lambda budget, so large changes take many
 * isComplete passes. Each request ends in SUCCESS with API Gateway matching the declared set,
 * or in FAILED with a clear reason, after which the rollback restores the previous set.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Stack } from 'aws-cdk-lib';
import { APIGatewayClient, ApiKey, CreateApiKeyCommand, GetApiKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { ClientSetEntry, KeyProtectedApi } from '../../lib';
import { ownerOf, parseDescription } from '../../lib/shared/manifest';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { CfnResponse, Lifecycle, Network, providerAssets, SimClock, STACK_ID } from './lifecycle-harness';

const BIG = 10_000;
const MID = 1_000;
const SMALL = 300;
const BIG_ID = 'lifecycle-everyone';
const SET_ID = 'lifecycle-customers';
const LAMBDA_BUDGET_MS = 120_000;
const START = Date.parse('2026-12-01T00:00:00Z');
const ASSET_BUCKET = 'cdk-hnb659fds-assets-123456789012-us-east-1';
const CREATE_FAILED = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

let workDir: string;
let gateway: LocalGateway;
let network: Network;
let lifecycle: Lifecycle;
let client: APIGatewayClient;
let planIds: Map<string, string>;
let clock: SimClock;

interface Version {
  readonly logicalId: string;
  readonly props: Record<string, unknown>;
}

/** `n` clients: tiers by index (Free and Pro on prod, Beta on beta), every 13th disabled, every `tagEvery`th tagged. */
function clients(n: number, from = 0, prefix = 'client', tagEvery = 0): ClientSetEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const index = from + i;
    const tier = ['Free', 'Pro', 'Free', 'Beta'][index % 4];
    return {
      name: `${prefix}-${String(index).padStart(5, '0')}`, tierNames: [tier],
      ...(index % 13 === 12 ? { enabled: false } : {}),
      ...(tagEvery > 0 && index % tagEvery === 0 ? { tags: { team: `t${index % 7}` } } : {}),
    };
  });
}

interface SetDeclaration {
  readonly id: string;
  readonly clients: ClientSetEntry[];
  readonly setId: string;
  readonly adopt?: boolean;
}

/** Synthesizes the stack with these sets; returns each set's resource (logical id, resolved properties). */
function synth(name: string, sets: SetDeclaration[]): Version[] {
  const outdir = path.join(workDir, name);
  const app = new App({ outdir });
  const stack = new Stack(app, 'Lifecycle');
  const api = new KeyProtectedApi(stack, 'Api');
  const mock = new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode": 200}' }, integrationResponses: [{ statusCode: '200' }] });
  api.addRoute('GET /items', mock, { methodOptions: { methodResponses: [{ statusCode: '200' }] } });
  const beta = api.addStage('beta');
  api.addTier('Free', { stages: [api.defaultStage], throttle: { rateLimit: 1, burstLimit: 2 } });
  api.addTier('Pro', { stages: [api.defaultStage], throttle: { rateLimit: 10, burstLimit: 20 } });
  api.addTier('Beta', { stages: [beta], throttle: { rateLimit: 5, burstLimit: 10 } });
  for (const set of sets) api.addClientSet(set.id, { clients: set.clients, setId: set.setId, adoptExistingKeys: set.adopt });
  const assembly = app.synth();
  const template = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Lifecycle.template.json'), 'utf-8'));
  network?.serveAssetsOf(assembly.directory);
  const resources = Object.entries(template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>)
    .filter(([, r]) => r.Type === 'Custom::KeygateClientSet');
  return sets.map((set) => {
    const [logicalId, resource] = resources.find(([, r]) => r.Properties.SetId === set.setId) ?? [];
    if (!logicalId || !resource) throw new Error(`no resource for ${set.setId}`);
    return { logicalId, props: resolve(resource.Properties) as Record<string, unknown> };
  });
}

/** CloudFormation's side: Refs of the tiers to plan ids, the asset bucket, the service token. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  if ('Ref' in obj) return planIds?.get(String(obj.Ref)) ?? obj;
  if ('Fn::Sub' in obj) return ASSET_BUCKET;
  if ('Fn::GetAtt' in obj) return 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent';
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(v)]));
}

/** Every key of the account, with values. */
async function allKeys(): Promise<ApiKey[]> {
  const out: ApiKey[] = [];
  let position: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.send(new GetApiKeysCommand({ limit: 500, position, includeValues: true }));
    } catch (err) {
      // The control plane's rate limits apply to the test's reads too: wait (simulated) and retry.
      if ((err as Error).name !== 'TooManyRequestsException') throw err;
      clock.advance(1000);
      continue;
    }
    out.push(...(page.items ?? []));
    position = page.position;
    if (!position) return out;
  }
}

interface KeyState {
  readonly id: string;
  readonly value: string;
  readonly enabled: boolean;
  readonly owner?: string;
  readonly from?: string;
  readonly retired?: string;
  readonly plans: string[];
  readonly tags: Record<string, string>;
}

/** The keys of a set by name, with their plans by tier name. */
async function keysOf(setId: string): Promise<Map<string, KeyState>> {
  const planNames = new Map([...planIds].map(([logicalId, id]) => [id, /^Api(Free|Pro|Beta)/.exec(logicalId)?.[1] ?? logicalId]));
  const out = new Map<string, KeyState>();
  for (const key of await allKeys()) {
    const parsed = parseDescription(key.description);
    if (parsed?.marker.setId !== setId) continue;
    if (out.has(key.name ?? '')) throw new Error(`two keys named ${key.name}`);
    const plans = gateway.model.plansOfKey(key.id ?? '').map((plan) => planNames.get(plan.id) ?? plan.id).sort();
    const tags = Object.fromEntries(Object.entries(key.tags ?? {}).filter(([k]) => !k.startsWith('aws:')));
    out.set(key.name ?? '', { id: key.id ?? '', value: key.value ?? '', enabled: key.enabled ?? false, ...parsed.marker, plans, tags });
  }
  return out;
}

/** API Gateway matches the declared clients: each enabled as declared, in its tier; `retired` names disabled. */
function expectMatches(keys: Map<string, KeyState>, declared: ClientSetEntry[], retired: string[] = []): void {
  for (const entry of declared) {
    const key = keys.get(entry.name);
    expect({ name: entry.name, enabled: key?.enabled, plans: key?.plans, retired: key?.retired, tags: key?.tags }).toEqual({ name: entry.name, enabled: entry.enabled ?? true, plans: entry.tierNames, retired: undefined, tags: entry.tags ?? {} });
  }
  for (const name of retired) expect({ name, enabled: keys.get(name)?.enabled, retired: keys.get(name)?.retired !== undefined }).toEqual({ name, enabled: false, retired: true });
  expect(keys.size).toBe(declared.length + retired.length);
}

function expectSuccess(response: CfnResponse): void {
  expect({ status: response.Status, reason: response.Status === 'SUCCESS' ? '' : response.Reason }).toEqual({ status: 'SUCCESS', reason: '' });
  expect(response.bytes).toBeLessThan(4096);
}

let v1: ClientSetEntry[];
let v1Set: Version;
let valuesAfterCreate: Map<string, string>;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-lifecycle-'));
  v1 = clients(MID);
  planIds = new Map();
  const first = synth('v1', [{ id: 'Customers', clients: v1, setId: SET_ID }]);
  const assemblyDir = path.join(workDir, 'v1');
  clock = new SimClock(START);
  gateway = await startLocalGateway({ assemblyDir, port: 0, runCustomResources: false, clock: () => clock.now(), controlPlaneLimits: true, log: () => undefined });
  client = new APIGatewayClient({ endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const plans = await client.send(new GetUsagePlansCommand({ limit: 500 }));
  planIds = new Map((plans.items ?? []).map((plan) => [plan.tags?.['aws:cloudformation:logical-id'] ?? '', plan.id ?? '']));
  network = new Network(gateway.port, ASSET_BUCKET);
  network.serveAssetsOf(assemblyDir);
  const networkPort = await network.start();
  const template = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'Lifecycle.template.json'), 'utf-8'));
  lifecycle = new Lifecycle(providerAssets(assemblyDir, template), clock, network, networkPort, LAMBDA_BUDGET_MS);
  await lifecycle.start();
  v1Set = { ...first[0], props: resolve(first[0].props) as Record<string, unknown> };
}, 120_000);

afterAll(async () => {
  if (process.env.KEYGATE_HARNESS_LOG) fs.writeFileSync(process.env.KEYGATE_HARNESS_LOG, lifecycle.logs.filter((l) => l.includes('keygate client set') || l.includes('[provider-framework]')).map((l) => l.slice(0, 300)).join('\n'));
  await lifecycle?.close();
  await network?.close();
  await gateway?.close();
  client?.destroy();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('the harness runs the synthesized Provider framework with its waiter settings', () => {
  const template = JSON.parse(fs.readFileSync(path.join(workDir, 'v1', 'Lifecycle.template.json'), 'utf-8'));
  const assets = providerAssets(path.join(workDir, 'v1'), template);
  expect(fs.readFileSync(path.join(assets.frameworkDir, 'framework.js'), 'utf-8')).toMatch(/"Data" is not allowed if "IsComplete" is "False"/);
  expect(assets.retry).toEqual({ intervalSeconds: 15, maxAttempts: 240, backoffRate: 1 });
  expect(v1Set.props.TotalTimeoutSeconds).toBe('3600');
});

test(`Create, then Delete: ${BIG} clients (some tagged: one TagResource each) in many time-boxed passes`, async () => {
  // GIVEN the region's whole key quota in one set
  const everyone = clients(BIG, 0, 'member', 4);
  const [big] = synth('big', [{ id: 'Everyone', clients: everyone, setId: BIG_ID }]);

  // WHEN CloudFormation creates it
  const invocations = lifecycle.invocations;
  const created = await lifecycle.send({ RequestType: 'Create', LogicalResourceId: big.logicalId, ResourceProperties: big.props });

  // THEN SUCCESS after many polls, and API Gateway holds exactly the declared keys
  expectSuccess(created);
  expect(created.PhysicalResourceId).toBe(`keygate-client-set:${BIG_ID}`);
  expect(created.Data).toEqual({ Keys: BIG, Retired: 0 });
  expect(created.polls).toBeGreaterThanOrEqual(3);
  expect(lifecycle.invocations - invocations).toBe(created.polls + 1);
  const keys = await keysOf(BIG_ID);
  expectMatches(keys, everyone);
  expect([...keys.values()].every((key) => key.owner === ownerOf(STACK_ID, big.logicalId))).toBe(true);
  // The manifest read is the set's own object.
  expect(new Set(network.manifestReads)).toEqual(new Set([`${network.bucket}/${String(big.props.ManifestKey)}`]));
  expect(lifecycle.logs.some((line) => /\[keygate client set lifecycle-everyone\] not complete, the next run carries on: created \d+/.test(line))).toBe(true);

  // WHEN the stack is deleted
  const deleted = await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: big.logicalId, ResourceProperties: big.props, PhysicalResourceId: created.PhysicalResourceId });

  // THEN every key is gone, at DeleteApiKey's 5 per second over many passes
  expectSuccess(deleted);
  expect(deleted.polls).toBeGreaterThan(10);
  expect((await keysOf(BIG_ID)).size).toBe(0);
  expect(lifecycle.logs.some((line) => /not complete, the next run carries on: created 0, updated 0, deleted \d+, remaining \d+/.test(line))).toBe(true);
  // No key value in anything the reconciler or the framework logged.
  const values = new Set([...keys.values()].map((key) => key.value));
  const leaked = lifecycle.logs.flatMap((line) => line.match(/\b[A-Za-z0-9]{40}\b/g) ?? []).filter((token) => values.has(token));
  expect(leaked).toEqual([]);
}, 600_000);

test(`Create: ${MID} clients`, async () => {
  const response = await lifecycle.send({ RequestType: 'Create', LogicalResourceId: v1Set.logicalId, ResourceProperties: v1Set.props });
  expectSuccess(response);
  const keys = await keysOf(SET_ID);
  expectMatches(keys, v1);
  valuesAfterCreate = new Map([...keys].map(([name, key]) => [name, key.value]));
}, 300_000);

let v2: ClientSetEntry[];
let v2Set: Version;
let removed: string[];

test('Update: remove 10 %, add 10 %, disable some, move tiers across stages; removed clients are retired, not deleted', async () => {
  const tenth = MID / 10;
  removed = v1.slice(0, tenth).map((c) => c.name);
  v2 = [
    ...v1.slice(tenth).map((c, i) => {
      if (i % 20 === 1 && c.tierNames?.[0] === 'Free') return { ...c, tierNames: ['Beta'] };
      if (i % 20 === 3 && c.tierNames?.[0] === 'Beta') return { ...c, tierNames: ['Pro'] };
      if (i % 20 === 5) return { ...c, enabled: false };
      return c;
    }),
    ...clients(tenth, BIG),
  ];
  [v2Set] = synth('v2', [{ id: 'Customers', clients: v2, setId: SET_ID }]);
  const response = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: v2Set.logicalId, ResourceProperties: v2Set.props, OldResourceProperties: v1Set.props, PhysicalResourceId: `keygate-client-set:${SET_ID}` });
  expectSuccess(response);
  expect(response.Data).toEqual({ Keys: MID + tenth, Retired: tenth });
  const keys = await keysOf(SET_ID);
  expectMatches(keys, v2, removed);
  // Kept clients kept their values; removed ones still exist (disabled) with theirs.
  for (const [name, value] of valuesAfterCreate) expect(keys.get(name)?.value === value ? name : `${name} changed`).toBe(name);
}, 300_000);

test('a rollback Update to the old properties restores the removed clients with their same values; a later deploy deletes what it retired', async () => {
  const rollback = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: v1Set.logicalId, ResourceProperties: v1Set.props, OldResourceProperties: v2Set.props, PhysicalResourceId: `keygate-client-set:${SET_ID}` });
  expectSuccess(rollback);
  const added = v2.slice(MID - MID / 10).map((c) => c.name);
  let keys = await keysOf(SET_ID);
  expectMatches(keys, v1, added);
  for (const [name, value] of valuesAfterCreate) expect(keys.get(name)?.value === value ? name : `${name} changed`).toBe(name);

  // The next deploy (another manifest) deletes the keys the rollback retired.
  const v1b = v1.map((c, i) => (i === 0 ? { ...c, description: 'renamed plan' } : c));
  const [v1bSet] = synth('v1b', [{ id: 'Customers', clients: v1b, setId: SET_ID }]);
  const later = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: v1bSet.logicalId, ResourceProperties: v1bSet.props, OldResourceProperties: v1Set.props, PhysicalResourceId: `keygate-client-set:${SET_ID}` });
  expectSuccess(later);
  keys = await keysOf(SET_ID);
  expectMatches(keys, v1b);
  v1Set = v1bSet;
  v1 = v1b;
}, 300_000);

test('injected failures: 500s within retries are absorbed; a persistent 500 fails with the first cause (< 4 KB) and the rollback restores', async () => {
  // A few 500s on UpdateApiKey: retried in the pass.
  network.faults.push({ method: 'PATCH', path: /^\/apikeys\//, times: 3, status: 500, type: 'InternalServerErrorException' });
  const update = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: v2Set.logicalId, ResourceProperties: v2Set.props, OldResourceProperties: v1Set.props, PhysicalResourceId: `keygate-client-set:${SET_ID}` });
  expectSuccess(update);
  expect(network.faults[0].times).toBe(0);
  expectMatches(await keysOf(SET_ID), v2, removed);

  // Plan-key writes that keep failing: the request fails with a reason that leads with the cause.
  network.faults.length = 0;
  network.faults.push({ method: 'POST', path: /^\/usageplans\/[^/]+\/keys/, times: 1_000_000, status: 500, type: 'InternalServerErrorException' });
  const failing = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: v1Set.logicalId, ResourceProperties: v1Set.props, OldResourceProperties: v2Set.props, PhysicalResourceId: `keygate-client-set:${SET_ID}` });
  network.faults.length = 0;
  expect(failing.Status).toBe('FAILED');
  expect(failing.Reason).toMatch(/^CreateUsagePlanKey: Internal server error \(injected by the lifecycle harness\)/);
  expect(failing.bytes).toBeLessThan(4096);

  // CloudFormation rolls back: Update to the properties that were deployed.
  const rollback = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: v2Set.logicalId, ResourceProperties: v2Set.props, OldResourceProperties: v1Set.props, PhysicalResourceId: `keygate-client-set:${SET_ID}` });
  expectSuccess(rollback);
  const keys = await keysOf(SET_ID);
  for (const entry of v2) expect({ name: entry.name, enabled: keys.get(entry.name)?.enabled, plans: keys.get(entry.name)?.plans }).toEqual({ name: entry.name, enabled: entry.enabled ?? true, plans: entry.tierNames });
  for (const [name, value] of valuesAfterCreate) if (keys.has(name)) expect(keys.get(name)?.value === value ? name : `${name} changed`).toBe(name);
}, 300_000);

test('a Lambda timeout mid-pass fails the request ("Task timed out"); the rollback restores the set', async () => {
  lifecycle.nextIsCompleteFault = { stallMs: 10 * 60_000 };
  const timeouts = lifecycle.timeouts;
  const failing = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: v1Set.logicalId, ResourceProperties: v1Set.props, OldResourceProperties: v2Set.props, PhysicalResourceId: `keygate-client-set:${SET_ID}` });
  expect(lifecycle.timeouts).toBe(timeouts + 1);
  expect(failing.Status).toBe('FAILED');
  expect(failing.Reason).toMatch(/^Error: \S+ \S+ Task timed out after 120\.00 seconds/);
  const rollback = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: v2Set.logicalId, ResourceProperties: v2Set.props, OldResourceProperties: v1Set.props, PhysicalResourceId: `keygate-client-set:${SET_ID}` });
  expectSuccess(rollback);
  const keys = await keysOf(SET_ID);
  for (const entry of v2) expect({ name: entry.name, enabled: keys.get(entry.name)?.enabled, plans: keys.get(entry.name)?.plans }).toEqual({ name: entry.name, enabled: entry.enabled ?? true, plans: entry.tierNames });
  v1Set = v2Set;
  v1 = v2;
}, 300_000);

describe('replacement and side-by-side sets', () => {
  const SMALL_ID = 'lifecycle-partners';
  let partners: ClientSetEntry[];
  let old: Version;

  beforeAll(async () => {
    partners = clients(SMALL, 0, 'partner');
    [old] = synth('partners', [{ id: 'Partners', clients: partners, setId: SMALL_ID }]);
    expectSuccess(await lifecycle.send({ RequestType: 'Create', LogicalResourceId: old.logicalId, ResourceProperties: old.props }));
  }, 300_000);

  test('two sets side by side, and a hand-made key of the same name: a Delete removes only its own keys', async () => {
    expectMatches(await keysOf(SMALL_ID), partners);
    clock.advance(1000);
    const handMade = await client.send(new CreateApiKeyCommand({ name: partners[0].name, description: 'hand-made, same name', enabled: true }));
    const customers = await keysOf(SET_ID);
    const [other] = synth('other', [{ id: 'Others', clients: clients(20, 0, 'other'), setId: 'lifecycle-others' }]);
    expectSuccess(await lifecycle.send({ RequestType: 'Create', LogicalResourceId: other.logicalId, ResourceProperties: other.props }));
    expect((await keysOf('lifecycle-others')).size).toBe(20);
    expectSuccess(await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: other.logicalId, ResourceProperties: other.props, PhysicalResourceId: 'keygate-client-set:lifecycle-others' }));
    expect((await keysOf('lifecycle-others')).size).toBe(0);
    expect(await keysOf(SET_ID)).toEqual(customers);
    expectMatches(await keysOf(SMALL_ID), partners);
    expect((await allKeys()).some((key) => key.id === handMade.id)).toBe(true);
  }, 300_000);

  test('a moved set without adoptExistingKeys fails before any change; the rollback Delete deletes nothing', async () => {
    const [moved] = synth('moved-no-adopt', [{ id: 'PartnersMoved', clients: partners, setId: SMALL_ID }]);
    const before = await keysOf(SMALL_ID);
    const create = await lifecycle.send({ RequestType: 'Create', LogicalResourceId: moved.logicalId, ResourceProperties: moved.props });
    expect(create.Status).toBe('FAILED');
    expect(create.Reason).toMatch(new RegExp(`^${SMALL} keys of the client set ${SMALL_ID} belong to another resource \\(${ownerOf(STACK_ID, old.logicalId)}\\); this resource is ${ownerOf(STACK_ID, moved.logicalId)}\\. .*set adoptExistingKeys: true`));
    expect(create.PhysicalResourceId).toBe(CREATE_FAILED);
    const rollback = await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: moved.logicalId, ResourceProperties: moved.props, PhysicalResourceId: CREATE_FAILED });
    expectSuccess(rollback);
    expect(await keysOf(SMALL_ID)).toEqual(before);
  }, 300_000);

  test('replacement by a logical-id change with adoptExistingKeys: a rolled-back replacement hands the keys back; a completed one keeps every key', async () => {
    const before = await keysOf(SMALL_ID);
    const [moved] = synth('moved', [{ id: 'PartnersMoved', clients: partners, setId: SMALL_ID, adopt: true }]);
    // 1. The replacement is created, then the stack update fails elsewhere: CloudFormation deletes it.
    expectSuccess(await lifecycle.send({ RequestType: 'Create', LogicalResourceId: moved.logicalId, ResourceProperties: moved.props }));
    const adopted = await keysOf(SMALL_ID);
    expect([...adopted.values()].every((key) => key.owner === ownerOf(STACK_ID, moved.logicalId) && key.from === ownerOf(STACK_ID, old.logicalId))).toBe(true);
    expectSuccess(await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: moved.logicalId, ResourceProperties: moved.props, PhysicalResourceId: `keygate-client-set:${SMALL_ID}` }));
    const handedBack = await keysOf(SMALL_ID);
    expect([...handedBack].map(([name, key]) => [name, key.value, key.owner])).toEqual([...before].map(([name, key]) => [name, key.value, key.owner]));

    // 2. Again, and this time the update succeeds: CloudFormation's cleanup deletes the old resource.
    expectSuccess(await lifecycle.send({ RequestType: 'Create', LogicalResourceId: moved.logicalId, ResourceProperties: moved.props }));
    expectSuccess(await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: old.logicalId, ResourceProperties: old.props, PhysicalResourceId: `keygate-client-set:${SMALL_ID}` }));
    const after = await keysOf(SMALL_ID);
    expectMatches(after, partners);
    expect([...after].map(([name, key]) => [name, key.value])).toEqual([...before].map(([name, key]) => [name, key.value]));
    expect([...after.values()].every((key) => key.owner === ownerOf(STACK_ID, moved.logicalId) && key.from === undefined)).toBe(true);

    // 3. The stack is deleted: the new owner deletes them.
    expectSuccess(await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: moved.logicalId, ResourceProperties: moved.props, PhysicalResourceId: `keygate-client-set:${SMALL_ID}` }));
    expect((await keysOf(SMALL_ID)).size).toBe(0);
  }, 300_000);
});

