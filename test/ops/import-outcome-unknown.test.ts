/**
 * Issue #19 item 8: ImportApiKeys is not safe to repeat. A control plane (the local gateway
 * behind a proxy) that imports only the first row of the first import it gets and then
 * answers 500: the CLI's import and the reconciler list the keys, take the created row as
 * done, and send only the missing row again — never the whole batch, never 8 or 16 times.
 */
import { APIGatewayClient, GetUsagePlanKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import * as http from 'http';
import { AddressInfo } from 'net';
import { ControlPlane } from '../../lib/handlers/client-set-reconciler/control-plane';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { createClients } from '../../lib/ops/client';
import { importKeys, ValidatedRow } from '../../lib/sdk/import-keys';
import { listApiKeys } from '../../lib/sdk/paginate';
import { synthPetApp } from '../local/fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let gw: LocalGateway;
let proxy: http.Server;
let proxyUrl: string;
/** The CSV bodies of the ImportApiKeys calls that reached the proxy. */
const imports: string[] = [];
let failNextImport = false;

function forward(req: http.IncomingMessage, body: Buffer, onAnswer: (status: number, headers: http.IncomingHttpHeaders, answer: Buffer) => void): void {
  const target = new URL(gw.info.controlPlane);
  const headers = { ...req.headers, 'content-length': String(body.length), host: target.host };
  const out = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => onAnswer(res.statusCode ?? 500, res.headers, Buffer.concat(chunks)));
  });
  out.end(body);
}

beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthPetApp(), log: () => undefined });
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const isImport = req.method === 'POST' && /^\/apikeys\?.*mode=import/.test(req.url ?? '');
      if (isImport) imports.push(body.toString('utf8'));
      if (isImport && failNextImport) {
        failNextImport = false;
        // The failed call did part of its work: the header and the first row are imported.
        body = Buffer.from(`${body.toString('utf8').split('\n').slice(0, 2).join('\n')}\n`);
        forward(req, body, () => {
          res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerErrorException' });
          res.end(JSON.stringify({ message: 'Internal server error' }));
        });
        return;
      }
      forward(req, body, (status, headers, answer) => {
        res.writeHead(status, { ...headers, 'content-length': String(answer.length) });
        res.end(answer);
      });
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  await gw.close();
});
beforeEach(() => {
  imports.length = 0;
  failNextImport = true;
});

const value = (tag: string) => `ImportOutcome${tag}0123456789abcdefghij`;

async function firstPlan(client: APIGatewayClient): Promise<string> {
  return (await client.send(new GetUsagePlansCommand({}))).items![0].id!;
}

test('keys import (CLI clients, SDK retries on): after a 500 it lists, then sends only the missing row', async () => {
  const c = createClients({ endpoint: proxyUrl });
  try {
    const plan = await firstPlan(c.apigw);
    const csv = `Name,Key,UsagePlanIds\ncli-one,${value('CliOne')},${plan}\ncli-two,${value('CliTwo')},${plan}\n`;
    const result = await importKeys(c.apigw, csv, { retry: { sleep: async () => undefined } });

    expect(imports).toHaveLength(2);
    expect(imports[0]).toMatch(/cli-one[\s\S]*cli-two/);
    expect(imports[1]).not.toMatch(/cli-one/);
    expect(imports[1]).toMatch(/cli-two/);
    const keys = (await listApiKeys(c.apigw)).filter((k) => k.name?.startsWith('cli-'));
    expect(keys.map((k) => k.name).sort()).toEqual(['cli-one', 'cli-two']);
    expect(result.imported.map((r) => [r.name, r.id])).toEqual([['cli-one', keys.find((k) => k.name === 'cli-one')!.id], ['cli-two', keys.find((k) => k.name === 'cli-two')!.id]]);
    const inPlan = (await c.apigw.send(new GetUsagePlanKeysCommand({ usagePlanId: plan, limit: 500 }))).items!.map((k) => k.name);
    expect(inPlan).toEqual(expect.arrayContaining(['cli-one', 'cli-two']));
  } finally {
    c.destroy();
  }
});

test('reconciler control plane (SDK maxAttempts 2, its retry policy): same, one resend of the missing row only', async () => {
  const client = new APIGatewayClient({ endpoint: proxyUrl, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 2 });
  try {
    const plan = await firstPlan(client);
    const cp = new ControlPlane(client, { limiter: null, sleep: async () => undefined });
    const rows: ValidatedRow[] = ['rec-one', 'rec-two'].map((name, n) => ({
      line: n + 2, name, key: value(name.replace('-', '')), description: 'set', enabled: true, planIds: [plan], alreadyPresent: false,
    }));
    const ids = await cp.importApiKeys(rows);

    expect(imports).toHaveLength(2);
    expect(imports[1]).not.toMatch(/rec-one/);
    expect(imports[1]).toMatch(/rec-two/);
    const keys = (await listApiKeys(client)).filter((k) => k.name?.startsWith('rec-'));
    expect(keys).toHaveLength(2);
    expect(ids.sort()).toEqual(keys.map((k) => k.id!).sort());
  } finally {
    client.destroy();
  }
});
