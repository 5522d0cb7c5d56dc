import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's Chromium (package chromium), headless, driven by playwright-core: Playwright's own browser download cannot
 * work here. Without the background-networking flags Chromium keeps dialling out of this closed network.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['BERTH_CHROMIUM'] ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A tab of its own (its own sessionStorage) that records every console error or warning and page error. */
export interface Tab {
  context: BrowserContext;
  page: Page;
  /** What the browser console said that a clean page never says. */
  problems: string[];
  /** Full page loads since the tab opened: a live page has exactly one. */
  loads: () => number;
}

export async function openTab(browser: Browser, baseURL: string): Promise<Tab> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  let loads = 0;
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  // Which call a console's "Failed to load resource" was: the API's refusals, by method and path.
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push(`answer: ${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
    }
  });
  page.on('load', () => (loads += 1));
  return { context, page, problems, loads: () => loads };
}

/** axe-core's serious and critical violations on the page as it is now, one line each. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Logs in through the console's form; resolves once the masthead names the user. */
export async function logIn(page: Page, user: string, password: string, project: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Project').fill(project);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page
    .getByTestId('who')
    .filter({ hasText: `${user} in ${project}` })
    .waitFor();
}
