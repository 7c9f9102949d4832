/**
 * A server process for the benchmark: `gateway ASSEMBLY_DIR` (keygate local) or `bare`
 * (a plain Node http server answering the same body). Prints its base URL, answers
 * `{type:'mem'}` IPC messages with memory figures after a GC.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { startLocalGateway } from '../lib/local';
import { BENCH_BODY } from './local-constants';

async function main(): Promise<void> {
  const [mode, dir] = process.argv.slice(2);
  let url: string;
  if (mode === 'gateway') {
    // The account limit (10,000 rps) would answer 429s on a fast machine; lift it so every request takes the full path.
    const gw = await startLocalGateway({ assemblyDir: dir, port: 0, log: () => undefined, accountThrottle: { rateLimit: 1e9, burstLimit: 1e9 } });
    url = gw.info.apis[0].stages[0].url + '/pets';
  } else {
    // `bare SPIN_US`: optionally busy-wait SPIN_US µs per request, to calibrate what that much work costs in this setup.
    const spinUs = Number(dir);
    const spinNs = BigInt(Number.isFinite(spinUs) ? Math.round(spinUs * 1000) : 0);
    const server = http.createServer((_req, res) => {
      if (spinNs > 0n) {
        const end = process.hrtime.bigint() + spinNs;
        while (process.hrtime.bigint() < end) { /* busy */ }
      }
      // Same body and comparable headers: content type and a request id.
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'bare' });
      res.end(BENCH_BODY);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pets`;
  }
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'mem') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) { gc(); gc(); }
    const mu = process.memoryUsage();
    process.send?.({ type: 'mem', rss: mu.rss, heapUsed: mu.heapUsed });
  });
  process.on('SIGINT', () => process.exit(0));
  process.send?.({ type: 'ready', url });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
