/**
 * A rotating client set through CloudFormation's lifecycle: the CDK Provider framework's own
 * runtime from a real synth (lifecycle-harness.ts) runs keygate's bundled reconciler against
 * the local gateway's API Gateway control plane and its Secrets Manager slice. RotateSecret
 * runs the rotation Lambda's steps (in-process, on the simulated clock) as Secrets Manager
 * would; the test reads values through the real SDK and calls the data plane with them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { APIGatewayClient, ApiKey, GetApiKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import {
  DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, RotateSecretCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { ClientSetEntry, KeyProtectedApi, KeyRotation } from '../../lib';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { retireRun, RotationDeps, rotationStep } from '../../lib/handlers/key-rotation';
import { SECRET_TAG_SET_RETIRED, SECRET_TAG_USAGE_PLANS, TAG_ROTATION_SECRET } from '../../lib/shared/rotation-tags';
import { CfnResponse, Lifecycle, Network, providerAssets, SimClock } from './lifecycle-harness';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SET_ID = 'partners';
const PREFIX = `keygate/${SET_ID}/`;
const START = Date.parse('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const PERIOD = Duration.days(30);
const OVERLAP = Duration.days(3);
const ASSET_BUCKET = 'cdk-hnb659fds-assets-123456789012-us-east-1';
const ROTATION_LAMBDA_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:keygate-key-rotation';
const PHYSICAL_ID = `keygate-client-set:${SET_ID}`;
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };
/** Secrets Manager actions that change something. */
const SM_WRITES = ['CreateSecret', 'UpdateSecret', 'TagResource', 'UntagResource', 'RotateSecret', 'CancelRotateSecret', 'DeleteSecret', 'RestoreSecret', 'PutSecretValue', 'UpdateSecretVersionStage'];

let workDir: string;
let gateway: LocalGateway;
let network: Network;
let lifecycle: Lifecycle;
let apigwClient: APIGatewayClient;
let secrets: SecretsManagerClient;
let deps: RotationDeps;
let planIds: Map<string, string>;
let clock: SimClock;
let failing: string | undefined;

interface Version {
  readonly logicalId: string;
  readonly props: Record<string, unknown>;
  readonly template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
}

const v1: ClientSetEntry[] = [
  { name: 'acme', tierNames: ['Free'] },
  { name: 'globex', tierNames: ['Pro'], tags: { team: 'partners' } },
  { name: 'initech', tierNames: ['Free'] },
];
/** initech removed. */
const v2: ClientSetEntry[] = v1.slice(0, 2);

function synth(name: string, entries: ClientSetEntry[]): Version {
  const outdir = path.join(workDir, name);
  const app = new App({ outdir });
  const stack = new Stack(app, 'Lifecycle');
  const api = new KeyProtectedApi(stack, 'Api');
  const mock = new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode": 200}' }, integrationResponses: [{ statusCode: '200' }] });
  api.addRoute('GET /items', mock, { methodOptions: { methodResponses: [{ statusCode: '200' }] } });
  api.addTier('Free', { stages: [api.defaultStage], throttle: { rateLimit: 100, burstLimit: 100 } });
  api.addTier('Pro', { stages: [api.defaultStage], throttle: { rateLimit: 100, burstLimit: 100 } });
  api.addClientSet('Partners', { clients: entries, setId: SET_ID, rotation: KeyRotation.every(PERIOD, { overlap: OVERLAP }) });
  const assembly = app.synth();
  network?.serveAssetsOf(assembly.directory);
  const template = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Lifecycle.template.json'), 'utf-8'));
  const [logicalId, resource] = Object.entries(template.Resources as Version['template']['Resources']).find(([, r]) => r.Type === 'Custom::KeygateClientSet') ?? [];
  if (!logicalId || !resource) throw new Error('no client set resource');
  return { logicalId, props: resolve(resource.Properties) as Record<string, unknown>, template };
}

/** CloudFormation's side: Refs of tiers to plan ids, the asset bucket, the rotation Lambda's ARN. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  if ('Ref' in obj) return planIds?.get(String(obj.Ref)) ?? obj;
  if ('Fn::Sub' in obj) return ASSET_BUCKET;
  if ('Fn::GetAtt' in obj) return ROTATION_LAMBDA_ARN;
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(v)]));
}

async function call(key: string): Promise<number> {
  const stage = gateway.info.apis[0].stages[0];
  const res = await fetch(`${stage.url}/items`, { headers: { 'x-api-key': key } });
  await res.arrayBuffer();
  return res.status;
}

/** The current value of a client's secret, read through the real SDK. */
async function valueOf(client: string): Promise<string> {
  return (await secrets.send(new GetSecretValueCommand({ SecretId: `${PREFIX}${client}` }))).SecretString ?? '';
}

async function describeSecret(client: string) {
  return secrets.send(new DescribeSecretCommand({ SecretId: `${PREFIX}${client}` }));
}

/** Keys the rotation created for a client's secret. */
async function keysOf(client: string): Promise<ApiKey[]> {
  const arn = (await describeSecret(client)).ARN;
  const out = await apigwClient.send(new GetApiKeysCommand({ includeValues: true, limit: 500 }));
  return (out.items ?? []).filter((k) => k.tags?.[TAG_ROTATION_SECRET] === arn);
}

function plansOf(keyId: string): string[] {
  const names = new Map([...planIds].map(([logicalId, id]) => [id, /^Api(Free|Pro)/.exec(logicalId)?.[1] ?? logicalId]));
  return gateway.model.plansOfKey(keyId).map((plan) => names.get(plan.id) ?? plan.id).sort();
}

function expectSuccess(response: CfnResponse): void {
  expect({ status: response.Status, reason: response.Status === 'SUCCESS' ? '' : response.Reason }).toEqual({ status: 'SUCCESS', reason: '' });
  expect(response.bytes).toBeLessThan(4096);
}

/** Write calls the reconciler made since the last reset, to API Gateway and Secrets Manager. */
function writes(): { apiGateway: number; secretsManager: number } {
  const apiGateway = [...network.counts].filter(([k]) => /^(POST|PATCH|PUT|DELETE) \/(apikeys|usageplans|tags)/.test(k)).reduce((sum, [, n]) => sum + n, 0);
  const secretsManager = [...network.secretsManagerCalls].filter(([k]) => SM_WRITES.includes(k)).reduce((sum, [, n]) => sum + n, 0);
  return { apiGateway, secretsManager };
}
function resetCounts(): void {
  network.counts.clear();
  network.secretsManagerCalls.clear();
}

const retireEvent = { action: 'retire' as const, secretIds: [], secretNamePrefixes: [PREFIX] };

let first: Version;
let second: Version;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-rotating-set-'));
  planIds = new Map();
  first = synth('v1', v1);
  const assemblyDir = path.join(workDir, 'v1');
  clock = new SimClock(START);
  gateway = await startLocalGateway({
    assemblyDir, port: 0, runCustomResources: false, clock: () => clock.now(), log: () => undefined,
    // Secrets Manager runs the rotation Lambda's four steps; here in-process on the simulated clock.
    invokeRotation: (_arn, event) => rotationStep(event, deps),
  });
  const endpoint = gateway.info.controlPlane;
  apigwClient = new APIGatewayClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  secrets = new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const injectFailure: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    if (failing !== undefined && context.commandName === failing) {
      failing = undefined;
      throw new Error(`injected failure of ${context.commandName}`);
    }
    return next(args);
  };
  const rotationApigw = new APIGatewayClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const rotationSecrets = new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  rotationApigw.middlewareStack.add(injectFailure, { step: 'initialize', name: 'injectFailure' });
  rotationSecrets.middlewareStack.add(injectFailure, { step: 'initialize', name: 'injectFailure' });
  deps = { apigw: rotationApigw, secrets: rotationSecrets, now: () => new Date(clock.now()) };
  const plans = await apigwClient.send(new GetUsagePlansCommand({ limit: 500 }));
  planIds = new Map((plans.items ?? []).map((plan) => [plan.tags?.['aws:cloudformation:logical-id'] ?? '', plan.id ?? '']));
  first = { ...first, props: resolve(first.props) as Record<string, unknown> };
  second = synth('v2', v2);
  network = new Network(gateway.port, ASSET_BUCKET);
  network.serveAssetsOf(assemblyDir);
  network.serveAssetsOf(path.join(workDir, 'v2'));
  const networkPort = await network.start();
  lifecycle = new Lifecycle(providerAssets(assemblyDir, first.template), clock, network, networkPort, 120_000);
  await lifecycle.start();
}, 120_000);

afterAll(async () => {
  await lifecycle?.close();
  await network?.close();
  await gateway?.close();
  apigwClient?.destroy();
  secrets?.destroy();
  deps?.apigw.destroy();
  deps?.secrets.destroy();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('a rotating client set through the Provider framework', () => {
  let acmeFirst: ApiKey;

  test('the retire rule lists the set\'s secrets by name prefix; nothing in the template or the manifest holds a value', () => {
    const rule = Object.values(first.template.Resources).find((r) => r.Type === 'AWS::Events::Rule');
    const input = JSON.parse(String((rule?.Properties.Targets as Array<{ Input: string }>)[0].Input));
    expect(input).toEqual({ action: 'retire', secretIds: [], secretNamePrefixes: [PREFIX] });
    expect(first.props.Rotation).toEqual({ LambdaArn: ROTATION_LAMBDA_ARN, ScheduleExpression: 'rate(30 days)', OverlapSeconds: String(OVERLAP.toSeconds()), RecoveryWindowDays: '7' });
  });

  test('Create makes one secret per client, and its first rotation a working key (200 with the value read from the secret)', async () => {
    const created = await lifecycle.send({ RequestType: 'Create', LogicalResourceId: first.logicalId, ResourceProperties: first.props });
    expectSuccess(created);
    expect(created.Data).toEqual({ Keys: 0, Retired: 0, Clients: 3, RetiredClients: 0 });

    const listed = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [PREFIX] }] }));
    expect(listed.SecretList?.map((s) => s.Name).sort()).toEqual([`${PREFIX}acme`, `${PREFIX}globex`, `${PREFIX}initech`]);
    for (const entry of v1) {
      const described = await describeSecret(entry.name);
      expect({ enabled: described.RotationEnabled, rules: described.RotationRules?.ScheduleExpression, lambda: described.RotationLambdaARN })
        .toEqual({ enabled: true, rules: 'rate(30 days)', lambda: ROTATION_LAMBDA_ARN });
      const keys = await keysOf(entry.name);
      expect(keys).toHaveLength(1);
      expect(keys[0].value).toBe(await valueOf(entry.name));
      expect(plansOf(keys[0].id ?? '')).toEqual(entry.tierNames);
      expect(await call(await valueOf(entry.name))).toBe(200);
    }
    // The client's own tags reach its key through the secret.
    expect((await keysOf('globex'))[0].tags?.team).toBe('partners');
    [acmeFirst] = await keysOf('acme');
  });

  test('a redeploy with no change makes no write call to API Gateway or Secrets Manager', async () => {
    resetCounts();
    const again = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: first.logicalId, ResourceProperties: first.props, OldResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID });
    expectSuccess(again);
    expect(writes()).toEqual({ apiGateway: 0, secretsManager: 0 });
    expect(network.secretsManagerCalls.get('ListSecrets')).toBeGreaterThan(0); // it did look
  });

  test('the schedule\'s next rotation: old and new keys both work during the overlap, the old one gets 403 after the retire run', async () => {
    clock.advance(PERIOD.toMilliseconds());
    await secrets.send(new RotateSecretCommand({ SecretId: `${PREFIX}acme` }));
    const next = await valueOf('acme');
    expect(next).not.toBe(acmeFirst.value);
    expect(await call(acmeFirst.value ?? '')).toBe(200);
    expect(await call(next)).toBe(200);

    clock.advance(OVERLAP.toMilliseconds() - DAY);
    await retireRun(retireEvent, deps);
    expect(await call(acmeFirst.value ?? '')).toBe(200);

    clock.advance(DAY + 3_600_000);
    const outcomes = await retireRun(retireEvent, deps);
    expect(outcomes.find((o) => o.retired.length > 0)?.retired).toEqual([acmeFirst.id]);
    expect(outcomes).toHaveLength(3); // every client of the set, found by name prefix
    expect(await call(acmeFirst.value ?? '')).toBe(403);
    expect(await call(next)).toBe(200);
  });

  test('a deploy after rotations changes nothing: the keys belong to the schedule, not to the set', async () => {
    resetCounts();
    expectSuccess(await lifecycle.send({ RequestType: 'Update', LogicalResourceId: first.logicalId, ResourceProperties: first.props, OldResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID }));
    expect(writes()).toEqual({ apiGateway: 0, secretsManager: 0 });
    expect(await call(await valueOf('acme'))).toBe(200);
  });

  test.each([
    ['createSecret', 'PutSecretValueCommand'],
    ['setSecret', 'CreateUsagePlanKeyCommand'],
    ['testSecret', 'GetApiKeyCommand'],
    ['finishSecret', 'UpdateSecretVersionStageCommand'],
  ])('a failure in %s (%s) leaves the client\'s current key working', async (step, command) => {
    const current = await valueOf('globex');
    failing = command;
    await expect(secrets.send(new RotateSecretCommand({ SecretId: `${PREFIX}globex` }))).rejects.toThrow(new RegExp(`failed at ${step}: injected failure of ${command}`));
    expect(await valueOf('globex')).toBe(current);
    expect(await call(current)).toBe(200);
    // Secrets Manager retries; the rotation completes.
    await secrets.send(new RotateSecretCommand({ SecretId: `${PREFIX}globex` }));
    expect(await call(await valueOf('globex'))).toBe(200);
  });

  test('removing a client retires it (rotation off, keys 403); the rollback restores it without a new key', async () => {
    const initech = await valueOf('initech');
    const [initechKey] = await keysOf('initech');
    resetCounts();
    const removed = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: second.logicalId, ResourceProperties: second.props, OldResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID });
    expectSuccess(removed);
    expect(removed.Data).toEqual({ Keys: 0, Retired: 0, Clients: 2, RetiredClients: 1 });
    expect(writes()).toEqual({ apiGateway: 1, secretsManager: 2 }); // disable the key; cancel the rotation, tag the secret
    expect(await call(initech)).toBe(403);
    const retired = await describeSecret('initech');
    expect(retired.RotationEnabled).toBe(false);
    expect(retired.Tags?.some((t) => t.Key === SECRET_TAG_SET_RETIRED)).toBe(true);
    expect(await call(await valueOf('acme'))).toBe(200);
    // The retire run leaves a retired client alone (its rotation is off).
    expect((await retireRun(retireEvent, deps)).map((o) => o.secretId)).toHaveLength(2);

    // CloudFormation rolls back: Update to the old properties.
    resetCounts();
    const rollback = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: first.logicalId, ResourceProperties: first.props, OldResourceProperties: second.props, PhysicalResourceId: PHYSICAL_ID });
    expectSuccess(rollback);
    // Rotation on again without rotating (Secrets Manager only tests the configuration), the key enabled again.
    expect({ rotate: network.secretsManagerCalls.get('RotateSecret'), createKey: network.counts.get('POST /apikeys') ?? 0, enable: network.counts.get('PATCH /apikeys') })
      .toEqual({ rotate: 1, createKey: 0, enable: 1 });
    expect(await call(initech)).toBe(200);
    expect((await keysOf('initech')).map((k) => k.id)).toEqual([initechKey.id]);
    expect(await valueOf('initech')).toBe(initech);
    const restored = await describeSecret('initech');
    expect({ enabled: restored.RotationEnabled, retired: restored.Tags?.some((t) => t.Key === SECRET_TAG_SET_RETIRED) }).toEqual({ enabled: true, retired: false });
  });

  test('the deploy after a removal deletes the retired client\'s keys and schedules its secret for deletion', async () => {
    const initech = await valueOf('initech');
    expectSuccess(await lifecycle.send({ RequestType: 'Update', LogicalResourceId: second.logicalId, ResourceProperties: second.props, OldResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID }));
    const arn = (await describeSecret('initech')).ARN;
    // A later deploy (another request) deletes what the earlier one retired.
    expectSuccess(await lifecycle.send({ RequestType: 'Update', LogicalResourceId: second.logicalId, ResourceProperties: second.props, OldResourceProperties: second.props, PhysicalResourceId: PHYSICAL_ID }));
    expect(await call(initech)).toBe(403);
    const keys = await apigwClient.send(new GetApiKeysCommand({ limit: 500 }));
    expect((keys.items ?? []).filter((k) => k.tags?.[TAG_ROTATION_SECRET] === arn)).toEqual([]);
    const deleted = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [`${PREFIX}initech`] }], IncludePlannedDeletion: true }));
    expect(deleted.SecretList?.[0].DeletedDate).toBeDefined();
    await expect(valueOf('initech')).rejects.toThrow(/marked for deletion/);

    // Declared again within the recovery window: restored, with a fresh first key.
    expectSuccess(await lifecycle.send({ RequestType: 'Update', LogicalResourceId: first.logicalId, ResourceProperties: first.props, OldResourceProperties: second.props, PhysicalResourceId: PHYSICAL_ID }));
    const back = await valueOf('initech');
    expect(back).not.toBe(initech);
    expect(await call(back)).toBe(200);
  });

  test('a tier change moves the client\'s current keys and the usage-plans tag the next rotation reads; a description reaches the secret', async () => {
    const moved = synth('v3', [v1[0], { ...v1[1] }, { name: 'initech', tierNames: ['Pro'], description: 'Initech, moved to Pro' }]);
    const props = resolve(moved.props) as Record<string, unknown>;
    expectSuccess(await lifecycle.send({ RequestType: 'Update', LogicalResourceId: moved.logicalId, ResourceProperties: props, OldResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID }));
    const [key] = await keysOf('initech');
    expect(plansOf(key.id ?? '')).toEqual(['Pro']);
    const tags = Object.fromEntries(((await describeSecret('initech')).Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags[SECRET_TAG_USAGE_PLANS]).toBe(planIds.get([...planIds.keys()].find((k) => k.startsWith('ApiPro')) ?? ''));
    expect((await describeSecret('initech')).Description).toBe('Initech, moved to Pro');
    expect(await call(await valueOf('initech'))).toBe(200);
    first = { ...moved, props };
  });

  test('a pass that fails half way (RotateSecret answers 500 until the SDK gives up) fails the request clearly; the rollback and the next deploy finish the job', async () => {
    const added = synth('v4', [...v1.slice(0, 2), { name: 'initech', tierNames: ['Pro'], description: 'Initech, moved to Pro' }, { name: 'hooli', tierNames: ['Free'] }]);
    const props = resolve(added.props) as Record<string, unknown>;
    const before = await valueOf('acme');
    network.faults.push({ method: 'POST', path: /^\/$/, target: 'secretsmanager.RotateSecret', times: 5, status: 500, type: 'InternalServiceError' });
    const failed = await lifecycle.send({ RequestType: 'Update', LogicalResourceId: added.logicalId, ResourceProperties: props, OldResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID });
    expect({ status: failed.Status, reason: failed.Reason }).toEqual({ status: 'FAILED', reason: expect.stringMatching(/^Internal server error \(injected/) });
    expect(await call(before)).toBe(200); // the other clients never stopped working

    // CloudFormation rolls back: the half-made client is retired (it has no key yet).
    expectSuccess(await lifecycle.send({ RequestType: 'Update', LogicalResourceId: first.logicalId, ResourceProperties: first.props, OldResourceProperties: props, PhysicalResourceId: PHYSICAL_ID }));
    expect((await describeSecret('hooli')).Tags?.some((t) => t.Key === SECRET_TAG_SET_RETIRED)).toBe(true);
    expect(await keysOf('hooli')).toEqual([]);

    // The same change deployed again: the secret is taken up, rotated at once, one key.
    expectSuccess(await lifecycle.send({ RequestType: 'Update', LogicalResourceId: added.logicalId, ResourceProperties: props, OldResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID }));
    const listed = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [`${PREFIX}hooli`] }] }));
    expect(listed.SecretList).toHaveLength(1);
    expect(await keysOf('hooli')).toHaveLength(1);
    expect(await call(await valueOf('hooli'))).toBe(200);
    expect(await call(before)).toBe(200);
    first = { ...added, props };
  });

  test('another resource with the same setId fails before any write; the rollback Delete touches nothing', async () => {
    resetCounts();
    const intruder = await lifecycle.send({ RequestType: 'Create', LogicalResourceId: 'OtherStackPartners', ResourceProperties: first.props });
    expect(intruder.Status).toBe('FAILED');
    expect(intruder.Reason).toMatch(/secrets of the client set partners .* belong to another resource .*Nothing was changed/);
    expect(writes()).toEqual({ apiGateway: 0, secretsManager: 0 });
    expectSuccess(await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: 'OtherStackPartners', ResourceProperties: first.props, PhysicalResourceId: intruder.PhysicalResourceId }));
    expect(writes()).toEqual({ apiGateway: 0, secretsManager: 0 });
    expect(await call(await valueOf('acme'))).toBe(200);
  });

  test('a moved set (same setId, adoptExistingKeys) takes the secrets over; the old resource\'s Delete only confirms it', async () => {
    const moved = { logicalId: 'MovedPartners', props: { ...first.props, AdoptExistingKeys: 'true' } };
    const value = await valueOf('acme');
    resetCounts();
    expectSuccess(await lifecycle.send({ RequestType: 'Create', LogicalResourceId: moved.logicalId, ResourceProperties: moved.props }));
    const tags = Object.fromEntries(((await describeSecret('acme')).Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags['keygate:client-set-from']).toBeDefined();
    expect(tags['keygate:client-set-owner']).not.toBe(tags['keygate:client-set-from']);
    // CloudFormation's cleanup: Delete of the old resource. It deletes nothing.
    expectSuccess(await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: first.logicalId, ResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID }));
    expect(network.counts.get('DELETE /apikeys') ?? 0).toBe(0);
    expect(network.secretsManagerCalls.get('DeleteSecret') ?? 0).toBe(0);
    expect((await describeSecret('acme')).Tags?.some((t) => t.Key === 'keygate:client-set-from')).toBe(false);
    expect(await valueOf('acme')).toBe(value);
    expect(await call(value)).toBe(200);
    first = { ...first, logicalId: moved.logicalId, props: moved.props };
  });

  test('Delete removes every key of the set and schedules its secrets for deletion', async () => {
    const values = await Promise.all([...v1.map((c) => c.name), 'hooli'].map((name) => valueOf(name)));
    expectSuccess(await lifecycle.send({ RequestType: 'Delete', LogicalResourceId: first.logicalId, ResourceProperties: first.props, PhysicalResourceId: PHYSICAL_ID }));
    for (const value of values) expect(await call(value)).toBe(403);
    const live = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [PREFIX] }] }));
    expect(live.SecretList).toEqual([]);
    const keys = await apigwClient.send(new GetApiKeysCommand({ limit: 500 }));
    expect((keys.items ?? []).filter((k) => k.tags?.[TAG_ROTATION_SECRET]?.includes(PREFIX))).toEqual([]);
  });
});
