/**
 * `--state` keeps the local Secrets Manager's secrets: a rotated value survives a restart with
 * the key it made, and a damaged secrets section is refused naming the field.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CancelRotateSecretCommand, CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { readState } from '../../lib/local/state';
import { rotationApp } from '../rotation/fixture';
import { tmpDir } from './fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };
const NOW = Date.parse('2026-12-01T00:00:00Z');
let assemblyDir: string;
let statePath: string;

beforeAll(() => {
  const dir = tmpDir('state-secrets');
  assemblyDir = rotationApp(path.join(dir, 'cdk.out')).app.synth().directory;
  statePath = path.join(dir, 'state.json');
});

interface Running {
  readonly gw: LocalGateway;
  readonly secrets: SecretsManagerClient;
  readonly secretArn: string;
  close(): Promise<void>;
}

/** A gateway on the state file, with `rotateOnStart` as `keygate local` runs it. */
async function start(state = statePath): Promise<Running> {
  // The rotation steps run in the bundled rotation Lambda from the assembly, calling back into this gateway.
  const gw = await startLocalGateway({ assemblyDir, statePath: state, clock: () => NOW, log: () => undefined, rotateOnStart: true });
  const secrets = new SecretsManagerClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials, maxAttempts: 1 });
  const listed = await secrets.send(new ListSecretsCommand({}));
  const secretArn = listed.SecretList?.find((s) => s.Tags?.some((t) => t.Key === 'keygate:client' && t.Value === 'globex'))?.ARN ?? '';
  return { gw, secrets, secretArn, close: async () => { secrets.destroy(); await gw.close(); } };
}

async function status(gw: LocalGateway, key: string): Promise<number> {
  const res = await fetch(`${gw.info.apis[0].stages[0].url}/pets`, { headers: { 'x-api-key': key } });
  await res.arrayBuffer();
  return res.status;
}

test('rotated versions, their labels and CreateSecret secrets survive a restart with the keys they made; the first rotation is not run again', async () => {
  // GIVEN a first run: the schedule's first rotation at start, a second one, and a secret made with CreateSecret
  const first = await start();
  await first.secrets.send(new RotateSecretCommand({ SecretId: first.secretArn }));
  await first.secrets.send(new CreateSecretCommand({ Name: 'team/extra', SecretString: 'extra-value' }));
  const before = await first.secrets.send(new DescribeSecretCommand({ SecretId: first.secretArn }));
  const current = await first.secrets.send(new GetSecretValueCommand({ SecretId: first.secretArn }));
  const previous = await first.secrets.send(new GetSecretValueCommand({ SecretId: first.secretArn, VersionStage: 'AWSPREVIOUS' }));
  const keysBefore = first.gw.model.keys.size;
  expect(await status(first.gw, current.SecretString ?? '')).toBe(200);
  await first.close();

  // WHEN the gateway restarts on the same state file
  const second = await start();
  try {
    // THEN the secret has the same versions and labels, AWSCURRENT still opens the API, and no rotation ran at start
    const after = await second.secrets.send(new DescribeSecretCommand({ SecretId: second.secretArn }));
    expect(after.VersionIdsToStages).toEqual(before.VersionIdsToStages);
    expect(after.LastRotatedDate).toEqual(before.LastRotatedDate);
    expect(after.RotationRules).toEqual({ ScheduleExpression: 'rate(90 days)' });
    expect(second.gw.model.keys.size).toBe(keysBefore);
    const currentAfter = await second.secrets.send(new GetSecretValueCommand({ SecretId: second.secretArn }));
    expect(currentAfter).toMatchObject({ VersionId: current.VersionId, SecretString: current.SecretString });
    expect((await second.secrets.send(new GetSecretValueCommand({ SecretId: second.secretArn, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe(previous.SecretString);
    expect(await status(second.gw, currentAfter.SecretString ?? '')).toBe(200);
    expect((await second.secrets.send(new GetSecretValueCommand({ SecretId: 'team/extra' }))).SecretString).toBe('extra-value');
  } finally {
    await second.close();
  }
});

test('cancelled rotation and a scheduled deletion survive a restart', async () => {
  // GIVEN a run that turns the schedule's rotation off and schedules a CreateSecret secret's deletion
  const state = path.join(path.dirname(statePath), 'cancel-delete.json');
  const first = await start(state);
  await first.secrets.send(new CancelRotateSecretCommand({ SecretId: first.secretArn }));
  await first.secrets.send(new CreateSecretCommand({ Name: 'team/leaving', SecretString: 'leaving-value' }));
  await first.secrets.send(new DeleteSecretCommand({ SecretId: 'team/leaving', RecoveryWindowInDays: 7 }));
  await first.close();

  // WHEN the gateway restarts on the same state file
  const second = await start(state);
  try {
    // THEN rotation stays off and the deletion stays scheduled
    expect((await second.secrets.send(new DescribeSecretCommand({ SecretId: second.secretArn }))).RotationEnabled).toBe(false);
    const leaving = await second.secrets.send(new DescribeSecretCommand({ SecretId: 'team/leaving' }));
    expect(leaving.DeletedDate).toEqual(new Date(NOW));
    await expect(second.secrets.send(new GetSecretValueCommand({ SecretId: 'team/leaving' }))).rejects.toThrow(/marked for deletion/);
  } finally {
    await second.close();
  }
});

test('a state file whose secret has a staging label on two versions is refused naming the field', () => {
  // GIVEN the saved state, damaged by hand
  const saved = JSON.parse(fs.readFileSync(statePath, 'utf8')) as { secrets: { versions: { stages: string[] }[] }[] };
  const rotated = saved.secrets.findIndex((s) => s.versions.length > 1);
  for (const v of saved.secrets[rotated].versions) v.stages = ['AWSCURRENT'];
  const damaged = path.join(path.dirname(statePath), 'damaged.json');
  fs.writeFileSync(damaged, JSON.stringify(saved));

  // THEN
  expect(() => readState(damaged)).toThrow(new RegExp(`state file .*damaged\\.json is not a valid keygate local state file .*field /secrets/${rotated}/versions has the staging label AWSCURRENT on two versions`));
});

test('a secret version without its id is refused by the schema, naming the field', () => {
  const saved = JSON.parse(fs.readFileSync(statePath, 'utf8')) as { secrets: { versions: { id?: string }[] }[] };
  delete saved.secrets[0].versions[0].id;
  const damaged = path.join(path.dirname(statePath), 'no-id.json');
  fs.writeFileSync(damaged, JSON.stringify(saved));
  expect(() => readState(damaged)).toThrow(/field \/secrets\/0\/versions\/0 must have required property 'id'/);
});
