import { TagResourceCommand as ApiGatewayTagResourceCommand } from '@aws-sdk/client-api-gateway';
import {
  CancelRotateSecretCommand, CreateSecretCommand, ListSecretsCommand, RotateSecretCommand, SecretsManagerClient, TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientSetManifest, ownerOf } from '../../lib/shared/manifest';
import { ClientSetEvent, ClientSetResourceProperties, createHandlers, MAX_REASON_LENGTH, physicalIdOf } from '../../lib/handlers/client-set-reconciler/handler';
import { newClients } from '../ops/fake-apigw';
import { BulkFakeGateway } from './fake-gateway';

const SET = 'Stack/Api/Clients/Customers';
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stack/11111111-2222-3333-4444-555555555555';
let fake: BulkFakeGateway;
const manifests = new Map<string, ClientSetManifest>();

beforeEach(() => {
  fake = new BulkFakeGateway();
  fake.pageSize = 500;
  fake.addPlan({ id: 'pfree', name: 'Free', apiStages: [{ apiId: 'api1', stage: 'prod' }] });
  fake.addPlan({ id: 'ppro', name: 'Pro', apiStages: [{ apiId: 'api1', stage: 'prod' }] });
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
    controlPlane: { limiter: null, sleep: async () => undefined, region: 'eu-west-1' },
    reconcile: { log: () => undefined },
  });
}

function props(key: string, manifest: ClientSetManifest, extra: Partial<ClientSetResourceProperties> = {}): ClientSetResourceProperties {
  manifests.set(`bucket/${key}`, manifest);
  return { SetId: SET, ManifestBucket: 'bucket', ManifestKey: key, Tiers: { t0: 'pfree' }, BatchSize: '100', ...extra };
}

function event(requestType: ClientSetEvent['RequestType'], resourceProperties: ClientSetResourceProperties, more: Partial<ClientSetEvent> = {}): ClientSetEvent {
  return { RequestType: requestType, ResourceProperties: resourceProperties, StackId: STACK_ID, LogicalResourceId: 'ApiClientsCustomers', RequestId: 'req-1', ...more };
}

const manyClients = (n: number, tags = false) => ({ version: 1, clients: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, tiers: ['t0'], ...(tags ? { tags: { team: 'a' } } : {}) })) });
const timeLeft = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('custom resource handler', () => {
  test('onEvent validates and answers the physical id without writing; isComplete writes and returns Data only when complete', async () => {
    // GIVEN
    const h = handlers();
    const create = event('Create', props('m1.json', { version: 1, clients: [{ name: 'a', tiers: ['t0'] }, { name: 'b', tiers: ['t0'], enabled: false }] }));

    // WHEN
    const created = await h.onEvent(create, timeLeft(600_000));

    // THEN
    expect(created).toEqual({ PhysicalResourceId: physicalIdOf(SET) });
    expect(fake.writeCalls()).toEqual([]);
    const done = await h.isComplete({ ...create, PhysicalResourceId: created.PhysicalResourceId }, timeLeft(600_000));
    expect(done).toEqual({ IsComplete: true, Data: { Keys: 2, Retired: 0 } });
    expect(fake.writeCalls()).toEqual(['ImportApiKeys']);
  });

  test('a pass out of time returns IsComplete false and no Data (the framework fails Data with IsComplete false)', async () => {
    const h = handlers();
    const create = event('Create', props('m1.json', manyClients(300)));
    const partial = await h.isComplete(create, timeLeft(0));
    expect(partial).toEqual({ IsComplete: false });
  });

  test('refuses, before any write, a change that needs longer than the total timeout, with its call count and how to split it', async () => {
    const h = handlers();
    const create = event('Create', props('m1.json', manyClients(1000, true), { TotalTimeoutSeconds: '60' }));
    await expect(h.onEvent(create, timeLeft(600_000))).rejects.toThrow(/^the change needs ~\d+ API Gateway calls .*~10\d s, more than the 48 s this set may plan within the custom resource's 60 s timeout\. Nothing was changed\. Split it: deploy at most ~\d+ of the 1000 key changes at a time/);
    expect(fake.writeCalls()).toEqual([]);
  });

  test('refuses keys of its set that another resource owns unless AdoptExistingKeys; adopts them when told', async () => {
    const h = handlers();
    const manifest = { version: 1, clients: [{ name: 'a', tiers: ['t0'] }] };
    const old = event('Create', props('m1.json', manifest), { LogicalResourceId: 'OldCustomers' });
    await h.isComplete(old, timeLeft(600_000));
    const value = fake.keyByName('a')?.value;
    fake.calls.length = 0;
    await expect(h.onEvent(event('Create', props('m1.json', manifest)), timeLeft(600_000))).rejects.toThrow(new RegExp(`^1 keys of the client set Stack\\/Api\\/Clients\\/Customers belong to another resource \\(${ownerOf(STACK_ID, 'OldCustomers')}\\); .*set adoptExistingKeys: true`));
    expect(fake.writeCalls()).toEqual([]);
    const adopt = event('Create', props('m1.json', manifest, { AdoptExistingKeys: 'true' }));
    await h.onEvent(adopt, timeLeft(600_000));
    expect(await h.isComplete(adopt, timeLeft(600_000))).toEqual({ IsComplete: true, Data: { Keys: 1, Retired: 0 } });
    expect(fake.keyByName('a')).toMatchObject({ value, description: `[keygate:client-set=Stack/Api/Clients/Customers owner=${ownerOf(STACK_ID, 'ApiClientsCustomers')} from=${ownerOf(STACK_ID, 'OldCustomers')}]` });
  });

  test('a Delete from a resource that no longer owns the keys deletes nothing', async () => {
    const h = handlers();
    const create = event('Create', props('m1.json', manyClients(3)));
    await h.isComplete(create, timeLeft(600_000));
    fake.calls.length = 0;
    await h.isComplete(event('Delete', create.ResourceProperties, { LogicalResourceId: 'SomeOtherResource', PhysicalResourceId: physicalIdOf(SET) }), timeLeft(600_000));
    expect(fake.writeCalls()).toEqual([]);
    expect(fake.namesOwnedBy('[keygate:client-set=Stack/Api/Clients/Customers')).toEqual(['c0', 'c1', 'c2']);
  });

  test('refuses a tier whose usage plan does not exist', async () => {
    const h = handlers();
    await expect(h.onEvent(event('Create', props('m1.json', manyClients(1), { Tiers: { t0: 'pgone' } })), timeLeft(600_000))).rejects.toThrow(/^the usage plan pgone of tier t0 does not exist$/);
  });

  test('a failure reason leads with the first cause and stays short for CloudFormation\'s 4 KB response', async () => {
    const h = handlers();
    fake.failNext('ImportApiKeys', 1, () => Object.assign(new Error(`first cause; ${'then more '.repeat(600)}`), { name: 'BadRequestException', $metadata: { httpStatusCode: 400 } }));
    const error = await h.isComplete(event('Create', props('m1.json', manyClients(2))), timeLeft(600_000)).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^ImportApiKeys: first cause; (then more )+[a-z ]*…$/);
    expect((error as Error).message.length).toBeLessThanOrEqual(MAX_REASON_LENGTH + 1);
    expect((error as Error).stack).toBe(`BadRequestException: ${(error as Error).message}`);
  });

  test('tag ARNs carry the stack\'s partition (China, GovCloud)', async () => {
    const h = handlers();
    const create = event('Create', props('m1.json', { version: 1, clients: [{ name: 'a', tiers: ['t0'], tags: { team: 'x' } }] }), { StackId: STACK_ID.replace('arn:aws:', 'arn:aws-cn:').replace('eu-west-1', 'cn-north-1') });
    await h.isComplete(create, timeLeft(600_000));
    expect(fake.apigwMock).toHaveReceivedCommandWith(ApiGatewayTagResourceCommand, { resourceArn: expect.stringMatching(/^arn:aws-cn:apigateway:eu-west-1::\/apikeys\//) });
  });
});

describe('custom resource handler, rotating set', () => {
  const smMock = mockClient(SecretsManagerClient);
  const rotation = { LambdaArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rotation', ScheduleExpression: 'rate(90 days)', OverlapSeconds: '604800', RecoveryWindowDays: '7' };
  const rotatingHandlers = () => createHandlers({
    apigw: newClients().apigw,
    secrets: new SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    loadManifest: async (bucket, key) => manifests.get(`${bucket}/${key}`) as ClientSetManifest,
    controlPlane: { limiter: null, sleep: async () => undefined, region: 'eu-west-1' },
    reconcile: { log: () => undefined },
    rotationSpacingMs: 0,
  });
  beforeEach(() => smMock.reset());
  afterAll(() => smMock.restore());

  test('a rotating set imports no key: isComplete creates a secret per client and starts its rotation, Data counts clients', async () => {
    smMock.on(ListSecretsCommand).resolves({ SecretList: [] });
    smMock.on(CreateSecretCommand).callsFake((input: { Name: string }) => ({ ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${input.Name}-AbCdEf`, Name: input.Name }));
    smMock.on(RotateSecretCommand).resolves({});
    const h = rotatingHandlers();
    const create = event('Create', props('r1.json', { version: 1, clients: [{ name: 'a', tiers: ['t0'] }, { name: 'b', tiers: ['t0'] }] }, { Rotation: rotation }));
    await h.onEvent(create, timeLeft(600_000));
    expect(smMock.commandCalls(CreateSecretCommand)).toHaveLength(0); // onEvent writes nothing
    expect(await h.isComplete(create, timeLeft(600_000))).toEqual({ IsComplete: true, Data: { Keys: 0, Retired: 0, Clients: 2, RetiredClients: 0 } });
    expect(smMock.commandCalls(CreateSecretCommand).map((c) => c.args[0].input.Name)).toEqual([`keygate/${SET}/a`, `keygate/${SET}/b`]);
    expect(smMock.commandCalls(RotateSecretCommand).map((c) => c.args[0].input.RotateImmediately)).toEqual([true, true]);
    expect(fake.writeCalls()).toEqual([]);
  });

  test('onEvent refuses, before any write, a secret of the set that another resource owns', async () => {
    smMock.on(ListSecretsCommand).resolves({ SecretList: [{
      ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:keygate/${SET}/a-AbCdEf`, Name: `keygate/${SET}/a`,
      Tags: [{ Key: 'keygate:client-set', Value: SET }, { Key: 'keygate:client-set-owner', Value: 'feedbeef' }],
    }] });
    const h = rotatingHandlers();
    const create = event('Create', props('r1.json', { version: 1, clients: [{ name: 'a', tiers: ['t0'] }] }, { Rotation: rotation }));
    await expect(h.onEvent(create, timeLeft(600_000))).rejects.toThrow(/^1 secrets of the client set .* belong to another resource \(feedbeef\); this resource is [0-9a-f]{8}\. .*Nothing was changed\.$/);
    expect(smMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  test('a set that stops rotating retires the secrets of the previous deployment and imports keys', async () => {
    const owner = ownerOf(STACK_ID, 'ApiClientsCustomers');
    smMock.on(ListSecretsCommand).resolves({ SecretList: [{
      ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:keygate/${SET}/a-AbCdEf`, Name: `keygate/${SET}/a`, RotationEnabled: true,
      Tags: [{ Key: 'keygate:client-set', Value: SET }, { Key: 'keygate:client-set-owner', Value: owner }],
    }] });
    smMock.on(CancelRotateSecretCommand).resolves({});
    smMock.on(TagResourceCommand).resolves({});
    const h = rotatingHandlers();
    const manifest = { version: 1, clients: [{ name: 'a', tiers: ['t0'] }] };
    const update = event('Update', props('r2.json', manifest), { OldResourceProperties: props('r1.json', manifest, { Rotation: rotation }) });
    expect(await h.isComplete(update, timeLeft(600_000))).toEqual({ IsComplete: true, Data: { Keys: 1, Retired: 0, Clients: 0, RetiredClients: 1 } });
    expect(smMock.commandCalls(CancelRotateSecretCommand)).toHaveLength(1);
    expect(fake.writeCalls()).toEqual(['ImportApiKeys']);
  });

  test('a set that starts rotating makes its clients\' secrets first, then retires their imported keys (a rollback restores them)', async () => {
    const manifest = { version: 1, clients: [{ name: 'a', tiers: ['t0'] }] };
    const plain = props('p1.json', manifest);
    const first = createHandlers({
      apigw: newClients().apigw, loadManifest: async (bucket, key) => manifests.get(`${bucket}/${key}`) as ClientSetManifest,
      controlPlane: { limiter: null, sleep: async () => undefined, region: 'eu-west-1' }, reconcile: { log: () => undefined },
    });
    await first.isComplete(event('Create', plain), timeLeft(600_000));
    smMock.on(ListSecretsCommand).resolves({ SecretList: [] });
    smMock.on(CreateSecretCommand).callsFake((input: { Name: string }) => ({ ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${input.Name}-AbCdEf`, Name: input.Name }));
    smMock.on(RotateSecretCommand).resolves({});
    const rotating = props('r1.json', manifest, { Rotation: rotation });
    const update = event('Update', rotating, { OldResourceProperties: plain, RequestId: 'req-2' });
    expect(await rotatingHandlers().isComplete(update, timeLeft(600_000))).toEqual({ IsComplete: true, Data: { Keys: 1, Retired: 1, Clients: 1, RetiredClients: 0 } });
    expect(smMock.commandCalls(CreateSecretCommand)).toHaveLength(1);
    expect(fake.keyByName('a')?.enabled).toBe(false);

    // CloudFormation rolls back: the imported key is enabled again, the new secret retired.
    smMock.on(ListSecretsCommand).resolves({ SecretList: [{
      ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:keygate/${SET}/a-AbCdEf`, Name: `keygate/${SET}/a`, RotationEnabled: true,
      Tags: [{ Key: 'keygate:client-set', Value: SET }, { Key: 'keygate:client-set-owner', Value: ownerOf(STACK_ID, 'ApiClientsCustomers') }],
    }] });
    smMock.on(CancelRotateSecretCommand).resolves({});
    smMock.on(TagResourceCommand).resolves({});
    const rollback = event('Update', plain, { OldResourceProperties: rotating, RequestId: 'req-3' });
    expect(await rotatingHandlers().isComplete(rollback, timeLeft(600_000))).toEqual({ IsComplete: true, Data: { Keys: 1, Retired: 0, Clients: 0, RetiredClients: 1 } });
    expect(fake.keyByName('a')?.enabled).toBe(true);
    expect(smMock.commandCalls(CancelRotateSecretCommand)).toHaveLength(1);
  });
});
