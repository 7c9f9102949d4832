import * as http from 'http';
import { AddressInfo } from 'net';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { KNOWN_KEY, synthAuthApp, synthHttpApp, synthMiscApp, synthPetApp } from './fixtures';

const DAY = 86_400_000;

interface Res { status: number; body: string; json: () => Record<string, unknown>; headers: Headers }

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Res> {
  const r = await fetch(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  const body = await r.text();
  return { status: r.status, body, headers: r.headers, json: () => JSON.parse(body) as Record<string, unknown> };
}

describe('data plane on a synthesized pet app', () => {
  let asm: string;
  let gw: LocalGateway;
  let now: number;
  let base: string;
  const keyOf = (name: string): string => {
    const k = [...gw.model.keys.values()].find((x) => x.name === name);
    if (!k) throw new Error(`no key ${name}`);
    return k.value;
  };

  beforeAll(() => {
    asm = synthPetApp();
  });

  beforeEach(async () => {
    now = Date.UTC(2026, 10, 27, 12, 0, 0);
    gw = await startLocalGateway({ assemblyDir: asm, port: 0, clock: () => now, log: () => undefined });
    base = gw.info.apis[0].stages[0].url;
  });

  afterEach(async () => {
    await gw.close();
  });

  test('reports nothing unsupported for an app it can fully run', () => {
    expect(gw.unsupported).toEqual([]);
  });

  test('public MOCK route answers without a key, with a request id in body and header', async () => {
    const r = await call(`${base}/health`);
    expect(r.status).toBe(200);
    expect(r.json().ok).toBe(true);
    expect(r.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.json().requestId).toBe(r.headers.get('x-amzn-requestid'));
  });

  test('403 Forbidden without a key, with a wrong key, with a disabled key, and with a key in no plan', async () => {
    expect((await call(`${base}/pets`)).json()).toEqual({ message: 'Forbidden' });
    const wrong = await call(`${base}/pets`, { headers: { 'x-api-key': 'x'.repeat(40) } });
    expect(wrong.status).toBe(403);
    expect(wrong.json()).toEqual({ message: 'Forbidden' });
    expect(wrong.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    const premium = [...gw.model.keys.values()].find((k) => k.name === 'premium-client');
    premium!.enabled = false;
    expect((await call(`${base}/pets`, { headers: { 'x-api-key': premium!.value } })).status).toBe(403);
    premium!.enabled = true;
    expect((await call(`${base}/pets`, { headers: { 'x-api-key': premium!.value } })).status).toBe(200);
    const planId = [...gw.model.plans.values()].find((p) => p.name === 'premium')!.id;
    gw.model.removePlanKey(planId, premium!.id);
    expect((await call(`${base}/pets`, { headers: { 'x-api-key': premium!.value } })).status).toBe(403);
  });

  test('200 with each client key, including the one whose value comes from a generated Secrets Manager secret', async () => {
    for (const name of ['free-client', 'premium-client', 'known-client']) {
      const r = await call(`${base}/pets`, { headers: { 'x-api-key': keyOf(name) } });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual([{ id: 1, name: 'rex' }]);
    }
    expect(keyOf('known-client')).toBe(KNOWN_KEY);
    // GenerateSecretString: 40 characters, no punctuation.
    expect(keyOf('premium-client')).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  test('unknown routes and methods: 403 Missing Authentication Token', async () => {
    for (const [m, p] of [['GET', '/nope'], ['DELETE', '/pets'], ['GET', '/pets/1/2'], ['GET', '/']]) {
      const r = await call(`${base}${p}`, { method: m, headers: { 'x-api-key': KNOWN_KEY } });
      expect(r.status).toBe(403);
      expect(r.json()).toEqual({ message: 'Missing Authentication Token' });
    }
    expect((await call(`${base.replace('/v1/', '/nostage/')}/health`)).status).toBe(403);
  });

  test('429 Too Many Requests once the burst is spent, custom gateway response, and recovery as tokens refill', async () => {
    const key = { 'x-api-key': keyOf('free-client') }; // free: rate 2/s, burst 3
    for (let i = 0; i < 3; i++) expect((await call(`${base}/pets`, { headers: key })).status).toBe(200);
    const throttled = await call(`${base}/pets`, { headers: key });
    expect(throttled.status).toBe(429);
    expect(throttled.json()).toEqual({ error: 'slow down', requestId: throttled.headers.get('x-amzn-requestid'), message: 'Too Many Requests' });
    expect(throttled.headers.get('retry-after')).toBe('1');
    now += 499; // 0.998 tokens: still throttled
    expect((await call(`${base}/pets`, { headers: key })).status).toBe(429);
    now += 1; // one token
    expect((await call(`${base}/pets`, { headers: key })).status).toBe(200);
    expect((await call(`${base}/pets`, { headers: key })).status).toBe(429);
    // Other clients have their own buckets.
    expect((await call(`${base}/pets`, { headers: { 'x-api-key': KNOWN_KEY } })).status).toBe(200);
  });

  test('429 Limit Exceeded once the daily quota is spent, and reset at the next UTC day', async () => {
    const key = { 'x-api-key': keyOf('free-client') }; // quota 5/DAY
    for (let i = 0; i < 5; i++) {
      expect((await call(`${base}/pets`, { headers: key })).status).toBe(200);
      now += 1000;
    }
    const over = await call(`${base}/pets`, { headers: key });
    expect(over.status).toBe(429);
    expect(over.json()).toEqual({ message: 'Limit Exceeded' });
    now = Date.UTC(2026, 10, 27, 23, 59, 59);
    expect((await call(`${base}/pets`, { headers: key })).status).toBe(429);
    now = Date.UTC(2026, 10, 28, 0, 0, 0);
    expect((await call(`${base}/pets`, { headers: key })).status).toBe(200);
    // Throttled and rejected requests did not count: 1 used today.
    const plan = [...gw.model.plans.values()].find((p) => p.name === 'free')!;
    const keyId = [...gw.model.keys.values()].find((k) => k.name === 'free-client')!.id;
    expect(plan.quota).toBeDefined();
    now += DAY - 1;
    expect((await call(`${base}/pets`, { headers: key })).status).toBe(200);
    void keyId;
  });

  test('per-method throttle of the plan overrides the plan throttle for that method', async () => {
    const key = { 'x-api-key': keyOf('free-client'), 'content-type': 'application/json' }; // POST /pets: burst 1
    expect((await call(`${base}/pets`, { method: 'POST', headers: key, body: '{"name":"a"}' })).status).toBe(201);
    expect((await call(`${base}/pets`, { method: 'POST', headers: key, body: '{"name":"b"}' })).status).toBe(429);
    // GET /pets still has the plan's own bucket (burst 3).
    expect((await call(`${base}/pets`, { headers: key })).status).toBe(200);
    now += 1000;
    expect((await call(`${base}/pets`, { method: 'POST', headers: key, body: '{"name":"c"}' })).status).toBe(201);
  });

  test('Lambda proxy route gets an API Gateway v1 event, runs isolated with its own environment', async () => {
    const r = await call(`${base}/pets/42?q=a%20b`, { headers: { 'x-api-key': KNOWN_KEY, 'x-custom': 'yes' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-fn')).toBe('hello');
    const ev = r.json();
    expect(ev).toMatchObject({ path: '/pets/42', resource: '/pets/{id}', pathParameters: { id: '42' }, query: { q: 'a b' }, stage: 'v1', body: null });
    expect(ev.apiKeyId).toBe([...gw.model.keys.values()].find((k) => k.value === KNOWN_KEY)!.id);
    expect(ev.leakedParentEnv).toBeNull();
  });

  test('Lambda errors: malformed response → 502, thrown error → 502, timeout → 504', async () => {
    process.env.KEYGATE_PARENT_SECRET = 'must-not-leak';
    try {
      const bad = await call(`${base}/fn/bad`);
      expect(bad.status).toBe(502);
      expect(bad.json()).toEqual({ message: 'Internal server error' });
      expect((await call(`${base}/fn/boom`)).status).toBe(502);
      const slow = await call(`${base}/fn/slow`);
      expect(slow.status).toBe(504);
      expect(slow.json()).toEqual({ message: 'Endpoint request timed out' });
      // The worker is replaced after a timeout.
      const ok = await call(`${base}/fn/x`);
      expect(ok.status).toBe(200);
      expect(ok.json().leakedParentEnv).toBeNull();
    } finally {
      delete process.env.KEYGATE_PARENT_SECRET;
    }
  });

  test('an integration it cannot reach answers with API Gateway errors, never crashes', async () => {
    const r = await call(`${base}/cfg`);
    expect([500, 504]).toContain(r.status);
    expect(r.headers.get('x-amzn-requestid')).toBeTruthy();
  });

  test('413 for bodies over 10 MB', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 97);
    const r = await call(`${base}/pets`, { method: 'POST', headers: { 'x-api-key': KNOWN_KEY }, body: big });
    expect(r.status).toBe(413);
    expect(r.json()).toEqual({ message: 'Request Too Long' });
  });
});

describe('Lambda TOKEN authorizer with API keys from the authorizer (usageIdentifierKey)', () => {
  let gw: LocalGateway;
  let base: string;

  beforeAll(async () => {
    gw = await startLocalGateway({ assemblyDir: synthAuthApp(), port: 0, log: () => undefined });
    base = gw.info.apis[0].stages[0].url;
  });
  afterAll(async () => {
    await gw.close();
  });

  test('401 without a token, 401 when the authorizer says Unauthorized, 403 on Deny, 200 on Allow with context', async () => {
    expect((await call(`${base}/open`)).status).toBe(401);
    expect((await call(`${base}/open`)).json()).toEqual({ message: 'Unauthorized' });
    expect((await call(`${base}/open`, { headers: { authorization: 'nope' } })).status).toBe(401);
    const denied = await call(`${base}/open`, { headers: { authorization: 'deny' } });
    expect(denied.status).toBe(403);
    expect(denied.json().message).toBe('User is not authorized to access this resource with an explicit deny');
    const ok = await call(`${base}/open`, { headers: { authorization: 'allow' } });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ principal: 'user-1', tier: 'gold' });
  });

  test('ApiKeySourceType AUTHORIZER: the key comes from usageIdentifierKey, not from x-api-key', async () => {
    expect((await call(`${base}/metered`, { headers: { authorization: 'allow', 'x-api-key': KNOWN_KEY } })).status).toBe(403);
    expect((await call(`${base}/metered`, { headers: { authorization: 'allow-key' } })).status).toBe(200);
  });
});

describe('HTTP and HTTP_PROXY integrations', () => {
  let upstream: http.Server;
  let gw: LocalGateway;
  let base: string;
  let plainStatus = 200;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url?.startsWith('/plain')) {
          res.writeHead(plainStatus, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ n: 7 }));
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' });
        res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString(), header: req.headers['x-custom'] ?? null }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    gw = await startLocalGateway({ assemblyDir: synthHttpApp(`http://127.0.0.1:${port}`), port: 0, log: () => undefined });
    base = gw.info.apis[0].stages[0].url;
  });
  afterAll(async () => {
    await gw.close();
    await new Promise((r) => upstream.close(r));
  });

  test('HTTP_PROXY forwards method, greedy path, query, headers and body, and returns the upstream response as is', async () => {
    const r = await call(`${base}/proxy/a/b%20c?x=1`, { method: 'PUT', headers: { 'x-custom': 'v', 'content-type': 'text/plain' }, body: 'hello' });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-upstream')).toBe('yes');
    expect(r.json()).toEqual({ method: 'PUT', url: '/backend/a/b%20c?x=1', body: 'hello', header: 'v' });
  });

  test('HTTP (non-proxy) builds the backend body with the request template; NEVER passthrough rejects other content types', async () => {
    const r = await call(`${base}/templated?who=ann`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(r.status).toBe(200);
    expect(JSON.parse(String(r.json().upstreamSaw))).toEqual({ wrapped: { a: 1 }, who: 'ann' });
    expect((await call(`${base}/templated`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(415);
  });

  test('HTTP (non-proxy) maps the response through integration responses selected by status', async () => {
    plainStatus = 200;
    expect((await call(`${base}/plain`)).json()).toEqual({ wrapped: { n: 7 }, n: 7 });
    plainStatus = 404;
    const r = await call(`${base}/plain`);
    expect(r.status).toBe(404);
    expect(r.json()).toEqual({ message: 'not there' });
  });
});

describe('REQUEST authorizer with cache, stage method throttles, DEFAULT_4XX override', () => {
  let gw: LocalGateway;
  let base: string;
  let now = Date.UTC(2026, 10, 27, 12);

  beforeAll(async () => {
    gw = await startLocalGateway({ assemblyDir: synthMiscApp(), port: 0, clock: () => now, log: () => undefined });
    base = gw.info.apis[0].stages[0].url;
  });
  afterAll(async () => {
    await gw.close();
  });

  test('REQUEST authorizer gets headers and query; results are cached per identity for the TTL', async () => {
    const missing = await call(`${base}/req`, { headers: { 'X-Token': 'good' } });
    expect(missing.status).toBe(401);
    expect(missing.json()).toEqual({ oops: 'Unauthorized', type: 'UNAUTHORIZED' }); // DEFAULT_4XX override applies
    expect(missing.headers.get('x-custom-4xx')).toBe('yes');
    expect(missing.headers.get('x-path-stage')).toBe('live');
    const first = await call(`${base}/req?user=ann`, { headers: { 'X-Token': 'good' } });
    expect(first.json()).toEqual({ user: 'ann', calls: '1' });
    const cached = await call(`${base}/req?user=ann`, { headers: { 'X-Token': 'good' } });
    expect(cached.json()).toEqual({ user: 'ann', calls: '1' });
    const other = await call(`${base}/req?user=bob`, { headers: { 'X-Token': 'good' } });
    expect(other.json()).toEqual({ user: 'bob', calls: '2' });
    now += 5 * 60_000 + 1;
    expect((await call(`${base}/req?user=ann`, { headers: { 'X-Token': 'good' } })).json()).toEqual({ user: 'ann', calls: '3' });
    expect((await call(`${base}/req?user=ann`, { headers: { 'X-Token': 'bad' } })).status).toBe(401);
  });

  test('stage MethodSettings throttle one method without touching the others', async () => {
    expect((await call(`${base}/limited`)).status).toBe(200);
    const r = await call(`${base}/limited`);
    expect(r.status).toBe(429);
    expect(r.json()).toEqual({ oops: 'Too Many Requests', type: 'THROTTLED' });
    for (let i = 0; i < 5; i++) expect((await call(`${base}/free`)).status).toBe(200);
    now += 1000;
    expect((await call(`${base}/limited`)).status).toBe(200);
  });
});
