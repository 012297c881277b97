import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestAgent } from '../packages/server/src/test-support/call-center.js';
import { openPage, type Stack, startStack } from './support.js';

// The dial bar used as a person uses it: the sandbox page the server serves at `/`, clicks and keys on what is on
// screen (roles and labels), and assertions on what the person sees and hears (text, the aria-live region) and
// on the server. Nothing here calls the SDK directly, except the one check of the React-host contract.

let stack: Stack;
let context: BrowserContext | undefined;
/** Screenshots of the main states, for docs/screenshots (copied by hand after looking at them). */
const SHOTS = process.env.DIALBAR_SHOTS_DIR ?? join(tmpdir(), 'openhotline-dialbar-shots');

beforeAll(async () => {
  stack = await startStack();
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterEach(async () => {
  await context?.close();
  context = undefined;
  // Whatever a test left behind: no caller waiting, every agent checked out.
  const calls = await stack.center.admin<{ items?: { connId: string }[] }>('GET', '/v1/admin/instances/demo/calls');
  for (const call of calls.body.items ?? []) {
    await stack.center.admin('POST', `/v1/admin/instances/demo/virtual-calls/${call.connId}/hangup`, {});
  }
  for (const id of ['1001', '1002']) {
    await stack.center.admin('POST', `/v1/admin/instances/demo/agents/${id}/force-checkout`, {});
  }
});

afterAll(async () => {
  await stack?.close();
});

function agent(id: string): TestAgent {
  const found = stack.center.agents[id];
  if (!found) throw new Error(`no agent ${id}`);
  return found;
}

interface Sandbox {
  readonly page: Page;
  readonly bar: Locator;
  /** Waits until the aria-live region has said `text`. */
  said(text: string | RegExp): Promise<void>;
  status(): Locator;
}

/** Opens the sandbox as a new user would: set the options wanted, get the agent's token with the demo client. */
async function openSandbox(
  options: {
    agentId?: string;
    locale?: 'en' | 'zh-CN';
    setup?: (page: Page) => Promise<void>;
    /** false with disableUI: there is no bar to wait for. */
    visible?: boolean;
  } = {},
): Promise<Sandbox> {
  context = await stack.browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } });
  // Well inside the test's own timeout, so a failure names the locator it waited for.
  context.setDefaultTimeout(8000);
  const page = await openPage(context, `${stack.center.server.url}/`);
  await page.getByLabel(/^locale/).selectOption(options.locale ?? 'en');
  await options.setup?.(page);
  if (options.agentId) await page.locator('#token-form').getByLabel('Agent').fill(options.agentId);
  await page.getByRole('button', { name: 'Get token and apply' }).click();
  await page.getByText(/^Token for agent \d+ applied\.$/).waitFor();
  const bar = page.getByRole('region', { name: /^OpenHotline (dial bar|拨号条)$/ });
  if (options.visible !== false) await bar.waitFor();
  return {
    page,
    bar,
    said: (text) => bar.getByTestId('dialbar-live').filter({ hasText: text }).waitFor({ state: 'attached' }),
    status: () => bar.getByTestId('dialbar-status'),
  };
}

async function checkIn(s: Sandbox, name = 'Check in'): Promise<void> {
  await s.bar.getByRole('button', { name, exact: true }).click();
  await s
    .status()
    .filter({ hasText: /Ready|空闲/ })
    .waitFor();
}

/** A virtual customer calls the demo hotline, through the sandbox's own button. */
async function placeVirtualCall(s: Sandbox, from = '13800138000'): Promise<void> {
  await s.page.getByLabel('Customer number').fill(from);
  await s.page.getByRole('button', { name: 'Place a virtual call to 4008001000' }).click();
}

async function shot(locator: Locator | Page, name: string): Promise<void> {
  await locator.screenshot({ path: join(SHOTS, `${name}.png`), animations: 'disabled' });
}

describe('taking a call from the virtual carrier', () => {
  it('checks in, answers, holds and retrieves, hangs up, and counts after-call work down to ready', async () => {
    const s = await openSandbox({
      setup: (page) =>
        page
          .getByLabel('autoChangeOnLineTime (s)')
          .fill('2')
          .then(() => page.keyboard.press('Tab')),
    });
    await s.bar.getByText('Check in to take and place calls').waitFor();
    await checkIn(s);
    await s.said('Status: Ready');
    await shot(s.bar, 'en-ready');

    await placeVirtualCall(s, '13800138000');
    const answer = s.bar.getByRole('button', { name: 'Answer' });
    await answer.waitFor();
    await s.said('Incoming call: 13800138000, 北京 China Mobile');
    expect(await s.bar.getByTestId('dialbar-number').textContent()).toBe('13800138000');
    expect(await s.bar.getByTestId('dialbar-location').textContent()).toBe('Location: 北京 China Mobile');
    await shot(s.bar, 'en-ringing');

    const server = agent('1001');
    const before = server.messages().length;
    await answer.click();
    await s.said('Call connected: 13800138000');
    await server.waitFor('AgentCallInboundEstablish', before);
    expect(await s.status().textContent()).toContain('Inbound call');

    await s.bar.getByRole('button', { name: 'Hold' }).click();
    await s.said('Call on hold');
    await server.waitFor('AgentCallHeld', before);
    await s.bar.getByRole('button', { name: 'Retrieve' }).click();
    await s.said('Call retrieved');

    await s.bar.getByRole('button', { name: 'Mute' }).click();
    await s.said('Muted');
    expect(await s.bar.getByRole('button', { name: 'Mute' }).getAttribute('aria-pressed')).toBe('true');
    await shot(s.bar, 'en-talking');

    await s.bar.getByRole('button', { name: 'Hang up' }).click();
    await s.said('Call ended');
    const countdown = s.bar.getByTestId('dialbar-acw');
    await countdown.filter({ hasText: 'Ready again in 2 s' }).waitFor();
    await shot(s.bar, 'en-acw');
    await s.said('Status: Ready');
    expect(await s.status().textContent()).toContain('Ready');
    // The 2 s came from the form: the server ran after-call work that long (its own clock, not the test's).
    const acw = await server.waitFor('AgentAcw', before);
    const ready = await server.waitFor('AgentReady', before);
    expect(Number(ready.data.eventTime) - Number(acw.data.eventTime)).toBeGreaterThanOrEqual(1900);
  });

  it('hears the customer hang up first, and says so', async () => {
    const s = await openSandbox();
    await checkIn(s);
    await s.page.getByLabel('Customer hangs up after (s)').fill('0.5');
    await placeVirtualCall(s);
    await s.bar.getByRole('button', { name: 'Answer' }).click();
    await s.said('Call ended. The customer hung up');
  });
});

describe('transferring a call', () => {
  /** Agent 1001 on an answered inbound call; agent 1002 checked in after it, ready to take a transfer. */
  async function onCallWithColleagueReady(): Promise<{ s: Sandbox; colleague: TestAgent; before: number }> {
    const s = await openSandbox();
    await checkIn(s);
    await placeVirtualCall(s);
    await s.bar.getByRole('button', { name: 'Answer' }).click();
    await s.said('Call connected');
    // Checked in only now: the longest-idle rule would otherwise have offered it the call.
    const colleague = agent('1002');
    const before = colleague.messages().length;
    await colleague.post('/v1/agent/checkin');
    await colleague.waitFor('AgentReady', before);
    return { s, colleague, before };
  }

  it('hands the call to a colleague picked from the list (blind), who rings; the bar goes to after-call work', async () => {
    const { s, colleague, before } = await onCallWithColleagueReady();
    await s.bar.getByRole('button', { name: 'Transfer', exact: true }).click();
    const panel = s.bar.getByRole('group', { name: 'Transfer or consult' });
    // The server's list: the ready colleague can be picked, the checked-out one is shown but disabled, and the
    // agent itself is not there.
    const liNa = panel.getByRole('radio', { name: /Li Na.*1002 · Ready/ });
    await liNa.waitFor();
    expect(await liNa.isEnabled()).toBe(true);
    expect(
      await panel.getByRole('radio', { name: /Wang Fang.*1003 · (Checked out|Not registered)/ }).isDisabled(),
    ).toBe(true);
    expect(await panel.getByRole('radio', { name: /Zhang Wei/ }).count()).toBe(0);
    expect(await panel.getByRole('radio', { name: /客服 Support.*1 ready · 0 waiting/ }).isEnabled()).toBe(true);
    await shot(s.bar, 'en-transfer');
    // Search narrows the list by name or id.
    await panel.getByLabel('Search colleagues and groups').fill('li na');
    await expect.poll(() => panel.getByRole('radio').count()).toBe(1);
    await liNa.check();
    await panel.getByRole('button', { name: 'Transfer now' }).click();
    await s.said('Call transferred');
    await colleague.waitFor('AgentRinging', before);
    expect(await s.bar.getAttribute('data-phase')).toBe('acw');
  });

  it('consults another agent first, then completes the transfer', async () => {
    const { s, colleague, before } = await onCallWithColleagueReady();
    await s.bar.getByRole('button', { name: 'Transfer', exact: true }).click();
    const panel = s.bar.getByRole('group', { name: 'Transfer or consult' });
    await panel.getByRole('radio', { name: /Li Na/ }).waitFor();
    // From the keyboard: the search field has the focus; ArrowDown enters the list at the first colleague who can
    // take the call, Space picks it, Tab leaves the list for the number field, Tab again reaches the buttons.
    const page = s.page;
    await page.keyboard.type('1002');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space');
    expect(await panel.getByRole('radio', { name: /Li Na/ }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type)).toBe('tel');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Consult');
    await page.keyboard.press('Enter');
    await s.bar.getByText('Calling the third party…').waitFor();
    expect(await s.bar.getByRole('button', { name: 'Cancel consultation' }).isVisible()).toBe(true);

    const ringing = await colleague.waitFor('AgentRinging', before);
    await colleague.post(`/v1/agent/calls/${ringing.data.connId}/answer`, {});
    await s.bar.getByText('Talking with the third party; the customer is waiting').waitFor();
    await shot(s.bar, 'en-consulting');
    await s.bar.getByRole('button', { name: 'Complete transfer' }).click();
    await s.said('Call transferred');
    expect(await s.bar.getAttribute('data-phase')).toBe('acw');
  });
});

describe('the call’s media: quality and audio devices', () => {
  it('shows the line’s quality during a call, lists the fake devices and switches the microphone mid-call', async () => {
    const s = await openSandbox();
    await checkIn(s);
    const server = agent('1001');
    const before = server.messages().length;
    await placeVirtualCall(s);
    await s.bar.getByRole('button', { name: 'Answer' }).click();
    await s.said('Call connected');
    const established = await server.waitFor('AgentCallInboundEstablish', before);

    // The indicator appears with the first readings of the line (onCallQuality, every 500 ms).
    const quality = s.bar.getByTestId('dialbar-quality');
    await quality.waitFor({ timeout: 15_000 });
    const summary = quality.locator('summary');
    expect(await summary.getAttribute('aria-label')).toMatch(/^Call quality: (Good|Fair|Poor), MOS score \d\.\d$/);
    // A LAN line is a good one, both ways.
    await expect.poll(() => quality.getAttribute('data-level'), { timeout: 5000 }).toBe('good');
    expect(await s.bar.getByTestId('dialbar-one-way').count()).toBe(0);
    await summary.click();
    const details = quality.getByRole('definition');
    await expect
      .poll(() => details.allTextContents())
      .toEqual([
        expect.stringMatching(/^\d+ ms$/),
        expect.stringMatching(/^\d+\.\d ms$/),
        expect.stringMatching(/^\d+\.\d %$/),
        expect.stringMatching(/^[1-4]\.\d\d$/),
      ]);
    await shot(s.bar, 'en-talking-quality');
    await summary.click();

    // The picker lists Chromium's fake devices; switching the microphone keeps the call and its audio going.
    await s.bar.getByRole('button', { name: 'Audio devices' }).click();
    const microphone = s.bar.getByLabel('Microphone');
    await microphone.getByRole('option', { name: /Fake Audio Input 2/ }).waitFor({ state: 'attached' });
    const inputs = await microphone.locator('option').allTextContents();
    expect(inputs.length).toBeGreaterThanOrEqual(2);
    await shot(s.bar, 'en-devices');
    await microphone.selectOption({ label: 'Fake Audio Input 2' });
    await expect
      .poll(() => s.page.evaluate(() => localStorage.getItem('openhotline.dialbar.audioInput')), { timeout: 5000 })
      .toBeTruthy();
    expect(await s.bar.getByRole('alert').count()).toBe(0);
    expect(await s.bar.getAttribute('data-phase')).toBe('talking');
    const party = stack.center.server.hotline.media?.partyOf(established.data.connId);
    if (!party) throw new Error('no customer endpoint');
    party.clearHeard();
    await new Promise((resolve) => setTimeout(resolve, 800));
    const heard = party.heard();
    // The fake microphone beeps: after the switch the customer still receives the agent's audio, not silence.
    expect(heard.length).toBeGreaterThan(4000);
    expect(heard.some((sample) => Math.abs(sample) > 1000)).toBe(true);
    expect(await quality.getAttribute('data-level')).toBe('good');

    await s.bar.getByRole('button', { name: 'Hang up' }).click();
    await s.said('Call ended');
    expect(await quality.count()).toBe(0);
  }, 40_000);
});

describe('calling out', () => {
  it('dials a typed number with the caller id chosen from the agent’s number groups', async () => {
    const s = await openSandbox();
    await checkIn(s);
    await s.bar.getByLabel('Number to call').fill('139 1234 5678');
    const callerId = s.bar.getByLabel('Caller ID');
    // The agent's number groups arrive from the server a moment after the bar appears.
    await callerId.getByRole('option', { name: '02160000002' }).waitFor({ state: 'attached' });
    await callerId.selectOption('02160000002');
    await s.bar.getByRole('button', { name: 'Call', exact: true }).click();
    // The virtual callee answers within 50 ms, so "Dialing out" may already be replaced in the live region when it
    // is read: what is checked is where the call ends up.
    await s.said('Call connected: 13912345678');
    expect(await s.bar.getByTestId('dialbar-number').textContent()).toBe('13912345678');
    await s.bar.getByRole('button', { name: 'Hang up' }).click();
    await s.said('Call ended');

    // The record is closed a moment after the call (batched writes): ask until it is.
    let record: { dnis: string; callerIdUsed: string; disposition: string } | undefined;
    for (let i = 0; i < 50 && record?.disposition !== 'answered'; i++) {
      const records = await stack.center.admin<{ items: (typeof record & object)[] }>(
        'GET',
        '/v1/admin/instances/demo/records?agentId=1001&direction=outbound&limit=1',
      );
      record = records.body.items[0];
      if (record?.disposition !== 'answered') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(record).toMatchObject({ dnis: '13912345678', callerIdUsed: '02160000002', disposition: 'answered' });
  });

  it('refuses what is not a number before calling anyone', async () => {
    const s = await openSandbox();
    await checkIn(s);
    await s.bar.getByLabel('Number to call').fill('call me');
    await s.bar.getByRole('button', { name: 'Call', exact: true }).click();
    await s.bar.getByText('Enter a number (digits, + allowed)').waitFor();
    expect(await s.bar.getByLabel('Number to call').getAttribute('aria-invalid')).toBe('true');
    expect(await s.bar.getAttribute('data-phase')).toBe('idle');
  });
});

describe('masking numbers', () => {
  it('masks with needDesensitize and unmasks when it is switched off, live', async () => {
    const s = await openSandbox();
    await checkIn(s);
    await placeVirtualCall(s, '13900001111');
    const number = s.bar.getByTestId('dialbar-number');
    await number.filter({ hasText: '13900001111' }).waitFor();
    await s.page.getByLabel('needDesensitize').check();
    await number.filter({ hasText: '139****1111' }).waitFor();
    await shot(s.bar, 'en-ringing-masked');
    await s.page.getByLabel('needDesensitize').uncheck();
    await number.filter({ hasText: '13900001111' }).waitFor();
  });

  it('shows what the server masked for an agent who may not see numbers, whatever needDesensitize says', async () => {
    const s = await openSandbox({ agentId: '1002' });
    await checkIn(s);
    await placeVirtualCall(s, '13900001111');
    await s.bar.getByTestId('dialbar-number').filter({ hasText: '139****1111' }).waitFor();
    await s.said('Incoming call: 139****1111');
  });
});

describe('the two locales', () => {
  it('speaks zh-CN, and switches to en and back live', async () => {
    const s = await openSandbox({ locale: 'zh-CN' });
    expect(await s.bar.getAttribute('lang')).toBe('zh-CN');
    await checkIn(s, '签入');
    await s.said('状态:空闲');
    expect(await s.bar.getByRole('button', { name: '签出' }).isVisible()).toBe(true);
    await shot(s.bar, 'zh-ready');

    await placeVirtualCall(s, '13800138000');
    await s.said('来电:13800138000,北京 中国移动');
    expect(await s.bar.getByTestId('dialbar-location').textContent()).toBe('归属地: 北京 中国移动');
    await shot(s.bar, 'zh-ringing');
    await s.bar.getByRole('button', { name: '接听' }).click();
    await s.said('通话已接通:13800138000');
    await shot(s.bar, 'zh-talking');

    await s.page.getByLabel(/^locale/).selectOption('en');
    await s.bar.getByRole('button', { name: 'Hang up' }).waitFor();
    expect(await s.bar.getAttribute('lang')).toBe('en');
    expect(await s.bar.getByTestId('dialbar-location').textContent()).toBe('Location: 北京 China Mobile');
    await s.page.getByLabel(/^locale/).selectOption('zh-CN');
    await s.bar.getByRole('button', { name: '挂断' }).click();
    await s.said('通话已结束');
    await shot(s.bar, 'zh-acw');
  });

  it('offers the status switch with the instance’s break reasons only when canChangeStatusByHand is on', async () => {
    const s = await openSandbox();
    await checkIn(s);
    expect(await s.bar.getByLabel('Change status').count()).toBe(0);
    await s.page.getByLabel('canChangeStatusByHand').check();
    const select = s.bar.getByLabel('Change status');
    await select.getByRole('option', { name: 'Break: Meal' }).waitFor({ state: 'attached' });
    await select.selectOption('break:meal');
    await s.status().filter({ hasText: 'Break: Meal' }).waitFor();
    await shot(s.bar, 'en-break');
    await select.selectOption('ready');
    await s.said('Status: Ready');
  });
});

describe('keyboard only', () => {
  it('checks in, calls out and hangs up with Tab, Enter and the shortcuts; answers with Alt+Shift+A', async () => {
    const s = await openSandbox();
    const { page, bar } = s;
    // A screen-reader user jumps to the region; from there, keys only.
    await bar.getByRole('button', { name: 'Move the dial bar (arrow keys)' }).focus();
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Check in');
    await page.keyboard.press('Enter');
    await s.said('Status: Ready');

    // grip → Check out → number
    await bar.getByRole('button', { name: 'Move the dial bar (arrow keys)' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.type('13800138000');
    await page.keyboard.press('Enter');
    await s.said('Call connected: 13800138000');
    await page.keyboard.press('Alt+Shift+KeyM');
    await s.said('Muted');
    await page.keyboard.press('Alt+Shift+KeyH');
    await s.said('Call ended');
    await s.said('Status: Ready');

    await placeVirtualCall(s);
    await bar.getByRole('button', { name: 'Answer' }).waitFor();
    await page.keyboard.press('Alt+Shift+KeyA');
    await s.said('Call connected: 13800138000');

    // The transfer panel opens from the keyboard, takes the focus, and Escape gives it back.
    const transfer = bar.getByRole('button', { name: 'Transfer', exact: true });
    await transfer.focus();
    await page.keyboard.press('Enter');
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return el instanceof HTMLInputElement ? el.type : el?.textContent;
      });
    await expect.poll(focused).toBe('search');
    await page.keyboard.press('Escape');
    await expect.poll(() => bar.getByRole('group', { name: 'Transfer or consult' }).count()).toBe(0);
    await expect.poll(focused).toBe('Transfer');
    await page.keyboard.press('Alt+Shift+KeyH');
    await s.said('Call ended');
  });

  it('moves the floating bar with the arrow keys (z-index 9999) and puts it back there after a reload', async () => {
    const s = await openSandbox();
    const grip = s.bar.getByRole('button', { name: 'Move the dial bar (arrow keys)' });
    expect(await s.bar.evaluate((el) => getComputedStyle(el).zIndex)).toBe('9999');
    const start = await s.bar.boundingBox();
    await grip.focus();
    await s.page.keyboard.press('Shift+ArrowLeft');
    await s.page.keyboard.press('ArrowUp');
    const moved = await s.bar.boundingBox();
    expect(Math.round((start?.x ?? 0) - (moved?.x ?? 0))).toBe(50);
    expect(Math.round((start?.y ?? 0) - (moved?.y ?? 0))).toBe(10);

    await s.page.reload();
    const bar = s.page.getByRole('region', { name: 'OpenHotline dial bar' });
    await bar.waitFor();
    const after = await bar.boundingBox();
    expect([Math.round(after?.x ?? 0), Math.round(after?.y ?? 0)]).toEqual([
      Math.round(moved?.x ?? 0),
      Math.round(moved?.y ?? 0),
    ]);
  });
});

describe('without the floating bar or any UI', () => {
  it('renders in place when isPlugin is off, with nothing to drag', async () => {
    const s = await openSandbox({ setup: (page) => page.getByLabel('isPlugin').uncheck() });
    expect(await s.bar.evaluate((el) => getComputedStyle(el).position)).toBe('relative');
    expect(await s.bar.getByRole('button', { name: 'Move the dial bar (arrow keys)' }).count()).toBe(0);
    await checkIn(s);
    await shot(s.page, 'en-sandbox');
  });

  it('shows nothing with disableUI, while the APIs still check in, answer and hang up', async () => {
    const s = await openSandbox({ setup: (page) => page.getByLabel('disableUI').check(), visible: false });
    expect(await s.bar.count()).toBe(0);
    const log = s.page.locator('#log');
    const apis = s.page.locator('#guide-apis');
    await apis.getByRole('button', { name: 'agentCheckin', exact: true }).click();
    await log.locator('[data-event=onAgentCheckedin]').waitFor();
    await placeVirtualCall(s);
    await log.locator('[data-event=onCallComing]').waitFor();
    await apis.getByRole('button', { name: 'callAnswer', exact: true }).click();
    await log.locator('[data-event=onCallEstablishForCallin]').waitFor();
    expect(await s.bar.count()).toBe(0);
    await apis.getByRole('button', { name: 'callHangup', exact: true }).click();
    await log.locator('[data-event=onCallDidHangup]').waitFor();

    // Switched back on, the bar shows the state the APIs left.
    await s.page.getByLabel('disableUI').uncheck();
    await s.bar.waitFor();
    await s
      .status()
      .filter({ hasText: /After-call work|Ready/ })
      .waitFor();
  });
});

describe('a React host rendering <SoftPhoneUI /> itself', () => {
  it('gets an UnsupportedComponent error that points at APIs.renderComponent', async () => {
    const s = await openSandbox();
    const thrown = await s.page.evaluate(() => {
      const sdk = (
        window as unknown as {
          SoftPhoneSDK: { SoftPhone: { getInstance(): { getUIComponent(): (p: object) => unknown } } };
        }
      ).SoftPhoneSDK;
      const SoftPhoneUI = sdk.SoftPhone.getInstance().getUIComponent();
      try {
        SoftPhoneUI({}); // what React does with <SoftPhoneUI />
        return undefined;
      } catch (error) {
        const e = error as { name: string; code: string; message: string };
        return { name: e.name, code: e.code, message: e.message };
      }
    });
    expect(thrown).toMatchObject({ name: 'SoftPhoneError', code: 'UnsupportedComponent' });
    expect(thrown?.message).toContain('APIs.renderComponent');
  });
});

describe('the pages the server serves', () => {
  it('serves the sandbox at / and its files under /sandbox/, and nothing else from that folder', async () => {
    const base = stack.center.server.url;
    const home = await fetch(`${base}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await home.text()).toContain('<script src="/sdk/sdk.js"></script>');
    const script = await fetch(`${base}/sandbox/sandbox.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'application/javascript; charset=utf-8']);
    const etag = script.headers.get('etag') ?? '';
    // Every body is read: a response left unread keeps its connection busy, and the server's close would wait for it.
    await script.text();
    expect((await fetch(`${base}/sandbox/sandbox.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    for (const path of [
      '/sandbox/..%2Fpackage.json',
      '/sandbox/.hidden.js',
      '/sandbox/README.md',
      '/sandbox/nope.js',
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { code: string }).code, path).toBe('RouteNotFound');
    }
    const headless = await fetch(`${base}/sdk/sdk.headless.js`);
    expect(headless.status).toBe(200);
    await headless.arrayBuffer();
  });
});
