/**
 * The local dashboard in a real headless Chromium (Debian's chromium, driven by
 * playwright-core), against `keygate local` serving the pet-store example.
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { LocalGateway, startLocalGateway } from '../../../lib/local';
import { REPO_ROOT } from '../../support/run-cli';
import { exampleAppAssembly } from '../../support/example-app';
import { describeInBrowser, launchChromium } from '../../support/chromium';

const SCREENSHOT = path.join(__dirname, '__screenshots__', 'local-dashboard.png');
/** Where the README's copy lives; written when KEYGATE_UPDATE_SCREENSHOT=1. */
const README_SCREENSHOT = path.join(REPO_ROOT, 'docs', 'local-dashboard.png');

describeInBrowser('the local dashboard browser tests')('the local dashboard in headless Chromium', () => {
  let asm: string;
  let gw: LocalGateway;
  let browser: Browser;
  let page: Page;
  let base: string;
  const logLines: string[] = [];
  const now = Date.UTC(2026, 10, 27, 12, 0, 0);

  /** The id and value of the key in the plan named `plan`. */
  const clientOf = (plan: string): { id: string; value: string } => {
    const p = [...gw.model.plans.values()].find((x) => x.name === plan)!;
    const k = gw.model.keys.get([...gw.model.planKeys.get(p.id)!][0])!;
    return { id: k.id, value: k.value };
  };
  const call = async (route: string, key?: string): Promise<number> => {
    const r = await fetch(`${base}${route}`, { headers: key ? { 'x-api-key': key } : {} });
    await r.arrayBuffer();
    return r.status;
  };
  /** Waits until the page shows `text` in the element `selector` (the page polls once a second). */
  const shows = (selector: string, text: string | RegExp): Promise<void> =>
    page.locator(selector, { hasText: text }).first().waitFor({ timeout: 10_000 });

  beforeAll(async () => {
    asm = await exampleAppAssembly();
    // A fixed clock: throttle buckets refill only when the test says so.
    gw = await startLocalGateway({ assemblyDir: asm, port: 0, clock: () => now, log: (l) => logLines.push(l) });
    base = gw.info.apis[0].stages[0].url;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('the printed URL opens the page, drops the token from the address bar and lists the APIs and keys, never a value', async () => {
    const response = await page.goto(gw.info.dashboard);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${gw.info.controlPlane}/_keygate/dashboard`);
    await shows('[data-testid=status]', /^live/);
    const api = gw.info.apis[0];
    await shows(`[data-api-id="${api.id}"]`, api.name);
    await shows(`[data-api-id="${api.id}"] [data-stage="${api.stages[0].name}"]`, api.stages[0].url);
    for (const k of gw.info.keys) {
      await shows(`tr[data-key-id="${k.id}"] [data-field=name]`, k.name);
      await shows(`tr[data-key-id="${k.id}"] [data-field=plan]`, k.usagePlans[0]);
      await shows(`tr[data-key-id="${k.id}"] [data-field=enabled]`, 'yes');
    }
    const html = await page.content();
    const state = await page.evaluate('fetch("/_keygate/dashboard/state.json").then((r) => r.text())') as string;
    expect(JSON.parse(state).keys).toHaveLength(gw.info.keys.length);
    for (const k of gw.model.keys.values()) {
      expect(html).not.toContain(k.value);
      expect(state).not.toContain(k.value);
    }
  });

  test('counters change after a good key, a bad key and a burst past the throttle', async () => {
    const premium = clientOf('Premium');
    const free = clientOf('Free');
    await shows(`tr[data-key-id="${premium.id}"] [data-field=quota-used]`, /^0$/);
    await shows(`tr[data-key-id="${free.id}"] [data-field=tokens]`, /^2$/);

    // A good key: three calls count against its quota and top the requests list.
    for (let i = 0; i < 3; i++) expect(await call('/pets/types', premium.value)).toBe(200);
    await shows(`tr[data-key-id="${premium.id}"] [data-field=quota-used]`, /^3$/);
    await shows(`tr[data-key-id="${premium.id}"] [data-field=quota-remaining]`, /^999,997$/);
    await shows(`[data-testid=top-requests] li[data-key-id="${premium.id}"] [data-field=count]`, /^3$/);

    // A bad key: 403 INVALID_API_KEY, no key id, in the feed and the 403 list.
    expect(await call('/pets/types', 'NotAKeyNotAKeyNotAKey0123456789')).toBe(403);
    await shows('[data-testid=feed] tbody tr:first-child [data-field=reason]', 'INVALID_API_KEY');
    await shows('[data-testid=top-forbidden] li[data-key-id=""]', '(no valid key)');

    // A burst past the Free plan's throttle (burst 2): the third call is throttled, its bucket is empty.
    expect(await call('/pets/types', free.value)).toBe(200);
    expect(await call('/pets/types', free.value)).toBe(200);
    expect(await call('/pets/types', free.value)).toBe(429);
    await shows(`tr[data-key-id="${free.id}"] [data-field=tokens]`, /^0$/);
    await shows(`tr[data-key-id="${free.id}"] [data-field=quota-used]`, /^2$/);
    await shows('[data-testid=feed] tbody tr:first-child [data-field=reason]', 'THROTTLED');
    await shows(`[data-testid=top-throttled] li[data-key-id="${free.id}"] [data-field=count]`, /^1$/);
    await shows('[data-testid=totals]', '7 requests since start');

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    if (process.env.KEYGATE_UPDATE_SCREENSHOT === '1') fs.copyFileSync(SCREENSHOT, README_SCREENSHOT);
  });

  test('a page of another origin cannot read the dashboard: the gateway refuses what Chromium marks as not same-origin', async () => {
    // Another local program: 127.0.0.1 on another port is "same-site" but not same-origin.
    const dashboardState = `${gw.info.controlPlane}/_keygate/dashboard/state.json`;
    const attacker = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<script>fetch(${JSON.stringify(dashboardState)}, { credentials: 'include', mode: 'no-cors' }).finally(() => { document.title = 'sent'; });</script>`);
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    try {
      const other = await page.context().newPage();
      logLines.length = 0;
      await other.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      await other.waitForFunction('document.title === "sent"');
      await other.close();
      expect(logLines).toContainEqual(expect.stringMatching(/dashboard refused GET \/_keygate\/dashboard\/state\.json: keygate local refuses cross-site browser requests \(Sec-Fetch-Site: same-site\)/));
    } finally {
      await new Promise((r) => attacker.close(r));
    }
  });
});
