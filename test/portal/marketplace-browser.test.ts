/**
 * An AWS Marketplace buyer in Debian's Chromium (playwright-core): a page posts the
 * registration token to the portal's fulfillment URL as AWS Marketplace's redirect does (a form
 * POST, field x-amzn-marketplace-token); the portal's page keeps it through a reload, sign-up,
 * confirmation and sign-in (sessionStorage, no cookie), then links the subscription: the key
 * shown works and carries the customer id.
 */
import { GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { Browser } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../support/chromium';
import { signUpAndConfirm } from './portal-page';
import { callApi, PASSWORD, PortalApp, PRODUCT_CODE, startPortalApp } from './portal-app';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(240_000);

describeInBrowser('the Marketplace portal browser test')('an AWS Marketplace buyer on the developer portal in headless Chromium', () => {
  let p: PortalApp;
  let browser: Browser;

  beforeAll(async () => {
    p = await startPortalApp({ title: 'Pet store developer portal', marketplace: true });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  test('fulfillment POST → the page holds the token (also across a reload) → sign up, confirm, sign in → linked: the key works, customerId set', async () => {
    const buyer = p.gateway.marketplace.subscribe({ productCode: PRODUCT_CODE, customerIdentifier: 'CUST-BROWSER' });
    await p.gateway.sns.subscriptions?.idle();
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent(`<form method="post" action="${p.portalUrl}marketplace"><input name="x-amzn-marketplace-token" value="${buyer.registrationToken}"></form>`);
    await Promise.all([page.waitForURL(p.portalUrl), page.evaluate(() => (globalThis as unknown as { document: { forms: { submit(): void }[] } }).document.forms[0].submit())]);
    await page.locator('#message', { hasText: 'Sign up or sign in to finish your AWS Marketplace subscription.' }).waitFor();
    // The address is the portal's (a reload GETs it, no form re-post), the token stays in the tab only.
    expect(page.url()).toBe(p.portalUrl);
    await page.reload();
    await page.locator('#message', { hasText: 'Sign up or sign in to finish your AWS Marketplace subscription.' }).waitFor();
    expect(await context.cookies()).toEqual([]);

    const email = 'buyer@example.com';
    await signUpAndConfirm(page, p, email);
    await page.fill('#password', PASSWORD);
    await page.click('#sign-in');
    await page.locator('#message', { hasText: 'Your AWS Marketplace subscription is linked: ProPlus.' }).waitFor();
    const value = (await page.locator('#key-value').textContent()) ?? '';
    expect(value).toMatch(/^[A-Za-z0-9]{20,}$/);
    await page.locator('#subscription-line', { hasText: 'ProPlus' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
    expect(await callApi(p, value)).toBe(200);
    const keyId = (await page.locator('#subscription-line code').textContent()) ?? '';
    expect((await p.apigw.send(new GetApiKeyCommand({ apiKey: keyId }))).customerId).toBe('CUST-BROWSER');
    expect(errors).toEqual([]);
    await context.close();
  });
});
