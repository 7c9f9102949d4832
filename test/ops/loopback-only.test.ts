/**
 * Issue #19 item 1: with a loopback --endpoint, every SDK client the CLI builds (API Gateway
 * and Secrets Manager) talks to it, and nothing leaves loopback, even with real-looking
 * ambient credentials in the environment. `keygate keys rotate` on a secret-backed key runs
 * in-process against the local gateway while every socket connect is watched.
 */
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Command } from 'commander';
import * as net from 'net';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { registerOpsCommands } from '../../lib/ops/cli';
import { createClients } from '../../lib/ops/client';
import { TAG_SECRET_ARN } from '../../lib/ops/rotate';
import { synthPetApp } from '../local/fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const AMBIENT = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_REGION: 'eu-west-1',
};
const OLD_VALUE = 'LoopbackOldValue0123456789abcdefghij';

let gw: LocalGateway;
const saved: Record<string, string | undefined> = {};
const connects: string[] = [];
const realConnect = net.Socket.prototype.connect;

beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthPetApp(), log: () => undefined });
  for (const [k, v] of Object.entries(AMBIENT)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  jest.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
    const first = args[0] as { host?: string; path?: string } | number | string;
    const host = typeof first === 'object' && first !== null ? (first.path ? 'unix' : first.host ?? 'localhost') : typeof args[1] === 'string' ? args[1] : 'localhost';
    connects.push(String(host));
    return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  });
});
afterAll(async () => {
  jest.restoreAllMocks();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await gw.close();
});

function isLoopbackHost(host: string): boolean {
  return host === 'unix' || host === 'localhost' || host === '::1' || /^127\./.test(host);
}

async function secretBackedKey(name: string): Promise<string> {
  const config = { endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
  const apigw = new APIGatewayClient(config);
  const secrets = new SecretsManagerClient(config);
  try {
    const value = `${OLD_VALUE}${name}`;
    const { ARN } = await secrets.send(new CreateSecretCommand({ Name: `partners/${name}`, SecretString: value }));
    const key = await apigw.send(new CreateApiKeyCommand({ name, value, enabled: true, tags: { [TAG_SECRET_ARN]: ARN! } }));
    const plans = await apigw.send(new GetUsagePlansCommand({}));
    await apigw.send(new CreateUsagePlanKeyCommand({ usagePlanId: plans.items![0].id!, keyId: key.id!, keyType: 'API_KEY' }));
    return ARN!;
  } finally {
    apigw.destroy();
    secrets.destroy();
  }
}

describe('a loopback --endpoint keeps every request on loopback', () => {
  test('both clients use the endpoint and the placeholder credentials, not the ambient ones', async () => {
    const c = createClients({ endpoint: gw.info.controlPlane });
    try {
      for (const client of [c.apigw, c.secrets]) {
        const endpoint = await client.config.endpoint!();
        expect(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`).toBe(gw.info.controlPlane.replace(/\/$/, ''));
        expect((await client.config.credentials()).accessKeyId).not.toBe(AMBIENT.AWS_ACCESS_KEY_ID);
      }
    } finally {
      c.destroy();
    }
  });

  test('--profile with a loopback endpoint is refused (a profile may call AWS to resolve credentials)', () => {
    expect(() => createClients({ endpoint: gw.info.controlPlane, profile: 'prod' })).toThrow(/--profile prod with the local --endpoint .*drop --profile/);
  });

  test('keys rotate on a secret-backed key writes the local Secrets Manager; zero non-loopback connects', async () => {
    const arn = await secretBackedKey('loopco');
    connects.length = 0;
    const errors: string[] = [];
    const err = jest.spyOn(console, 'error').mockImplementation((m: string) => { errors.push(m); });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const program = new Command().exitOverride();
      registerOpsCommands(program);
      await program.parseAsync(['keys', 'rotate', 'loopco', '--endpoint', gw.info.controlPlane, '--json'], { from: 'user' });
    } finally {
      err.mockRestore();
      log.mockRestore();
      out.mockRestore();
    }
    expect(errors).toEqual([]);
    expect(process.exitCode).toBe(0);
    const secrets = new SecretsManagerClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    try {
      const current = (await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
      expect(current).not.toBe(`${OLD_VALUE}loopco`); // the successor's value reached the local Secrets Manager
    } finally {
      secrets.destroy();
    }
    expect(connects.length).toBeGreaterThan(0);
    expect(connects.filter((h) => !isLoopbackHost(h))).toEqual([]);
  });
});
