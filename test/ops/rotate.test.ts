import { isManagedKey, managedBy, managedKeyReason } from '../../lib/shared/managed';
import {
  parseDuration, retireKey, rotateKey, successorName, TAG_RETIRE_AFTER, TAG_ROTATION_OF, TAG_SECRET_ARN,
} from '../../lib/ops/rotate';
import { FakeApiGateway, newClients } from './fake-apigw';

const NOW = new Date('2026-03-01T12:00:00Z');
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme-key-AbCdEf';
const OLD_VALUE = 'oldvalueoldvalueoldvalue1234';

let fake: FakeApiGateway;
beforeEach(() => {
  fake = new FakeApiGateway();
  fake.addPlan({ id: 'pfree', name: 'free', apiStages: [{ apiId: 'api1', stage: 'prod' }], throttle: { rateLimit: 5, burstLimit: 10 } });
  fake.addPlan({ id: 'pbeta', name: 'beta', apiStages: [{ apiId: 'api2', stage: 'prod' }] });
  fake.addPlan({ id: 'pother', name: 'other', apiStages: [{ apiId: 'api3', stage: 'prod' }] });
  for (let i = 0; i < 5; i++) fake.addKey({ name: `filler-${i}`, value: `fillervalue${i}xxxxxxxxxxxx` });
  fake.addKey({ id: 'oldkey0001', name: 'acme', value: OLD_VALUE, description: 'Acme Corp', customerId: 'acme-co', tags: { team: 'partners', [TAG_SECRET_ARN]: SECRET } }, ['pfree', 'pbeta']);
  fake.secrets.set(SECRET, JSON.stringify({ apiKey: OLD_VALUE, owner: 'acme' }));
});
afterEach(() => fake.restore());

const successors = () => [...fake.keys.values()].filter((k) => k.tags?.[TAG_ROTATION_OF] === 'oldkey0001');

function expectCompleteRotation(): string {
  const s = successors();
  expect(s).toHaveLength(1);
  const succ = s[0];
  expect(succ.name).toBe('acme-gen2');
  expect(succ.enabled).toBe(true);
  expect(succ.description).toBe('Acme Corp');
  expect(succ.customerId).toBe('acme-co');
  expect(succ.tags).toMatchObject({
    team: 'partners', [TAG_SECRET_ARN]: SECRET, 'keygate:generation': '2', 'keygate:client': 'acme', [TAG_RETIRE_AFTER]: '2026-03-08T12:00:00.000Z',
  });
  expect(fake.plansOf(succ.id ?? '')).toEqual(['pbeta', 'pfree']);
  expect(JSON.parse(fake.secrets.get(SECRET) ?? '{}')).toEqual({ apiKey: succ.value, owner: 'acme' });
  const old = fake.keys.get('oldkey0001');
  expect(old?.enabled).toBe(true); // the predecessor keeps working, untouched
  expect(old?.tags).toEqual({ team: 'partners', [TAG_SECRET_ARN]: SECRET });
  return succ.id ?? '';
}

describe('keys rotate', () => {
  test('creates one successor with the same plans, tags and enabled state, writes the secret, marks the predecessor', async () => {
    const c = newClients();
    const r = await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW, overlapMs: parseDuration('7d') });
    const id = expectCompleteRotation();
    expect(r.successor).toEqual({ id, name: 'acme-gen2', enabled: true }); // no value unless asked
    expect(r.steps.map((s) => s.status)).toEqual(['done', 'done', 'done']);
    expect(r.retireAfter).toBe('2026-03-08T12:00:00.000Z');
  });

  test('returns the value only when asked', async () => {
    const c = newClients();
    const r = await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW, showValue: true, newValue: () => 'NewValue0123456789abcdefghij' });
    expect(r.successor.value).toBe('NewValue0123456789abcdefghij');
  });

  test('a re-run of a finished rotation changes nothing', async () => {
    const c = newClients();
    await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
    const later = new Date(NOW.getTime() + 3_600_000);
    const r = await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => later });
    expect(r.steps.map((s) => s.status)).toEqual(['already done', 'already done', 'already done']);
    expect(r.retireAfter).toBe('2026-03-08T12:00:00.000Z'); // the overlap is not extended by a re-run
    expectCompleteRotation();
  });

  test.each([
    ['CreateApiKey', 1],
    ['CreateUsagePlanKey', 1], // before the first plan
    ['CreateUsagePlanKey', 2], // between the two plans
    ['GetSecretValue', 1],
    ['PutSecretValue', 1],
    ['UpdateApiKey', 1], // matching the enabled state (the predecessor was disabled meanwhile)
  ])('a re-run after a failure at %s (call %i) completes the rotation with a single successor', async (command, nth) => {
    const c = newClients();
    if (command === 'UpdateApiKey') {
      // the successor exists and is enabled, then the predecessor gets disabled, then the enable-sync fails
      await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
      fake.keys.get('oldkey0001')!.enabled = false;
      fake.failNext('UpdateApiKey');
      await expect(rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW })).rejects.toThrow();
      await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
      expect(successors()).toHaveLength(1);
      expect(successors()[0].enabled).toBe(false);
      return;
    }
    if (nth === 2) {
      // let the first call through, fail the second
      let seen = 0;
      fake.apigwMock.on(jest.requireActual('@aws-sdk/client-api-gateway').CreateUsagePlanKeyCommand).callsFake((i: { usagePlanId: string; keyId: string }) => {
        seen++;
        if (seen === 2) throw Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
        fake.planKeys.get(i.usagePlanId)?.add(i.keyId);
        return {};
      });
    } else {
      fake.failNext(command);
    }
    await expect(rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW })).rejects.toThrow();
    const afterFailure = successors().length;
    expect(afterFailure).toBeLessThanOrEqual(1);
    await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
    expectCompleteRotation();
  });

  test('the successor can be named by id in a re-run', async () => {
    const c = newClients();
    fake.failNext('PutSecretValue');
    await expect(rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW })).rejects.toThrow();
    const r = await rotateKey(c.apigw, 'oldkey0001', { secrets: c.secrets, now: () => NOW });
    expect(r.steps[0]).toMatchObject({ step: 'create successor', status: 'already done' });
    expectCompleteRotation();
  });

  test('CreateApiKey answering 409 after its first attempt went through (lost response) finds that key', async () => {
    const c = newClients();
    const { CreateApiKeyCommand, ConflictException } = jest.requireActual('@aws-sdk/client-api-gateway');
    fake.apigwMock.on(CreateApiKeyCommand).callsFake((input: Record<string, unknown>) => {
      fake.addKey({ ...input, id: 'created001' });
      throw new ConflictException({ message: 'API Key already exists', $metadata: { httpStatusCode: 409 } });
    });
    const r = await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
    expect(r.successor.id).toBe('created001');
    expectCompleteRotation();
  });

  test('two successors (made by hand) are reported, not guessed', async () => {
    fake.addKey({ name: 'x1', tags: { [TAG_ROTATION_OF]: 'oldkey0001' } });
    fake.addKey({ name: 'x2', tags: { [TAG_ROTATION_OF]: 'oldkey0001' } });
    const c = newClients();
    await expect(rotateKey(c.apigw, 'acme', { secrets: c.secrets })).rejects.toThrow(/2 successors/);
  });

  test('a disabled key gets a disabled successor', async () => {
    fake.keys.get('oldkey0001')!.enabled = false;
    const c = newClients();
    await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
    expect(successors()[0].enabled).toBe(false);
  });

  test('keeps a plain-string secret plain', async () => {
    fake.secrets.set(SECRET, OLD_VALUE);
    const c = newClients();
    const r = await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW, showValue: true });
    expect(fake.secrets.get(SECRET)).toBe(r.successor.value);
  });

  test('the second rotation is named after the base name with the next generation', () => {
    expect(successorName({ name: 'acme-gen2', tags: { 'keygate:client': 'acme', 'keygate:generation': '2' } })).toBe('acme-gen3');
    expect(successorName({ name: 'acme' })).toBe('acme-gen2');
  });

  test.each([
    ['a CloudFormation stack', { tags: { 'aws:cloudformation:stack-name': 'PetStore', 'aws:cloudformation:logical-id': 'AcmeKey' } }, /CloudFormation stack PetStore/],
    ['the client-set tag', { tags: { 'keygate:client-set': 'partners' } }, /client set partners/],
    ['the client-set description', { description: '[keygate:client-set=PetStore/Partners] acme' }, /client set PetStore\/Partners.*generations. column of its source file/],
  ])('refuses a key managed by %s (exit 2, explains how to rotate in code)', async (_what, props, reason) => {
    fake.addKey({ id: 'managed001', name: 'managed', value: 'managedvaluemanagedvalue', ...props }, ['pfree']);
    const c = newClients();
    const err = await rotateKey(c.apigw, 'managed', { secrets: c.secrets }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2 });
    expect((err as Error).message).toMatch(reason);
    expect((err as Error).message).toMatch(/generations: \[1, 2\]/);
    expect(fake.calls).not.toContain('CreateApiKey');
    expect(isManagedKey(props)).toBe(true);
  });

  test('refuses a key that a rotation schedule owns, naming the secret and pointing to rotate-secret (exit 2)', async () => {
    // GIVEN a key the rotation Lambda created for a secret
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:soylent-AbCdEf';
    fake.addKey({ id: 'rotated001', name: 'soylent', value: 'rotatedvaluerotatedvalue', tags: { 'keygate:rotation-secret': secretArn } }, ['pfree']);
    const c = newClients();

    // WHEN
    const err = await rotateKey(c.apigw, 'soylent', { secrets: c.secrets }).catch((e: unknown) => e);

    // THEN
    expect(err).toMatchObject({ exitCode: 2 });
    expect((err as Error).message).toMatch(/belongs to the rotation schedule of the secret arn:aws:secretsmanager:us-east-1:123456789012:secret:soylent-AbCdEf/);
    expect((err as Error).message).toMatch(/aws secretsmanager rotate-secret --secret-id arn:aws:secretsmanager:us-east-1:123456789012:secret:soylent-AbCdEf/);
    expect(fake.calls).not.toContain('CreateApiKey');
    expect(managedBy({ tags: { 'keygate:rotation-secret': secretArn } })).toBe('rotation');
  });

  test('isManagedKey is false for plain keys', () => {
    expect(isManagedKey({ tags: { team: 'x' }, description: 'a key' })).toBe(false);
    expect(managedKeyReason({})).toBeUndefined();
  });

  test('parseDuration', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('36h')).toBe(36 * 3_600_000);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('soon')).toThrow(/Invalid duration/);
  });
});

describe('keys retire', () => {
  test('refuses before the overlap ends, then disables and deletes the predecessor', async () => {
    const c = newClients();
    await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
    const early = await retireKey(c.apigw, 'acme', { secrets: c.secrets, now: () => new Date('2026-03-05T00:00:00Z') }).catch((e: unknown) => e);
    expect(early).toMatchObject({ exitCode: 2 });
    expect((early as Error).message).toMatch(/ends at 2026-03-08T12:00:00.000Z.*--force/);
    expect(fake.keys.get('oldkey0001')?.enabled).toBe(true);

    const r = await retireKey(c.apigw, 'acme', { secrets: c.secrets, now: () => new Date('2026-03-09T00:00:00Z') });
    expect(r.steps.map((s) => `${s.step}: ${s.status}`)).toEqual(['disable predecessor: done', 'delete predecessor: done']);
    expect(fake.keys.has('oldkey0001')).toBe(false);
    const disable = fake.calls.indexOf('UpdateApiKey');
    expect(disable).toBeGreaterThan(-1);
    expect(fake.calls.indexOf('DeleteApiKey')).toBeGreaterThan(disable);
    expect(successors()).toHaveLength(1);
  });

  test('--force retires before the overlap ends; naming the successor works too', async () => {
    const c = newClients();
    const rot = await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
    const r = await retireKey(c.apigw, rot.successor.id, { secrets: c.secrets, force: true, now: () => NOW });
    expect(r.predecessor.id).toBe('oldkey0001');
    expect(fake.keys.has('oldkey0001')).toBe(false);
    // and again: nothing left to do
    const again = await retireKey(c.apigw, rot.successor.id, { secrets: c.secrets, now: () => NOW });
    expect(again.steps).toEqual([{ step: 'delete predecessor', status: 'already done' }]);
  });

  test('refuses while the successor is not in all plans (a client is never without a key)', async () => {
    const c = newClients();
    fake.failNext('CreateUsagePlanKey');
    await expect(rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW })).rejects.toThrow();
    const err = await retireKey(c.apigw, 'acme', { secrets: c.secrets, force: true, now: () => NOW }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2 });
    expect((err as Error).message).toMatch(/keys rotate acme/);
    expect(fake.keys.get('oldkey0001')?.enabled).toBe(true);
  });

  test('refuses a key that was never rotated', async () => {
    const c = newClients();
    await expect(retireKey(c.apigw, 'acme', { secrets: c.secrets, force: true })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/no successor/) });
  });

  test('re-run after the delete failed finishes it', async () => {
    const c = newClients();
    await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
    fake.failNext('DeleteApiKey');
    await expect(retireKey(c.apigw, 'acme', { secrets: c.secrets, force: true, now: () => NOW })).rejects.toThrow();
    expect(fake.keys.get('oldkey0001')?.enabled).toBe(false);
    const r = await retireKey(c.apigw, 'acme', { secrets: c.secrets, force: true, now: () => NOW });
    expect(r.steps.map((s) => s.status)).toEqual(['skipped', 'already done', 'done']);
    expect(fake.keys.has('oldkey0001')).toBe(false);
  });
});

describe('ops CLI fixes', () => {
  const conflict = (message: string) => () => Object.assign(new Error(message), { name: 'ConflictException', $metadata: { httpStatusCode: 409 } });
  const noWait = async () => undefined;

  test('rotate: a 409 "concurrent modification" is retried, then the plans are read back and verified', async () => {
    const c = newClients();
    fake.failNext('CreateUsagePlanKey', 2, conflict('Unable to complete operation due to concurrent modification. Please try again later.'));
    await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW, sleep: noWait });
    expectCompleteRotation();
  });

  test('rotate: a 409 "concurrent modification" that persists fails, saying the successor is not usable yet', async () => {
    const c = newClients();
    fake.failNext('CreateUsagePlanKey', 100, conflict('Unable to complete operation due to concurrent modification. Please try again later.'));
    await expect(rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW, sleep: noWait }))
      .rejects.toThrow(/API Gateway kept answering "concurrent modification" .* after 6 attempts\. The successor is not usable yet; re-run `keygate keys rotate acme`/);
  });

  test('rotate: a 409 "already exists" counts as in the plan, and is verified by reading the plans', async () => {
    const c = newClients();
    fake.failNext('CreateUsagePlanKey', 1, conflict('Usage Plan Key already exists'));
    await expect(rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW, sleep: noWait }))
      .rejects.toThrow(/^acme-gen2 \(\w+\) is not in the plan\(s\) (free|beta) \(p\w+\) after adding it; its requests would get 403/);
  });

  test('retire: refuses while the client\'s secret does not hold the successor\'s value', async () => {
    const c = newClients();
    await rotateKey(c.apigw, 'acme', { secrets: c.secrets, now: () => NOW });
    fake.secrets.set(SECRET, JSON.stringify({ apiKey: OLD_VALUE, owner: 'acme' }));
    await expect(retireKey(c.apigw, 'acme', { secrets: c.secrets, force: true, now: () => NOW }))
      .rejects.toThrow(/^The secret arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme-key-AbCdEf does not hold the value of the successor acme-gen2 \(\w+\) yet/);
    expect(fake.keys.get('oldkey0001')?.enabled).toBe(true);
  });
});
