/**
 * The portal's handler functions in-process against the local gateway's control plane (the
 * real AWS SDK), for what the end-to-end test cannot reach cheaply: the 10,000-key limit with
 * the owner's headroom, the ops CLI's refusal of portal keys, the page's escaping, limits in words.
 */
import { GetUsagePlanKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { rotateKey, retireKey, deleteKey } from '../../lib/ops';
import { overrideWarning, setKeyEnabled } from '../../lib/ops/keys';
import { managedBy, managedKeyReason } from '../../lib/shared/managed';
import { PortalConfig } from '../../lib/handlers/portal/config';
import { AuditEntry, Caller, PortalDeps } from '../../lib/handlers/portal/keys';
import { apiReference, indexHtml } from '../../lib/handlers/portal/pages';
import { changeTier, roll, showSubscription, subscribe } from '../../lib/handlers/portal/subscriptions';
import { maintain } from '../../lib/handlers/portal/maintenance';
import { GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { limitsInWords } from '../../lib/handlers/portal/words';
import { callApi, PortalApp, startPortalApp } from './portal-app';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

let p: PortalApp;
let config: PortalConfig;
const audit: AuditEntry[] = [];
const deps = (overrides: Partial<PortalConfig> = {}): PortalDeps => ({ apigw: p.apigw, config: { ...config, ...overrides }, now: Date.now, audit: (e) => audit.push(e) });
const caller = (sub: string): Caller => ({ sub, email: `${sub}@example.com`, admin: false, authTime: Math.floor(Date.now() / 1000) });

beforeAll(async () => {
  p = await startPortalApp();
  const plans = (await p.apigw.send(new GetUsagePlansCommand({}))).items ?? [];
  const free = plans.find((x) => x.name === 'Free')!;
  config = {
    portalId: 'TestPortal', title: 't', tiers: [{ planId: free.id!, name: 'Free', approval: false }], marketplace: [], overlapSeconds: 60, tierChangeAllowed: true,
    keyHeadroom: 500, userPoolClientId: 'c', adminGroup: 'admins', apiUrl: p.apiUrl, routes: [],
  };
});
afterAll(async () => { await p?.close(); });

test('a subscription is refused with a clear message once the account reaches 10,000 keys minus the owner\'s headroom', async () => {
  // GIVEN an account with one key (made by a first subscription)
  await subscribe(deps(), caller('first'), 'Free');
  // WHEN the owner keeps 9,999 keys free
  await expect(subscribe(deps({ keyHeadroom: 9_999 }), caller('second'), 'Free'))
    .rejects.toThrow(/^New subscriptions are paused: the account holds 1 of its 10000 API keys and the owner keeps 9999 free\. Ask the API's owner\.$/);
  // THEN with room left, it goes through, and each key action is recorded
  await expect(subscribe(deps({ keyHeadroom: 9_998 }), caller('second'), 'Free')).resolves.toMatchObject({ status: 'active' });
  expect(audit.map((a) => [a.action, a.actor])).toEqual([['subscribe', 'first'], ['subscribe', 'second']]);
});

test('an unknown tier is refused naming the offered ones', async () => {
  await expect(subscribe(deps(), caller('third'), '<script>')).rejects.toThrow('tier "<script>" is not offered here; choose one of Free');
});

test('the ops CLI refuses to rotate, retire, disable, enable or delete a portal\'s key, naming the portal and the consumer and saying where it is changed', async () => {
  const made = await subscribe(deps(), caller('ops-victim'), 'Free');
  const keyId = String(made.keyId);
  const owner = 'it belongs to the keygate developer portal TestPortal \\(consumer ops-victim@example\\.com, sub ops-victim\\)';
  const admin = 'an admin disables or re-enables the consumer on the portal\'s admin page \\(Consumers\\)\\.';
  await expect(rotateKey(p.apigw, keyId)).rejects.toThrow(new RegExp(`^Not rotating key ".*" \\(${keyId}\\) out of band: ${owner}\\. `
    + `The consumer rolls it in the portal \\(the old key keeps working for the portal's overlap, then the portal retires it\\) or cancels it there; ${admin}$`));
  await expect(retireKey(p.apigw, keyId)).rejects.toThrow(new RegExp(`^Not retiring key ".*" \\(${keyId}\\) out of band: ${owner}\\. `
    + `The portal retires a rolled key's predecessor itself once the overlap ends; the consumer cancels the subscription in the portal; ${admin}$`));
  const change = `${owner}\\. The consumer rolls or cancels it in the portal; ${admin} Pass --override-managed to do it anyway \\(e\\.g\\. to stop a leaked key now\\); `
    + 'the portal\'s record of the subscription \\(the key\'s keygate:portal-status tag\\) is not changed\\.$';
  await expect(deleteKey(p.apigw, keyId)).rejects.toThrow(new RegExp(`^Not deleting ".*" \\(${keyId}\\): ${change}`));
  await expect(setKeyEnabled(p.apigw, keyId, false)).rejects.toThrow(new RegExp(`^Not disabling ".*" \\(${keyId}\\): ${change}`));
  await expect(setKeyEnabled(p.apigw, keyId, true)).rejects.toThrow(new RegExp(`^Not enabling ".*" \\(${keyId}\\): ${change}`));
  for (const refused of [rotateKey(p.apigw, keyId), deleteKey(p.apigw, keyId), setKeyEnabled(p.apigw, keyId, false)]) {
    await expect(refused).rejects.not.toThrow(/drifts from the code|deploy/);
  }
  // --override-managed still stops a leaked key at once; the warning says what the portal now shows
  const stopped = await setKeyEnabled(p.apigw, keyId, false, { overrideManaged: true });
  expect(stopped).toMatchObject({ enabled: false, changed: true });
  expect(overrideWarning(stopped)).toMatch(new RegExp(`^warning: ${owner}; the portal still records the subscription as active\\. The consumer rolls or cancels it in the portal; ${admin}$`));
  expect(await callApi(p, String(made.value))).toBe(403);
  expect(managedBy({ tags: { 'keygate:portal': 'P' } })).toBe('portal');
  expect(managedKeyReason({ tags: { 'keygate:portal': 'P', 'keygate:portal-consumer': 'u1' } })).toBe('it belongs to the keygate developer portal P (consumer u1)');
});

test('the ops CLI\'s warning after overriding a stack-owned key still speaks of the code', () => {
  const key = { id: 'k', name: 'n', enabled: false, plans: [], stages: [], tags: { 'aws:cloudformation:stack-name': 'Shop' } };
  expect(overrideWarning(key)).toBe('warning: it belongs to the CloudFormation stack Shop; this change drifts from the code until it is made there.');
  expect(overrideWarning({ ...key, tags: {} })).toBeUndefined();
});

test('limits in words', () => {
  expect(limitsInWords({ quota: { limit: 10_000, period: 'MONTH' }, throttle: { rateLimit: 5, burstLimit: 10 } })).toBe('10,000 requests a month, 5 a second (bursts of 10)');
  expect(limitsInWords({ quota: { limit: 1, period: 'DAY' } })).toBe('1 request a day');
  expect(limitsInWords({ throttle: { rateLimit: 0.5 } })).toBe('0.5 a second');
  expect(limitsInWords({})).toBe('no limits');
});

test('the page escapes a hostile title; the reference gives a curl line per route, with the key only where one is needed', () => {
  const html = indexHtml('<script>alert("x")</script> & \'Ünïcødé\'', '/prod/');
  expect(html).toContain('<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Ünïcødé&#39;</title>');
  expect(html).not.toContain('<script>alert');
  expect(apiReference('https://x.example/prod/', [{ method: 'GET', path: '/pets', apiKeyRequired: true }, { method: 'POST', path: '/health', apiKeyRequired: false }])).toEqual([
    { method: 'GET', path: '/pets', apiKeyRequired: true, curl: 'curl -H "x-api-key: $KEY" "https://x.example/prod/pets"' },
    { method: 'POST', path: '/health', apiKeyRequired: false, curl: 'curl -X POST "https://x.example/prod/health"' },
  ]);
});

test('change tier: the key (and a predecessor in its overlap) moves to the other plan; refused where the owner does not allow it', async () => {
  const plans = (await p.apigw.send(new GetUsagePlansCommand({}))).items ?? [];
  const pro = plans.find((x) => x.name === 'Pro')!;
  const both = { tiers: [...config.tiers, { planId: pro.id!, name: 'Pro', approval: false }] };
  const who = caller('mover');
  const made = await subscribe(deps(both), who, 'Free');
  const rolled = await roll(deps(both), who);
  await expect(changeTier(deps({ ...both, tierChangeAllowed: false }), who, 'Pro')).rejects.toThrow('This portal does not allow changing tiers: cancel and subscribe again.');
  await expect(changeTier(deps(both), who, 'Pro')).resolves.toEqual({ keyId: rolled.keyId, tier: 'Pro', status: 'active' });
  const inPlan = async (planId: string) => ((await p.apigw.send(new GetUsagePlanKeysCommand({ usagePlanId: planId }))).items ?? []).map((k) => k.id);
  expect(await inPlan(pro.id!)).toEqual(expect.arrayContaining([made.keyId, rolled.keyId]));
  expect(await inPlan(config.tiers[0].planId)).not.toEqual(expect.arrayContaining([made.keyId]));
  expect(await inPlan(config.tiers[0].planId)).not.toEqual(expect.arrayContaining([rolled.keyId]));
  expect(await callApi(p, String(rolled.value))).toBe(200);
});

test('an expired subscription: the job disables only keys past the lifetime written on them; the consumer may subscribe again, and the expired key goes', async () => {
  // GIVEN a portal whose keys live one minute, and one whose keys never expire
  const short = deps({ keyLifetimeSeconds: 60 });
  const who = caller('short-lived');
  const made = await subscribe(short, who, 'Free');
  const forever = await subscribe(deps(), caller('forever'), 'Free');
  const later = { ...short, now: () => Date.now() + 120_000 };
  const who2 = { ...who, authTime: Math.floor(later.now() / 1000) };

  // WHEN the job runs two minutes later
  const report = await maintain(later);

  // THEN only the short-lived key is expired, and the consumer is told so
  // (the earlier test's rolled key, its 60 s overlap over, is retired in the same run)
  expect(report).toMatchObject({ expired: [made.keyId], idle: [], failures: [] });
  expect((await p.apigw.send(new GetApiKeyCommand({ apiKey: String(forever.keyId) }))).enabled).toBe(true);
  expect((await showSubscription(later, who2)).subscription).toMatchObject({ keyId: made.keyId, status: 'expired', enabled: false, notice: expect.stringMatching(/^Your key expired at /) });
  expect(await callApi(p, String(made.value))).toBe(403);
  // AND a second run finds nothing more to do
  expect((await maintain(later)).expired).toEqual([]);

  // WHEN the consumer subscribes again instead of rolling
  const again = await subscribe(later, who2, 'Free');

  // THEN a working key, and the expired one is deleted (it counted against the account's limit)
  expect(again).toMatchObject({ status: 'active', value: expect.stringMatching(/^[A-Za-z0-9]{40}$/) });
  expect(await callApi(p, String(again.value))).toBe(200);
  await expect(p.apigw.send(new GetApiKeyCommand({ apiKey: String(made.keyId) }))).rejects.toThrow(/Invalid API Key identifier specified/);
});
