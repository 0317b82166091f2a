import type { AppRouter } from '@tether/protocol';
import {
  killAllServers,
  nginxBinary,
  respawn,
  type ServerProcess,
  spawnServer,
  startNginxProxy,
} from '@tether/testing';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { Browser, Page } from 'playwright-core';
import superjson from 'superjson';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from './helpers/browser';
import { createRoom, roomIdOf, send, shownMessages, signUp, uniqueName } from './helpers/chat-page';
import { chromiumAvailable } from './helpers/env';

const hasBrowser = chromiumAvailable();
const nginx = await nginxBinary();
if (hasBrowser && !nginx) console.warn('[skip] the web app behind nginx: nginx is not installed (.ci/run installs it)');
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  if (!hasBrowser) return;
  server = await spawnServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await killAllServers();
});

/** What any page said in its console about the Content-Security-Policy: the app must run under it untouched. */
const cspViolations: string[] = [];
afterEach(() => {
  expect(cspViolations.splice(0)).toEqual([]);
});

/** A page of its own browser context: separate storage, as a separate person. */
async function person(): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
  return page;
}

/** The store's account of a room, read over HTTP with the page's own session. */
async function storedHistory(page: Page, roomId: string): Promise<string[]> {
  const raw = await page.evaluate(() => localStorage.getItem('tether.session'));
  const session = superjson.parse<{ accessToken: string }>(raw ?? 'null');
  const api = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server.url}/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${session.accessToken}` },
      }),
    ],
  });
  const page1 = await api.messages.list.query({ roomId, limit: 100 });
  return page1.messages.map((m) => m.body).reverse();
}

describe.skipIf(!hasBrowser)('chat in a real browser', () => {
  it('two people chat in a private room that a third cannot see', async () => {
    const alice = await person();
    const bob = await person();
    const carol = await person();
    const [aliceName, bobName, carolName] = [uniqueName('alice'), uniqueName('bob'), uniqueName('carol')];
    await bob.goto(server.url);
    await bob.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(bob, 'sign-in');
    await signUp(bob, server.url, bobName);
    await signUp(carol, server.url, carolName);
    await signUp(alice, server.url, aliceName);
    await screenshot(carol, 'empty-room-list');

    const roomName = uniqueName('secret');
    await createRoom(alice, roomName, 'private');
    await alice.getByLabel('Invite', { exact: true }).fill(bobName);
    await alice.getByRole('button', { name: 'Invite', exact: true }).click();
    await alice.getByText(`Invited ${bobName}`).waitFor();

    // The invitation shows in Bob's room list on its next refresh.
    await bob.getByRole('button', { name: `🔒 ${roomName}` }).click();
    await send(alice, 'hello bob');
    await bob.getByRole('log').getByText('hello bob').waitFor();
    await send(bob, 'hi alice\nsecond line');
    await alice.getByRole('log').getByText('second line').waitFor();
    await alice.getByText(`${bobName} is typing…`).waitFor({ state: 'detached' });
    await screenshot(alice, 'private-room-alice');
    await screenshot(bob, 'private-room-bob');
    expect(await shownMessages(alice)).toEqual(['hello bob', 'hi alice\nsecond line']);
    expect(await shownMessages(bob)).toEqual(await shownMessages(alice));

    // Carol sees neither the room in her list nor its messages through a direct link.
    const roomId = await roomIdOf(alice);
    await carol.goto(`${server.url}/#/rooms/${roomId}`);
    await carol.getByText('Pick a room, or create one.').waitFor();
    expect(await carol.getByRole('button', { name: `🔒 ${roomName}` }).count()).toBe(0);
    expect(await carol.getByText('hello bob').count()).toBe(0);
  });

  it('survives a server crash: banner, a message written offline delivered once, identical histories', async () => {
    const alice = await person();
    const bob = await person();
    const [aliceName, bobName] = [uniqueName('alice'), uniqueName('bob')];
    await signUp(alice, server.url, aliceName);
    await signUp(bob, server.url, bobName);
    const elsewhere = uniqueName('elsewhere');
    await createRoom(alice, elsewhere, 'public');
    const roomName = uniqueName('ops');
    await createRoom(alice, roomName, 'public');
    const roomId = await roomIdOf(alice);
    await bob.goto(`${server.url}/#/rooms/${roomId}`);
    await bob.getByRole('button', { name: 'Join' }).click();
    await send(alice, 'before the crash');
    await bob.getByRole('log').getByText('before the crash').waitFor();

    const crashed = server;
    crashed.signal('SIGKILL');
    await crashed.exited;
    await alice
      .getByRole('status')
      .getByText(/Reconnecting/)
      .waitFor();
    await bob
      .getByRole('status')
      .getByText(/Reconnecting/)
      .waitFor();
    await send(alice, 'written during the outage');
    await alice.getByText('Sending…').waitFor();
    await screenshot(alice, 'outage-banner');
    // Looking at another room meanwhile must not lose the pending message.
    await alice.getByRole('button', { name: `# ${elsewhere}` }).click();
    await alice.getByRole('heading', { name: elsewhere }).waitFor();

    server = await respawn(crashed);
    await alice.getByRole('button', { name: `# ${roomName}` }).click();
    await alice.getByRole('log').getByText('written during the outage').waitFor();
    await alice.getByText('Sending…').waitFor({ state: 'detached' });
    await bob.getByRole('log').getByText('written during the outage').waitFor();
    await alice
      .getByRole('status')
      .getByText(/Reconnecting/)
      .waitFor({ state: 'detached' });

    const stored = await storedHistory(alice, roomId);
    expect(stored).toEqual(['before the crash', 'written during the outage']);
    expect(await shownMessages(alice)).toEqual(stored);
    expect(await shownMessages(bob)).toEqual(stored);
  });

  it.skipIf(!nginx)(
    'works behind a proxy that cuts WebSocket: over HTTP and SSE, across a server restart, and back on WebSocket when allowed',
    async () => {
      const proxy = await startNginxProxy(server.port, 'cut');
      try {
        const alice = await person();
        const bob = await person();
        const [aliceName, bobName] = [uniqueName('alice'), uniqueName('bob')];
        await signUp(alice, proxy.url, aliceName);
        await signUp(bob, server.url, bobName);
        const banner = (page: Page, transport: string) =>
          page.locator(`.banner[data-state="connected"][data-transport="${transport}"]`);
        await banner(alice, 'http').waitFor({ state: 'attached' });
        await alice.getByRole('status').getByText('Connected over HTTP').waitFor();
        const roomName = uniqueName('proxied');
        await createRoom(alice, roomName, 'public');
        const roomId = await roomIdOf(alice);
        await bob.goto(`${server.url}/#/rooms/${roomId}`);
        await bob.getByRole('button', { name: 'Join' }).click();
        await send(bob, 'from bob, direct');
        await alice.getByRole('log').getByText('from bob, direct').waitFor();
        await send(alice, 'from alice, over http');
        await bob.getByRole('log').getByText('from alice, over http').waitFor();
        await screenshot(alice, 'connected-over-http');

        const crashed = server;
        crashed.signal('SIGKILL');
        await crashed.exited;
        server = await respawn(crashed);
        await send(bob, 'after the restart');
        await alice.getByRole('log').getByText('after the restart').waitFor();

        await proxy.setMode('pass');
        // The background WebSocket attempts back off up to 30 s; coming back online tries at once, as a user's would.
        await alice.evaluate(() => window.dispatchEvent(new Event('online')));
        await banner(alice, 'websocket').waitFor({ state: 'attached' });
        await send(bob, 'back on websocket');
        await alice.getByRole('log').getByText('back on websocket').waitFor();

        const stored = await storedHistory(alice, roomId);
        expect(stored).toEqual(['from bob, direct', 'from alice, over http', 'after the restart', 'back on websocket']);
        expect(await shownMessages(alice)).toEqual(stored);
        expect(await shownMessages(bob)).toEqual(stored);
      } finally {
        await proxy.stop();
      }
    },
    90_000,
  );

  it('runs under a strict Content-Security-Policy that refuses an injected inline script', async () => {
    const alice = await person();
    const response = await alice.goto(server.url);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await alice.getByRole('heading', { name: 'Sign in' }).waitFor();
    const ran = await alice.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.head.append(script);
      return (window as { injected?: boolean }).injected === true;
    });
    expect(ran).toBe(false);
    // The console reports it: so the check after every test would see a violation of the app's own.
    await expect.poll(() => cspViolations.length).toBe(1);
    cspViolations.splice(0);
  });

  it('keeps the user signed in and the room open across a reload', async () => {
    const alice = await person();
    const aliceName = uniqueName('alice');
    await signUp(alice, server.url, aliceName);
    await createRoom(alice, uniqueName('reload'), 'public');
    await send(alice, 'still here after reload');
    await alice.getByRole('log').getByText('still here after reload').waitFor();

    const started = performance.now();
    await alice.reload();
    await alice.getByRole('log').getByText('still here after reload').waitFor();
    const firstMessageMs = performance.now() - started;
    expect(await alice.getByText(`Signed in as ${aliceName}`).count()).toBe(1);
    console.info(
      `[figures] page load to first message rendered: ${Math.round(firstMessageMs)} ms (reload, local server)`,
    );

    await alice.setViewportSize({ width: 375, height: 740 });
    await screenshot(alice, 'phone-width');
  });
});
