/**
 * Issue #19 item 11: `keygate smoke URL --key NAME` without --route picks a GET route of the
 * stage that requires an API key (GetResources through the control plane) instead of GET on
 * the stage root; a URL that names no API id gets a message about the URL, not the key.
 */
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { runSmoke } from '../../lib/ops/smoke';
import { synthPetApp } from '../local/fixtures';
import { runCli } from './run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let gw: LocalGateway;
beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthPetApp(), log: () => undefined });
});
afterAll(() => gw.close());

function stageUrl(): string {
  return gw.info.apis[0].stages[0].url;
}

test('without --route, the smoke test runs against a key-required GET of the stage and passes', async () => {
  const key = gw.info.keys.find((k) => k.enabled && k.usagePlans.length > 0)!;
  const r = await runCli(['smoke', stageUrl(), '--key', key.name, '--endpoint', gw.info.controlPlane, '--no-burst-check', '--json']);
  const result = JSON.parse(r.stdout) as { method: string; url: string; pass: boolean; checks: { check: string; actual: string }[] };
  expect(result.method).toBe('GET');
  expect(result.url).toMatch(/\/_user_request_\/pets$/);
  expect(result.checks.find((c) => c.check === 'valid key')?.actual).toMatch(/^2\d\d/);
  expect(result.pass).toBe(true);
  expect(r.exitCode).toBe(0);
});

test('without --route, a URL that names no API id is refused with a message saying to pass --route', async () => {
  const key = gw.info.keys[0];
  const r = await runCli(['smoke', 'https://api.example.com/v1', '--key', key.name, '--endpoint', gw.info.controlPlane, '--no-burst-check']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/https:\/\/api\.example\.com\/v1 names no API id .*pass --route 'GET \/path'/);
});

test('a 403 for the valid key on a URL without an API id blames the URL first, not the key', async () => {
  const result = await runSmoke({
    url: 'https://api.example.com/v1', route: 'GET /pets', keyValue: 'k'.repeat(40), burst: undefined,
    fetch: async () => ({ status: 403, text: async () => '{"message":"Forbidden"}' }),
  });
  const valid = result.checks.find((c) => c.check === 'valid key')!;
  expect(valid.pass).toBe(false);
  expect(valid.detail).toMatch(/^the URL names no API id and stage .*check the URL first/);
});
