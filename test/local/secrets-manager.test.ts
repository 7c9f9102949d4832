/** The local Secrets Manager slice through the real `@aws-sdk/client-secrets-manager`. */
import {
  CreateSecretCommand, DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand, ListSecretsCommand,
  ListSecretVersionIdsCommand, PutSecretValueCommand, RotateSecretCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { synthPetApp } from './fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let gw: LocalGateway;
let sm: SecretsManagerClient;

beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthPetApp(), log: () => undefined });
  sm = new SecretsManagerClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
});
afterAll(async () => {
  sm.destroy();
  await gw.close();
});

const stagesOf = async (secretId: string): Promise<Record<string, string[]>> =>
  (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};

describe('local Secrets Manager', () => {
  test('the app\'s secrets are there, with the values its keys were created from', async () => {
    const listed = await sm.send(new ListSecretsCommand({}));
    expect(listed.SecretList?.length).toBeGreaterThan(0);
    const arn = listed.SecretList![0].ARN!;
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:.+-[a-z0-9]{6}$/);
    const value = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(value.VersionStages).toEqual(['AWSCURRENT']);
    expect(gw.model.keys.size).toBeGreaterThan(0);
    expect([...gw.model.keys.values()].some((k) => k.value === value.SecretString)).toBe(true);
  });

  test('CreateSecret, PutSecretValue and UpdateSecretVersionStage move labels as Secrets Manager does', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'team/one', SecretString: 'first', ClientRequestToken: 'v1-0000000000000000000000000000000' }));
    const arn = created.ARN!;
    await expect(sm.send(new CreateSecretCommand({ Name: 'team/one', SecretString: 'again' }))).rejects.toThrow(expect.objectContaining({ name: 'ResourceExistsException' }));

    await sm.send(new PutSecretValueCommand({ SecretId: 'team/one', SecretString: 'second', ClientRequestToken: 'v2-0000000000000000000000000000000', VersionStages: ['AWSPENDING'] }));
    expect(await stagesOf(arn)).toEqual({ 'v1-0000000000000000000000000000000': ['AWSCURRENT'], 'v2-0000000000000000000000000000000': ['AWSPENDING'] });
    // the same token with another value is refused; with the same value it is a no-op
    await expect(sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'other', ClientRequestToken: 'v2-0000000000000000000000000000000', VersionStages: ['AWSPENDING'] })))
      .rejects.toThrow(expect.objectContaining({ name: 'ResourceExistsException' }));

    // moving AWSCURRENT needs the version that has it
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v2-0000000000000000000000000000000' })))
      .rejects.toThrow(/Staging label AWSCURRENT is currently attached to version v1-0000000000000000000000000000000/);
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v2-0000000000000000000000000000000', RemoveFromVersionId: 'v1-0000000000000000000000000000000' }));
    expect(await stagesOf(arn)).toEqual({ 'v1-0000000000000000000000000000000': ['AWSPREVIOUS'], 'v2-0000000000000000000000000000000': ['AWSPENDING', 'AWSCURRENT'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe('second');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('first');
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: arn }));
    expect(versions.Versions?.map((v) => v.VersionId).sort()).toEqual(['v1-0000000000000000000000000000000', 'v2-0000000000000000000000000000000']);
  });

  test('errors carry Secrets Manager\'s error types', async () => {
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'no/such/secret' }))).rejects.toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
    await sm.send(new CreateSecretCommand({ Name: 'team/two', SecretString: 'x' }));
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'team/two', VersionStage: 'AWSPENDING' }))).rejects.toThrow(/can't find the secret value for staging label: AWSPENDING/);
    await expect(sm.send(new RotateSecretCommand({ SecretId: 'team/two' }))).rejects.toThrow(/No Lambda rotation function ARN is associated with this secret/);
  });

  test('GetRandomPassword honours the character options', async () => {
    const { RandomPassword } = await sm.send(new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true, IncludeSpace: false }));
    expect(RandomPassword).toMatch(/^[A-Za-z0-9]{40}$/);
  });
});
