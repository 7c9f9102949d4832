/** The control plane on a developer's machine: what a web page can send is refused; the AWS SDK still works. */
import * as http from 'http';
import { APIGatewayClient, GetApiKeysCommand, GetRestApisCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { checkLoopbackHost, checkNotCrossSite, checkSigV4Header } from '../../lib/local/request-guard';
import { synthPetApp } from './fixtures';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

const SIGNED = `AWS4-HMAC-SHA256 Credential=AKIDCURL/20261127/us-east-1/apigateway/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'a'.repeat(64)}`;
const PLANTED = 'plantedByAWebPage0123456789';

interface Answer { status: number; body: string; headers: http.IncomingHttpHeaders }

/** A raw request, so the test controls every header (fetch would set its own Host and Origin rules). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('request guard of the control plane', () => {
  let gw: LocalGateway;
  let client: APIGatewayClient;
  let host: string;

  beforeAll(async () => {
    gw = await startLocalGateway({ assemblyDir: synthPetApp(), port: 0, log: () => undefined });
    client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'AKIDANY', secretAccessKey: 'any' }, maxAttempts: 1 });
    host = `127.0.0.1:${gw.port}`;
  });
  afterAll(async () => {
    client.destroy();
    await gw.close();
  });

  const planted = async (): Promise<boolean> =>
    ((await client.send(new GetApiKeysCommand({ includeValues: true }))).items ?? []).some((k) => k.value === PLANTED);

  test('GIVEN a cross-site form POST to /apikeys?mode=import&format=csv WHEN it arrives THEN 403 and no key is planted', async () => {
    const csv = `Name,Key,Enabled\nevil,${PLANTED},true\n`;
    const res = await send(gw.port, 'POST', '/apikeys?mode=import&format=csv', {
      host, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded',
    }, csv);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).message).toMatch(/cross-site/);
    expect(await planted()).toBe(false);
  });

  test('GIVEN a cross-site request that even carries a signature-shaped header THEN it is refused by its Origin', async () => {
    const res = await send(gw.port, 'GET', '/apikeys?includeValues=true', { host, origin: 'http://evil.example', authorization: SIGNED });
    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(res.body).not.toMatch(/knownKeyValue/);
  });

  test('GIVEN a DNS-rebinding page (foreign Host) WHEN it reads the keys THEN 403, even signed', async () => {
    const res = await send(gw.port, 'GET', '/apikeys?includeValues=true', { host: `rebind.evil.example:${gw.port}`, authorization: SIGNED });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).message).toMatch(/loopback Host names.*rebind\.evil\.example/);
  });

  test('GIVEN an unsigned request THEN 403 Missing Authentication Token; a malformed Authorization THEN 403 IncompleteSignature', async () => {
    const unsigned = await send(gw.port, 'GET', '/restapis', { host });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    const bearer = await send(gw.port, 'GET', '/restapis', { host, authorization: 'Bearer abc' });
    expect(bearer.status).toBe(403);
    expect(bearer.headers['x-amzn-errortype']).toBe('IncompleteSignatureException');
  });

  test('GIVEN the real AWS SDK (any credentials) THEN the control plane answers', async () => {
    expect((await client.send(new GetRestApisCommand({}))).items?.map((a) => a.name)).toEqual(['pets']);
  });

  test('GIVEN a curl-style signed request from localhost (as README shows) THEN it is served', async () => {
    const res = await send(gw.port, 'GET', '/restapis', { host: `localhost:${gw.port}`, authorization: SIGNED });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).item[0].name).toBe('pets');
  });

  test('GIVEN the stages THEN they stay open like API Gateway (no signature, any Origin)', async () => {
    const res = await send(gw.port, 'GET', `/restapis/${gw.info.apis[0].id}/v1/_user_request_/health`, { host: 'example.com', origin: 'http://evil.example' });
    expect(res.status).toBe(200);
  });

  test('each check on its own', () => {
    expect(checkLoopbackHost({ host: '[::1]:4000' })).toBeUndefined();
    expect(checkLoopbackHost({ host: 'app.localhost' })).toBeUndefined();
    expect(checkLoopbackHost({})?.status).toBe(403);
    expect(checkLoopbackHost({ host: '127.0.0.1.evil.example' })?.message).toMatch(/refused Host/);
    expect(checkNotCrossSite({ host: 'localhost:1', origin: 'http://localhost:1' })).toBeUndefined();
    expect(checkNotCrossSite({ host: 'localhost:1', origin: 'http://localhost:2' })?.message).toMatch(/Origin/);
    expect(checkNotCrossSite({ 'sec-fetch-site': 'same-site' })?.message).toMatch(/Sec-Fetch-Site: same-site/);
    expect(checkSigV4Header({ authorization: SIGNED })).toBeUndefined();
    expect(checkSigV4Header({ authorization: 'AWS4-HMAC-SHA256 Credential=x' })?.type).toBe('IncompleteSignatureException');
  });
});

describe('ids that AWS makes random', () => {
  test('GIVEN two starts of the same app without a state file THEN the usage plan ids differ', async () => {
    const dir = synthPetApp();
    const ids: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const gw = await startLocalGateway({ assemblyDir: dir, port: 0, log: () => undefined });
      const client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
      ids.push(((await client.send(new GetUsagePlansCommand({}))).items ?? []).map((p) => p.id!).sort());
      client.destroy();
      await gw.close();
    }
    expect(ids[0]).toHaveLength(2);
    expect(ids[0].some((id) => ids[1].includes(id))).toBe(false);
  });
});
