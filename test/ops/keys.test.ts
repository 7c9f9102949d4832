import { deleteKey, listKeys, namePattern, setKeyEnabled, showKey } from '../../lib/ops/keys';
import { cleanUpRetiredKeys } from '../../lib/ops/retired';
import { resolveKey } from '../../lib/sdk/resolve';
import { FakeApiGateway, newClients } from './fake-apigw';

let fake: FakeApiGateway;
beforeEach(() => {
  fake = new FakeApiGateway(); // pages of 2 items
  fake.addPlan({ id: 'pfree', name: 'free', apiStages: [{ apiId: 'api1', stage: 'prod' }] });
  fake.addPlan({ id: 'pbasic', name: 'basic', apiStages: [{ apiId: 'api1', stage: 'prod' }, { apiId: 'api1', stage: 'dev' }] });
  fake.addPlan({ id: 'pbeta', name: 'beta', apiStages: [{ apiId: 'api2', stage: 'prod' }] });
  for (let i = 0; i < 7; i++) fake.addKey({ id: `key${i}`, name: `client-${i}`, value: `secretvalue${i}xxxxxxxxxxxx`, tags: { n: String(i) } }, i % 2 ? ['pfree', 'pbeta'] : ['pbasic']);
  fake.addKey({ id: 'twin1', name: 'twin', value: 'twinvalue1xxxxxxxxxxxxx' });
  fake.addKey({ id: 'twin2', name: 'twin', value: 'twinvalue2xxxxxxxxxxxxx' });
});
afterEach(() => fake.restore());

describe('keys list', () => {
  test('reads every page of keys, plans and plan keys', async () => {
    const list = await listKeys(newClients().apigw);
    expect(list).toHaveLength(9);
    expect(list.find((k) => k.id === 'key1')).toMatchObject({
      name: 'client-1', enabled: true, plans: [{ id: 'pfree', name: 'free' }, { id: 'pbeta', name: 'beta' }], stages: ['api1/prod', 'api2/prod'], tags: { n: '1' },
    });
    expect(list.find((k) => k.id === 'key0')?.stages).toEqual(['api1/dev', 'api1/prod']);
    expect(fake.calls.filter((c) => c === 'GetApiKeys').length).toBe(5); // 9 keys, 2 per page
    expect(list.some((k) => 'value' in k)).toBe(false);
  });

  test('--plan and --name filter', async () => {
    const c = newClients().apigw;
    expect((await listKeys(c, { plan: 'beta' })).map((k) => k.id)).toEqual(['key1', 'key3', 'key5']);
    expect((await listKeys(c, { plan: 'pbasic', name: 'client-[0-4]'.replace('[0-4]', '?') })).map((k) => k.id)).toEqual(['key0', 'key2', 'key4', 'key6']);
    expect((await listKeys(c, { name: 'tw' })).map((k) => k.id)).toEqual(['twin1', 'twin2']);
    await expect(listKeys(c, { plan: 'gold' })).rejects.toMatchObject({ exitCode: 2 });
  });

  test('namePattern', () => {
    expect(namePattern('a*z').test('abcz')).toBe(true);
    expect(namePattern('a.b').test('axb')).toBe(false);
    expect(namePattern('acme').test('acme-g2')).toBe(true);
  });
});

describe('keys show / resolve', () => {
  test('by name or id; the value only when asked', async () => {
    const c = newClients().apigw;
    const k = await showKey(c, 'client-3');
    expect(k.id).toBe('key3');
    expect(k.value).toBeUndefined();
    expect((await showKey(c, 'key3', { showValue: true })).value).toBe('secretvalue3xxxxxxxxxxxx');
  });

  test('unknown key: exit 2 with what to do', async () => {
    await expect(resolveKey(newClients().apigw, 'nobody')).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/not found.*keygate keys list/) });
  });

  test('ambiguous name: exit 2, lists the ids', async () => {
    await expect(resolveKey(newClients().apigw, 'twin')).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/twin1, twin2.*pass the id/) });
  });
});

describe('keys enable/disable/delete', () => {
  test('disable then enable; idempotent', async () => {
    const c = newClients().apigw;
    expect(await setKeyEnabled(c, 'client-2', false)).toMatchObject({ enabled: false, changed: true });
    expect(fake.keys.get('key2')?.enabled).toBe(false);
    expect(await setKeyEnabled(c, 'client-2', false)).toMatchObject({ enabled: false, changed: false });
    expect(await setKeyEnabled(c, 'key2', true)).toMatchObject({ enabled: true, changed: true });
  });

  test('delete', async () => {
    const c = newClients().apigw;
    await deleteKey(c, 'client-5');
    expect(fake.keys.has('key5')).toBe(false);
    expect(fake.plansOf('key5')).toEqual([]);
  });

  test('a transient 429 surfaces as a failure (the SDK retried already)', async () => {
    fake.failNext('UpdateApiKey');
    await expect(setKeyEnabled(newClients().apigw, 'client-2', false)).rejects.toMatchObject({ name: 'TooManyRequestsException' });
  });
});

describe('keys managed by a stack or a client set', () => {
  beforeEach(() => {
    fake.addKey({ id: 'stackkey', name: 'from-stack', value: 'stackvaluexxxxxxxxxxxxxx', tags: { 'aws:cloudformation:stack-name': 'Partner', 'aws:cloudformation:logical-id': 'ApiAcmeKey' } });
    fake.addKey({ id: 'setkey', name: 'from-set', value: 'setvaluexxxxxxxxxxxxxxxx', description: '[keygate:client-set=Bulk/Customers owner=Bulk/Res/u1]' });
    fake.addKey({ id: 'rotkey', name: 'from-rotation', value: 'rotvaluexxxxxxxxxxxxxxxx', tags: { 'keygate:rotation-secret': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:globex-Q1w2E3' } });
  });

  test.each([
    ['disabling', () => setKeyEnabled(newClients().apigw, 'from-stack', false), /^Not disabling "from-stack" \(stackkey\): it belongs to the CloudFormation stack Partner \(logical id ApiAcmeKey\)\. .*--override-managed/],
    ['enabling', () => setKeyEnabled(newClients().apigw, 'from-set', true), /^Not enabling "from-set" \(setkey\): it belongs to the keygate client set Bulk\/Customers\. .*--override-managed/],
    ['deleting', () => deleteKey(newClients().apigw, 'from-set'), /^Not deleting "from-set" \(setkey\): it belongs to the keygate client set Bulk\/Customers\./],
    ['disabling', () => setKeyEnabled(newClients().apigw, 'from-rotation', false),
      /^Not disabling "from-rotation" \(rotkey\): it belongs to the rotation schedule of the secret arn:aws:secretsmanager:us-east-1:123456789012:secret:globex-Q1w2E3\. Rotate it with `aws secretsmanager rotate-secret --secret-id arn:aws:secretsmanager:us-east-1:123456789012:secret:globex-Q1w2E3` instead.*--override-managed/],
    ['deleting', () => deleteKey(newClients().apigw, 'from-rotation'), /^Not deleting "from-rotation" \(rotkey\): it belongs to the rotation schedule of the secret .*globex-Q1w2E3\. Rotate it with `aws secretsmanager rotate-secret/],
  ])('refuses %s a managed key (exit code 2)', async (_action, change, message) => {
    await expect(change()).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(message) });
    expect(fake.keys.get('stackkey')?.enabled).toBe(true);
    expect(fake.keys.has('setkey')).toBe(true);
    expect(fake.keys.get('rotkey')?.enabled).toBe(true);
  });

  test('--override-managed does it anyway', async () => {
    await setKeyEnabled(newClients().apigw, 'from-stack', false, { overrideManaged: true });
    expect(fake.keys.get('stackkey')?.enabled).toBe(false);
    await deleteKey(newClients().apigw, 'from-set', { overrideManaged: true });
    expect(fake.keys.has('setkey')).toBe(false);
  });
});

describe('keys clean-up-retired', () => {
  test('deletes only the retired (disabled) keys of the named set', async () => {
    // GIVEN a set with one key in use, one retired, and a retired key of another set
    fake.addKey({ id: 'inuse', name: 'a', value: 'inusevaluexxxxxxxxxxxxxx', description: '[keygate:client-set=Bulk/C owner=Bulk/R/u1]' });
    fake.addKey({ id: 'gone', name: 'b', value: 'gonevaluexxxxxxxxxxxxxxx', enabled: false, description: '[keygate:client-set=Bulk/C owner=Bulk/R/u1 retired=req1]' });
    fake.addKey({ id: 'other', name: 'c', value: 'othervaluexxxxxxxxxxxxxx', enabled: false, description: '[keygate:client-set=Bulk/D owner=Bulk/R/u1 retired=req1]' });

    // WHEN
    const dry = await cleanUpRetiredKeys(newClients().apigw, 'Bulk/C', { dryRun: true });
    const done = await cleanUpRetiredKeys(newClients().apigw, 'Bulk/C');

    // THEN
    expect(dry).toEqual({ retired: [{ id: 'gone', name: 'b', retiredBy: 'req1' }], deleted: 0 });
    expect(done.deleted).toBe(1);
    expect([...fake.keys.keys()].filter((id) => ['inuse', 'gone', 'other'].includes(id)).sort()).toEqual(['inuse', 'other']);
  });

  test('needs the set id', async () => {
    await expect(cleanUpRetiredKeys(newClients().apigw, '')).rejects.toThrow(/^Name the client set: --set SET_ID/);
  });
});
