/**
 * Key expiry at the local gateway: the rule (a pure function of key and time), time travel
 * with --clock, and what `keygate local` (npm start) shows.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Expiration, KeyProtectedApi } from '../../lib';
import { describeExpiry, expirySummaryLines, isKeyRefused, parseClockOption } from '../../lib/local/apigateway/data-plane/expiry';
import { ApiKey } from '../../lib/local/apigateway/model';
import { mock } from '../support/keygate-fixtures';
import { keygateCommand, REPO_ROOT } from '../support/run-cli';
import { startLocalGateway } from '../../lib/local';

const DAY = 86_400_000;
const CREATED = Date.parse('2026-12-01T00:00:00Z');

function key(tags: Record<string, string>, enabled = true): ApiKey {
  return { id: 'k', name: 'trial', value: 'v'.repeat(20), enabled, createdDate: CREATED, lastUpdatedDate: CREATED, stageKeys: [], tags };
}

describe('the expiry rule at the gateway', () => {
  test('a key that expires after 14 days is refused from the instant it expires, not a millisecond before', () => {
    const trial = key({ 'keygate:expires-after-seconds': String(14 * 86_400) });
    expect(isKeyRefused(trial, CREATED + 14 * DAY - 1)).toBe(false);
    expect(isKeyRefused(trial, CREATED + 14 * DAY)).toBe(true);
    expect(describeExpiry(trial, CREATED)).toEqual({ expiresAt: '2026-12-15T00:00:00.000Z', expired: false });
  });

  test('a key with a date expires then; a disabled key is refused anyway; a key without expiry never expires', () => {
    expect(isKeyRefused(key({ 'keygate:expires-at': '2027-01-31T00:00:00.000Z' }), Date.parse('2027-01-31T00:00:00Z'))).toBe(true);
    expect(isKeyRefused(key({}, false), CREATED)).toBe(true);
    expect(isKeyRefused(key({}), CREATED + 10_000 * DAY)).toBe(false);
    expect(describeExpiry(key({}), CREATED)).toBeUndefined();
  });

  test('an unreadable expiry tag never disables a key on a guess', () => {
    expect(isKeyRefused(key({ 'keygate:expires-at': 'soon' }), CREATED + 10_000 * DAY)).toBe(false);
    expect(isKeyRefused(key({ 'keygate:expires-after-seconds': '-5' }), CREATED + 10_000 * DAY)).toBe(false);
  });
});

describe('--clock', () => {
  test('a span moves the clock forward; an instant moves it there', () => {
    expect(parseClockOption('+15d', CREATED)).toBe(15 * DAY);
    expect(parseClockOption('36h', CREATED)).toBe(36 * 3_600_000);
    expect(parseClockOption('2026-12-31T00:00:00Z', CREATED)).toBe(30 * DAY);
  });

  test('anything else is refused with what to write', () => {
    expect(() => parseClockOption('next week', CREATED)).toThrow(/--clock must be a time span such as \+15d, 36h or 90m, or an ISO 8601 instant such as 2027-01-31T00:00:00Z, not "next week"/);
  });

  test('the summary says when each key expires and how to see it expired', () => {
    const lines = expirySummaryLines([{ name: 'trial', expiresAt: new Date(Date.now() + 14 * DAY - 60_000).toISOString(), expired: false }], 'http://127.0.0.1:1/s', 0);
    expect(lines.join('\n')).toMatch(/trial {2}expires \d{4}-.*\n {2}to see trial expired \(403\), serve as if 15 days had passed since the deploy: --clock \+15d/);
  });
});

describe('keygate local --clock +15d (what npm start -- --clock +15d shows)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-expiry-cli-'));
    const app = new App({ outdir: dir });
    const api = new KeyProtectedApi(new Stack(app, 'Shop'), 'Api');
    api.addRoute('GET /pets', mock());
    const free = api.addTier('Free', { throttle: { rateLimit: 10, burstLimit: 20 } });
    api.addClient('trial', { tiers: [free], expires: Expiration.after(Duration.days(14)) });
    api.addClient('steady', { tiers: [free] });
    app.synth();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('with --state a restart is not a new deploy: the key keeps its age and expires on time', async () => {
    // GIVEN the app served on day 0 with a state file
    const state = path.join(dir, 'state.json');
    let now = Date.parse('2026-12-01T00:00:00Z');
    const first = await startLocalGateway({ assemblyDir: dir, port: 0, statePath: state, clock: () => now, log: () => undefined });
    const created = first.info.keys.find((k) => k.name === 'trial');
    expect(created?.expired).toBe(false);
    await first.close();

    // WHEN it restarts on day 15
    now += 15 * 86_400_000;
    const second = await startLocalGateway({ assemblyDir: dir, port: 0, statePath: state, clock: () => now, log: () => undefined });

    // THEN the trial key has expired 14 days after day 0
    expect(second.info.keys.find((k) => k.name === 'trial')).toMatchObject({ id: created?.id, expiresAt: '2026-12-15T00:00:00.000Z', expired: true });
    await second.close();
  });

  test('lists the trial key as expired and, after the expiry job that was due, disabled; it gets 403, the other key 200', async () => {
    // WHEN
    const child = spawn(...keygateCommand(['local', '--app', dir, '--port', '0', '--show-values', '--clock', '+15d']), { cwd: REPO_ROOT });
    try {
      const summary = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no summary: ${out}`)), 90_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Press Ctrl+C to stop.')) { clearTimeout(timer); resolve(out); }
        });
        child.on('close', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${out}`)); });
      });

      // THEN
      expect(summary).toMatch(/Expiring keys \(refused with 403 once expired, as after keygate's expiry job on AWS; clock moved by --clock to \d{4}-/);
      expect(summary).toMatch(/\n {2}trial {2}EXPIRED since \d{4}-\d{2}-\d{2}T/);
      // the expiry job was due on the moved clock and ran before the summary: the key is disabled, as on AWS by now
      const trialValue = /\n {2}trial {2}id \w+ {2}DISABLED {2}plans: Free {2}value (\w+)/.exec(summary)?.[1];
      expect(summary).toMatch(/\n {2}keygate: disables expired API keys \(Shop\/KeygateKeyExpiryJobSchedule[0-9A-F]{8}\): every hour, next /);
      const steadyValue = /\n {2}steady {2}id \w+ {2}enabled {2}plans: Free {2}value (\w+)/.exec(summary)?.[1];
      const url = /stage prod: (\S+)/.exec(summary)?.[1];
      expect(summary).toContain(`curl -i -H "x-api-key: ${trialValue}"`);
      const status = async (value?: string) => (await fetch(`${url}/pets`, { headers: { 'x-api-key': value ?? '' } })).status;
      expect(await status(trialValue)).toBe(403);
      expect(await status(steadyValue)).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  }, 120_000);
});
