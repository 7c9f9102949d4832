/**
 * Keys a secret's rotation schedule created belong to the schedule: against the local gateway,
 * after the schedule's first rotation (the bundled rotation Lambda), the ops CLI refuses to
 * rotate, disable or delete the key, and the hygiene job leaves it alone even when it is idle.
 */
import * as path from 'path';
import { APIGatewayClient, GetApiKeyCommand, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { SNSClient } from '@aws-sdk/client-sns';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { disableUnusedKeys } from '../../lib/handlers/disable-unused-keys';
import { TAG_ROTATION_SECRET } from '../../lib/shared/rotation-tags';
import { tmpDir } from '../local/fixtures';
import { rotationApp } from '../rotation/fixture';
import { runCli } from '../support/run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

let gw: LocalGateway;
let apigw: APIGatewayClient;
let rotated: { id: string; secretArn: string };

beforeAll(async () => {
  const assemblyDir = rotationApp(path.join(tmpDir('rotation-owned'), 'cdk.out')).app.synth().directory;
  // The schedule's first rotation runs the app's rotation Lambda against the gateway, as `keygate local` does.
  gw = await startLocalGateway({ assemblyDir, rotateOnStart: true, log: () => undefined });
  apigw = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  const key = (await apigw.send(new GetApiKeysCommand({ limit: 500 }))).items?.find((k) => k.tags?.[TAG_ROTATION_SECRET] !== undefined);
  rotated = { id: key?.id ?? '', secretArn: key?.tags?.[TAG_ROTATION_SECRET] ?? '' };
});
afterAll(async () => {
  apigw?.destroy();
  await gw?.close();
});

test.each([
  ['keys rotate', ['keys', 'rotate'], /Not rotating key "globex-rotated-\w+" \(\w+\) out of band: it belongs to the rotation schedule of the secret (\S+)\. Rotate it with `aws secretsmanager rotate-secret --secret-id \1` instead/],
  ['keys disable', ['keys', 'disable'], /Not disabling "globex-rotated-\w+" \(\w+\): it belongs to the rotation schedule of the secret (\S+)\. Rotate it with `aws secretsmanager rotate-secret --secret-id \1` instead/],
  ['keys delete --yes', ['keys', 'delete', '--yes'], /Not deleting "globex-rotated-\w+" \(\w+\): it belongs to the rotation schedule/],
])('%s refuses the rotation-owned key (exit 2), naming its secret', async (_what, command, message) => {
  // WHEN
  const r = await runCli([...command, rotated.id, '--endpoint', gw.info.controlPlane], { timeoutMs: 90_000 });

  // THEN
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toContain(rotated.secretArn);
  expect((await apigw.send(new GetApiKeyCommand({ apiKey: rotated.id }))).enabled).toBe(true);
});

test('the hygiene job never disables a rotation-owned key, even idle for 100 days and with includeManagedKeys', async () => {
  // GIVEN nobody used the rotated key for 100 days
  const now = Date.now() + 100 * 86_400_000;
  const usagePlanIds = [...gw.model.plans.values()].map((p) => p.id);
  const sns = new SNSClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

  // WHEN
  const report = await disableUnusedKeys({ apigw, sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:unused', now: () => now }, { usagePlanIds, days: 90, includeManagedKeys: true });
  sns.destroy();

  // THEN it is skipped as managed; the stack's own idle key (acme) is the one disabled
  expect(report.skippedManaged).toEqual([rotated.id]);
  expect(report.disabled).toHaveLength(1);
  expect(report.disabled).not.toContain(rotated.id);
  expect((await apigw.send(new GetApiKeyCommand({ apiKey: rotated.id }))).enabled).toBe(true);
});
