/**
 * Issue #19 items 12 and 13: flags named for what they write, and errors that blame the
 * right thing. The CLI runs in-process against an endpoint nothing listens on: a refusal
 * must come before any call (exit 2), not as "cannot reach" (exit 1).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from './run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const DEAD = 'http://127.0.0.1:9';

describe('item 12: usage --chart-html writes HTML and refuses other extensions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-chart-flag-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([['--chart'], ['--chart-html']])('%s usage.png → exit 2 before any call, no file written', async (flag) => {
    const file = path.join(dir, 'usage.png');
    const r = await runCli(['usage', 'acme', flag, file, '--endpoint', DEAD]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${flag} .*usage\\.png: the chart is an HTML page .*not an image; name the file FILE\\.html`));
    expect(fs.existsSync(file)).toBe(false);
  });

  test('--chart-html usage.html is accepted (the failure is the dead endpoint, not the flag)', async () => {
    const r = await runCli(['usage', 'acme', '--chart-html', path.join(dir, 'usage.html'), '--endpoint', DEAD]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/Cannot reach/);
  });

  test('--help names --chart-html', async () => {
    const r = await runCli(['usage', '--help']);
    expect(r.stdout).toMatch(/--chart-html <file\.html>/);
  });
});

describe('item 13: errors that name what is wrong', () => {
  test('a stage URL as --endpoint is refused as a stage URL, not reported as missing IAM permissions', async () => {
    for (const stage of ['https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod', 'http://127.0.0.1:4566/restapis/abc123/prod/_user_request_']) {
      const r = await runCli(['keys', 'list', '--endpoint', stage]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/is a stage URL \(where clients call the API\), not the API Gateway control plane/);
      expect(r.stderr).not.toMatch(/Access denied|apigateway:GET/);
    }
  });

  test('--batch-size 0 is a usage error (exit 2 in bin/keygate), before any call', async () => {
    const r = await runCli(['keys', 'import', 'nothing.csv', '--batch-size', '0', '--endpoint', DEAD]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/--batch-size <n>' argument '0' is invalid\. expected a whole number ≥ 1\./);
  });
});
