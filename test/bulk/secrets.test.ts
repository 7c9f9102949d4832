/** The rotating set's secrets pass: the pure plan, and its calls against aws-sdk-client-mock. */
import { APIGatewayClient, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import {
  CreateSecretCommand, DescribeSecretCommand, ListSecretsCommand, RestoreSecretCommand, RotateSecretCommand, SecretsManagerClient,
  TagResourceCommand, UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ControlPlane } from '../../lib/handlers/client-set-reconciler/control-plane';
import type { ReconcileContext } from '../../lib/handlers/client-set-reconciler/reconcile';
import {
  DesiredSecret, ListedSecret, planSecrets, planSecretsDelete, reconcileSecrets, RotationKey, RotationSettings, SecretsPlane,
} from '../../lib/handlers/client-set-reconciler/secrets';
import {
  SECRET_TAG_OVERLAP_SECONDS, SECRET_TAG_SET_ADOPTED_FROM, SECRET_TAG_SET_OWNER, SECRET_TAG_SET_RETIRED, SECRET_TAG_USAGE_PLANS,
} from '../../lib/shared/rotation-tags';

const ctx: ReconcileContext = { setId: 'partners', owner: 'own12345', requestToken: 'req00002', adopt: false };
const settings: RotationSettings = { lambdaArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rotation', scheduleExpression: 'rate(90 days)', overlapSeconds: 604800, recoveryWindowDays: 7 };
const arnOf = (client: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:keygate/partners/${client}-AbCdEf`;

function want(client: string, planIds = ['pfree']): DesiredSecret {
  return { client, name: `keygate/partners/${client}`, planIds, tags: {} };
}

/** A secret as the set left it after a deploy of `want(client, planIds)`. */
function secret(client: string, planIds = ['pfree'], more: Partial<ListedSecret> = {}, tags: Record<string, string> = {}): ListedSecret {
  return {
    arn: arnOf(client), name: `keygate/partners/${client}`, description: `API key of client ${client} of keygate client set partners, rotated on a schedule`, rotationEnabled: true, lambdaArn: settings.lambdaArn, scheduleExpression: settings.scheduleExpression, deleted: false,
    tags: {
      'keygate:client': client, 'keygate:client-set': 'partners', [SECRET_TAG_SET_OWNER]: ctx.owner,
      [SECRET_TAG_USAGE_PLANS]: planIds.join(' '), [SECRET_TAG_OVERLAP_SECONDS]: '604800', ...tags,
    },
    ...more,
  };
}

function key(client: string, id: string, planIds = ['pfree'], enabled = true): RotationKey {
  return { id, secretArn: arnOf(client), enabled, planIds };
}

const kinds = (plan: { actions: Array<{ kind: string }> }) => plan.actions.map((a) => a.kind);

describe('planSecrets', () => {
  test('a deployed set with nothing changed: no action', () => {
    const plan = planSecrets([want('acme')], [secret('acme')], [key('acme', 'k1')], ['pfree'], ctx, settings);
    expect(plan.actions).toEqual([]);
  });

  test('a new client: create (which starts its rotation)', () => {
    expect(kinds(planSecrets([want('acme'), want('globex')], [secret('acme')], [key('acme', 'k1')], ['pfree'], ctx, settings))).toEqual(['create']);
  });

  test('a tier change: the usage-plans tag, and each key moved (into the new plan, out of the old one in scope)', () => {
    const plan = planSecrets([want('acme', ['ppro'])], [secret('acme')], [key('acme', 'k1'), key('acme', 'k0')], ['pfree', 'ppro'], ctx, settings);
    expect(plan.actions).toEqual([
      { kind: 'tag', secret: expect.objectContaining({ name: 'keygate/partners/acme' }), tags: { [SECRET_TAG_USAGE_PLANS]: 'ppro' } },
      { kind: 'move-key', key: expect.objectContaining({ id: 'k1' }), addPlans: ['ppro'], removePlans: ['pfree'] },
      { kind: 'move-key', key: expect.objectContaining({ id: 'k0' }), addPlans: ['ppro'], removePlans: ['pfree'] },
    ]);
  });

  test('a changed description: UpdateSecret\'s Description', () => {
    const plan = planSecrets([{ ...want('acme'), description: 'Acme Corp, EU' }], [secret('acme')], [key('acme', 'k1')], ['pfree'], ctx, settings);
    expect(plan.actions).toEqual([{ kind: 'describe', secret: expect.anything(), description: 'Acme Corp, EU' }]);
  });

  test('a removed client is retired: rotation cancelled, keys disabled, the secret marked with the request', () => {
    const plan = planSecrets([], [secret('acme')], [key('acme', 'k1')], ['pfree'], ctx, settings);
    expect(kinds(plan)).toEqual(['cancel-rotation', 'disable-key', 'tag']);
    expect(plan.actions[2]).toEqual(expect.objectContaining({ tags: { [SECRET_TAG_SET_RETIRED]: 'req00002' } }));
    expect(plan.retired).toBe(1);
  });

  test('a retry of the retiring request finds the work done: no action', () => {
    const retired = secret('acme', ['pfree'], { rotationEnabled: false }, { [SECRET_TAG_SET_RETIRED]: 'req00002' });
    expect(planSecrets([], [retired], [key('acme', 'k1', ['pfree'], false)], ['pfree'], ctx, settings).actions).toEqual([]);
  });

  test('a client retired by an earlier request: its keys deleted, then its secret', () => {
    const retired = secret('acme', ['pfree'], { rotationEnabled: false }, { [SECRET_TAG_SET_RETIRED]: 'req00001' });
    expect(kinds(planSecrets([], [retired], [key('acme', 'k1', ['pfree'], false)], ['pfree'], ctx, settings))).toEqual(['delete-key', 'delete-secret']);
  });

  test('a rollback declares a retired client again: keys enabled, rotation on without rotating, the mark removed last', () => {
    const retired = secret('acme', ['pfree'], { rotationEnabled: false }, { [SECRET_TAG_SET_RETIRED]: 'req00001' });
    const plan = planSecrets([want('acme')], [retired], [key('acme', 'k1', ['pfree'], false)], ['pfree'], ctx, settings);
    expect(plan.actions).toEqual([
      { kind: 'enable-key', key: expect.objectContaining({ id: 'k1' }) },
      { kind: 'start-rotation', secret: expect.anything(), immediately: false },
      { kind: 'untag', secret: expect.anything(), keys: [SECRET_TAG_SET_RETIRED] },
    ]);
  });

  test('a client declared again while its secret waits for deletion: restored, and rotated at once (its keys are gone)', () => {
    const deleted = secret('acme', ['pfree'], { rotationEnabled: false, deleted: true }, { [SECRET_TAG_SET_RETIRED]: 'req00001' });
    const plan = planSecrets([want('acme')], [deleted], [], ['pfree'], ctx, settings);
    expect(kinds(plan)).toEqual(['restore', 'start-rotation', 'untag']);
    expect(plan.actions[1]).toEqual(expect.objectContaining({ immediately: true }));
  });

  test('a secret of another resource is foreign, unless the set adopts it (owner tag, remembering where it came from)', () => {
    const theirs = secret('acme', ['pfree'], {}, { [SECRET_TAG_SET_OWNER]: 'other999' });
    const refused = planSecrets([want('acme')], [theirs], [key('acme', 'k1')], ['pfree'], ctx, settings);
    expect({ foreign: refused.foreign.map((s) => s.name), actions: refused.actions }).toEqual({ foreign: ['keygate/partners/acme'], actions: [] });
    const adopted = planSecrets([want('acme')], [theirs], [key('acme', 'k1')], ['pfree'], { ...ctx, adopt: true }, settings);
    expect(adopted.actions).toEqual([{ kind: 'tag', secret: expect.anything(), tags: { [SECRET_TAG_SET_OWNER]: ctx.owner, [SECRET_TAG_SET_ADOPTED_FROM]: 'other999' } }]);
  });
});

test('a secret under the set\'s name that no keygate set made is never touched, not even with adoption', () => {
  const handMade: ListedSecret = { arn: arnOf('acme'), name: 'keygate/partners/acme', tags: { team: 'ops' }, rotationEnabled: false, deleted: false };
  for (const adopt of [false, true]) {
    const plan = planSecrets([want('acme')], [handMade], [], ['pfree'], { ...ctx, adopt }, settings);
    expect({ adopt, foreign: plan.foreign.length, actions: plan.actions }).toEqual({ adopt, foreign: 1, actions: [] });
  }
  expect(planSecretsDelete([handMade], [], ctx).actions).toEqual([]);
});

describe('planSecretsDelete', () => {
  test('own secrets: keys then secret; adopted ones go back; ones adopted from it are released', () => {
    const adopted = secret('acme', ['pfree'], {}, { [SECRET_TAG_SET_ADOPTED_FROM]: 'prev0001' });
    const mine = secret('globex');
    const givenAway = secret('initech', ['pfree'], {}, { [SECRET_TAG_SET_OWNER]: 'next0001', [SECRET_TAG_SET_ADOPTED_FROM]: ctx.owner });
    const plan = planSecretsDelete([adopted, mine, givenAway], [key('acme', 'k1'), key('globex', 'k2')], ctx);
    expect(plan.actions.map((a) => `${a.kind} ${'secret' in a ? a.secret.name.split('/')[2] : 'key' in a ? a.key.id : ''}`)).toEqual([
      'tag acme', 'untag acme', 'delete-key k2', 'delete-secret globex', 'untag initech',
    ]);
  });
});

describe('reconcileSecrets against mocked clients', () => {
  const sm = mockClient(SecretsManagerClient);
  const apigw = mockClient(APIGatewayClient);
  const smClient = new SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const apigwClient = new APIGatewayClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const pauses: number[] = [];
  const run = (desired: DesiredSecret[] | undefined) => reconcileSecrets(new ControlPlane(apigwClient, { limiter: null, sleep: async () => undefined }), new SecretsPlane(smClient),
    ctx, desired, ['pfree'], new Map([['pfree', ['api1/prod']]]), { settings, sleep: async (ms) => { pauses.push(ms); } });
  const toEntry = (s: ListedSecret) => ({
    ARN: s.arn, Name: s.name, RotationEnabled: s.rotationEnabled, RotationLambdaARN: s.lambdaArn, RotationRules: { ScheduleExpression: s.scheduleExpression },
    Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
  });
  const writeCalls = () => [...sm.commandCalls(CreateSecretCommand), ...sm.commandCalls(TagResourceCommand), ...sm.commandCalls(RotateSecretCommand), ...sm.commandCalls(RestoreSecretCommand)];

  beforeEach(() => {
    sm.reset();
    apigw.reset();
    pauses.length = 0;
    apigw.on(GetApiKeysCommand).resolves({ items: [] });
  });

  test('a new client: CreateSecret with the rotation tags and a placeholder value, then RotateSecret with RotateImmediately', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });
    sm.on(CreateSecretCommand).resolves({ ARN: arnOf('acme'), Name: 'keygate/partners/acme' });
    sm.on(RotateSecretCommand).resolves({});
    const result = await run([want('acme')]);
    expect(result).toEqual(expect.objectContaining({ complete: true, done: 1 }));
    const create = sm.commandCalls(CreateSecretCommand)[0].args[0].input;
    expect(create.Name).toBe('keygate/partners/acme');
    expect(create.SecretString).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(Object.fromEntries((create.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      'keygate:client': 'acme', 'keygate:client-set': 'partners', [SECRET_TAG_SET_OWNER]: 'own12345', [SECRET_TAG_USAGE_PLANS]: 'pfree', [SECRET_TAG_OVERLAP_SECONDS]: '604800',
    });
    expect(sm.commandCalls(RotateSecretCommand)[0].args[0].input).toEqual({
      SecretId: arnOf('acme'), RotationLambdaARN: settings.lambdaArn, RotationRules: { ScheduleExpression: 'rate(90 days)' }, RotateImmediately: true,
    });
    // Each immediate rotation creates a key (CreateApiKey: 5 per second): 2 rotations per second at most.
    expect(pauses).toEqual([500]);
  });

  test('a retry whose listing lags (ListSecrets is eventually consistent): the secret exists and rotates, so nothing more is done', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });
    sm.on(CreateSecretCommand).rejects(Object.assign(new Error('The operation failed because the secret keygate/partners/acme already exists.'), { name: 'ResourceExistsException' }));
    sm.on(DescribeSecretCommand).resolves(toEntry(secret('acme')));
    await run([want('acme')]);
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  test('a lagging listing and a secret waiting for deletion: restored, its tags brought to the declared state, rotated', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });
    sm.on(CreateSecretCommand).rejects(Object.assign(new Error('You can\'t create this secret because a secret with this name is already scheduled for deletion.'), { name: 'InvalidRequestException' }));
    const waiting = secret('acme', ['pold'], { rotationEnabled: false }, { [SECRET_TAG_SET_RETIRED]: 'req00001' });
    sm.on(DescribeSecretCommand).resolves({ ...toEntry(waiting), RotationEnabled: false, DeletedDate: new Date() });
    sm.on(RestoreSecretCommand).resolves({});
    sm.on(TagResourceCommand).resolves({});
    sm.on(UntagResourceCommand).resolves({});
    sm.on(RotateSecretCommand).resolves({});
    await run([want('acme')]);
    expect(sm.commandCalls(RestoreSecretCommand)).toHaveLength(1);
    expect(sm.commandCalls(TagResourceCommand)[0].args[0].input.Tags).toEqual([{ Key: SECRET_TAG_USAGE_PLANS, Value: 'pfree' }]);
    expect(sm.commandCalls(UntagResourceCommand)[0].args[0].input.TagKeys).toEqual([SECRET_TAG_SET_RETIRED]);
    expect(sm.commandCalls(RotateSecretCommand)[0].args[0].input.RotateImmediately).toBe(true);
  });

  test('a secret of the same name that another resource owns: refused, with no write', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [toEntry(secret('acme', ['pfree'], {}, { [SECRET_TAG_SET_OWNER]: 'other999' })), toEntry(secret('globex', ['pfree'], { rotationEnabled: false }))] });
    await expect(run([want('acme'), want('globex')])).rejects.toThrow(/1 secrets of the client set partners \(keygate\/partners\/acme\) belong to another resource \(other999\); this resource is own12345.*Nothing was changed/);
    expect(writeCalls()).toEqual([]);
  });

  test('no call starts after the deadline: the pass reports what is left, and the next pass carries on', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });
    sm.on(CreateSecretCommand).resolves({ ARN: arnOf('acme') });
    sm.on(RotateSecretCommand).resolves({});
    let now = 0;
    // The pause after the first immediate rotation runs past the deadline.
    const pass = await reconcileSecrets(new ControlPlane(apigwClient, { limiter: null }), new SecretsPlane(smClient, { deadline: 10, now: () => now }), ctx,
      [want('acme'), want('globex')], ['pfree'], new Map(), { settings, sleep: async () => { now = 20; } });
    expect({ complete: pass.complete, done: pass.done, pending: pass.pending, creates: sm.commandCalls(CreateSecretCommand).length }).toEqual({ complete: false, done: 1, pending: 1, creates: 1 });
  });
});
