import { ClientSetManifest } from '../../lib/bulk/reconciler/manifest';
import { ClientSetEvent, ClientSetResourceProperties, createHandlers, physicalIdOf } from '../../lib/bulk/reconciler/handler';
import { newClients } from '../ops/fake-apigw';
import { BulkFakeGateway } from './fake-gateway';

const SET = 'Stack/Api/Clients/Customers';
let fake: BulkFakeGateway;
const manifests = new Map<string, ClientSetManifest>();

beforeEach(() => {
  fake = new BulkFakeGateway();
  fake.pageSize = 500;
  fake.addPlan({ id: 'pfree', name: 'Free' });
  fake.addPlan({ id: 'ppro', name: 'Pro' });
  fake.addPlan({ id: 'pold', name: 'Old' });
  manifests.clear();
});
afterEach(() => fake.restore());

function handlers() {
  return createHandlers({
    apigw: newClients().apigw,
    loadManifest: async (bucket, key) => {
      const manifest = manifests.get(`${bucket}/${key}`);
      if (!manifest) throw new Error(`no manifest ${key}`);
      return manifest;
    },
    controlPlane: { limiter: null, sleep: async () => undefined },
    reconcile: { log: () => undefined },
  });
}

function props(key: string, tiers: { [k: string]: string }, manifest: ClientSetManifest): ClientSetResourceProperties {
  manifests.set(`bucket/${key}`, manifest);
  return { SetId: SET, ManifestBucket: 'bucket', ManifestKey: key, Tiers: tiers, BatchSize: '100' };
}

const timeLeft = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('custom resource handler', () => {
  test('Create: onEvent reconciles, isComplete confirms; the response holds counts only', async () => {
    const h = handlers();
    const event: ClientSetEvent = {
      RequestType: 'Create',
      ResourceProperties: props('m1.json', { t0: 'pfree' }, { version: 1, clients: [{ name: 'a', tiers: ['t0'] }, { name: 'b', tiers: ['t0'], enabled: false }] }),
    };
    const created = await h.onEvent(event, timeLeft(600_000));
    expect(created).toEqual({ PhysicalResourceId: physicalIdOf(SET), Data: { Created: 2, Updated: 0, Deleted: 0, Unchanged: 0, Pending: 0 } });
    const done = await h.isComplete({ ...event, PhysicalResourceId: created.PhysicalResourceId }, timeLeft(600_000));
    expect(done).toEqual({ IsComplete: true, Data: { Created: 0, Updated: 0, Deleted: 0, Unchanged: 2, Pending: 0 } });
    const values = [...fake.keys.values()].map((k) => k.value ?? '');
    for (const value of values) expect(JSON.stringify([created, done])).not.toContain(value);
  });

  test('Update: takes keys out of plans that only the old deployment declared', async () => {
    const h = handlers();
    const old = props('m1.json', { t0: 'pold' }, { version: 1, clients: [{ name: 'a', tiers: ['t0'] }] });
    await h.onEvent({ RequestType: 'Create', ResourceProperties: old });
    const next = props('m2.json', { t0: 'ppro' }, { version: 1, clients: [{ name: 'a', tiers: ['t0'] }] });
    const result = await h.onEvent({ RequestType: 'Update', ResourceProperties: next, OldResourceProperties: old, PhysicalResourceId: physicalIdOf(SET) });
    expect(result.Data).toMatchObject({ Updated: 1 });
    expect(fake.plansOf(fake.keyByName('a')?.id ?? '')).toEqual(['ppro']);
  });

  test('Delete: removes every key of the set and nothing else', async () => {
    const h = handlers();
    const p = props('m1.json', { t0: 'pfree' }, { version: 1, clients: [{ name: 'a', tiers: ['t0'] }, { name: 'b', tiers: ['t0'] }] });
    await h.onEvent({ RequestType: 'Create', ResourceProperties: p });
    const foreign = fake.addKey({ name: 'a', description: 'not ours' });
    const deleted = await h.onEvent({ RequestType: 'Delete', ResourceProperties: p, PhysicalResourceId: physicalIdOf(SET) });
    expect(deleted.Data).toMatchObject({ Deleted: 2 });
    expect([...fake.keys.keys()]).toEqual([foreign.id]);
  });

  test('a long run: no time left in this invocation → IsComplete false, the next call finishes', async () => {
    const h = handlers();
    const p = props('m1.json', { t0: 'pfree' }, { version: 1, clients: [{ name: 'a', tiers: ['t0'] }] });
    // Less time left than the safety margin: the pass starts nothing.
    const first = await h.isComplete({ RequestType: 'Create', ResourceProperties: p }, timeLeft(60_000));
    expect(first.IsComplete).toBe(false);
    expect(fake.keys.size).toBe(0);
    const second = await h.isComplete({ RequestType: 'Create', ResourceProperties: p }, timeLeft(600_000));
    expect(second.IsComplete).toBe(true);
    expect(fake.keys.size).toBe(1);
  });

  test('a manifest that names a tier the resource does not pass fails the deployment', async () => {
    const p = props('m1.json', { t0: 'pfree' }, { version: 1, clients: [{ name: 'a', tiers: ['t9'] }] });
    await expect(handlers().onEvent({ RequestType: 'Create', ResourceProperties: p })).rejects.toThrow(/tier t9/);
  });
});
