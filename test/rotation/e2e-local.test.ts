/**
 * Scheduled rotation end to end on the local gateway: the real AWS SDK talks to the local
 * Secrets Manager slice (RotateSecret, as Secrets Manager's schedule calls it) and to the local
 * API Gateway control plane; the rotation Lambda's steps run in-process on a simulated clock
 * (and, in the last test, as the bundled Lambda from the cloud assembly in a worker).
 */
import { APIGatewayClient, DeleteApiKeyCommand, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import {
  DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, RotateSecretCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { loadAssembly } from '../../lib/local/cloudformation/assembly';
import { buildModel } from '../../lib/local/cloudformation/build-model';
import { retireExpiredKeys, RotationDeps, rotationStep } from '../../lib/handlers/key-rotation';
import { TAG_ROTATION_SECRET } from '../../lib/shared/rotation-tags';
import { tmpDir } from '../local/fixtures';
import { OVERLAP, PERIOD, rotationApp } from './fixture';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const DAY = 86_400_000;
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };
let assemblyDir: string;

beforeAll(() => {
  assemblyDir = rotationApp(tmpDir('rotation')).app.synth().directory;
});

interface Harness {
  readonly gw: LocalGateway;
  readonly deps: RotationDeps;
  readonly secretArn: string;
  /** Simulated time, ms since the epoch. */
  now: number;
  /** Makes the next call of this SDK command fail (a crash in the middle of a step). */
  failNext(command: string): void;
  close(): Promise<void>;
}

async function harness(options: { inProcess?: boolean } = {}): Promise<Harness> {
  let failing: string | undefined;
  const h = { now: Date.parse('2026-12-01T00:00:00Z') } as Harness & { now: number };
  const gw = await startLocalGateway({
    assemblyDir, clock: () => h.now, log: () => undefined,
    invokeRotation: options.inProcess === false ? undefined : (_arn, event) => rotationStep(event, deps),
  });
  const endpoint = gw.info.controlPlane;
  const secrets = new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const apigw = new APIGatewayClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const injectFailure: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    if (failing !== undefined && context.commandName === failing) {
      failing = undefined;
      throw new Error(`injected failure of ${context.commandName}`);
    }
    return next(args);
  };
  secrets.middlewareStack.add(injectFailure, { step: 'initialize', name: 'injectFailure' });
  apigw.middlewareStack.add(injectFailure, { step: 'initialize', name: 'injectFailure' });
  const deps: RotationDeps = { secrets, apigw, now: () => new Date(h.now) };
  const listed = await secrets.send(new ListSecretsCommand({}));
  const secret = listed.SecretList?.find((s) => s.Tags?.some((t) => t.Key === 'keygate:client' && t.Value === 'globex'));
  return Object.assign(h, {
    gw, deps, secretArn: secret?.ARN ?? '',
    failNext: (command: string) => { failing = command; },
    close: async () => { secrets.destroy(); apigw.destroy(); await gw.close(); },
  });
}

async function call(h: Harness, key: string): Promise<number> {
  const stage = h.gw.info.apis[0].stages[0];
  const res = await fetch(`${stage.url}/pets`, { headers: { 'x-api-key': key } });
  await res.arrayBuffer();
  return res.status;
}

async function currentValue(h: Harness): Promise<string> {
  return (await h.deps.secrets.send(new GetSecretValueCommand({ SecretId: h.secretArn }))).SecretString ?? '';
}

async function rotationKeys(h: Harness): Promise<{ id: string; value: string; enabled: boolean }[]> {
  const out = await h.deps.apigw.send(new GetApiKeysCommand({ includeValues: true, limit: 500 }));
  return (out.items ?? []).filter((k) => k.tags?.[TAG_ROTATION_SECRET] === h.secretArn)
    .map((k) => ({ id: k.id ?? '', value: k.value ?? '', enabled: k.enabled ?? false }));
}

async function rotate(h: Harness): Promise<void> {
  await h.deps.secrets.send(new RotateSecretCommand({ SecretId: h.secretArn }));
}

describe('scheduled rotation on the local gateway', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('first rotation creates the key; the next keeps both working for the overlap, then the old key gets 403', async () => {
    h = await harness();
    expect(h.gw.unsupported).toEqual([]); // the schedule, the retire rule, the alarm: all understood
    const placeholder = await currentValue(h);
    expect(await rotationKeys(h)).toEqual([]); // the stack owns no key of a rotating client
    expect(await call(h, placeholder)).toBe(403);

    // GIVEN the rotation Secrets Manager runs when CloudFormation creates the schedule
    await rotate(h);
    const [first] = await rotationKeys(h);
    expect(await currentValue(h)).toBe(first.value);
    expect(await call(h, first.value)).toBe(200);

    // WHEN the schedule rotates 90 days later
    h.now += PERIOD.toMilliseconds();
    await rotate(h);

    // THEN the secret holds the new key, and both keys work during the overlap
    const second = (await rotationKeys(h)).find((k) => k.id !== first.id)!;
    expect(await currentValue(h)).toBe(second.value);
    expect(second.value).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(await call(h, first.value)).toBe(200);
    expect(await call(h, second.value)).toBe(200);

    h.now += OVERLAP.toMilliseconds() - DAY;
    expect(await retireExpiredKeys(h.secretArn, h.deps)).toEqual({ secretId: h.secretArn, retired: [] });
    expect(await call(h, first.value)).toBe(200);

    // AND after the overlap the hourly retire run disables and deletes the old key: 403
    h.now += DAY + 60_000;
    expect(await retireExpiredKeys(h.secretArn, h.deps)).toEqual({ secretId: h.secretArn, retired: [first.id] });
    expect(await call(h, first.value)).toBe(403);
    expect(await call(h, second.value)).toBe(200);
    expect((await rotationKeys(h)).map((k) => k.id)).toEqual([second.id]);
  });

  test.each([
    ['createSecret', 'PutSecretValueCommand'],
    ['setSecret', 'CreateUsagePlanKeyCommand'],
    ['testSecret', 'GetApiKeyCommand'],
    ['finishSecret', 'UpdateSecretVersionStageCommand'],
  ])('a failure in %s (%s) leaves the current key working; the retried rotation completes with one new key', async (step, command) => {
    h = await harness();
    await rotate(h);
    const [current] = await rotationKeys(h);
    h.now += PERIOD.toMilliseconds();

    // WHEN a step fails half way
    h.failNext(command);
    await expect(rotate(h)).rejects.toThrow(new RegExp(`failed at ${step}: injected failure of ${command}`));

    // THEN the current key and the secret's current value are untouched
    expect(await currentValue(h)).toBe(current.value);
    expect(await call(h, current.value)).toBe(200);
    // AND nothing is retired while the new key is not current
    h.now += OVERLAP.toMilliseconds() + DAY;
    await retireExpiredKeys(h.secretArn, h.deps);
    expect(await call(h, current.value)).toBe(200);

    // WHEN Secrets Manager retries the rotation
    await rotate(h);
    const keys = await rotationKeys(h);
    expect(keys).toHaveLength(2);
    const next = keys.find((k) => k.id !== current.id)!;
    expect(await currentValue(h)).toBe(next.value);
    expect(await call(h, next.value)).toBe(200);
    expect(await call(h, current.value)).toBe(200); // the overlap starts when AWSCURRENT moved
  });

  test('a retire run keeps every key while no key holds the current value, and fails so the alarm fires', async () => {
    h = await harness();
    await rotate(h);
    const [first] = await rotationKeys(h);
    h.now += PERIOD.toMilliseconds();
    await rotate(h);
    const second = (await rotationKeys(h)).find((k) => k.id !== first.id)!;
    // GIVEN someone deleted the current key out of band
    await h.deps.apigw.send(new DeleteApiKeyCommand({ apiKey: second.id }));
    h.now += OVERLAP.toMilliseconds() + DAY;
    // THEN the retire run refuses to retire the predecessor, the client's last working key
    await expect(retireExpiredKeys(h.secretArn, h.deps)).rejects.toThrow(/No key holds the current value of .*; keeping all 1 keys of client globex/);
    expect(await call(h, first.value)).toBe(200);
  });

  test('the hourly retire rule is read from the assembly with the local ARN of the rotating secret', async () => {
    h = await harness();
    const { schedules, secrets } = buildModel(loadAssembly(assemblyDir));
    const rotatingSecret = secrets.find((s) => s.rotation);
    expect(rotatingSecret?.arn).toBe(h.secretArn);
    expect(schedules).toEqual([expect.objectContaining({
      rateMs: 3_600_000, lambdaArn: rotatingSecret?.rotation?.lambdaArn, event: { action: 'retire', secretIds: [h.secretArn] },
    })]);
  });

  test('RotateSecret runs the bundled rotation Lambda from the cloud assembly against the gateway', async () => {
    h = await harness({ inProcess: false });
    await rotate(h);
    const [key] = await rotationKeys(h);
    expect(await currentValue(h)).toBe(key.value);
    expect(await call(h, key.value)).toBe(200);
    const described = await h.deps.secrets.send(new DescribeSecretCommand({ SecretId: h.secretArn }));
    expect(described.RotationEnabled).toBe(true);
    expect(described.RotationRules?.ScheduleExpression).toBe('rate(90 days)');
  });
});
