/**
 * Robustness: thousands of generated requests — malformed paths, odd methods, headers and
 * bodies, garbage on the socket — get API Gateway's errors, never a crash or a hang.
 */
import * as http from 'http';
import * as net from 'net';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { KNOWN_KEY, synthPetApp } from './fixtures';

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const COUNT = Number(process.env.FUZZ_COUNT ?? 3000);

interface Out { status: number; headers: http.IncomingHttpHeaders; body: string }

function send(agent: http.Agent, port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Out> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.end(body);
  });
}

const FAKE_SIGV4 = `AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20261127/us-east-1/apigateway/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;

describe('fuzz', () => {
  let gw: LocalGateway;
  let port: number;
  let stagePath: string;
  let agent: http.Agent;

  beforeAll(async () => {
    gw = await startLocalGateway({ assemblyDir: synthPetApp({ burst: 1_000_000, rate: 1_000_000, quota: 1_000_000 }), port: 0, log: () => undefined });
    port = gw.port;
    stagePath = new URL(gw.info.apis[0].stages[0].url).pathname;
    agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  });
  afterAll(async () => {
    agent.destroy();
    await gw.close();
  });

  test(`${COUNT} generated data-plane and control-plane requests get well-formed answers`, async () => {
    const r = rng(SEED);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
    const freeKey = [...gw.model.keys.values()].find((k) => k.name === 'free-client')!.value;
    const segments = ['pets', 'health', 'fn', 'cfg', '{id}', '%7Bid%7D', '..', '.', '%', '%zz', '%00', '%2F', '%C3', '%C3%BC', 'a'.repeat(300), '', '%20', '*', '$x', ';', '?', '#'];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'FOO', 'get'];
    const keys = [KNOWN_KEY, freeKey, '', 'x', 'k'.repeat(2000), KNOWN_KEY.slice(0, -1), KNOWN_KEY + 'x', KNOWN_KEY.toLowerCase()];
    const bodies = [undefined, '', '{', '{"name":"x"}', 'null', '[]', '\u0000\u0001', 'x'.repeat(100_000)];
    const ctypes = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ';;;', 'application/json; charset=utf-16'];
    const cpPaths = ['/apikeys', '/apikeys/zzz', '/usageplans', '/usageplans/zz/keys', '/usageplans/zz/usage', '/restapis', '/restapis/zz/stages', '/nope', '/apikeys?mode=import&format=csv', '/apikeys?limit=abc', '/apikeys?position=%%%'];
    const seen = new Map<number, number>();
    const jobs: (() => Promise<void>)[] = [];
    for (let i = 0; i < COUNT; i++) {
      jobs.push(async () => {
        const controlPlane = r() < 0.2;
        const method = pick(methods);
        let path: string;
        if (controlPlane) path = pick(cpPaths);
        else {
          const n = Math.floor(r() * 4);
          path = stagePath + Array.from({ length: n }, () => pick(segments).replace(/\?|#/g, '%3F')).map((s) => '/' + s).join('');
          if (r() < 0.3) path += `?${pick(['a=1', 'a', '=', '&&', 'a=%zz', 'a=1&a=2', 'x=' + 'y'.repeat(500)])}`;
        }
        const headers: Record<string, string> = {};
        if (r() < 0.7) headers['x-api-key'] = pick(keys);
        if (r() < 0.5) headers['content-type'] = pick(ctypes);
        if (r() < 0.2) headers['authorization'] = pick(['', 'Bearer x', 'allow']);
        // Most control-plane requests sign like the SDK (the request guard refuses the rest).
        if (controlPlane && r() < 0.8) headers['authorization'] = FAKE_SIGV4;
        if (r() < 0.1) headers['accept'] = pick(['*/*', 'text/html', ';q=', 'application/json;q=0.1']);
        const bodyText = method === 'GET' || method === 'HEAD' ? undefined : pick(bodies);
        const body = bodyText === undefined ? undefined : Buffer.from(bodyText);
        let out: Out;
        try {
          out = await send(agent, port, method, path, headers, body);
        } catch (e) {
          throw new Error(`request failed: ${method} ${path}: ${(e as Error).message}`);
        }
        seen.set(out.status, (seen.get(out.status) ?? 0) + 1);
        const where = `${method} ${path} → ${out.status} ${out.body.slice(0, 200)}`;
        expect({ where, ok: out.status >= 200 && out.status < 600 && out.status !== 500 || out.body.includes('message') }).toEqual({ where, ok: true });
        expect({ where, id: typeof out.headers['x-amzn-requestid'] }).toEqual({ where, id: 'string' });
        if (out.status >= 400 && method !== 'HEAD') {
          let parsed: unknown;
          try { parsed = JSON.parse(out.body); } catch { parsed = undefined; }
          expect({ where, hasMessage: typeof parsed === 'object' && parsed !== null && 'message' in parsed }).toEqual({ where, hasMessage: true });
        }
      });
    }
    // Run with bounded concurrency.
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < jobs.length) await jobs[next++]();
    }));
    // The mix exercised the interesting answers.
    for (const s of [200, 403, 404]) expect(seen.get(s) ?? 0).toBeGreaterThan(0);
    // Still serving afterwards.
    const ok = await send(agent, port, 'GET', `${stagePath}/health`, {});
    expect(ok.status).toBe(200);
  }, 120_000);

  test('garbage on the socket gets 400 (or a closed connection) and the server keeps serving', async () => {
    const garbage = ['\u0000\u0001\u0002\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 'G'.repeat(70_000) + '\r\n\r\n',
      `GET ${stagePath}/health HTTP/1.1\r\nHost: a\r\nX: ${'h'.repeat(20_000)}\r\n\r\n`, 'POST /apikeys HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'];
    for (const g of garbage) {
      const reply = await new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.end(g));
        let data = '';
        s.on('data', (d) => { data += d.toString(); });
        s.on('close', () => resolve(data));
        s.on('error', () => resolve(data));
        s.setTimeout(5000, () => s.destroy());
      });
      expect(reply === '' || /^HTTP\/1\.1 (400|413|431)/.test(reply)).toBe(true);
    }
    const ok = await send(agent, port, 'GET', `${stagePath}/health`, {});
    expect(ok.status).toBe(200);
  });

  test('a body declared bigger than 10 MB is refused with 413 before it is read', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(`POST ${stagePath}/pets HTTP/1.1\r\nHost: a\r\nContent-Length: ${20 * 1024 * 1024}\r\n\r\n`));
      let data = '';
      s.on('data', (d) => { data += d.toString(); if (data.includes('}')) s.destroy(); });
      s.on('close', () => resolve(data));
      s.setTimeout(5000, () => s.destroy());
    });
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
    expect(reply).toContain('{"message":"Request Too Long"}');
  });
});
