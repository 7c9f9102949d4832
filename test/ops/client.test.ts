import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { Readable } from 'stream';
import { createClients, DEFAULT_MAX_ATTEMPTS, isLoopbackEndpoint } from '../../lib/ops/client';
import { explainError } from '../../lib/ops/errors';
import { listApiKeys } from '../../lib/sdk/paginate';
import { applyControlPlaneLimits, ControlPlaneLimiter, TokenBucket } from '../../lib/sdk/rate-limit';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** The part of a smithy HttpRequest the fake looks at. */
interface HttpRequest { path: string; query: Record<string, string | string[] | null> }

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/** A fake HTTP handler: the real SDK (serialization, retry, middleware) runs against scripted replies. */
function scripted(replies: (req: HttpRequest) => Reply) {
  const requests: HttpRequest[] = [];
  return {
    requests,
    handler: {
      handle: async (req: HttpRequest) => {
        requests.push(req);
        const r = replies(req);
        return {
          // a plain object is accepted (HttpResponse.isInstance is structural)
          response: {
            statusCode: r.status,
            headers: { 'content-type': 'application/json', ...(r.headers ?? {}) },
            body: Readable.from([Buffer.from(JSON.stringify(r.body))]),
          },
        };
      },
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
    },
  };
}

const throttled: Reply = { status: 429, body: { message: 'Too Many Requests' }, headers: { 'x-amzn-errortype': 'TooManyRequestsException' } };

function client(handler: ReturnType<typeof scripted>['handler'], maxAttempts = 4): APIGatewayClient {
  return new APIGatewayClient({
    region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, retryMode: 'adaptive', maxAttempts, requestHandler: handler,
  });
}

describe('SDK client', () => {
  test('adaptive retry recovers from 429 TooManyRequests', async () => {
    let n = 0;
    const s = scripted(() => (++n <= 2 ? throttled : { status: 200, body: { item: [{ id: 'k1', name: 'a' }] } }));
    const keys = await listApiKeys(client(s.handler));
    expect(keys.map((k) => k.id)).toEqual(['k1']);
    expect(s.requests).toHaveLength(3);
  });

  test('gives up after maxAttempts and explains what to do', async () => {
    const s = scripted(() => throttled);
    const err = await listApiKeys(client(s.handler, 3)).catch((e: unknown) => e);
    expect(s.requests).toHaveLength(3);
    const explained = explainError(err);
    expect(explained.exitCode).toBe(1);
    expect(explained.message).toMatch(/throttling.*after 3 attempts.*re-run/);
  });

  test('pages through GetApiKeys with position and limit=500', async () => {
    const s = scripted((req) => {
      const pos = req.query.position as string | undefined;
      if (!pos) return { status: 200, body: { item: [{ id: 'k1' }, { id: 'k2' }], position: 'p2' } };
      if (pos === 'p2') return { status: 200, body: { item: [{ id: 'k3' }], position: 'p3' } };
      return { status: 200, body: { item: [{ id: 'k4' }] } };
    });
    const keys = await listApiKeys(client(s.handler), { includeValues: true });
    expect(keys.map((k) => k.id)).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(s.requests.map((r) => [r.query.position, r.query.limit, r.query.includeValues])).toEqual([
      [undefined, '500', 'true'], ['p2', '500', 'true'], ['p3', '500', 'true'],
    ]);
  });

  test('createClients: adaptive retry, maxAttempts, region rules, local credentials', async () => {
    const c = createClients({ endpoint: 'http://127.0.0.1:4010' }, {});
    expect(c.region).toBe('us-east-1');
    expect(await c.apigw.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    expect(await c.apigw.config.maxAttempts()).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(await c.apigw.config.credentials()).toMatchObject({ accessKeyId: 'keygatelocal' });
    c.destroy();
    expect(() => createClients({}, {})).toThrow(/pass --region/);
    expect(() => createClients({ endpoint: 'not a url' }, {})).toThrow(/not a URL/);
    expect(createClients({}, { AWS_REGION: 'eu-central-1' }).region).toBe('eu-central-1');
    expect(isLoopbackEndpoint('http://localhost:3000')).toBe(true);
    expect(isLoopbackEndpoint('https://apigateway.eu-west-1.amazonaws.com')).toBe(false);
  });
});

describe('control-plane limits', () => {
  test('token bucket: burst, then the rate', async () => {
    let t = 0;
    const waits: number[] = [];
    const bucket = new TokenBucket(5, 2, () => t, async (ms) => { waits.push(ms); t += ms; });
    for (let i = 0; i < 5; i++) await bucket.take();
    expect(waits).toEqual([200, 200, 200]);
    expect(t).toBe(600);
  });

  test('CreateApiKey at most 5 per second, CreateUsagePlanKey one at a time', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const createTimes: number[] = [];
    const s = scripted((req) => {
      if (req.path.includes('/keys')) return { status: 201, body: { id: 'k' } };
      createTimes.push(Date.now());
      return { status: 201, body: { id: 'k' } };
    });
    const slowHandler = {
      ...s.handler,
      handle: async (req: HttpRequest) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return s.handler.handle(req);
      },
    };
    const c = applyControlPlaneLimits(client(slowHandler), new ControlPlaneLimiter());
    await Promise.all(Array.from({ length: 4 }, (_, i) => c.send(new CreateUsagePlanKeyCommand({ usagePlanId: 'p', keyId: `k${i}`, keyType: 'API_KEY' }))));
    expect(maxInFlight).toBe(1);
    const start = Date.now();
    await Promise.all(Array.from({ length: 6 }, (_, i) => c.send(new CreateApiKeyCommand({ name: `n${i}` }))));
    // 6 creates at 5/s with a burst of 1: the last starts ≥ 1 s after the first
    expect(Date.now() - start).toBeGreaterThanOrEqual(950);
    expect(createTimes).toHaveLength(6);
  });

  test('other calls share 10 rps', async () => {
    let t = 0;
    const limiter = new ControlPlaneLimiter({ now: () => t, sleep: async (ms) => { t += ms; }, sharedBurst: 10 });
    for (let i = 0; i < 30; i++) await limiter.run('GetApiKeysCommand', async () => undefined);
    expect(t).toBeGreaterThanOrEqual(1900);
    expect(t).toBeLessThanOrEqual(2100);
    void GetApiKeysCommand;
  });
});
