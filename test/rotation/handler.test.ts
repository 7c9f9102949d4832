/** The rotation Lambda's steps, each against mocked SDK clients (aws-sdk-client-mock). */
import {
  APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, GetApiKeyCommand, GetApiKeysCommand,
  GetUsagePlanKeyCommand, TagResourceCommand, UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import {
  DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand, ListSecretsCommand, PutSecretValueCommand, SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, retireExpiredKeys, retireRun, RotationDeps, RotationEvent, rotationStep, secretsWithPrefixes } from '../../lib/handlers/key-rotation';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:globex-AbCdEf';
const OLD_VERSION = 'old-version-0000';
const TOKEN = 'new-version-1111';
const OLD_VALUE = 'OldValue0123456789abcdefghijklmnopqrstuv';
const NEW_VALUE = 'NewValue0123456789abcdefghijklmnopqrstuv';
const NOW = new Date('2026-12-01T00:00:00Z');

const sm = mockClient(SecretsManagerClient);
const gw = mockClient(APIGatewayClient);
const deps: RotationDeps = { secrets: new SecretsManagerClient({ region: 'us-east-1' }), apigw: new APIGatewayClient({ region: 'us-east-1' }), now: () => NOW };

const notFound = (): Error => Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
const apigwNotFound = (): Error => Object.assign(new Error('Invalid API Key identifier specified'), { name: 'NotFoundException' });
const conflict = (): Error => Object.assign(new Error('API Key already exists'), { name: 'ConflictException' });

function givenSecret(versions: Record<string, string[]>, extra: Record<string, unknown> = {}): void {
  sm.on(DescribeSecretCommand).resolves({
    ARN, Name: 'globex', RotationEnabled: true, VersionIdsToStages: versions,
    Tags: [
      { Key: 'keygate:client', Value: 'globex' }, { Key: 'keygate:usage-plans', Value: 'pbasic ppro' },
      { Key: 'keygate:rotation-overlap-seconds', Value: '604800' }, { Key: 'team', Value: 'partners' },
    ],
    ...extra,
  });
}

const oldKey = { id: 'k-old', name: 'globex-rotated-oldversion00', enabled: true, tags: { 'keygate:rotation-secret': ARN, 'keygate:secret-version': OLD_VERSION } };
const newKey = { id: 'k-new', name: 'globex-rotated-newversion11', enabled: true, tags: { 'keygate:rotation-secret': ARN, 'keygate:secret-version': TOKEN, 'keygate:rotation-of': 'k-old' } };
const step = (Step: RotationEvent['Step']): RotationEvent => ({ Step, SecretId: ARN, ClientRequestToken: TOKEN });

beforeEach(() => {
  sm.reset();
  gw.reset();
  givenSecret({ [OLD_VERSION]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN, VersionStage: 'AWSPENDING' }).resolves({ SecretString: NEW_VALUE });
  gw.on(GetApiKeysCommand).resolves({ items: [oldKey] });
});

describe('every step', () => {
  test('refuses a version that is not pending', async () => {
    givenSecret({ [OLD_VERSION]: ['AWSCURRENT'], [TOKEN]: [] });
    await expect(rotationStep(step('setSecret'), deps)).rejects.toThrow(/Secret version new-version-1111 is not set as AWSPENDING for rotation of arn:aws:secretsmanager/);
  });

  test('refuses an unknown version', async () => {
    givenSecret({ [OLD_VERSION]: ['AWSCURRENT'] });
    await expect(rotationStep(step('createSecret'), deps)).rejects.toThrow(/Secret version new-version-1111 has no stage for rotation/);
  });

  test('refuses a secret without keygate\'s rotation tags, naming them', async () => {
    givenSecret({ [OLD_VERSION]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] }, { Tags: [] });
    await expect(rotationStep(step('setSecret'), deps)).rejects.toThrow(/lacks keygate's rotation tags \(keygate:client, keygate:usage-plans, keygate:rotation-overlap-seconds\)/);
  });

  test('does nothing when the version is current already', async () => {
    givenSecret({ [TOKEN]: ['AWSCURRENT'] });
    await rotationStep(step('setSecret'), deps);
    expect(gw).not.toHaveReceivedCommand(CreateApiKeyCommand);
  });
});

describe('createSecret', () => {
  test('puts a fresh 40-character alphanumeric value as AWSPENDING under the token', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(GetRandomPasswordCommand).resolves({ RandomPassword: NEW_VALUE });
    await rotationStep(step('createSecret'), deps);
    expect(sm).toHaveReceivedCommandWith(GetRandomPasswordCommand, { PasswordLength: 40, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true });
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: ARN, ClientRequestToken: TOKEN, SecretString: NEW_VALUE, VersionStages: ['AWSPENDING'] });
  });

  test('a retry keeps the value already put', async () => {
    await rotationStep(step('createSecret'), deps);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
  });
});

describe('setSecret', () => {
  test('creates the key with the pending value, owned by the schedule and linked to its predecessor, in every plan', async () => {
    gw.on(CreateApiKeyCommand).resolves({ id: 'k-new' });
    gw.on(GetUsagePlanKeyCommand).rejects(apigwNotFound());
    await rotationStep(step('setSecret'), deps);
    expect(gw).toHaveReceivedCommandWith(CreateApiKeyCommand, {
      name: 'globex-rotated-newversion11', enabled: true, value: NEW_VALUE,
      tags: { team: 'partners', 'keygate:client': 'globex', 'keygate:rotation-secret': ARN, 'keygate:secret-version': TOKEN, 'keygate:rotation-of': 'k-old' },
    });
    expect(gw).toHaveReceivedCommandWith(CreateUsagePlanKeyCommand, { usagePlanId: 'pbasic', keyId: 'k-new', keyType: 'API_KEY' });
    expect(gw).toHaveReceivedCommandWith(CreateUsagePlanKeyCommand, { usagePlanId: 'ppro', keyId: 'k-new', keyType: 'API_KEY' });
  });

  test('a retry finds its key and adds only the missing plan', async () => {
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, newKey] });
    gw.on(GetUsagePlanKeyCommand, { usagePlanId: 'pbasic' }).resolves({ id: 'k-new' });
    gw.on(GetUsagePlanKeyCommand, { usagePlanId: 'ppro' }).rejects(apigwNotFound());
    await rotationStep(step('setSecret'), deps);
    expect(gw).not.toHaveReceivedCommand(CreateApiKeyCommand);
    expect(gw).toHaveReceivedCommandTimes(CreateUsagePlanKeyCommand, 1);
    expect(gw).toHaveReceivedCommandWith(CreateUsagePlanKeyCommand, { usagePlanId: 'ppro', keyId: 'k-new' });
  });

  test('an SDK retry that meets the key its first attempt created uses it', async () => {
    gw.on(GetApiKeysCommand).resolvesOnce({ items: [oldKey] }).resolves({ items: [oldKey, newKey] });
    gw.on(CreateApiKeyCommand).rejects(conflict());
    gw.on(GetUsagePlanKeyCommand).resolves({ id: 'k-new' });
    await rotationStep(step('setSecret'), deps);
    expect(gw).toHaveReceivedCommandTimes(CreateApiKeyCommand, 1);
  });

  test('a value that some other key holds already is an error', async () => {
    gw.on(CreateApiKeyCommand).rejects(conflict());
    await expect(rotationStep(step('setSecret'), deps)).rejects.toThrow(/A key with the pending value of .* exists but was not created by its rotation/);
  });
});

describe('testSecret', () => {
  beforeEach(() => {
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, newKey] });
    gw.on(GetUsagePlanKeyCommand).resolves({ id: 'k-new' });
  });

  test('passes when the key holds the value, is enabled and in every plan', async () => {
    gw.on(GetApiKeyCommand).resolves({ id: 'k-new', enabled: true, value: NEW_VALUE });
    await rotationStep(step('testSecret'), deps);
    expect(gw).toHaveReceivedCommandTimes(GetUsagePlanKeyCommand, 2);
  });

  test('fails for a disabled key', async () => {
    gw.on(GetApiKeyCommand).resolves({ id: 'k-new', enabled: false, value: NEW_VALUE });
    await expect(rotationStep(step('testSecret'), deps)).rejects.toThrow(/testSecret: key k-new is disabled/);
  });

  test('fails for another value, without printing either value', async () => {
    gw.on(GetApiKeyCommand).resolves({ id: 'k-new', enabled: true, value: OLD_VALUE });
    const error = await rotationStep(step('testSecret'), deps).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/testSecret: key k-new does not hold the pending value/);
    expect((error as Error).message).not.toContain(OLD_VALUE);
    expect((error as Error).message).not.toContain(NEW_VALUE);
  });

  test('a pending version without a value is Secrets Manager testing the configuration (RotateImmediately false): passes without touching keys', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN, VersionStage: 'AWSPENDING' }).rejects(notFound());
    await rotationStep(step('testSecret'), deps);
    expect(gw).not.toHaveReceivedCommand(GetApiKeyCommand);
  });

  test('a configuration test still fails for a secret without keygate\'s rotation tags', async () => {
    givenSecret({ [OLD_VERSION]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] }, { Tags: [] });
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN, VersionStage: 'AWSPENDING' }).rejects(notFound());
    await expect(rotationStep(step('testSecret'), deps)).rejects.toThrow(/lacks keygate's rotation tags/);
  });

  test('fails for a key missing from a plan', async () => {
    gw.on(GetApiKeyCommand).resolves({ id: 'k-new', enabled: true, value: NEW_VALUE });
    gw.on(GetUsagePlanKeyCommand, { usagePlanId: 'ppro' }).rejects(apigwNotFound());
    await expect(rotationStep(step('testSecret'), deps)).rejects.toThrow(/testSecret: key k-new is not in usage plan ppro/);
  });
});

describe('finishSecret', () => {
  test('starts the overlap on the new key, then moves AWSCURRENT to it', async () => {
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, newKey] });
    await rotationStep(step('finishSecret'), deps);
    expect(gw).toHaveReceivedCommandWith(TagResourceCommand, {
      resourceArn: 'arn:aws:apigateway:us-east-1::/apikeys/k-new', tags: { 'keygate:retire-predecessor-after': '2026-12-08T00:00:00.000Z' },
    });
    expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: OLD_VERSION });
  });

  test('a retry after AWSCURRENT moved does nothing', async () => {
    givenSecret({ [OLD_VERSION]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT', 'AWSPENDING'] });
    await rotationStep(step('finishSecret'), deps);
    expect(sm).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(gw).not.toHaveReceivedCommand(TagResourceCommand);
  });
});

describe('retiring', () => {
  const current = { ...newKey, tags: { ...newKey.tags, 'keygate:retire-predecessor-after': '2026-12-08T00:00:00.000Z' } };
  const at = (iso: string): RotationDeps => ({ ...deps, now: () => new Date(iso) });
  beforeEach(() => givenSecret({ [OLD_VERSION]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'] }));

  test('keeps the predecessor during its overlap', async () => {
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, current] });
    expect(await retireExpiredKeys(ARN, at('2026-12-07T23:59:00Z'))).toEqual({ secretId: ARN, retired: [] });
    expect(gw).not.toHaveReceivedCommand(UpdateApiKeyCommand);
  });

  test('disables, then deletes the predecessor after its overlap', async () => {
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, current] });
    expect(await retireExpiredKeys(ARN, at('2026-12-08T00:01:00Z'))).toEqual({ secretId: ARN, retired: ['k-old'] });
    expect(gw).toHaveReceivedNthCommandWith(2, UpdateApiKeyCommand, { apiKey: 'k-old', patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] });
    expect(gw).toHaveReceivedNthCommandWith(3, DeleteApiKeyCommand, { apiKey: 'k-old' });
  });

  test('retires the key of a rotation that failed before finishSecret, keeps a pending one', async () => {
    const failed = { id: 'k-failed', enabled: true, tags: { 'keygate:rotation-secret': ARN, 'keygate:secret-version': 'abandoned' } };
    const pending = { id: 'k-pending', enabled: true, tags: { 'keygate:rotation-secret': ARN, 'keygate:secret-version': 'in-progress' } };
    givenSecret({ [OLD_VERSION]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'], 'in-progress': ['AWSPENDING'] });
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, current, failed, pending] });
    expect((await retireExpiredKeys(ARN, at('2026-12-01T01:00:00Z'))).retired).toEqual(['k-failed']);
  });

  test('retires nothing when two keys claim the current value (tags copied out of band)', async () => {
    const copy = { id: 'k-copy', enabled: true, tags: { ...current.tags, 'keygate:rotation-of': 'k-new' } };
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, current, copy] });
    await expect(retireExpiredKeys(ARN, at('2027-01-01T00:00:00Z'))).rejects.toThrow(/2 keys \(k-new, k-copy\) claim the current value of .*; keeping all 3 keys of client globex/);
    expect(gw).not.toHaveReceivedCommand(DeleteApiKeyCommand);
  });

  test('ignores keys of other secrets', async () => {
    const foreign = { id: 'k-foreign', enabled: true, name: 'globex-rotated-x', tags: { 'keygate:rotation-secret': `${ARN}-other`, 'keygate:secret-version': 'x' } };
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, current, foreign] });
    expect((await retireExpiredKeys(ARN, at('2027-01-01T00:00:00Z'))).retired).toEqual(['k-old']);
  });

  test('the hourly run also lists the secrets of rotating client sets by name prefix (exact case, rotation on)', async () => {
    const setSecret = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:keygate/partners/acme-AbCdEf';
    sm.on(ListSecretsCommand).resolves({ SecretList: [
      { ARN: setSecret, Name: 'keygate/partners/acme', RotationEnabled: true },
      { ARN: `${setSecret}x`, Name: 'keygate/partners/initech', RotationEnabled: false }, // retired by its set
      { ARN: `${setSecret}y`, Name: 'keygate/partnersX/acme', RotationEnabled: true }, // another set
    ] });
    expect(await secretsWithPrefixes(['keygate/partners/'], at('2027-01-01T00:00:00Z'))).toEqual([setSecret]);
    expect(sm).toHaveReceivedCommandWith(ListSecretsCommand, { Filters: [{ Key: 'name', Values: ['keygate/partners/'] }] });
    sm.on(DescribeSecretCommand, { SecretId: setSecret }).rejects(new Error('AccessDenied'));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await expect(retireRun({ action: 'retire', secretIds: [], secretNamePrefixes: ['keygate/partners/'] }, at('2027-01-01T00:00:00Z')))
        .rejects.toThrow(/Retiring keys failed for 1 secret\(s\): arn:.*keygate\/partners\/acme-AbCdEf: AccessDenied/);
    } finally {
      log.mockRestore();
    }
  });

  test('the hourly run goes through every secret and fails at the end if one failed (the alarm fires)', async () => {
    const other = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:initech-XyZxYz';
    sm.on(DescribeSecretCommand, { SecretId: other }).rejects(new Error('AccessDenied'));
    // the handler runs on the real clock: an overlap that ended long ago
    gw.on(GetApiKeysCommand).resolves({ items: [oldKey, { ...current, tags: { ...current.tags, 'keygate:retire-predecessor-after': '2000-01-01T00:00:00.000Z' } }] });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await expect(handler({ action: 'retire', secretIds: [other, ARN] })).rejects.toThrow(/Retiring keys failed for 1 secret\(s\): arn:.*initech-XyZxYz: AccessDenied/);
    } finally {
      log.mockRestore();
    }
    expect(gw).toHaveReceivedCommandWith(DeleteApiKeyCommand, { apiKey: 'k-old' });
  });
});
