/**
 * The developer portal end to end on the local gateway: the portal's Lambda (its bundle) behind
 * the portal's REST API, the local Cognito (sign-up, the printed code, sign-in), the data
 * plane's Cognito authorizer, and the served API answering the keys the portal hands out.
 */
import { GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { SignJWT, generateKeyPair, decodeJwt } from 'jose';
import { formatSummary } from '../../lib/local/command/cli';
import { callApi, newUser, portal, PortalApp, signIn, startPortalApp } from './portal-app';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(180_000);

let p: PortalApp;
let alice: string;
let bob: string;
let admin: string;

beforeAll(async () => {
  p = await startPortalApp();
  alice = await newUser(p, 'alice@example.com');
  bob = await newUser(p, 'bob@example.com');
  admin = await newUser(p, 'admin@example.com', true);
}, 180_000);

afterAll(async () => {
  await p?.close();
});

describe('pages', () => {
  test('the page, its script and style come with a strict CSP and no cookie; the start summary names the portal', async () => {
    const res = await fetch(p.portalUrl);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(html).toContain('<title>Pet store portal</title>');
    expect(html).not.toMatch(/<script>|style=|onclick=/);
    const js = await fetch(`${p.portalUrl}app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(await js.text()).not.toMatch(/innerHTML|document\.cookie|localStorage/);
    expect(p.gateway.info.portals).toEqual([{ name: 'pets', url: p.portalUrl }]);
    expect(formatSummary(p.gateway, 'cdk.out')).toContain(`  developer portal of pets: ${p.portalUrl}`);
  });
});

describe('the Cognito authorizer, as API Gateway checks tokens', () => {
  test('no token, a forged signature, a "Bearer " prefix, an access token and an expired token get 401; a fresh ID token passes', async () => {
    expect((await portal(p, 'GET', 'api/tiers')).status).toBe(401);
    const claims = decodeJwt(alice);
    const forger = await generateKeyPair('RS256');
    const forged = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'x' }).sign(forger.privateKey);
    expect((await portal(p, 'GET', 'api/tiers', forged)).status).toBe(401);
    expect((await portal(p, 'GET', 'api/tiers', `Bearer ${alice}`)).status).toBe(401);
    const access = await p.cognito.send(new (await import('@aws-sdk/client-cognito-identity-provider')).InitiateAuthCommand({
      ClientId: String(claims.aud), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'alice@example.com', PASSWORD: 'Correct-Horse-9-Battery' },
    }));
    expect(decodeJwt(access.AuthenticationResult!.AccessToken!).token_use).toBe('access');
    expect((await portal(p, 'GET', 'api/tiers', access.AuthenticationResult!.AccessToken!)).status).toBe(401);
    expect(decodeJwt(alice).iss).toBe(`https://cognito-idp.us-east-1.amazonaws.com/${p.poolId}`);
    expect((await portal(p, 'GET', 'api/tiers', alice)).status).toBe(200);
    // The gateway's clock only moves forward here (its token buckets follow it).
    p.advance(3601_000);
    expect((await portal(p, 'GET', 'api/tiers', alice)).status).toBe(401);
    alice = await signIn(p, 'alice@example.com');
  });

  test('sign-up: the password policy and a wrong code are refused with Cognito\'s message', async () => {
    const weak = await portal(p, 'POST', 'auth/sign-up', undefined, { email: 'weak@example.com', password: 'short' });
    expect(weak).toEqual({ status: 400, body: { message: expect.stringMatching(/Password did not conform with policy: Password not long enough/) } });
    await portal(p, 'POST', 'auth/sign-up', undefined, { email: 'carol@example.com', password: 'Correct-Horse-9-Battery' });
    const wrong = await portal(p, 'POST', 'auth/confirm', undefined, { email: 'carol@example.com', code: '000000x' });
    expect(wrong).toEqual({ status: 400, body: { message: 'Invalid verification code provided, please try again.' } });
    const unconfirmed = await portal(p, 'POST', 'auth/sign-in', undefined, { email: 'carol@example.com', password: 'Correct-Horse-9-Battery' });
    expect(unconfirmed).toEqual({ status: 400, body: { message: 'User is not confirmed.' } });
  });
});

describe('a consumer', () => {
  test('tiers in words; subscribe → the key works and is counted; roll → both work, then only the new one; cancel → 403', async () => {
    const tiers = (await portal(p, 'GET', 'api/tiers', alice)).body.tiers as Record<string, unknown>[];
    expect(tiers).toEqual([
      expect.objectContaining({ name: 'Free', limits: '10,000 requests a month, 50 a second (bursts of 100)', approval: false }),
      expect.objectContaining({ name: 'Pro', limits: '100 a second (bursts of 200)', approval: true }),
    ]);
    const sub = await portal(p, 'POST', 'api/subscription', alice, { tier: 'Free' });
    expect(sub.status).toBe(200);
    const first = sub.body.value as string;
    expect(first).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(await callApi(p, first)).toBe(200);
    expect(await callApi(p, first)).toBe(200);
    const shown = (await portal(p, 'GET', 'api/subscription', alice)).body.subscription as Record<string, unknown>;
    expect(shown).toMatchObject({ tier: 'Free', status: 'active', quotaLeft: 9998 });
    expect(JSON.stringify(shown)).not.toContain(first);
    expect((shown.days as { used: number }[]).reduce((s, d) => s + d.used, 0)).toBe(2);

    const rolled = await portal(p, 'POST', 'api/subscription/roll', alice);
    const second = rolled.body.value as string;
    expect(second).toMatch(/^[A-Za-z0-9]{40}$/);
    expect([await callApi(p, first), await callApi(p, second)]).toEqual([200, 200]);
    // WHEN the overlap (1 hour) has passed: the next look at the subscription retires the predecessor
    p.advance(3_700_000);
    const fresh = await signIn(p, 'alice@example.com');
    const after = (await portal(p, 'GET', 'api/subscription', fresh)).body.subscription as Record<string, unknown>;
    expect(after.previousKeyId).toBeUndefined();
    expect([await callApi(p, first), await callApi(p, second)]).toEqual([403, 200]);
    expect(p.logs.some((l) => l.includes('"action":"retire"'))).toBe(true);

    expect((await portal(p, 'DELETE', 'api/subscription', fresh)).body).toMatchObject({ status: 'cancelled' });
    expect(await callApi(p, second)).toBe(403);
  });

  test('the value again only after a fresh sign-in', async () => {
    bob = await signIn(p, 'bob@example.com');
    const bobSub = await portal(p, 'POST', 'api/subscription', bob, { tier: 'Free' });
    p.advance(600_000);
    const stale = await portal(p, 'POST', 'api/subscription/reveal', bob);
    expect(stale).toEqual({ status: 403, body: { message: 'Sign in again to see your key: its value is shown only within 5 minutes of signing in.' } });
    bob = await signIn(p, 'bob@example.com');
    expect((await portal(p, 'POST', 'api/subscription/reveal', bob)).body.value).toBe(bobSub.body.value);
  });

  test('every key the portal made is tagged with the portal and the consumer, and the key actions are logged as audit lines', async () => {
    const sub = (await portal(p, 'GET', 'api/subscription', bob)).body.subscription as { keyId: string };
    const key = await p.apigw.send(new GetApiKeyCommand({ apiKey: sub.keyId }));
    expect(key.tags).toMatchObject({ 'keygate:portal': expect.stringMatching(/Portal/), 'keygate:portal-consumer': decodeJwt(bob).sub, 'keygate:portal-status': 'active' });
    const audit = p.logs.filter((l) => l.includes('keygate.portal.key-action')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, string>);
    expect(audit).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'subscribe', actor: decodeJwt(bob).sub, keyId: sub.keyId, at: expect.stringMatching(/^\d{4}-/) })]));
    const value = String((await portal(p, 'POST', 'api/subscription/reveal', bob)).body.value);
    expect(value).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(p.logs.filter((l) => l.includes(value))).toEqual([]);
  });
});

describe('isolation: two consumers, every endpoint', () => {
  test('bob sees, reveals, rolls, changes and cancels only his own subscription; admin endpoints refuse him', async () => {
    const dave = await newUser(p, 'dave@example.com');
    const bob = await newUser(p, 'bob2@example.com');
    await portal(p, 'POST', 'api/subscription', bob, { tier: 'Free' });
    const daveSub = await portal(p, 'POST', 'api/subscription', dave, { tier: 'Free' });
    const daveKey = daveSub.body.value as string;
    const bobBefore = ((await portal(p, 'GET', 'api/subscription', bob)).body.subscription as { keyId: string }).keyId;
    expect(bobBefore).not.toBe(daveSub.body.keyId);
    expect((await portal(p, 'POST', 'api/subscription/reveal', bob)).body.value).not.toBe(daveKey);
    expect((await portal(p, 'POST', 'api/subscription', bob, { tier: 'Free' })).status).toBe(409);
    const bobRolled = await portal(p, 'POST', 'api/subscription/roll', bob);
    expect(bobRolled.body.previousKeyId).toBe(bobBefore);
    expect((await portal(p, 'POST', 'api/subscription/tier', bob, { tier: 'Pro' })).status).toBe(409);
    expect((await portal(p, 'DELETE', 'api/subscription', bob)).body.keyId).toBe(bobRolled.body.keyId);
    for (const action of ['approve', 'refuse', 'disable', 'enable']) {
      expect(await portal(p, 'POST', `api/admin/consumers/${String(daveSub.body.keyId)}/${action}`, bob)).toEqual({ status: 403, body: { message: 'Only members of the admins group may do this.' } });
    }
    expect((await portal(p, 'GET', 'api/admin/consumers', bob)).status).toBe(403);
    // dave's key is untouched by all of bob's actions
    expect(await callApi(p, daveKey)).toBe(200);
    expect((await portal(p, 'GET', 'api/subscription', dave)).body.subscription).toMatchObject({ keyId: daveSub.body.keyId, status: 'active' });
  });
});

describe('an admin', () => {
  test('sees consumers (never a value), approves and refuses pending subscriptions, disables and re-enables a consumer', async () => {
    admin = await signIn(p, 'admin@example.com');
    const erin = await newUser(p, 'erin@example.com');
    const pending = await portal(p, 'POST', 'api/subscription', erin, { tier: 'Pro' });
    expect(pending.body).toEqual({ keyId: expect.any(String), tier: 'Pro', status: 'pending' });
    const list = await portal(p, 'GET', 'api/admin/consumers', admin);
    expect(list.body.consumers).toEqual(expect.arrayContaining([expect.objectContaining({ email: 'erin@example.com', tier: 'Pro', status: 'pending', keyId: pending.body.keyId })]));
    expect(JSON.stringify(list.body)).not.toMatch(/"value"/);
    expect((await portal(p, 'POST', `api/admin/consumers/${String(pending.body.keyId)}/approve`, admin)).body).toEqual({ keyId: pending.body.keyId, status: 'active' });
    const value = (await portal(p, 'POST', 'api/subscription/reveal', erin)).body.value as string;
    expect(await callApi(p, value)).toBe(200);
    expect((await portal(p, 'POST', `api/admin/consumers/${String(pending.body.keyId)}/disable`, admin)).body.status).toBe('disabled');
    expect(await callApi(p, value)).toBe(403);
    expect((await portal(p, 'POST', `api/admin/consumers/${String(pending.body.keyId)}/enable`, admin)).body.status).toBe('active');
    expect(await callApi(p, value)).toBe(200);

    const frank = await newUser(p, 'frank@example.com');
    const asked = await portal(p, 'POST', 'api/subscription', frank, { tier: 'Pro' });
    expect((await portal(p, 'POST', `api/admin/consumers/${String(asked.body.keyId)}/refuse`, admin)).body.status).toBe('refused');
    expect((await portal(p, 'GET', 'api/subscription', frank)).body).toEqual({ subscription: null, ended: [{ keyId: asked.body.keyId, status: 'refused' }] });
    expect((await portal(p, 'POST', 'api/admin/consumers/nosuchkey/approve', admin))).toEqual({ status: 404, body: { message: 'no key nosuchkey in this portal' } });
  });
});
