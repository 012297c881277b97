import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallCenter, startCallCenter } from '../packages/server/src/test-support/call-center.js';
import { launchBrowser, openPage } from './support.js';

// The wallboard used as a supervisor uses it: open /wallboard, type the key into the form, then watch the screen
// change as agents and callers do things on the server, without ever reloading.

let center: CallCenter;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Screenshots for docs/screenshots (copied by hand after looking at them). */
const SHOTS = process.env.WALLBOARD_SHOTS_DIR ?? join(tmpdir(), 'openhotline-wallboard-shots');

beforeAll(async () => {
  // Channels open, nobody checked in.
  [center, browser] = await Promise.all([startCallCenter({ checkIn: [] }), launchBrowser()]);
  mkdirSync(SHOTS, { recursive: true });
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1600, height: 900 } });
  context.setDefaultTimeout(8000);
  page = await openPage(context, `${center.server.url}/wallboard`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await center?.close();
});

const agentTile = (id: string) => page.getByTestId(`agent-${id}`);
const supportWaiting = () => page.getByTestId('queue-support').getByTestId('queue-waiting');

describe('the wallboard page', () => {
  it('asks for the key, refuses a wrong one, and keeps a right one in the tab only', async () => {
    await page.getByLabel('Admin key or backend token').fill('not-the-key');
    await page.getByRole('button', { name: 'Show wallboard' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('The key was refused. Enter it again.');

    await page.getByLabel('Admin key or backend token').fill(center.server.adminKey);
    await page.getByRole('button', { name: 'Show wallboard' }).click();
    await agentTile('1001').waitFor();
    expect(await agentTile('1001').textContent()).toContain('张伟 Zhang Wei');
    expect(await agentTile('1001').getByTestId('agent-status').textContent()).toBe('Not registered');
    expect(page.url()).not.toContain(center.server.adminKey);
    const stored = await page.evaluate(() => sessionStorage.getItem('openhotline.wallboard'));
    expect(stored).toContain(center.server.adminKey);
    expect(await page.evaluate(() => localStorage.getItem('openhotline.wallboard'))).toBeNull();
  });

  it('changes an agent’s tile live when the agent checks in', async () => {
    const wang = center.agents['1003'];
    if (!wang) throw new Error('no agent 1003');
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    await wang.post('/v1/agent/checkin');
    await expect.poll(() => agentTile('1003').getByTestId('agent-status').textContent()).toBe('Ready');
    await expect.poll(() => page.getByTestId('count-AgentReady').textContent()).toContain('1');
    // The same document all along: no reload happened.
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(loads);
  });

  it('shows a waiting caller in the queue, masked, with the wait ticking', async () => {
    // 1003 serves sales only: a call to the support hotline waits.
    const connId = await center.placeCall('13812345678');
    await expect.poll(() => supportWaiting().textContent()).toBe('1');
    const row = page.getByTestId(`call-${connId}`);
    await expect.poll(() => row.textContent()).toContain('138****5678');
    expect(await page.content()).not.toContain('13812345678');
    const before = await page.locator('#kpi-longest').textContent();
    await expect.poll(() => page.locator('#kpi-longest').textContent(), { timeout: 3000 }).not.toBe(before);
    await page.screenshot({ path: join(SHOTS, 'wallboard-en.png') });
  });

  it('switches to Chinese and back', async () => {
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '坐席' }).waitFor();
    expect(await agentTile('1003').getByTestId('agent-status').textContent()).toBe('空闲');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await supportWaiting().textContent()).toBe('1');
    await page.screenshot({ path: join(SHOTS, 'wallboard-zh-CN.png') });
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
  });

  it('counts the caller who gives up, and empties the queue', async () => {
    const calls = await center.admin<{ items: { connId: string }[] }>('GET', '/v1/admin/instances/demo/calls');
    for (const call of calls.body.items) await center.callerHangsUp(call.connId);
    await expect.poll(() => supportWaiting().textContent()).toBe('0');
    await expect.poll(() => page.locator('#kpi-abandoned').textContent()).toBe('1');
    await expect.poll(() => page.locator('#kpi-offered').textContent()).toBe('1');
  });

  it('comes back by itself after the connection drops, and forgets the key on sign-out', async () => {
    // The server drops every wallboard socket (as a restart would); the page reconnects without being asked.
    // (The agents' channels drop too; their HTTP actions still work.)
    for (const client of center.server.app.websocketServer.clients) client.terminate();
    const state = () => page.locator('#connection').getAttribute('data-state');
    await expect.poll(state).toBe('retrying');
    await expect.poll(state, { timeout: 10_000 }).toBe('live');
    const wang = center.agents['1003'];
    await wang?.post('/v1/agent/break', { reasonCode: 'meal' });
    await expect.poll(() => agentTile('1003').getByTestId('agent-status').textContent()).toBe('On break · Meal');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key or backend token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('openhotline.wallboard'))).toBeNull();
  });
});
