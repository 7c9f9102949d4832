/**
 * `keygate keys rotate`'s Secrets Manager write against the local gateway: the real SDK
 * clients, the local API Gateway control plane and the local Secrets Manager, no mocks.
 */
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { rotateKey, TAG_SECRET_ARN } from '../../lib/ops/rotate';
import { synthPetApp } from '../local/fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const NOW = new Date('2026-12-01T00:00:00Z');
const OLD_VALUE = 'PartnerOldValue0123456789abcdefghijklmn';
let gw: LocalGateway;
let apigw: APIGatewayClient;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthPetApp(), log: () => undefined });
  const config = { endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 };
  apigw = new APIGatewayClient(config);
  secrets = new SecretsManagerClient(config);
});
afterAll(async () => {
  apigw.destroy();
  secrets.destroy();
  await gw.close();
});

async function partnerKey(name: string, secretString: string): Promise<string> {
  const { ARN } = await secrets.send(new CreateSecretCommand({ Name: `partners/${name}`, SecretString: secretString }));
  const value = `${OLD_VALUE.slice(0, 30)}${name}`.padEnd(40, 'x');
  const key = await apigw.send(new CreateApiKeyCommand({ name, value, enabled: true, tags: { [TAG_SECRET_ARN]: ARN! } }));
  const plans = await apigw.send(new GetUsagePlansCommand({}));
  await apigw.send(new CreateUsagePlanKeyCommand({ usagePlanId: plans.items![0].id!, keyId: key.id!, keyType: 'API_KEY' }));
  return ARN!;
}

describe('keys rotate writes the successor\'s value to the local Secrets Manager', () => {
  test('a plain-string secret gets the new value as a new AWSCURRENT version; a re-run writes nothing', async () => {
    const arn = await partnerKey('initrode', `${OLD_VALUE.slice(0, 30)}initrode`.padEnd(40, 'x'));
    const result = await rotateKey(apigw, 'initrode', { secrets, now: () => NOW, showValue: true });
    expect(result.steps.find((s) => s.step === 'write secret')).toEqual({ step: 'write secret', status: 'done', detail: arn });
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe(result.successor.value);
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }))).SecretString).toMatch(/initrode/);

    const again = await rotateKey(apigw, 'initrode', { secrets, now: () => NOW });
    expect(again.steps.find((s) => s.step === 'write secret')?.status).toBe('already done');
    expect((await secrets.send(new ListSecretVersionIdsCommand({ SecretId: arn }))).Versions).toHaveLength(2);
  });

  test('a JSON secret keeps its shape: only the key field changes', async () => {
    const arn = await partnerKey('hooli', JSON.stringify({ apiKey: 'placeholder', owner: 'hooli' }));
    const result = await rotateKey(apigw, 'hooli', { secrets, now: () => NOW, showValue: true });
    const stored = JSON.parse((await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? '{}');
    expect(stored).toEqual({ apiKey: result.successor.value, owner: 'hooli' });
  });
});
