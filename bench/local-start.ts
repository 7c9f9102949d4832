/**
 * Start time of `keygate local` on the 10,000-client bulk example: the synth (not counted),
 * then the gateway's start — model, listen, and the client set's custom resource (the Provider
 * framework's runtime and the bundled reconciler, on the custom resources' faster clock) —
 * until every key is served; checked with one key's value through the control plane (GetApiKey
 * includeValue) and a 200 from the data plane.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { APIGatewayClient, GetApiKeyCommand, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { startLocalGateway } from '../lib/local/gateway';

export interface StartFigure {
  readonly clients: number;
  readonly startMs: number;
  readonly customResourceMs: number;
  readonly keys: number;
  readonly status: number;
}


export async function measureBulkStart(clients = 10_000): Promise<StartFigure> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-bulk-'));
  try {
    const synth = spawnSync('npx', ['cdk', 'synth', '--app', 'npx ts-node --prefer-ts-exts examples/bulk/app.ts', '-o', dir, '--quiet', '--no-notices', '--no-version-reporting'], {
      env: { ...process.env, KEYGATE_BULK_CLIENTS: String(clients) }, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (synth.status !== 0) throw new Error(`synth of the bulk example failed: ${synth.stderr}`);
    const lines: string[] = [];
    const started = Date.now();
    const gw = await startLocalGateway({ assemblyDir: dir, port: 0, log: (l) => lines.push(l) });
    const startMs = Date.now() - started;
    try {
      const done = lines.find((l) => l.includes('Create done in'));
      const customResourceMs = Number(/done in (\d+) ms/.exec(done ?? '')?.[1] ?? NaN);
      const client = new APIGatewayClient({ endpoint: `http://127.0.0.1:${gw.port}`, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
      const page = await client.send(new GetApiKeysCommand({ limit: 100 }));
      const id = page.items?.find((k) => k.enabled)?.id as string;
      const key = await client.send(new GetApiKeyCommand({ apiKey: id, includeValue: true }));
      const status = (await fetch(`${gw.info.apis[0].stages[0].url}/reports`, { headers: { 'x-api-key': key.value as string } })).status;
      return { clients, startMs, customResourceMs, keys: gw.model.keys.size, status };
    } finally {
      await gw.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
