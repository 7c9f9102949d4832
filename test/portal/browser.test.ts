/**
 * The developer portal in Debian's Chromium (playwright-core), served by the local gateway: a
 * consumer signs up, confirms with the code the local Cognito printed, signs in, subscribes,
 * copies the key, calls the API, sees the call counted, rolls, cancels; an admin approves a
 * subscription that needs approval. Hostile names stay text. The screenshot goes to
 * __screenshots__/ (gitignored); KEYGATE_UPDATE_SCREENSHOT=1 copies it to docs/developer-portal.png.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AdminAddUserToGroupCommand } from '@aws-sdk/client-cognito-identity-provider';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../support/chromium';
import { signUpAndConfirm } from './portal-page';
import { callApi, PASSWORD, PortalApp, startPortalApp } from './portal-app';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(240_000);

const SCREENSHOT = path.join(__dirname, '__screenshots__', 'developer-portal.png');
/** The README's copy; written when KEYGATE_UPDATE_SCREENSHOT=1 (a test run leaves the repository's files alone). */
const README_SCREENSHOT = path.join(__dirname, '..', '..', 'docs', 'developer-portal.png');
describeInBrowser('the developer portal browser tests')('the developer portal in headless Chromium', () => {
  let p: PortalApp;
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    p = await startPortalApp('Pet store developer portal');
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(p.portalUrl).origin });
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    // Failed responses by URL (the page's own 4xx answers are shown to the user, not errors of the page).
    page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`); });
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
    await page.goto(p.portalUrl);
    return { context, page };
  }

  async function signUpAndIn(page: Page, email: string, admin = false): Promise<void> {
    await signUpAndConfirm(page, p, email);
    if (admin) await p.cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: p.poolId, Username: email, GroupName: 'admins' }));
    await signIn(page, email);
  }

  async function signIn(page: Page, email: string): Promise<void> {
    if (await page.locator('#sign-out').isVisible()) await page.click('#sign-out');
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.click('#sign-in');
    await page.locator('#consumer').waitFor({ state: 'visible' });
  }

  const refresh = (page: Page) => page.evaluate(() => (globalThis as unknown as { keygatePortal: { refresh(): void } }).keygatePortal.refresh());

  test('sign up → confirm → sign in → subscribe → copy the key → 200 → counted → roll → both work → after the overlap only the new one → cancel → 403', async () => {
    const { context, page } = await newPage();
    await signUpAndIn(page, 'ada@example.com');
    await page.locator('#tiers li', { hasText: '10,000 requests a month, 50 a second (bursts of 100)' }).waitFor();
    await page.click('button[data-tier="Free"]');
    await page.locator('#key-box').waitFor({ state: 'visible' });
    await page.click('#copy-key');
    await page.locator('#message', { hasText: 'Copied.' }).waitFor();
    const first = await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
    expect(first).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(await callApi(p, first)).toBe(200);
    await refresh(page);
    await page.locator('#usage tbody tr td', { hasText: /^1$/ }).waitFor();
    await page.locator('#reference code', { hasText: `curl -H "x-api-key: ${first}" "${p.apiUrl}/pets"` }).waitFor();
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    if (process.env.KEYGATE_UPDATE_SCREENSHOT === '1') fs.copyFileSync(SCREENSHOT, README_SCREENSHOT);

    await page.click('#roll');
    await page.locator('#message', { hasText: 'New key made' }).waitFor();
    const second = (await page.textContent('#key-value'))!;
    expect(second).not.toBe(first);
    expect([await callApi(p, first), await callApi(p, second)]).toEqual([200, 200]);

    p.advance(3_700_000); // past the 1-hour overlap (and the ID token's hour: sign in again)
    await signIn(page, 'ada@example.com');
    // Signing out cleared the page: this line is the fresh render, with no predecessor left.
    await page.locator('#subscription-line', { hasText: 'active' }).waitFor();
    expect(await page.locator('#subscription', { hasText: 'Previous key' }).count()).toBe(0);
    expect(await page.textContent('#key-value')).toBe('');
    expect([await callApi(p, first), await callApi(p, second)]).toEqual([403, 200]);

    await page.click('#cancel');
    await page.locator('#message', { hasText: 'Cancelled' }).waitFor();
    expect(await callApi(p, second)).toBe(403);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('manual approval: pending → an admin approves → the consumer signs in afresh, shows the key, and it works', async () => {
    const consumer = await newPage();
    await signUpAndIn(consumer.page, 'grace@example.com');
    await consumer.page.click('button[data-tier="Pro"]');
    await consumer.page.locator('#message', { hasText: 'Requested: an admin will approve it.' }).waitFor();
    await consumer.page.locator('#subscription-line', { hasText: 'pending' }).waitFor();

    const admin = await newPage();
    await signUpAndIn(admin.page, 'boss@example.com', true);
    await admin.page.locator('#admin').waitFor({ state: 'visible' });
    const row = admin.page.locator('#consumers tbody tr', { hasText: 'grace@example.com' });
    await row.locator('button[data-action="approve"]').click();
    await admin.page.locator('#consumers tbody tr', { hasText: 'grace@example.com' }).locator('td', { hasText: /^active$/ }).waitFor();

    await signIn(consumer.page, 'grace@example.com');
    expect(await consumer.page.textContent('#who')).toBe('grace@example.com');
    await consumer.page.locator('#subscription-line', { hasText: 'active' }).waitFor();
    await consumer.page.click('#reveal');
    await consumer.page.locator('#key-box').waitFor({ state: 'visible' });
    expect(await callApi(p, (await consumer.page.textContent('#key-value'))!)).toBe(200);
    expect(errors).toEqual([]);
    await consumer.context.close();
    await admin.context.close();
  });

  test('hostile names stay text: markup, quotes, non-ASCII and a very long address', async () => {
    const hostile = `<img/src=x/onerror=window.__pwned=1>"'ü${'a'.repeat(180)}@example.com`;
    const { context, page } = await newPage();
    await signUpAndIn(page, hostile);
    expect(await page.textContent('#who')).toBe(hostile);
    expect(await page.locator('#who img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await context.close();
  });
});
