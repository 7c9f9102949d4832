/**
 * Issue #19 item 9: the local gateway's answer to a duplicate CreateUsagePlanKey (409
 * "Usage Plan … cannot be added because API Key … is already associated with it") is
 * "already done" for the reconciler and the CLI — classified in one place
 * (lib/sdk/errors.ts: the 409 code plus the recorded wording), end to end, real SDK clients.
 */
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetUsagePlanKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { ControlPlane } from '../../lib/handlers/client-set-reconciler/control-plane';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { isAlreadyInPlan, isConcurrentModification, isRetryableWrite } from '../../lib/sdk/errors';
import { synthPetApp } from '../local/fixtures';
import { runCli } from './run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let gw: LocalGateway;
let client: APIGatewayClient;
let planId: string;

beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthPetApp(), log: () => undefined });
  client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
  planId = (await client.send(new GetUsagePlansCommand({}))).items![0].id!;
});
afterAll(async () => {
  client.destroy();
  await gw.close();
});

async function keyInPlan(name: string): Promise<string> {
  const key = await client.send(new CreateApiKeyCommand({ name, value: `AlreadyInPlan${name.replace(/-/g, '')}0123456789abcdef`, enabled: true }));
  await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: key.id!, keyType: 'API_KEY' }));
  return key.id!;
}

test('the local gateway\'s duplicate answer is "already in the plan", not a concurrent modification to retry', async () => {
  const keyId = await keyInPlan('dup-classify');
  const err = await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId, keyType: 'API_KEY' })).catch((e: unknown) => e);
  expect(err).toMatchObject({ name: 'ConflictException', $metadata: { httpStatusCode: 409 }, message: expect.stringMatching(/is already associated with it$/) });
  expect(isAlreadyInPlan(err)).toBe(true);
  expect(isConcurrentModification(err)).toBe(false);
  expect(isRetryableWrite(err)).toBe(false);
});

test('the reconciler\'s CreateUsagePlanKey of a key already in the plan is done: one call, no backoff', async () => {
  const keyId = await keyInPlan('dup-reconciler');
  const sleeps: number[] = [];
  const cp = new ControlPlane(client, { limiter: null, sleep: async (ms) => { sleeps.push(ms); } });
  await expect(cp.createUsagePlanKey(planId, keyId)).resolves.toBeUndefined();
  expect(cp.calls.CreateUsagePlanKey).toBe(1);
  expect(cp.retries).toBe(0);
  expect(sleeps).toEqual([]);
  const keys = (await client.send(new GetUsagePlanKeysCommand({ usagePlanId: planId, limit: 500 }))).items!.filter((k) => k.id === keyId);
  expect(keys).toHaveLength(1);
});

test('the CLI\'s keys rotate, re-run after the successor is in the plan, treats the duplicate as done', async () => {
  await keyInPlan('dup-cli');
  const first = await runCli(['keys', 'rotate', 'dup-cli', '--endpoint', gw.info.controlPlane, '--json']);
  expect(first.stderr).toBe('');
  expect(first.exitCode).toBe(0);
  const again = await runCli(['keys', 'rotate', 'dup-cli', '--endpoint', gw.info.controlPlane, '--json']);
  expect(again.stderr).toBe('');
  expect(again.exitCode).toBe(0);
});
