import * as path from 'path';
import { APIGatewayClient, CreateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { runCli, startCli } from '../support/run-cli';
import { synthPetApp, tmpDir } from './fixtures';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

describe('keygate local (CLI)', () => {
  let asm: string;
  beforeAll(() => {
    asm = synthPetApp();
  });

  test('--help documents the options', async () => {
    const r = await runCli(['local', '--help']);
    expect(r.code).toBe(0);
    for (const o of ['--app', '--port', '--state', '--json', '--show-values']) expect(r.stdout).toContain(o);
  });

  test('--json prints exactly one JSON line with the contract, serves, and stops on SIGTERM with exit 0', async () => {
    const run = await startCli(['local', '--app', asm, '--port', '0', '--json']);
    const info = JSON.parse(run.firstLine) as { controlPlane: string; dashboard: string; apis: { id: string; name: string; stack: string; stages: { name: string; url: string }[] }[]; keys: { id: string; name: string; enabled: boolean; usagePlans: string[]; value?: string }[] };
    expect(Object.keys(info).sort()).toEqual(['apis', 'controlPlane', 'dashboard', 'keys', 'portals', 'scheduledJobs']);
    expect(info.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_keygate\/dashboard\?token=[A-Za-z0-9_-]{43}$/);
    expect(info.controlPlane).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.apis).toEqual([{ id: expect.stringMatching(/^[a-z0-9]{10}$/), name: 'pets', stack: 'PetStack', stages: [{ name: 'v1', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) }] }]);
    expect(info.keys.map((k) => k.name).sort()).toEqual(['free-client', 'known-client', 'premium-client']);
    for (const k of info.keys) expect(Object.keys(k).sort()).toEqual(['enabled', 'id', 'name', 'usagePlans']);
    expect(info.keys.find((k) => k.name === 'free-client')!.usagePlans).toEqual(['free']);
    const health = await fetch(info.apis[0].stages[0].url + '/health');
    expect(health.status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  test('--show-values adds key values; the human summary shows no values without it', async () => {
    const withValues = await startCli(['local', '--app', asm, '--port', '0', '--json', '--show-values']);
    const info = JSON.parse(withValues.firstLine) as { keys: { name: string; value?: string }[] };
    expect(info.keys.find((k) => k.name === 'known-client')!.value).toBe('knownKeyValue0123456789abcdefABCDEF');
    withValues.child.kill('SIGINT');
    expect(await withValues.exited).toBe(0);

    const human = await startCli(['local', '--app', asm, '--port', '0']);
    while (!human.stdout().includes('Press Ctrl+C to stop.')) await new Promise((r) => setTimeout(r, 50));
    const text = human.stdout();
    human.child.kill('SIGTERM');
    expect(await human.exited).toBe(0);
    expect(text).toContain('keygate local: serving');
    expect(text).toMatch(/dashboard \(open in a browser\): +http:\/\/127\.0\.0\.1:\d+\/_keygate\/dashboard\?token=[A-Za-z0-9_-]{43}\n/);
    expect(text).not.toContain('knownKeyValue0123456789abcdefABCDEF');
  });

  test('--state: a key acknowledged before a SIGKILL is there after a restart', async () => {
    const statePath = path.join(tmpDir('cli-state'), 'state.json');
    const first = await startCli(['local', '--app', asm, '--port', '0', '--json', '--state', statePath]);
    const info = JSON.parse(first.firstLine) as { controlPlane: string };
    const client = new APIGatewayClient({ endpoint: info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const created = await client.send(new CreateApiKeyCommand({ name: 'survivor', enabled: true }));
    client.destroy();
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startCli(['local', '--app', asm, '--port', '0', '--json', '--state', statePath]);
    const info2 = JSON.parse(second.firstLine) as { keys: { id: string; name: string }[] };
    expect(info2.keys).toContainEqual(expect.objectContaining({ id: created.id, name: 'survivor' }));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  test('a directory that is not a cloud assembly fails with a message naming it', async () => {
    const dir = tmpDir('empty');
    const r = await runCli(['local', '--app', dir, '--port', '0', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(dir);
    expect(r.stderr).toContain('manifest.json');
    expect(r.stdout).toBe('');
  });

  test('without --app it synthesizes the cdk.json app of the current directory (the example app)', async () => {
    const run = await startCli(['local', '--port', '0', '--json']);
    const info = JSON.parse(run.firstLine) as { apis: { stack: string; stages: { url: string }[] }[] };
    expect(info.apis.length).toBeGreaterThan(0);
    const res = await fetch(info.apis[0].stages[0].url + '/health');
    expect(res.status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 120_000);
});
