import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';

/** What a person does in the chat, as page actions. */
export const uniqueName = (prefix: string) => `${prefix}${randomBytes(3).toString('hex')}`;

export async function signUp(page: Page, url: string, username: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('a long password');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByText(`Signed in as ${username}`).waitFor();
}

export async function createRoom(page: Page, name: string, visibility: 'public' | 'private'): Promise<void> {
  await page.getByLabel('New room').fill(name);
  if (visibility === 'private') await page.getByLabel('Private').check();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { name }).waitFor();
}

export function composer(page: Page) {
  return page.getByRole('textbox', { name: 'Message', exact: true });
}

export async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** The bodies shown in the conversation, oldest first, pending sends excluded. */
export async function shownMessages(page: Page): Promise<string[]> {
  return page.locator('.message-log > li.message:not(.pending) .body').allInnerTexts();
}

export async function roomIdOf(page: Page): Promise<string> {
  return new URL(page.url()).hash.replace('#/rooms/', '');
}
