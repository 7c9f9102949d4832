/** The HTTP edges of the gateway: aborted uploads, 413s, Expect: 100-continue, and the per-request observer hook. */
import * as http from 'http';
import * as net from 'net';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { RequestRecord } from '../../lib/local/apigateway/data-plane';
import { KNOWN_KEY, synthPetApp } from './fixtures';

const OVER_LIMIT = String(10 * 1024 * 1024 + 1);

describe('HTTP edges', () => {
  let gw: LocalGateway;
  const logged: string[] = [];
  const records: RequestRecord[] = [];
  let stagePath: string;

  beforeAll(async () => {
    gw = await startLocalGateway({ assemblyDir: synthPetApp(), port: 0, log: (l) => logged.push(l), onRequest: (r) => records.push(r) });
    stagePath = `/restapis/${gw.info.apis[0].id}/v1/_user_request_`;
  });
  afterAll(() => gw.close());

  test('GIVEN a client that disconnects mid-body THEN nothing is logged and the gateway keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(gw.port, '127.0.0.1', () => {
        socket.write(`POST ${stagePath}/pets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789`);
        setTimeout(() => { socket.destroy(); resolve(); }, 50);
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(logged.filter((l) => /internal error|Error/.test(l))).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${gw.port}${stagePath}/health`)).status).toBe(200);
  });

  test('GIVEN a body over 10 MB THEN 413 with a content-length (not chunked)', async () => {
    const res = await new Promise<http.IncomingMessage & { text?: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: `${stagePath}/pets`, headers: { 'content-length': OVER_LIMIT } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve(Object.assign(r, { text: Buffer.concat(chunks).toString() })));
      });
      req.on('error', reject);
      req.write('x'.repeat(1000));
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text ?? '')));
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(JSON.parse(res.text ?? '{}').message).toBe('Request Too Long');
  });

  test('GIVEN Expect: 100-continue with an over-limit length THEN 413 at once, never 100', async () => {
    let continued = false;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: '/apikeys?mode=import&format=csv', headers: { 'content-length': OVER_LIMIT, expect: '100-continue' } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('continue', () => { continued = true; });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    expect(continued).toBe(false);
  });

  test('GIVEN Expect: 100-continue within the limit THEN 100, then the answer', async () => {
    let continued = false;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: `${stagePath}/health`, headers: { 'content-length': '2', expect: '100-continue' } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('continue', () => { continued = true; req.end('{}'); });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(continued).toBe(true);
    expect(status).toBe(403); // no POST on /health: Missing Authentication Token
  });

  test('onRequest gets one record per finished request, with the key id and never the key value', async () => {
    records.length = 0;
    await fetch(`http://127.0.0.1:${gw.port}${stagePath}/pets`, { headers: { 'x-api-key': KNOWN_KEY } });
    await fetch(`http://127.0.0.1:${gw.port}${stagePath}/pets`);
    expect(records).toHaveLength(2);
    const known = [...gw.model.keys.values()].find((k) => k.value === KNOWN_KEY)!;
    expect(records[0]).toMatchObject({ apiId: gw.info.apis[0].id, stage: 'v1', httpMethod: 'GET', resourcePath: '/pets', path: '/pets', status: 200, apiKeyId: known.id });
    expect(records[0].errorResponseType).toBeUndefined();
    expect(records[1]).toMatchObject({ status: 403, errorResponseType: 'INVALID_API_KEY' });
    expect(records[1].apiKeyId).toBeUndefined();
    expect(JSON.stringify(records)).not.toContain(KNOWN_KEY);
    expect(typeof records[0].latencyMs).toBe('number');
  });
});
