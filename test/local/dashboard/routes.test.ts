/**
 * The dashboard's HTTP rules, request by request (the browser test shows the page itself):
 * loopback Host only, nothing cross-site, read-only, a per-start token, and no key value in
 * any response even when the gateway runs with --show-values.
 */
import * as http from 'http';
import { LocalGateway, RequestRecord, startLocalGateway } from '../../../lib/local';
import { FEED_CAPACITY, RequestActivity, Ring } from '../../../lib/local/dashboard/activity';
import { KNOWN_KEY, synthPetApp } from '../fixtures';

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

/** A raw request, so that Host, Origin and Sec-Fetch-* can be set as a browser (or an attacker) would. */
function request(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('the local dashboard routes', () => {
  let asm: string;
  let gw: LocalGateway;
  let token: string;
  let cookie: string;
  const records: RequestRecord[] = [];
  const logLines: string[] = [];
  const now = Date.UTC(2026, 10, 27, 12, 0, 0);
  const page = '/_keygate/dashboard';
  const state = '/_keygate/dashboard/state.json';

  beforeAll(async () => {
    asm = synthPetApp();
    gw = await startLocalGateway({ assemblyDir: asm, port: 0, clock: () => now, showValues: true, log: (l) => logLines.push(l), onRequest: (r) => records.push(r) });
    token = new URL(gw.info.dashboard).searchParams.get('token')!;
    const exchanged = await request(gw.port, `${page}?token=${token}`, { 'sec-fetch-site': 'none' });
    cookie = String(exchanged.headers['set-cookie']).split(';')[0];
  }, 60_000);
  afterAll(() => gw.close());

  test('the printed URL trades its token for an HttpOnly SameSite=Strict cookie and redirects to a URL without it', async () => {
    const r = await request(gw.port, `${page}?token=${token}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe(page);
    expect(r.headers['set-cookie']).toEqual([`keygate_dashboard_${gw.port}=${token}; Path=/_keygate/; HttpOnly; SameSite=Strict`]);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('without the token or with another one: 401 on every dashboard path, naming what to open', async () => {
    for (const p of [page, state, `${page}/app.js`]) {
      const r = await request(gw.port, p);
      expect(r.status).toBe(401);
      expect(r.body).toMatch(/Open the dashboard URL that keygate local printed/);
    }
    const wrong = await request(gw.port, `${state}?token=${'A'.repeat(43)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatch(/not this run's/);
    expect((await request(gw.port, state, { cookie: `keygate_dashboard_${gw.port}=${'A'.repeat(43)}` })).status).toBe(401);
  });

  test('with the cookie (or the token, for scripts): page, script, style and state, each with a strict CSP', async () => {
    const html = await request(gw.port, page, { cookie });
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self';.*frame-ancestors 'none'/);
    expect(html.headers['cache-control']).toBe('no-store');
    expect((await request(gw.port, `${page}/app.js`, { cookie })).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await request(gw.port, `${page}/app.css`, { cookie })).status).toBe(200);
    expect((await request(gw.port, `${state}?token=${token}`)).status).toBe(200);
    expect((await request(gw.port, `${page}/nothing-here`, { cookie })).status).toBe(404);
    expect((await request(gw.port, '/_keygate/other', { cookie })).status).toBe(404);
  });

  test('a Host that is not a loopback name is refused (DNS rebinding), even with the cookie', async () => {
    for (const host of ['evil.example', `evil.example:${gw.port}`, `127.0.0.1.evil.example:${gw.port}`]) {
      const r = await request(gw.port, state, { cookie, host });
      expect(r.status).toBe(403);
      expect(r.body).toContain(`serves only loopback Host names (localhost, 127.0.0.1, [::1]); refused Host ${JSON.stringify(host)}`);
    }
    for (const host of [`localhost:${gw.port}`, `[::1]:${gw.port}`, `LOCALHOST:${gw.port}`]) {
      expect((await request(gw.port, state, { cookie, host })).status).toBe(200);
    }
  });

  test('cross-site and cross-origin browser requests are refused; the gateway\'s own origin is not', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const r = await request(gw.port, state, { cookie, 'sec-fetch-site': site });
      expect(r.status).toBe(403);
      expect(r.body).toContain(`refuses cross-site browser requests (Sec-Fetch-Site: ${site})`);
    }
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${gw.port + 1}`]) {
      const r = await request(gw.port, state, { cookie, origin });
      expect(r.status).toBe(403);
      expect(r.body).toContain(`refuses cross-site browser requests (Origin ${JSON.stringify(origin)})`);
    }
    expect((await request(gw.port, state, { cookie, origin: `http://127.0.0.1:${gw.port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(logLines).toContainEqual(expect.stringMatching(/dashboard refused GET \/_keygate\/dashboard\/state\.json: keygate local refuses cross-site browser requests/));
  });

  test('it only reads: any other method is 405 with Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await request(gw.port, state, { cookie }, method);
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    const head = await request(gw.port, state, { cookie }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  test('no key value in any response, although this gateway runs with showValues', async () => {
    const values = [...gw.model.keys.values()].map((k) => k.value);
    expect(values).toContain(KNOWN_KEY);
    expect(gw.info.keys.map((k) => k.value)).toContain(KNOWN_KEY);
    // Traffic with every key, so that the feed and top lists are full.
    const url = gw.info.apis[0].stages[0].url;
    for (const v of values) expect((await fetch(`${url}/pets`, { headers: { 'x-api-key': v } })).status).toBe(200);
    const bodies = await Promise.all([page, `${page}/app.js`, `${page}/app.css`, state].map((p) => request(gw.port, p, { cookie })));
    const snapshot = JSON.parse(bodies[3].body) as { keys: { id: string }[]; feed: RequestRecord[] };
    expect(snapshot.keys.map((k) => k.id).sort()).toEqual([...gw.model.keys.keys()].sort());
    expect(snapshot.feed.length).toBeGreaterThanOrEqual(values.length);
    for (const b of bodies) for (const v of values) expect(b.body).not.toContain(v);
  });

  test('onRequest receives one record per data-plane request with the outcome and the key id', async () => {
    records.length = 0;
    const url = gw.info.apis[0].stages[0].url;
    const known = [...gw.model.keys.values()].find((k) => k.value === KNOWN_KEY)!;
    await fetch(`${url}/pets`, { headers: { 'x-api-key': KNOWN_KEY } });
    await fetch(`${url}/pets`, { headers: { 'x-api-key': 'wrong' } });
    await fetch(`${url}/nowhere`);
    expect(records).toEqual([
      { time: now, apiId: gw.info.apis[0].id, stage: 'v1', httpMethod: 'GET', resourcePath: '/pets', path: '/pets', status: 200, errorResponseType: undefined, apiKeyId: known.id, latencyMs: 0 },
      { time: now, apiId: gw.info.apis[0].id, stage: 'v1', httpMethod: 'GET', resourcePath: '/pets', path: '/pets', status: 403, errorResponseType: 'INVALID_API_KEY', apiKeyId: undefined, latencyMs: 0 },
      { time: now, apiId: gw.info.apis[0].id, stage: 'v1', httpMethod: 'GET', resourcePath: '', path: '/nowhere', status: 403, errorResponseType: 'MISSING_AUTHENTICATION_TOKEN', apiKeyId: undefined, latencyMs: 0 },
    ]);
  });
});

test('an onRequest observer that throws does not fail the request it observes', async () => {
  const lines: string[] = [];
  const gw = await startLocalGateway({ assemblyDir: synthPetApp(), port: 0, log: (l) => lines.push(l), onRequest: () => { throw new Error('observer bug'); } });
  try {
    expect((await fetch(`${gw.info.apis[0].stages[0].url}/health`)).status).toBe(200);
    expect(lines).toEqual([expect.stringMatching(/^[0-9a-f-]{36} onRequest observer failed: observer bug$/)]);
  } finally {
    await gw.close();
  }
});

describe('the dashboard\'s memory of requests is bounded', () => {
  test('a ring keeps the last N items, newest first', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.size).toBe(3);
    expect(ring.latest()).toEqual([5, 4, 3]);
    expect(ring.latest(2)).toEqual([5, 4]);
  });

  test('a ring needs a positive capacity', () => {
    expect(() => new Ring(0)).toThrow(/ring capacity must be a positive integer, got 0/);
  });

  test('the feed keeps its capacity however many requests pass; the top lists rank by key id', () => {
    const activity = new RequestActivity();
    const record = (i: number, status: number, apiKeyId?: string): RequestRecord => ({ time: i, apiId: 'a', stage: 's', httpMethod: 'GET', resourcePath: '/', path: '/', status, apiKeyId, latencyMs: 0 });
    for (let i = 0; i < 1000; i++) activity.record(record(i, i % 10 === 0 ? 429 : 200, i % 2 ? 'k1' : 'k2'));
    activity.record(record(1000, 403));
    expect(activity.feed.size).toBe(FEED_CAPACITY);
    expect(activity.feed.latest(1)[0].time).toBe(1000);
    expect(activity.requests).toBe(1001);
    expect(activity.top('requests')).toEqual([{ apiKeyId: 'k1', count: 500 }, { apiKeyId: 'k2', count: 500 }, { apiKeyId: '', count: 1 }]);
    expect(activity.top('throttled')).toEqual([{ apiKeyId: 'k2', count: 100 }]);
    expect(activity.top('forbidden')).toEqual([{ apiKeyId: '', count: 1 }]);
  });
});
