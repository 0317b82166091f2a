import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from './helpers/browser';
import { chromiumAvailable } from './helpers/env';
import { type RunningServer, startServer, stopAllServers } from './helpers/server-process';

const hasBrowser = chromiumAvailable();
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!hasBrowser) return;
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stopAllServers();
});

describe.skipIf(!hasBrowser)('smoke', () => {
  it('signs up, creates a room and sends a message', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Username').fill(`smoke${randomBytes(3).toString('hex')}`);
    await page.getByLabel('Password').fill('a long password');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('New room').fill('general');
    await page.getByRole('button', { name: 'Create' }).click();
    const composer = page.getByRole('textbox', { name: 'Message', exact: true });
    await composer.fill('hello world');
    await composer.press('Enter');
    await page.getByRole('log').getByText('hello world').waitFor();
    expect(await page.getByRole('log').getByText('hello world').count()).toBe(1);
    await screenshot(page, 'smoke');
  });
});
