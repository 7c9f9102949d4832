/**
 * The acceptance checks, against the example app (bin/app.ts via cdk.json),
 * synthesized the way `keygate local` does without --app.
 */
import {
  APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetUsageCommand, GetUsagePlansCommand, UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { UsagePlan } from '../../lib/local/apigateway/model';
import { exampleAppAssembly } from '../support/example-app';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

async function get(url: string, key?: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(url, { method: init.method ?? 'GET', body: init.body, headers: { ...(key ? { 'x-api-key': key } : {}), 'content-type': 'application/json' } });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try { json = JSON.parse(text) as Record<string, unknown>; } catch { json = { raw: text }; }
  return { status: r.status, json, headers: r.headers };
}

describe('keygate local on the example app', () => {
  let asm: string;
  let gw: LocalGateway;
  let now: number;
  let base: string;
  const key = (name: string): string => {
    const k = [...gw.model.keys.values()].find((x) => x.name === name);
    if (!k) throw new Error(`the example app has no client ${name}`);
    return k.value;
  };
  /** The client (key name) in the plan named `plan`. */
  const clientOf = (plan: string): { name: string; value: string; plan: UsagePlan } => {
    const p = [...gw.model.plans.values()].find((x) => x.name === plan);
    if (!p) throw new Error(`the example app has no plan ${plan}`);
    const id = [...(gw.model.planKeys.get(p.id) ?? [])][0];
    const k = gw.model.keys.get(id)!;
    return { name: k.name, value: k.value, plan: p };
  };

  beforeAll(async () => {
    asm = await exampleAppAssembly();
  }, 120_000);

  beforeEach(async () => {
    now = Date.UTC(2026, 10, 27, 12, 0, 0);
    gw = await startLocalGateway({ assemblyDir: asm, port: 0, clock: () => now, log: () => undefined });
    base = gw.info.apis[0].stages[0].url;
  });
  afterEach(async () => {
    await gw.close();
  });

  test('serves the whole app: nothing unsupported, three clients in tiers', () => {
    expect(gw.unsupported).toEqual([]);
    expect(gw.info.keys.length).toBeGreaterThanOrEqual(3);
    for (const k of gw.info.keys) {
      expect(k.enabled).toBe(true);
      expect(k.usagePlans).toHaveLength(1);
      expect(k).not.toHaveProperty('value');
    }
  });

  test('public route without a key', async () => {
    const r = await get(`${base}/health`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-amzn-requestid')).toBeTruthy();
  });

  test('403 without a key, with a wrong key, with a disabled key — with the custom gateway response body', async () => {
    const none = await get(`${base}/pets`);
    expect(none.status).toBe(403);
    expect(none.json.message).toBe('Forbidden');
    expect(none.json.requestId).toBe(none.headers.get('x-amzn-requestid'));
    expect(none.json.error).toBe('INVALID_API_KEY');
    expect((await get(`${base}/pets`, 'WrongKeyWrongKeyWrongKey0123456789')).status).toBe(403);
    const c = clientOf('Free');
    gw.model.keys.get([...gw.model.keys.values()].find((k) => k.value === c.value)!.id)!.enabled = false;
    expect((await get(`${base}/pets`, c.value)).status).toBe(403);
  });

  test('200 with each client key on the Lambda route and the MOCK route', async () => {
    for (const k of gw.info.keys) {
      const v = key(k.name);
      const pets = await get(`${base}/pets`, v);
      expect(pets.status).toBe(200);
      expect(pets.json.client).toBe(k.id);
      expect((await get(`${base}/pets/types`, v)).status).toBe(200);
    }
  });

  test('Lambda-backed route with a path parameter', async () => {
    const c = clientOf('Premium');
    const r = await get(`${base}/pets/1`, c.value);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: '1' });
    expect((await get(`${base}/pets/999`, c.value)).status).toBe(404);
  });

  test('429 Too Many Requests once the burst is spent, recovery as tokens refill', async () => {
    const c = clientOf('Free');
    const burst = c.plan.throttle!.burstLimit!;
    const rate = c.plan.throttle!.rateLimit!;
    for (let i = 0; i < burst; i++) expect((await get(`${base}/pets/types`, c.value)).status).toBe(200);
    const r = await get(`${base}/pets/types`, c.value);
    expect(r.status).toBe(429);
    expect(r.json.message).toBe('Too Many Requests');
    now += Math.ceil(1000 / rate);
    expect((await get(`${base}/pets/types`, c.value)).status).toBe(200);
    expect((await get(`${base}/pets/types`, c.value)).status).toBe(429);
  });

  test('429 Limit Exceeded once the quota is spent, reset at the next period', async () => {
    const c = clientOf('Free');
    const q = c.plan.quota!;
    expect(q.period).toBe('DAY');
    const step = Math.ceil(1000 / c.plan.throttle!.rateLimit!);
    for (let i = 0; i < q.limit; i++) {
      expect((await get(`${base}/pets/types`, c.value)).status).toBe(200);
      now += step;
    }
    const r = await get(`${base}/pets/types`, c.value);
    expect(r.status).toBe(429);
    expect(r.json.message).toBe('Limit Exceeded');
    now = Date.UTC(2026, 10, 28, 0, 0, 1);
    expect((await get(`${base}/pets/types`, c.value)).status).toBe(200);
  });

  test('per-method throttle override of a plan', async () => {
    const c = clientOf('Basic');
    const [route, t] = Object.entries(c.plan.apiStages[0].throttle)[0];
    expect(route).toBe('/pets/POST');
    for (let i = 0; i < t.burstLimit!; i++) expect((await get(`${base}/pets`, c.value, { method: 'POST', body: '{"name":"Ada"}' })).status).toBe(201);
    expect((await get(`${base}/pets`, c.value, { method: 'POST', body: '{"name":"Bob"}' })).status).toBe(429);
    // The plan's own bucket is larger and separate.
    expect((await get(`${base}/pets`, c.value)).status).toBe(200);
  });

  test('the AWS SDK against the control plane: create, associate, call, disable → 403, GetUsage shows the calls', async () => {
    const client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      const created = await client.send(new CreateApiKeyCommand({ name: 'new-partner', enabled: true }));
      const plans = await client.send(new GetUsagePlansCommand({}));
      const premium = plans.items!.find((p) => p.name === 'Premium')!;
      await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: premium.id, keyId: created.id, keyType: 'API_KEY' }));
      for (let i = 0; i < 3; i++) expect((await get(`${base}/pets`, created.value)).status).toBe(200);
      await client.send(new UpdateApiKeyCommand({ apiKey: created.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
      expect((await get(`${base}/pets`, created.value)).status).toBe(403);
      const usage = await client.send(new GetUsageCommand({ usagePlanId: premium.id, startDate: '2026-11-27', endDate: '2026-11-27', keyId: created.id }));
      expect(usage.items?.[created.id!]?.[0]?.[0]).toBe(3);
    } finally {
      client.destroy();
    }
  });

  test('the stage\'s access log format is rendered per request', async () => {
    const lines: string[] = [];
    const logged = await startLocalGateway({ assemblyDir: asm, port: 0, clock: () => now, log: () => undefined, accessLog: (l) => lines.push(l) });
    try {
      // Generated key values differ between gateway instances (as between deployments): take this one's.
      const premium = [...logged.model.plans.values()].find((p) => p.name === 'Premium')!;
      const c = logged.model.keys.get([...logged.model.planKeys.get(premium.id)!][0])!;
      const r = await fetch(`${logged.info.apis[0].stages[0].url}/pets/types`, { headers: { 'x-api-key': c.value } });
      expect(r.status).toBe(200);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(r.headers.get('x-amzn-requestid')!);
      expect(lines[0]).toContain('200');
      expect(lines[0]).not.toContain(c.value); // never the key value
    } finally {
      await logged.close();
    }
  });
});
