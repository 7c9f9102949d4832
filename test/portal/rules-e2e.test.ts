/**
 * The portal's own rules for its keys, end to end on the local gateway: `keyLifetime` (written
 * on the key as keygate's expiry tag) and `disableUnusedAfter`, applied by the portal's
 * scheduled job (its EventBridge rule, run on the gateway's clock) with the subscription's
 * status telling the consumer and the admin why; keygate's general KeyHygiene, in the same app
 * and told to include managed keys, leaves the portal's keys to the portal.
 */
import { GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { Duration } from 'aws-cdk-lib';
import { ScheduleRun } from '../../lib/local/events/schedules';
import { callApi, newUser, portal, PortalApp, signIn, startPortalApp } from './portal-app';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(180_000);

const DAY = 86_400_000;
let p: PortalApp;

beforeAll(async () => {
  p = await startPortalApp({ portal: { keyLifetime: Duration.days(30), disableUnusedAfter: Duration.days(7) }, keyHygiene: true });
}, 180_000);
afterAll(async () => { await p?.close(); });

/** The portal job's run and the general hygiene job's run among the jobs due on the gateway's clock. */
async function runJobs(): Promise<{ portal?: ScheduleRun; hygiene?: ScheduleRun }> {
  const runs = await p.gateway.runDueJobs();
  return { portal: runs.find((r) => r.job.includes('RetireSchedule')), hygiene: runs.find((r) => r.job.includes('KeyHygiene')) };
}

async function subscription(token: string): Promise<Record<string, unknown>> {
  return (await portal(p, 'GET', 'api/subscription', token)).body.subscription as Record<string, unknown>;
}

test('an unused key goes idle and an old one expires, by the portal\'s job; the consumer sees why and rolls for a working key; KeyHygiene leaves them to the portal', async () => {
  // GIVEN alice and bob subscribe; the key carries its expiry in keygate's expiry tag
  const start = p.now();
  let alice = await newUser(p, 'alice@example.com');
  let bob = await newUser(p, 'bob@example.com');
  const aliceKey = String((await portal(p, 'POST', 'api/subscription', alice, { tier: 'Free' })).body.value);
  const bobSub = (await portal(p, 'POST', 'api/subscription', bob, { tier: 'Free' })).body;
  const aliceSub = await subscription(alice);
  const expiresAt = Date.parse(String(aliceSub.expiresAt));
  expect(expiresAt - start).toBeGreaterThanOrEqual(30 * DAY - 60_000);
  expect(expiresAt - start).toBeLessThan(30 * DAY + 60_000);
  const tags = (await p.apigw.send(new GetApiKeyCommand({ apiKey: String(aliceSub.keyId) }))).tags!;
  expect(tags['keygate:expires-at']).toBe(aliceSub.expiresAt);
  expect(tags['keygate:portal-active-since']).toMatch(/^\d{4}-\d{2}-\d{2}T/);

  // WHEN alice calls on day 5, and on day 8 the jobs run
  p.advance(5 * DAY);
  expect(await callApi(p, aliceKey)).toBe(200);
  p.advance(3 * DAY);
  const day8 = await runJobs();

  // THEN bob's key (no request for 7 days) is idle and refused; alice's stays active
  expect(day8.portal).toMatchObject({ result: { retired: [], expired: [], idle: [bobSub.keyId], failures: [] } });
  expect(day8.hygiene?.result).toMatchObject({ disabled: [], leftToPortal: expect.arrayContaining([bobSub.keyId]) });
  expect(await callApi(p, String(bobSub.value))).toBe(403);
  bob = await signIn(p, 'bob@example.com');
  expect(await subscription(bob)).toMatchObject({
    status: 'idle', enabled: false, notice: 'Your key was disabled because it had no requests for 7 days. Roll it for a new key in the same tier, or cancel and subscribe again.',
  });
  alice = await signIn(p, 'alice@example.com');
  expect(await subscription(alice)).toMatchObject({ status: 'active', enabled: true });
  expect(p.logs.some((l) => l.includes('"action":"idle"') && l.includes(String(bobSub.keyId)))).toBe(true);

  // AND bob rolls: a new key that works, in the same tier, and the idle one is gone
  const renewed = (await portal(p, 'POST', 'api/subscription/roll', bob)).body;
  expect(renewed).toEqual({ keyId: expect.any(String), value: expect.stringMatching(/^[A-Za-z0-9]{40}$/), previousKeyId: bobSub.keyId });
  expect(await callApi(p, String(renewed.value))).toBe(200);
  expect(await subscription(bob)).toMatchObject({ keyId: renewed.keyId, status: 'active', tier: 'Free' });
  await expect(p.apigw.send(new GetApiKeyCommand({ apiKey: String(bobSub.keyId) }))).rejects.toThrow(/Invalid API Key identifier specified/);

  // WHEN alice's 30 days are over (she kept calling: on days 14, 20 and 26, so never idle)
  for (let d = 0; d < 3; d++) {
    p.advance(6 * DAY);
    expect(await callApi(p, aliceKey)).toBe(200);
    expect((await runJobs()).portal?.result).toMatchObject({ expired: [], failures: [] });
  }
  p.advance(5 * DAY);
  // the gateway refuses an expired key at once, as API Gateway does once the job has disabled it
  expect(await callApi(p, aliceKey)).toBe(403);
  const day31 = await runJobs();

  // THEN the portal's job marks it expired; the admin page and alice see it
  expect(day31.portal?.result).toMatchObject({ expired: [aliceSub.keyId], failures: [] });
  alice = await signIn(p, 'alice@example.com');
  expect(await subscription(alice)).toMatchObject({
    status: 'expired', enabled: false, expiresAt: aliceSub.expiresAt,
    notice: `Your key expired at ${String(aliceSub.expiresAt)} and no longer works. Roll it for a new key in the same tier, or cancel and subscribe again.`,
  });
  const admin = await newUser(p, 'admin@example.com', true);
  const consumers = (await portal(p, 'GET', 'api/admin/consumers', admin)).body.consumers as Record<string, unknown>[];
  expect(consumers.find((c) => c.keyId === aliceSub.keyId)).toMatchObject({ email: 'alice@example.com', status: 'expired', expiresAt: aliceSub.expiresAt });

  // AND an admin re-enabling her cannot bring the expired key back; her roll gives a key with a new lifetime
  expect((await portal(p, 'POST', `api/admin/consumers/${String(aliceSub.keyId)}/disable`, admin)).body.status).toBe('disabled');
  expect((await portal(p, 'POST', 'api/subscription/roll', alice)).body).toEqual({ message: 'Only an active, expired or idle subscription can roll its key.' });
  expect((await portal(p, 'POST', `api/admin/consumers/${String(aliceSub.keyId)}/enable`, admin)).body.status).toBe('expired');
  expect(await callApi(p, aliceKey)).toBe(403);
  const rolled = (await portal(p, 'POST', 'api/subscription/roll', alice)).body;
  expect(await callApi(p, String(rolled.value))).toBe(200);
  const now = p.now();
  expect(Date.parse(String((await subscription(alice)).expiresAt)) - now).toBeGreaterThan(29 * DAY);
});
