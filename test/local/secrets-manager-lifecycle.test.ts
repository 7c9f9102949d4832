/**
 * The local Secrets Manager slice's lifecycle calls (what a rotating client set needs) through
 * the real `@aws-sdk/client-secrets-manager`: ListSecrets filters and paging, tags, rotation
 * off and on, deletion with a recovery window and restore, with Secrets Manager's error types.
 */
import {
  CancelRotateSecretCommand, CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand,
  paginateListSecrets, PutSecretValueCommand, RestoreSecretCommand, RotateSecretCommand, SecretsManagerClient, TagResourceCommand, UntagResourceCommand,
  UpdateSecretCommand, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import type { RotationInvocation } from '../../lib/local/secrets-manager/service';
import { synthPetApp } from './fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const DAY = 86_400_000;
let gw: LocalGateway;
let sm: SecretsManagerClient;
let now = Date.parse('2026-12-01T00:00:00Z');
const invocations: RotationInvocation[] = [];

beforeAll(async () => {
  gw = await startLocalGateway({
    assemblyDir: synthPetApp(), log: () => undefined, clock: () => now,
    // A minimal rotation function: a value at createSecret, AWSCURRENT moved at finishSecret.
    invokeRotation: async (_arn, event) => {
      invocations.push(event);
      if (event.Step === 'createSecret') await sm.send(new PutSecretValueCommand({ SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken, SecretString: 'rotated', VersionStages: ['AWSPENDING'] }));
      if (event.Step === 'finishSecret') {
        const current = Object.entries((await sm.send(new DescribeSecretCommand({ SecretId: event.SecretId }))).VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
        await sm.send(new UpdateSecretVersionStageCommand({ SecretId: event.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: event.ClientRequestToken, RemoveFromVersionId: current }));
      }
    },
  });
  sm = new SecretsManagerClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
  for (const name of ['keygate/set-a/acme', 'keygate/set-a/globex', 'keygate/set-ab/initech', 'other/acme']) {
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'placeholder', Tags: [{ Key: 'keygate:client-set', Value: name.split('/')[1] }] }));
  }
});
afterAll(async () => {
  sm.destroy();
  await gw.close();
});

const names = (list: { Name?: string }[] | undefined) => (list ?? []).map((s) => s.Name).sort();

describe('local Secrets Manager: ListSecrets', () => {
  test('the name filter is a case-sensitive prefix match; `!` negates; filters combine', async () => {
    const byPrefix = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['keygate/set-a/'] }] }));
    expect(names(byPrefix.SecretList)).toEqual(['keygate/set-a/acme', 'keygate/set-a/globex']);
    expect((await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['KEYGATE/'] }] }))).SecretList).toEqual([]);
    const negated = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['keygate/'] }, { Key: 'name', Values: ['!keygate/set-ab/'] }] }));
    expect(names(negated.SecretList)).toEqual(['keygate/set-a/acme', 'keygate/set-a/globex']);
    const byTag = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-key', Values: ['keygate:client-set'] }, { Key: 'tag-value', Values: ['set-ab'] }] }));
    expect(names(byTag.SecretList)).toEqual(['keygate/set-ab/initech']);
  });

  test('pages with MaxResults and NextToken (the SDK paginator follows them)', async () => {
    const first = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['keygate/'] }], MaxResults: 2 }));
    expect(first.SecretList).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    const all: string[] = [];
    for await (const page of paginateListSecrets({ client: sm, pageSize: 1 }, { Filters: [{ Key: 'name', Values: ['keygate/'] }] })) all.push(...names(page.SecretList) as string[]);
    expect(all.sort()).toEqual(['keygate/set-a/acme', 'keygate/set-a/globex', 'keygate/set-ab/initech']);
    await expect(sm.send(new ListSecretsCommand({ Filters: [{ Key: 'owning-service', Values: ['x'] }] }))).rejects.toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
  });
});

describe('local Secrets Manager: tags, rotation, deletion', () => {
  test('TagResource and UntagResource change the tags DescribeSecret shows; aws: keys are refused', async () => {
    await sm.send(new TagResourceCommand({ SecretId: 'keygate/set-a/acme', Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'keygate:client-set', Value: 'set-a' }] }));
    await sm.send(new UntagResourceCommand({ SecretId: 'keygate/set-a/acme', TagKeys: ['keygate:client-set'] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'keygate/set-a/acme' }))).Tags).toEqual([{ Key: 'team', Value: 'blue' }]);
    await expect(sm.send(new TagResourceCommand({ SecretId: 'keygate/set-a/acme', Tags: [{ Key: 'aws:x', Value: 'y' }] }))).rejects.toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
  });

  test('UpdateSecret changes the description (values go through PutSecretValue)', async () => {
    await sm.send(new UpdateSecretCommand({ SecretId: 'keygate/set-a/acme', Description: 'Acme Corp' }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'keygate/set-a/acme' }))).Description).toBe('Acme Corp');
    await expect(sm.send(new UpdateSecretCommand({ SecretId: 'keygate/set-a/acme', SecretString: 'x' }))).rejects.toThrow(/updates only a secret's Description/);
  });

  test('RotateSecret turns rotation on; CancelRotateSecret off; RotateImmediately false runs only testSecret on a version it then removes', async () => {
    const id = 'keygate/set-a/globex';
    invocations.length = 0;
    await sm.send(new RotateSecretCommand({ SecretId: id, RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rot', RotationRules: { ScheduleExpression: 'rate(30 days)' } }));
    expect(invocations.map((i) => i.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: id }))).RotationEnabled).toBe(true);

    await sm.send(new CancelRotateSecretCommand({ SecretId: id }));
    const cancelled = await sm.send(new DescribeSecretCommand({ SecretId: id }));
    expect({ enabled: cancelled.RotationEnabled, lambda: cancelled.RotationLambdaARN }).toEqual({ enabled: false, lambda: 'arn:aws:lambda:us-east-1:123456789012:function:rot' });

    invocations.length = 0;
    const before = (await sm.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages;
    await sm.send(new RotateSecretCommand({ SecretId: id, RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rot', RotationRules: { ScheduleExpression: 'rate(30 days)' }, RotateImmediately: false }));
    expect(invocations.map((i) => i.Step)).toEqual(['testSecret']);
    const after = await sm.send(new DescribeSecretCommand({ SecretId: id }));
    expect({ enabled: after.RotationEnabled, versions: after.VersionIdsToStages }).toEqual({ enabled: true, versions: before });
  });

  test('DeleteSecret with a recovery window: unlisted, unreadable, its name reserved; RestoreSecret brings it back; after the window it is gone', async () => {
    const id = 'keygate/set-ab/initech';
    await expect(sm.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 3 }))).rejects.toThrow(/RecoveryWindowInDays value must be between 7 and 30 days/);
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate?.getTime()).toBe(now + 7 * DAY);
    expect(names((await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [id] }] }))).SecretList)).toEqual([]);
    const planned = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [id] }], IncludePlannedDeletion: true }));
    expect(planned.SecretList?.[0].DeletedDate?.getTime()).toBe(now);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: id }))).rejects.toThrow(expect.objectContaining({ name: 'InvalidRequestException', message: expect.stringMatching(/marked for deletion/) }));
    await expect(sm.send(new CreateSecretCommand({ Name: id, SecretString: 'x' }))).rejects.toThrow(/already scheduled for deletion/);
    await expect(sm.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7 }))).rejects.toThrow(/already scheduled for deletion/);

    await sm.send(new RestoreSecretCommand({ SecretId: id }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe('placeholder');

    await sm.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7 }));
    now += 7 * DAY;
    await expect(sm.send(new DescribeSecretCommand({ SecretId: id }))).rejects.toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: 'new' })); // the name is free again
  });
});
