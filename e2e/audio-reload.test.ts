import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentToken } from '../packages/server/src/test-support/api.js';
import { type CallCenter, S, startCallCenter } from '../packages/server/src/test-support/call-center.js';
import {
  CrmServer,
  crmPage,
  guideAudioAgent,
  launchBrowserSaying,
  openPage,
  pageHears,
  pcmHears,
  run,
  sleep,
  writeToneWav,
} from './support.js';

// The product promise "calls survive a page reload": agent 1001 talks with a virtual customer from a CRM page,
// the page reloads mid-call and runs the guide's code again (same token, check-in on load). The agent is still
// checked in (the channel grace period), the SDK opens a new peer connection — the server recognises its DTLS
// fingerprint and keeps the line's bridge — and the call goes on, audio both ways, hang-up from the new page.

const AGENT_HZ = 440;
const CUSTOMER_HZ = 1000;

let center: CallCenter;
let crm: CrmServer;
let browser: Browser;
let dir: string;
let context: BrowserContext | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openhotline-reload-'));
  const microphone = await writeToneWav(join(dir, 'agent-440.wav'), AGENT_HZ);
  // No announcedAddress: Chromium offers no loopback candidates, so the server advertises its interface addresses.
  center = await startCallCenter({ checkIn: [], config: { media: { enabled: true } } });
  crm = await CrmServer.start();
  browser = await launchBrowserSaying(microphone);
}, 60_000);

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
  await crm?.close();
  await center?.close();
  await rm(dir, { recursive: true, force: true });
});

const agent1001 = () => {
  const agent = center.agents['1001'];
  if (!agent) throw new Error('no agent 1001');
  return agent;
};
const sdk = (page: Page, expression: string) => run(page, `window.SoftPhoneSDK.SoftPhone.getInstance().${expression}`);
const errorCodes = (page: Page) =>
  page.evaluate(() => (window as unknown as { __errors: { code: string }[] }).__errors.map((e) => e.code));

/** The call's virtual customer once the call's audio has settled, with what it heard until then cleared. */
async function settledCustomer(connId: string) {
  const party = center.server.hotline.media?.partyOf(connId);
  if (!party) throw new Error('no customer endpoint');
  await sleep(500);
  party.clearHeard();
  return party;
}

/** A CRM page running the guide's audio agent code for 1001 (check-in on load), in a fresh browser context. */
async function openAgentPage(path: string, options: { answerOnRing?: boolean } = {}): Promise<Page> {
  const token = await agentToken(center.server, '1001');
  const apiHost = new URL(center.server.url).host;
  context = await browser.newContext();
  return openPage(
    context,
    crm.page(
      path,
      crmPage(
        { sdkUrl: `${center.server.url}/sdk/sdk.js` },
        guideAudioAgent({ token, apiHost, checkInOnLoad: true, ...options }),
      ),
    ),
  );
}

describe('a page reload mid-call', () => {
  it('comes back in the call: status and connId restored, audio both ways on a new peer connection, hang-up works', async () => {
    const agent = agent1001();
    const before = agent.messages().length;
    const page = await openAgentPage('/reload');
    await agent.waitFor('AgentJoinChannel', before, 15_000);

    const beforeCall = agent.messages().length;
    const connId = await center.placeCall('13900002222');
    await agent.waitFor('AgentCallInboundEstablish', beforeCall, 10_000);
    const party = await settledCustomer(connId);
    expect((await pageHears(page, CUSTOMER_HZ)).audibleShare, 'the agent hears the customer').toBeGreaterThan(0.5);
    expect(pcmHears(party.heard(), AGENT_HZ).audibleShare, 'the customer hears the agent').toBeGreaterThan(0.5);

    // The page is the agent's only channel from here: the reload really leaves the agent without one for a moment.
    agent.channel.close();
    const reloadedAt = Date.now();
    await page.reload();

    // The SDK knows it is in this call: the status of a talking agent, and the call the call APIs act on.
    await expect.poll(() => run(page, 'APIs.getAgentBarStatus()'), { timeout: 5000 }).toBe(S.AgentCallInboundEstablish);
    await expect.poll(() => sdk(page, 'getCurrentCall()?.connId'), { timeout: 5000 }).toBe(connId);

    // Audio again, both ways, on the reloaded page's own (new) peer connection.
    await expect
      .poll(
        async () => {
          party.clearHeard();
          await sleep(300);
          return pcmHears(party.heard(), AGENT_HZ).audibleShare;
        },
        { timeout: 8000, interval: 100 },
      )
      .toBeGreaterThan(0.5);
    const restoredMs = Date.now() - reloadedAt;
    console.info(`[audio-reload] customer hears the agent again ${restoredMs} ms after the reload began`);
    await sleep(300);
    party.clearHeard();
    expect(
      (await pageHears(page, CUSTOMER_HZ)).audibleShare,
      'the agent hears the customer after the reload',
    ).toBeGreaterThan(0.5);
    expect(
      pcmHears(party.heard(), AGENT_HZ).audibleShare,
      'the customer hears the agent after the reload',
    ).toBeGreaterThan(0.5);
    expect(await run(page, 'window.__peerConnections.length')).toBe(1);
    expect(await run(page, 'window.__peerConnections[0].connectionState')).toBe('connected');

    // Hang up from the reloaded page, the guide's way with no ids: the SDK's current call.
    expect(await run(page, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    const calls = await agent.get<{ items: unknown[] }>('/v1/agent/calls');
    expect(calls.body.items).toEqual([]);
    await expect.poll(() => run(page, 'APIs.getAgentBarStatus()')).toBe(S.AgentReady);
    expect(await errorCodes(page)).toEqual([]);

    expect(await run(page, 'APIs.agentCheckout().then((r) => r.ok)')).toBe(true);
    expect(await run(page, `document.querySelectorAll('audio[data-openhotline-audio]').length`)).toBe(0);
  }, 60_000);
});

describe('a page reload while a call rings', () => {
  it('comes back ringing for the same call, which the reloaded page answers, with audio both ways', async () => {
    // Long enough a ring that the reload, not the ring timeout, is what the test is about.
    await center.admin('PATCH', '/v1/admin/instances/demo', { settings: { ringTimeoutSeconds: 30 } });
    try {
      const page = await openAgentPage('/reload-ringing', { answerOnRing: false });
      const lineUp = () => run(page, 'window.__peerConnections?.[0]?.connectionState');
      await expect.poll(lineUp, { timeout: 15_000 }).toBe('connected');
      const connId = await center.placeCall('13900005555');
      await expect.poll(() => run(page, 'APIs.getAgentBarStatus()'), { timeout: 10_000 }).toBe(S.AgentRinging);

      // The page is the agent's only channel (the first test took the test channel away): the reload leaves the
      // agent offline for a moment, which the ringing offer waits out.
      await page.reload();

      await expect.poll(() => run(page, 'APIs.getAgentBarStatus()'), { timeout: 10_000 }).toBe(S.AgentRinging);
      await expect.poll(() => sdk(page, 'getCurrentCall()?.connId'), { timeout: 5000 }).toBe(connId);
      await expect.poll(lineUp, { timeout: 15_000 }).toBe('connected');
      const answered = await run(
        page,
        `(() => { const c = window.SoftPhoneSDK.SoftPhone.getInstance().getCurrentCall();
          return APIs.callAnswer(c.connId, c.jobId, c.acid, c.aid).then((r) => r.ok); })()`,
      );
      expect(answered).toBe(true);
      await expect
        .poll(() => run(page, 'APIs.getAgentBarStatus()'), { timeout: 5000 })
        .toBe(S.AgentCallInboundEstablish);

      const party = await settledCustomer(connId);
      expect((await pageHears(page, CUSTOMER_HZ)).audibleShare, 'the agent hears the customer').toBeGreaterThan(0.5);
      expect(pcmHears(party.heard(), AGENT_HZ).audibleShare, 'the customer hears the agent').toBeGreaterThan(0.5);

      expect(await run(page, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
      expect(await run(page, 'APIs.agentCheckout().then((r) => r.ok)')).toBe(true);
      expect(await errorCodes(page)).toEqual([]);
    } finally {
      await center.admin('PATCH', '/v1/admin/instances/demo', { settings: { ringTimeoutSeconds: 5 } });
    }
  }, 60_000);
});

describe('the microphone unplugged mid-call', () => {
  it('is reported as MicrophoneUnavailable, and choosing an input brings the agent back to the customer', async () => {
    const page = await openAgentPage('/unplug');
    // Watched from the page: the reload test took the agent's test channel away.
    await expect
      .poll(() => run(page, 'window.__peerConnections?.[0]?.connectionState'), { timeout: 15_000 })
      .toBe('connected');
    const connId = await center.placeCall('13900004444');
    await expect
      .poll(() => run(page, 'APIs.getAgentBarStatus()'), { timeout: 10_000 })
      .toBe(S.AgentCallInboundEstablish);
    const party = await settledCustomer(connId);
    await sleep(600);
    expect(pcmHears(party.heard(), AGENT_HZ).audibleShare, 'the customer hears the agent').toBeGreaterThan(0.5);

    // The device goes away: its track ends (stop() silences it; the event is what the browser fires on unplug).
    await run(
      page,
      `{ const track = window.__peerConnections[0].getSenders()[0].track; track.stop(); track.dispatchEvent(new Event('ended')); }`,
    );
    await expect.poll(() => errorCodes(page)).toEqual(['MicrophoneUnavailable']);
    await sleep(500);
    party.clearHeard();
    await sleep(600);
    expect(pcmHears(party.heard(), AGENT_HZ).overallShare, 'the customer hears nothing of the agent').toBeLessThan(
      0.05,
    );

    // The agent picks an input (here the default again): replaceTrack, no renegotiation, audio back.
    expect(await run(page, `APIs.setAudioInput('').then((r) => r.ok)`)).toBe(true);
    await sleep(500);
    party.clearHeard();
    await sleep(600);
    expect(pcmHears(party.heard(), AGENT_HZ).audibleShare, 'the customer hears the agent again').toBeGreaterThan(0.5);
    expect(await run(page, 'window.__peerConnections.length')).toBe(1);

    expect(await run(page, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    expect(await run(page, 'APIs.agentCheckout().then((r) => r.ok)')).toBe(true);
    expect(await errorCodes(page)).toEqual(['MicrophoneUnavailable']);
  }, 60_000);
});
