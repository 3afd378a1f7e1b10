import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

/** Debian's Chromium (.ci/run installs it); never a browser that a tool downloads. */
export const CHROMIUM_PATH = process.env.LEDGER_CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or undefined when they can. Under CI=true a missing
 * Chromium is a failure, not a skip.
 */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const why = `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set LEDGER_CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${why}`);
  return why;
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and CSP violations the page reported. */
  readonly problems: string[];
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile of its own, nothing shared with any other run. */
export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'ledger-console-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Screenshots for docs/ are taken only when asked (LEDGER_SCREENSHOTS=1), so a CI run never
 * rewrites committed files.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.LEDGER_SCREENSHOTS !== '1') return;
  const dir = path.resolve(__dirname, '../../docs/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}
