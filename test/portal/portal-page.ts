/** What a consumer does on the portal's page in the browser tests (playwright-core). */
import { Page } from 'playwright-core';
import { codeFor, PASSWORD, PortalApp } from './portal-app';

/** Signs up on the page and confirms with the code the local Cognito printed. */
export async function signUpAndConfirm(page: Page, p: PortalApp, email: string): Promise<void> {
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('#sign-up');
  await page.locator('#confirm-box').waitFor({ state: 'visible' });
  await page.fill('#code', codeFor(p.logs, email));
  await page.click('#confirm');
  await page.locator('#message', { hasText: 'Confirmed' }).waitFor();
}
