import 'aws-sdk-client-mock-jest';
import { BadRequestException, GetApiKeysCommand, ImportApiKeysCommand, TooManyRequestsException } from '@aws-sdk/client-api-gateway';
import { ControlPlane } from '../../lib/handlers/client-set-reconciler/control-plane';
import { ClientSetManifest, describeKey, desiredKeys, DesiredKey, formatMarker, ManifestClient, parseDescription } from '../../lib/shared/manifest';
import { isManagedKey } from '../../lib/shared/managed';
import { planChanges, reconcile, ReconcileContext, ReconcileOptions } from '../../lib/handlers/client-set-reconciler/reconcile';
import { parseKeyFile } from '../../lib/sdk/import-keys';
import { ControlPlaneLimiter } from '../../lib/sdk/rate-limit';
import { newClients } from '../ops/fake-apigw';
import { BulkFakeGateway } from './fake-gateway';

const SET = 'Bulk/Api/Clients/Customers';
const CTX: ReconcileContext = { setId: SET, owner: 'Bulk/ApiClientsCustomers5DB60ADF/uuid-1', requestToken: 'request1', adopt: false };
const MARKER = formatMarker({ setId: SET, owner: CTX.owner });
const TIERS = { t0: 'pfree', t1: 'ppro', t2: 'pent' };

let fake: BulkFakeGateway;
let sleeps: number[];
let logs: string[];

beforeEach(() => {
  fake = new BulkFakeGateway();
  fake.pageSize = 500;
  fake.addPlan({ id: 'pfree', name: 'Free', apiStages: [{ apiId: 'api1', stage: 'prod' }] });
  fake.addPlan({ id: 'ppro', name: 'Pro', apiStages: [{ apiId: 'api1', stage: 'prod' }] });
  fake.addPlan({ id: 'pent', name: 'Enterprise', apiStages: [{ apiId: 'api1', stage: 'prod' }] });
  sleeps = [];
  logs = [];
});
afterEach(() => fake.restore());

function controlPlane(options: { limiter?: ControlPlaneLimiter | null; maxAttempts?: number } = {}): ControlPlane {
  return new ControlPlane(newClients().apigw, {
    limiter: options.limiter ?? null,
    maxAttempts: options.maxAttempts,
    sleep: async (ms) => { sleeps.push(ms); },
    random: () => 0.999,
    region: 'eu-west-1',
  });
}

function clients(n: number, make: (i: number) => Partial<ManifestClient> = () => ({})): ManifestClient[] {
  return Array.from({ length: n }, (_, i) => ({ name: `c${String(i).padStart(5, '0')}`, tiers: [i % 3 === 0 ? 't1' : 't0'], ...make(i) }));
}

function desired(list: ManifestClient[]): DesiredKey[] {
  const manifest: ClientSetManifest = { version: 1, clients: list };
  return desiredKeys(manifest, TIERS);
}

function run(list: ManifestClient[], options: ReconcileOptions = {}, cp = controlPlane(), ctx = CTX) {
  return reconcile(cp, ctx, desired(list), Object.values(TIERS), { log: (l) => logs.push(l), ...options });
}

/** The Delete of the resource `ctx.owner`. */
function runDelete(options: ReconcileOptions = {}, cp = controlPlane(), ctx = CTX) {
  return reconcile(cp, ctx, undefined, [], options);
}

function importBodies(): string[] {
  return fake.apigwMock.commandCalls(ImportApiKeysCommand).map((c) => new TextDecoder().decode(c.args[0].input.body as Uint8Array));
}

describe('reconcile', () => {
  test('creates a new set with ImportApiKeys in batches, associations through UsagePlanIds', async () => {
    const result = await run(clients(1200, (i) => (i === 5 ? { enabled: false, description: 'a, comma one' } : {})), { batchSize: 500 });
    expect(result).toMatchObject({ complete: true, created: 1200, updated: 0, deleted: 0, pending: 0 });
    expect(fake.apigwMock).toHaveReceivedCommandTimes(ImportApiKeysCommand, 3);
    expect(fake.apigwMock).toHaveReceivedCommandWith(ImportApiKeysCommand, { format: 'csv', failOnWarnings: true });
    expect(fake.namesOwnedBy(MARKER)).toHaveLength(1200);
    const five = fake.keyByName('c00005');
    expect(five).toMatchObject({ enabled: false, description: `${MARKER} a, comma one` });
    expect(fake.plansOf(five?.id ?? '')).toEqual(['pfree']);
    expect(fake.plansOf(fake.keyByName('c00003')?.id ?? '')).toEqual(['ppro']);
    expect(importBodies()[0].split('\n')[0]).toBe('Name,Key,Description,Enabled,UsagePlanIds');
  });

  test('values: 40 alphanumeric characters from the CSPRNG, all different, in no log line or result', async () => {
    const result = await run(clients(300));
    const values = [...fake.keys.values()].map((k) => k.value ?? '');
    expect(values.every((v) => /^[A-Za-z0-9]{40}$/.test(v))).toBe(true);
    expect(new Set(values).size).toBe(300);
    const printed = JSON.stringify({ logs, result });
    for (const value of values) expect(printed).not.toContain(value);
  });

  test('a re-run with nothing changed makes no write call', async () => {
    const list = clients(700, (i) => (i % 7 === 0 ? { enabled: false } : {}));
    await run(list);
    const cp = controlPlane();
    const again = await run(list, {}, cp);
    expect(again).toMatchObject({ complete: true, created: 0, updated: 0, deleted: 0, unchanged: 700, writes: 0 });
    expect(cp.calls.GetApiKeys).toBe(2);
  });

  test('reads every page of keys and of plan keys (limit 500)', async () => {
    fake.pageSize = 2;
    await run(clients(9));
    fake.addKey({ name: 'foreign', description: 'someone else' });
    const cp = controlPlane();
    const again = await run(clients(9), {}, cp);
    expect(again.writes).toBe(0);
    expect(cp.calls.GetApiKeys).toBe(5);
    expect(cp.calls.GetUsagePlanKeys).toBe(2 + 3 + 1);
    expect(fake.apigwMock.calls().every((c) => (c.args[0].input as { limit?: number }).limit === undefined || (c.args[0].input as { limit?: number }).limit === 500)).toBe(true);
  });

  test('updates by diff: enabled flag, description, plan moves out of the old plan before into the new one', async () => {
    await run(clients(10));
    fake.calls.length = 0;
    const changed = clients(10, (i) => {
      if (i === 1) return { enabled: false };
      if (i === 2) return { tiers: ['t2'] };
      if (i === 4) return { description: 'now with a description' };
      return {};
    });
    const result = await run(changed);
    expect(result).toMatchObject({ complete: true, created: 0, updated: 3, deleted: 0, unchanged: 7 });
    expect(fake.keyByName('c00001')?.enabled).toBe(false);
    expect(fake.plansOf(fake.keyByName('c00002')?.id ?? '')).toEqual(['pent']);
    expect(fake.keyByName('c00004')?.description).toBe(`${MARKER} now with a description`);
    const writes = fake.writeCalls();
    expect(writes.filter((c) => c.endsWith('UsagePlanKey'))).toEqual(['DeleteUsagePlanKey', 'CreateUsagePlanKey']);
  });

  test('creates first, updates next; removed clients are retired (disabled), and deleted by a later request', async () => {
    await run(clients(6));
    fake.calls.length = 0;
    const next = [...clients(6, (i) => (i === 1 ? { enabled: false } : {})).slice(0, 4), { name: 'new-one', tiers: ['t0'] }];
    const result = await run(next);
    expect(fake.writeCalls()).toEqual(['ImportApiKeys', 'UpdateApiKey', 'UpdateApiKey', 'UpdateApiKey']);
    expect(result).toMatchObject({ complete: true, keys: 7, retired: 2 });
    expect(fake.keyByName('c00005')).toMatchObject({ enabled: false, description: formatMarker({ setId: SET, owner: CTX.owner, retired: 'request1' }) });
    // Another pass of the same request leaves them; the next request deletes them.
    fake.calls.length = 0;
    await run(next);
    expect(fake.writeCalls()).toEqual([]);
    await run(next, {}, controlPlane(), { ...CTX, requestToken: 'request2' });
    expect(fake.writeCalls()).toEqual(['DeleteApiKey', 'DeleteApiKey']);
  });

  test('a rollback declares retired clients again: they come back enabled, with their same value', async () => {
    const all = clients(4);
    await run(all);
    const value = fake.keyByName('c00003')?.value;
    await run(all.slice(0, 3));
    expect(fake.keyByName('c00003')?.enabled).toBe(false);
    await run(all, {}, controlPlane(), { ...CTX, requestToken: 'rollback' });
    expect(fake.keyByName('c00003')).toMatchObject({ enabled: true, value, description: MARKER });
  });

  test('a plan of another stage is added before the old one is left; one of the same stage after', async () => {
    fake.addPlan({ id: 'pbeta', name: 'Beta', apiStages: [{ apiId: 'api1', stage: 'beta' }] });
    const tiers = { ...TIERS, t3: 'pbeta' };
    const runWith = (list: ManifestClient[]) => reconcile(controlPlane(), CTX, desiredKeys({ version: 1, clients: list }, tiers), Object.values(tiers), {});
    await runWith([{ name: 'a', tiers: ['t0'] }, { name: 'b', tiers: ['t0'] }]);
    fake.calls.length = 0;
    await runWith([{ name: 'a', tiers: ['t3'] }]);
    expect(fake.writeCalls().filter((c) => c.endsWith('UsagePlanKey'))).toEqual(['CreateUsagePlanKey', 'DeleteUsagePlanKey']);
    fake.calls.length = 0;
    await runWith([{ name: 'a', tiers: ['t3'] }, { name: 'b', tiers: ['t1'] }]);
    expect(fake.writeCalls().filter((c) => c.endsWith('UsagePlanKey'))).toEqual(['DeleteUsagePlanKey', 'CreateUsagePlanKey']);
  });

  test('deletes only keys it owns: not foreign keys, not another set or resource, not a set whose id starts the same', async () => {
    await run(clients(5));
    const foreign = [
      fake.addKey({ name: 'c00001', description: 'hand-made, same name' }),
      fake.addKey({ name: 'other', description: `${formatMarker({ setId: 'Bulk/Api/Clients/Other', owner: CTX.owner })} x` }),
      fake.addKey({ name: 'prefix', description: `${formatMarker({ setId: `${SET}X`, owner: CTX.owner })}` }),
      fake.addKey({ name: 'c00002', description: formatMarker({ setId: SET, owner: 'Bulk/ApiClientsMoved/uuid-1' }) }),
      fake.addKey({ name: 'cfn', description: '', tags: { 'aws:cloudformation:stack-name': 'Bulk' } }),
    ];
    const result = await runDelete();
    expect(result).toMatchObject({ complete: true, deleted: 5 });
    expect([...fake.keys.keys()].sort()).toEqual(foreign.map((k) => k.id).sort());
  });

  test('backs off on 429 and carries on', async () => {
    fake.failNext('GetApiKeys', 2);
    fake.failNext('ImportApiKeys', 1);
    const cp = controlPlane();
    const result = await run(clients(20), {}, cp);
    expect(result.complete).toBe(true);
    expect(cp.retries).toBe(3);
    expect(sleeps).toEqual([250, 500, 250]);
    expect(fake.namesOwnedBy(MARKER)).toHaveLength(20);
  });

  test('honours retryAfterSeconds of a 429', async () => {
    fake.failNext('GetApiKeys', 1, () => new TooManyRequestsException({ message: 'slow down', retryAfterSeconds: '3', $metadata: { httpStatusCode: 429 } }));
    await run(clients(1));
    expect(sleeps).toEqual([3000]);
  });

  test('a Retry-After past the deadline ends the pass (not complete), not the request', async () => {
    fake.failNext('ImportApiKeys', 1, () => new TooManyRequestsException({ message: 'slow down', retryAfterSeconds: '20', $metadata: { httpStatusCode: 429 } }));
    const cp = new ControlPlane(newClients().apigw, { limiter: null, sleep: async (ms) => { sleeps.push(ms); }, random: () => 0.999, region: 'eu-west-1', now: () => 0, deadline: 10_000 });
    const result = await run(clients(3), { now: () => 0, deadline: 10_000 }, cp);
    expect(result).toMatchObject({ complete: false, created: 0 });
    expect(sleeps).toEqual([]);
    expect(logs.some((line) => /ImportApiKeys: no time left in this run for another attempt/.test(line))).toBe(true);
  });

  test('a 409 "concurrent modification" from ImportApiKeys is retried', async () => {
    fake.failNext('ImportApiKeys', 1, () => Object.assign(new Error('Unable to complete operation due to concurrent modification. Please try again later.'), { name: 'ConflictException', $metadata: { httpStatusCode: 409 } }));
    const result = await run(clients(3));
    expect(result).toMatchObject({ complete: true, created: 3 });
    expect(fake.apigwMock).toHaveReceivedCommandTimes(ImportApiKeysCommand, 2);
  });

  test('a listing that meets a page position twice fails instead of acting on a partial list', async () => {
    await run(clients(3));
    fake.apigwMock.on(GetApiKeysCommand).resolves({ items: [], position: 'same' });
    await expect(run(clients(3))).rejects.toThrow(/^the listing returned the page position same twice after 0 items; refusing to act on an incomplete list$/);
  });

  test('gives up after maxAttempts of 429', async () => {
    fake.failNext('GetApiKeys', 10);
    await expect(run(clients(1), {}, controlPlane({ maxAttempts: 4 }))).rejects.toThrow(/GetApiKeys: Too Many Requests/);
    expect(sleeps).toHaveLength(3);
  });

  test('a failed batch stops the run: earlier batches stay, no value in the error, a re-run imports the rest', async () => {
    let call = 0;
    let leaked = '';
    fake.apigwMock.on(ImportApiKeysCommand).callsFake((i: { body: Uint8Array }) => {
      fake.calls.push('ImportApiKeys');
      const file = parseKeyFile(new TextDecoder().decode(i.body));
      if (++call === 2) {
        leaked = file.rows[0].key;
        throw new BadRequestException({ message: `Invalid API Key value ${leaked} on line 2`, $metadata: { httpStatusCode: 400 } });
      }
      const ids = file.rows.map((row) => fake.addKey({ name: row.name, value: row.key, description: row.description }, row.plans).id ?? '');
      return { ids, warnings: [] };
    });
    const list = clients(250, () => ({ tiers: ['t0'] }));
    const failure = await run(list, { batchSize: 100 }).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^ImportApiKeys: Invalid API Key value \[value\] on line 2/);
    expect((failure as Error).message).not.toContain(leaked);
    expect(fake.namesOwnedBy(MARKER)).toHaveLength(100);

    const rerun = await run(list, { batchSize: 100 });
    expect(rerun).toMatchObject({ complete: true, created: 150 });
    expect(fake.namesOwnedBy(MARKER)).toHaveLength(250);
    expect(call).toBe(4);
  });

  test('a failed update rolls back: reconciling to the old set again restores it exactly', async () => {
    const oldSet = clients(12, (i) => (i === 3 ? { enabled: false } : {}));
    await run(oldSet);
    const snapshot = () => [...fake.keys.values()].filter((k) => !parseDescription(k.description)?.marker.retired)
      .map((k) => `${k.name}:${k.enabled}:${fake.plansOf(k.id ?? '').join('+')}:${k.value}`).sort();
    const before = snapshot();
    const newSet = [
      ...clients(12, (i) => (i === 3 ? {} : i === 4 ? { tiers: ['t2'] } : i === 5 ? { tiers: ['t2'] } : {})).slice(2),
      { name: 'n1', tiers: ['t0'] }, { name: 'n2', tiers: ['t1'] },
    ];
    // The second plan move fails for good (not a throttle): the deployment fails part-way.
    fake.failNext('CreateUsagePlanKey', 1, () => new BadRequestException({ message: 'boom', $metadata: { httpStatusCode: 400 } }));
    await expect(run(newSet, { concurrency: 1 })).rejects.toThrow(/CreateUsagePlanKey: boom/);
    // Nothing of the old set was deleted yet: deletes come last.
    expect(fake.namesOwnedBy(MARKER)).toEqual(expect.arrayContaining(['c00000', 'c00001']));
    // CloudFormation's rollback sends the old manifest again.
    const rollback = await run(oldSet);
    expect(rollback.complete).toBe(true);
    expect(snapshot()).toEqual(before);
  });

  test('stops at the deadline and a later run carries on', async () => {
    await run(clients(40));
    let now = 0;
    const cp = controlPlane();
    // Each delete moves the clock by one second; the deadline falls after about 10 of them.
    const original = cp.deleteApiKey.bind(cp);
    cp.deleteApiKey = async (id: string) => { now += 1000; return original(id); };
    const first = await runDelete({ now: () => now, deadline: 10_000, concurrency: 1 }, cp);
    expect(first.complete).toBe(false);
    expect(first.deleted).toBe(10);
    expect(first.pending).toBe(30);
    const second = await runDelete();
    expect(second).toMatchObject({ complete: true, deleted: 30 });
  });

  test('rotation: generation 2 is created beside 1, a later deploy removes 1', async () => {
    await run([{ name: 'acme', tiers: ['t1'] }]);
    const first = fake.keyByName('acme');
    await run([{ name: 'acme', tiers: ['t1'], generations: [1, 2] }]);
    expect(fake.namesOwnedBy(MARKER)).toEqual(['acme', 'acme-gen2']);
    expect(fake.keyByName('acme')?.value).toBe(first?.value);
    expect(fake.plansOf(fake.keyByName('acme-gen2')?.id ?? '')).toEqual(['ppro']);
    await run([{ name: 'acme', tiers: ['t1'], generations: [2] }], {}, controlPlane(), { ...CTX, requestToken: 'request2' });
    expect(fake.namesOwnedBy(MARKER)).toEqual(['acme-gen2']);
    expect(fake.keyByName('acme')?.enabled).toBe(false);
    await run([{ name: 'acme', tiers: ['t1'], generations: [2] }], {}, controlPlane(), { ...CTX, requestToken: 'request3' });
    expect(fake.keyByName('acme')).toBeUndefined();
  });

  test('tags: set on the pass after the import, removed when no longer declared', async () => {
    const result = await run([{ name: 'acme', tiers: ['t0'], tags: { team: 'blue' } }]);
    expect(result.complete).toBe(true);
    expect(fake.keyByName('acme')?.tags).toEqual({ team: 'blue' });
    await run([{ name: 'acme', tiers: ['t0'] }]);
    expect(fake.keyByName('acme')?.tags).toEqual({});
  });

  test('of two owned keys with one name, the older stays and the newer is deleted', async () => {
    const older = fake.addKey({ name: 'acme', description: MARKER, createdDate: new Date('2026-01-01') }, ['pfree']);
    fake.addKey({ name: 'acme', description: MARKER, createdDate: new Date('2026-02-01') }, ['pfree']);
    const result = await run([{ name: 'acme', tiers: ['t0'] }]);
    expect(result).toMatchObject({ deleted: 1, unchanged: 1 });
    expect(fake.keyByName('acme')?.id).toBe(older.id);
  });

  test('the limiter keeps DeleteApiKey at 5 per second', async () => {
    await run(clients(21));
    let now = 0;
    const limiter = new ControlPlaneLimiter({ now: () => now, sleep: async (ms) => { now += ms; } });
    await runDelete({ concurrency: 4 }, controlPlane({ limiter }));
    // 21 deletes, one token at the start, then 5 per second.
    expect(now).toBeGreaterThanOrEqual(4000);
  });
});

describe('desiredKeys', () => {
  test('refuses names and descriptions ImportApiKeys\' CSV can\'t round-trip, and names past 1,024 characters with the suffix', () => {
    expect(() => desired([{ name: 'it"s', tiers: ['t0'] }])).toThrow(/client "it\\"s": names and descriptions can't hold quote or control characters/);
    expect(() => desired([{ name: 'a', tiers: ['t0'], description: "o'clock" }])).toThrow(/can't hold quote or control characters/);
    expect(() => desired([{ name: 'x'.repeat(1020), tiers: ['t0'], generations: [1, 2] }])).toThrow(/is 1025 characters; API Gateway allows 1024/);
  });
});

describe('ownership marker', () => {
  test('the ops CLI sees keys of a client set as managed, so it does not change them out of band', () => {
    expect(isManagedKey({ description: describeKey({ setId: SET, owner: CTX.owner }, 'Acme') })).toBe(true);
    expect(isManagedKey({ description: describeKey({ setId: SET }, undefined) })).toBe(true);
  });

  test('round-trips set, owner, adoption and retirement; a description without it has none', () => {
    const marker = { setId: SET, owner: CTX.owner, from: 'Old/Res/uuid-0', retired: 'r1' };
    expect(parseDescription(describeKey(marker, 'Acme Corp'))).toEqual({ marker, text: 'Acme Corp' });
    expect(parseDescription('[keygate:client-set=a/b]')).toEqual({ marker: { setId: 'a/b' }, text: undefined });
    expect(parseDescription('hand-made')).toBeUndefined();
  });
});

describe('planChanges', () => {
  test('leaves associations with plans outside its scope alone', () => {
    const [want] = desired([{ name: 'a', tiers: ['t0'] }]);
    const changes = planChanges([want], [{ id: 'k1', name: 'a', enabled: true, marker: { setId: SET, owner: CTX.owner }, tags: {}, planIds: ['pfree', 'pother'] }], ['pfree'], CTX);
    expect(changes).toEqual({ creates: [], updates: [], deletes: [], unchanged: 1, foreign: [], kept: 1, retired: 0 });
  });
});
