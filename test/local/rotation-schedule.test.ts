/**
 * A rotating client's schedules on the gateway's clock, everything run by the bundled rotation
 * Lambda in a worker (its clock moved too): Secrets Manager's `rate(90 days)` rotation schedule
 * rotates again once 90 days have passed since the last rotation, and the hourly retire rule
 * retires the predecessor once the overlap has ended.
 */
import * as path from 'path';
import { APIGatewayClient, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { CancelRotateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { TAG_ROTATION_SECRET } from '../../lib/shared/rotation-tags';
import { rotationApp } from '../rotation/fixture';
import { tmpDir } from './fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(60_000);

const DAY = 86_400_000;
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };

test('the rotation schedule rotates after its period and the retire rule retires the predecessor after the overlap, on the moved clock', async () => {
  // GIVEN the app served from now, its first rotation run at start (as keygate local does)
  const assemblyDir = rotationApp(path.join(tmpDir('rotation-schedule'), 'cdk.out')).app.synth().directory;
  let now = Date.now();
  // The rotation steps run in the bundled rotation Lambda from the assembly, in a worker, calling back into the gateway.
  const gw: LocalGateway = await startLocalGateway({ assemblyDir, clock: () => now, log: () => undefined, rotateOnStart: true });
  const secrets = new SecretsManagerClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials, maxAttempts: 1 });
  const apigw = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const secretName = gw.scheduledJobs.map((j) => j.job.name).find((n) => n.startsWith('rotation of '))?.slice('rotation of '.length) ?? '';
    expect(secretName).toMatch(/^ApiClientsglobexSecret/);
    const keys = async () => ((await apigw.send(new GetApiKeysCommand({ includeValues: true, limit: 500 }))).items ?? [])
      .filter((k) => k.tags?.[TAG_ROTATION_SECRET] !== undefined).map((k) => ({ id: k.id, value: k.value ?? '', enabled: k.enabled }));
    const status = async (value: string) => (await fetch(`${gw.info.apis[0].stages[0].url}/pets`, { headers: { 'x-api-key': value } })).status;
    const current = async () => (await secrets.send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString ?? '';
    const [first] = await keys();
    expect(gw.scheduledJobs.map((j) => [j.job.name.replace(/[0-9A-F]{8}$/, ''), j.job.rateMs])).toEqual([
      ['RotationStack/KeygateKeyRotationRetireSchedule', 3_600_000], [`rotation of ${secretName}`, 90 * DAY],
    ]);
    expect(gw.scheduledJobs[1].nextRunAt).toBe(now + 90 * DAY);

    // WHEN 89 days pass: only the hourly retire rule is due, and it keeps the only key
    now += 89 * DAY;
    expect((await gw.runDueJobs()).map((r) => [r.job.replace(/[0-9A-F]{8}$/, ''), r.error])).toEqual([['RotationStack/KeygateKeyRotationRetireSchedule', undefined]]);

    // WHEN 91 days have passed: the rotation schedule rotates
    now += 2 * DAY;
    const rotation = (await gw.runDueJobs()).find((r) => r.job.startsWith('rotation of '));
    expect([rotation?.job, rotation?.error]).toEqual([`rotation of ${secretName}`, undefined]);
    const second = (await keys()).find((k) => k.id !== first.id)!;
    expect(await current()).toBe(second.value);
    expect([await status(first.value), await status(second.value)]).toEqual([200, 200]);

    // WHEN the 7-day overlap has ended: the retire run (the bundled Lambda, its clock moved too) disables and deletes the predecessor
    now += 8 * DAY;
    const runs = await gw.runDueJobs();
    expect(runs.map((r) => [r.job.replace(/[0-9A-F]{8}$/, ''), r.error])).toEqual([['RotationStack/KeygateKeyRotationRetireSchedule', undefined]]);
    expect(await status(first.value)).toBe(403);
    expect(await status(second.value)).toBe(200);
    expect((await keys()).map((k) => k.id)).toEqual([second.id]);
  } finally {
    secrets.destroy();
    apigw.destroy();
    await gw.close();
  }
});

test('a rotation cancelled after start does not fire on its schedule (it stays off)', async () => {
  // GIVEN the app served from now, its first rotation run at start
  const assemblyDir = rotationApp(path.join(tmpDir('rotation-schedule-cancelled'), 'cdk.out')).app.synth().directory;
  let now = Date.now();
  const gw: LocalGateway = await startLocalGateway({ assemblyDir, clock: () => now, log: () => undefined, rotateOnStart: true });
  const secrets = new SecretsManagerClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const secretName = gw.scheduledJobs.map((j) => j.job.name).find((n) => n.startsWith('rotation of '))?.slice('rotation of '.length) ?? '';
    const before = await secrets.send(new GetSecretValueCommand({ SecretId: secretName }));

    // WHEN rotation is cancelled, then the period passes
    await secrets.send(new CancelRotateSecretCommand({ SecretId: secretName }));
    now += 91 * DAY;
    await gw.runDueJobs();

    // THEN the value is the same and rotation is still off
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: secretName }))).VersionId).toBe(before.VersionId);
    expect((await secrets.send(new DescribeSecretCommand({ SecretId: secretName }))).RotationEnabled).toBe(false);
  } finally {
    secrets.destroy();
    await gw.close();
  }
});
