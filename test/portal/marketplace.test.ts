/**
 * An AWS Marketplace buyer on the developer portal, end to end on the local gateway: the local
 * Marketplace mints the registration token and publishes subscribe-success on AWS
 * Marketplace's topic for the product (the subscription handler's bundle makes the customer's
 * key); the buyer's browser POSTs the token to the fulfillment URL (form field
 * x-amzn-marketplace-token), signs up and in, and the page sends the token; the portal's
 * Lambda resolves it with the real Marketplace Metering SDK (ResolveCustomer on the local
 * slice) and the consumer's subscription is the customer's one key (customerId set). Bad,
 * expired and foreign tokens are refused with their reason; the token is in no log line.
 */
import { GetApiKeyCommand, GetApiKeysCommand, GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { MarketplaceMeteringClient, ResolveCustomerCommand } from '@aws-sdk/client-marketplace-metering';
import { settleCreatedKey } from '../../lib/sdk/marketplace-customer';
import { callApi, newUser, portal, PortalApp, PRODUCT_CODE, signIn, startPortalApp } from './portal-app';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(180_000);

let p: PortalApp;
let metering: MarketplaceMeteringClient;
/** Every registration token issued in these tests (none may reach a log). */
const issued: string[] = [];

/** A buyer subscribing on AWS Marketplace (the local Marketplace's side). */
function mint(customerIdentifier: string, customerAwsAccountId?: string) {
  const c = p.gateway.marketplace.subscribe({ productCode: PRODUCT_CODE, customerIdentifier, customerAwsAccountId });
  issued.push(c.registrationToken);
  return c;
}

beforeAll(async () => {
  p = await startPortalApp({ marketplace: true });
  metering = new MarketplaceMeteringClient({ endpoint: p.gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}, 180_000);

afterAll(async () => {
  metering?.destroy();
  await p?.close();
});

/** AWS Marketplace redirecting the buyer's browser: the form POST to the fulfillment URL. */
async function fulfill(token: string | undefined): Promise<{ status: number; html: string }> {
  const res = await fetch(`${p.portalUrl}marketplace`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: token === undefined ? 'other=1' : new URLSearchParams({ 'x-amzn-marketplace-token': token, 'x-amzn-marketplace-offer-type': 'free-trial' }).toString(),
  });
  return { status: res.status, html: await res.text() };
}

const keysOf = async (customerId: string) => (await p.apigw.send(new GetApiKeysCommand({ customerId, includeValues: false }))).items ?? [];
const planOf = async (name: string) => (await p.apigw.send(new (await import('@aws-sdk/client-api-gateway')).GetUsagePlansCommand({}))).items!.find((x) => x.name === name)!;

/** A buyer subscribing on AWS Marketplace, once the subscription handler has handled subscribe-success. */
async function buy(customerIdentifier: string) {
  const c = mint(customerIdentifier);
  await p.gateway.sns.subscriptions?.idle();
  return c;
}

test('the sold tier\'s plan carries the product code (the AwsCustomResource ran); ResolveCustomer answers the real SDK', async () => {
  const plan = await planOf('ProPlus');
  expect((await p.apigw.send(new GetUsagePlanCommand({ usagePlanId: plan.id }))).productCode).toBe(PRODUCT_CODE);
  const c = mint('CUST-sdk', '111122223333');
  expect(c.notified).toBe(true);
  expect(await metering.send(new ResolveCustomerCommand({ RegistrationToken: c.registrationToken })))
    .toMatchObject({ CustomerIdentifier: 'CUST-sdk', ProductCode: PRODUCT_CODE, CustomerAWSAccountId: '111122223333' });
  await expect(metering.send(new ResolveCustomerCommand({ RegistrationToken: 'bm90LWEtdG9rZW4=' }))).rejects.toThrow(/Registration token is invalid/);
  expect(() => p.gateway.marketplace.subscribe({ productCode: 'otherproduct' })).toThrow(/no usage plan of the app carries the AWS Marketplace product code "otherproduct"/);
});

test('subscribe-success first: the fulfillment page holds the token, sign-up and sign-in, the portal links the handler\'s key (one key, customerId set)', async () => {
  const c = await buy('CUST-A');
  const [made] = await keysOf('CUST-A');
  expect(made).toMatchObject({ name: 'marketplace-CUST-A', customerId: 'CUST-A', enabled: true });

  const page = await fulfill(c.registrationToken);
  expect(page.status).toBe(200);
  expect(page.html).toContain(`data-marketplace-token="${c.registrationToken}"`);
  const alice = await newUser(p, 'alice@example.com');
  const linked = await portal(p, 'POST', 'api/subscription/marketplace', alice, { token: c.registrationToken });
  expect(linked).toMatchObject({ status: 200, body: { keyId: made.id, tier: 'ProPlus', customerId: 'CUST-A', status: 'active', value: expect.any(String) } });
  expect(await callApi(p, linked.body.value as string)).toBe(200);
  const keys = await keysOf('CUST-A');
  expect(keys).toHaveLength(1);
  expect(keys[0].tags).toMatchObject({ 'keygate:portal-consumer': expect.any(String), 'keygate:portal-status': 'active', 'keygate:marketplace-customer': 'CUST-A' });
  const shown = await portal(p, 'GET', 'api/subscription', alice);
  expect(shown.body.subscription).toMatchObject({ keyId: made.id, tier: 'ProPlus', status: 'active', marketplace: true });
  // Linking again (a reload) changes nothing; cancelling is done on AWS Marketplace.
  expect((await portal(p, 'POST', 'api/subscription/marketplace', alice, { token: c.registrationToken })).body).toMatchObject({ keyId: made.id });
  expect(await portal(p, 'DELETE', 'api/subscription', alice)).toMatchObject({ status: 409, body: { message: expect.stringMatching(/billed through AWS Marketplace: change or cancel it there/) } });

  // Another account with the same buyer's token is refused.
  const mallory = await newUser(p, 'mallory@example.com');
  expect(await portal(p, 'POST', 'api/subscription/marketplace', mallory, { token: c.registrationToken }))
    .toMatchObject({ status: 409, body: { message: 'This AWS Marketplace subscription is already linked to another account. Sign in with that account.' } });

  // unsubscribe-success (the handler) disables the linked key.
  const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
  const snsClient = new SNSClient({ endpoint: p.gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await snsClient.send(new PublishCommand({
    TopicArn: `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${PRODUCT_CODE}`,
    Message: JSON.stringify({ action: 'unsubscribe-success', 'customer-identifier': 'CUST-A', 'product-code': PRODUCT_CODE }),
  }));
  snsClient.destroy();
  await p.gateway.sns.subscriptions?.idle();
  expect((await p.apigw.send(new GetApiKeyCommand({ apiKey: made.id }))).enabled).toBe(false);
  expect(await callApi(p, linked.body.value as string)).toBe(403);
});

test('the portal and the subscription handler at once: one key for the customer, whichever came first', async () => {
  const c = mint('CUST-B');
  const bob = await newUser(p, 'bob@example.com');
  const linked = await portal(p, 'POST', 'api/subscription/marketplace', bob, { token: c.registrationToken });
  await p.gateway.sns.subscriptions?.idle();
  expect(linked.status).toBe(200);
  const keys = await keysOf('CUST-B');
  expect(keys.map((k) => k.id)).toEqual([linked.body.keyId]);
  expect(keys[0]).toMatchObject({ customerId: 'CUST-B', enabled: true, tags: { 'keygate:portal-status': 'active' } });
  const plan = await planOf('ProPlus');
  const members = (await p.apigw.send(new (await import('@aws-sdk/client-api-gateway')).GetUsagePlanKeysCommand({ usagePlanId: plan.id }))).items ?? [];
  expect(members.map((m) => m.id)).toContain(linked.body.keyId);
});

test('the one-key rule both makers follow: a maker that lost the race deletes its key and uses the older one', async () => {
  const { CreateApiKeyCommand } = await import('@aws-sdk/client-api-gateway');
  const first = await p.apigw.send(new CreateApiKeyCommand({ name: 'first', customerId: 'CUST-RACE', enabled: true }));
  await new Promise((r) => setTimeout(r, 1100));
  const second = await p.apigw.send(new CreateApiKeyCommand({ name: 'second', customerId: 'CUST-RACE', enabled: true }));
  expect((await settleCreatedKey(p.apigw, 'CUST-RACE', first)).id).toBe(first.id);
  expect((await keysOf('CUST-RACE')).map((k) => k.id).sort()).toEqual([first.id, second.id].sort());
  expect((await settleCreatedKey(p.apigw, 'CUST-RACE', second)).id).toBe(first.id);
  expect((await keysOf('CUST-RACE')).map((k) => k.id)).toEqual([first.id]);
});

test('refused with their reason: no token, a malformed or unknown token, an expired one, a consumer who already subscribed themselves', async () => {
  const none = await fulfill(undefined);
  expect(none.status).toBe(400);
  expect(none.html).toContain('data-message="This page expects the AWS Marketplace registration token (x-amzn-marketplace-token).');
  let carol = await newUser(p, 'carol@example.com');
  expect(await portal(p, 'POST', 'api/subscription/marketplace', carol, { token: '<script>' }))
    .toMatchObject({ status: 400, body: { message: expect.stringMatching(/^The AWS Marketplace registration token is missing or malformed\./) } });
  expect(await portal(p, 'POST', 'api/subscription/marketplace', carol, { token: 'bm90LWEtdG9rZW4=' }))
    .toMatchObject({ status: 400, body: { message: 'The AWS Marketplace registration token is not valid. Open the product on AWS Marketplace and choose "Set up your account" again.' } });

  const late = await buy('CUST-C');
  p.advance(4 * 3600_000 + 60_000);
  carol = await signIn(p, 'carol@example.com');
  expect(await portal(p, 'POST', 'api/subscription/marketplace', carol, { token: late.registrationToken }))
    .toMatchObject({ status: 400, body: { message: expect.stringMatching(/^The AWS Marketplace registration token has expired \(it lasts 4 hours\)\./) } });

  const fresh = await buy('CUST-D');
  expect((await portal(p, 'POST', 'api/subscription', carol, { tier: 'Free' })).status).toBe(200);
  expect(await portal(p, 'POST', 'api/subscription/marketplace', carol, { token: fresh.registrationToken }))
    .toMatchObject({ status: 409, body: { message: 'You already have a subscription here: cancel it, then open this page from AWS Marketplace again.' } });
  // The sold tier is not self-service.
  expect(await portal(p, 'POST', 'api/subscription', carol, { tier: 'ProPlus' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^tier "ProPlus" is not offered here; choose one of Free, Pro$/) } });
});

test('no registration token in any log line of the gateway, its Lambdas or the access log', () => {
  const logged = p.logs.join('\n');
  expect(logged).toContain('AWS Marketplace: customer CUST-A subscribed to');
  expect(logged).toMatch(/"action":"marketplace-link".*"detail":"customer CUST-A"/);
  expect(issued.length).toBeGreaterThanOrEqual(5);
  for (const token of issued) {
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(encodeURIComponent(token));
  }
});
