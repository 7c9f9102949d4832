import * as http from 'http';
import { AddressInfo } from 'net';
import { burstForUrl, parseRoute, parseStageUrl, runSmoke } from '../../lib/ops/smoke';

const KEY = 'smokekeysmokekeysmokekey';

/** A tiny stand-in for a stage: x-api-key required on /pets (unless `open`), token bucket of `burst`, no refill. */
function stage(options: { burst: number; open?: boolean }): Promise<{ url: string; close: () => Promise<void>; hits: () => number }> {
  let tokens = options.burst;
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    const send = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (!req.url?.startsWith('/prod/pets')) return send(403, { message: 'Missing Authentication Token' });
    if (!options.open && req.headers['x-api-key'] !== KEY) return send(403, { message: 'Forbidden' });
    if (!options.open && tokens-- <= 0) return send(429, { message: 'Too Many Requests' });
    setTimeout(() => send(200, [{ id: 1 }]), 5);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`,
    close: () => new Promise((r) => server.close(() => r())),
    hits: () => hits,
  })));
}

test('passes against a stage that requires the key and throttles', async () => {
  const s = await stage({ burst: 20 });
  try {
    const r = await runSmoke({ url: s.url, route: 'GET /pets', keyValue: KEY, burst: 20 });
    expect(r.checks.map((c) => [c.check, c.pass])).toEqual([['no key', true], ['unknown key', true], ['valid key', true], ['burst of 30', true]]);
    expect(r.pass).toBe(true);
    expect(r.checks[3].actual).toMatch(/^19×2xx 11×429$/);
  } finally {
    await s.close();
  }
});

test('fails against a stage whose method does not require a key', async () => {
  const s = await stage({ burst: 5, open: true });
  try {
    const r = await runSmoke({ url: s.url, route: 'GET /pets', keyValue: KEY, burst: 5 });
    expect(r.pass).toBe(false);
    expect(r.checks.filter((c) => !c.pass).map((c) => c.check)).toEqual(['no key', 'unknown key', 'burst of 15']);
  } finally {
    await s.close();
  }
});

test('wrong key value: the valid-key check fails', async () => {
  const s = await stage({ burst: 5 });
  try {
    const r = await runSmoke({ url: s.url, route: 'GET /pets', keyValue: 'notthekeynotthekey1234', burst: undefined, burstNote: 'no plan' });
    expect(r.checks.map((c) => c.pass)).toEqual([true, true, false, true]);
    expect(r.checks[3]).toMatchObject({ skipped: true, detail: 'no plan' });
    expect(r.pass).toBe(false);
  } finally {
    await s.close();
  }
});

test('unreachable stage fails with a readable reason', async () => {
  const r = await runSmoke({ url: 'http://127.0.0.1:9/prod', route: 'GET /pets', keyValue: KEY, burst: 1, timeoutMs: 2000 });
  expect(r.pass).toBe(false);
  expect(r.checks[0].actual).toMatch(/no response/);
});

test('helpers', () => {
  expect(parseRoute('post /pets')).toEqual({ method: 'POST', path: '/pets' });
  expect(() => parseRoute('/pets')).toThrow(/--route/);
  expect(parseStageUrl('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/pets')).toEqual({ apiId: 'abc123', stage: 'prod' });
  const plans = [
    { id: 'p1', name: 'basic', throttle: { burstLimit: 50, rateLimit: 10 }, apiStages: [{ apiId: 'abc123', stage: 'prod' }] },
    { id: 'p2', name: 'other', throttle: { burstLimit: 5, rateLimit: 1 }, apiStages: [{ apiId: 'zzz', stage: 'prod' }] },
  ];
  expect(burstForUrl(plans, 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod').burst).toBe(50);
  expect(burstForUrl(plans, 'http://127.0.0.1:3000/prod').burst).toBe(5);
  expect(burstForUrl([], 'http://x').burst).toBeUndefined();
});
