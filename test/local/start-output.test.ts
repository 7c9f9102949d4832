/**
 * Issue #19 items 13 and 14 (`keygate local`'s start): the "Try:" lines work when pasted into
 * a shell (KEY is set before curl uses it; the AWS CLI line has a region and credentials),
 * and a start that fails (port taken) removes the folder it synthesized.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { formatSummary } from '../../lib/local/command/cli';
import { removeOnFailure } from '../../lib/local/command/start-cleanup';
import { synthPetApp } from './fixtures';
import { keygateCommand } from '../support/run-cli';

const run = promisify(execFile);
/** `npx keygate` of this checkout: its bin, bundled from the current sources (test/support/cli-bundle.js). */
const [NODE, [KEYGATE_BUNDLE]] = keygateCommand([]);
const KEYGATE = `'${NODE}' '${KEYGATE_BUNDLE}'`;
/** A shell without AWS credentials or region, as on a fresh machine. */
const SHELL_ENV = { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

let gw: LocalGateway;
beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthPetApp(), log: () => undefined });
});
afterAll(() => gw.close());

function tryLines(): string[] {
  const summary = formatSummary(gw, 'cdk.out');
  const lines = summary.split('\n');
  const start = lines.indexOf('Try:');
  expect(start).toBeGreaterThan(0);
  return lines.slice(start + 1, lines.indexOf('', start)).map((l) => l.trim());
}

test('the Try: lines, pasted as printed (npx keygate = this checkout), set KEY and get a 200', async () => {
  const lines = tryLines();
  expect(lines.join('\n')).not.toMatch(/\$KEY'/);
  const keyLine = lines.find((l) => l.startsWith('KEY=$(npx keygate'))!;
  const curl = lines.find((l) => l.startsWith('curl') && l.includes('$KEY'))!;
  expect(keyLine).toBeDefined();
  expect(lines.indexOf(keyLine)).toBeLessThan(lines.indexOf(curl));
  const script = [keyLine.replace('npx keygate', KEYGATE), curl].join('\n');
  const { stdout } = await run('bash', ['-c', script], { env: SHELL_ENV, timeout: 90_000 });
  expect(stdout).toMatch(/^HTTP\/1\.1 200/);
}, 120_000);

test('the AWS CLI line works pasted in a shell without AWS credentials or region', async () => {
  const awsLine = tryLines().find((l) => l.startsWith('#   KEY=$(AWS_ACCESS_KEY_ID=local'))!.replace(/^#\s+/, '');
  expect(awsLine).toMatch(/--region us-east-1 --endpoint-url http:\/\/127\.0\.0\.1:\d+$|--region us-east-1 --endpoint-url http:\/\/127\.0\.0\.1:\d+\)$/);
  const curl = tryLines().find((l) => l.startsWith('curl') && l.includes('$KEY'))!;
  const { stdout } = await run('bash', ['-c', [awsLine, curl].join('\n')], { env: SHELL_ENV, timeout: 60_000 });
  expect(stdout).toMatch(/^HTTP\/1\.1 200/);
}, 90_000);

test('a start that fails because the port is taken removes the synthesized folder', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-synth-'));
  fs.cpSync(synthPetApp(), dir, { recursive: true });
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await expect(removeOnFailure(dir, () => startLocalGateway({ assemblyDir: dir, port, log: () => undefined }))).rejects.toThrow(/EADDRINUSE|in use/);
    expect(fs.existsSync(dir)).toBe(false);
  } finally {
    blocker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
