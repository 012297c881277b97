import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MUSIC_ON_HOLD_NOTES_HZ } from '../packages/server/src/adapters/media/audio-sources.js';
import type { VirtualParty } from '../packages/server/src/adapters/media/media-engine.js';
import { rms } from '../packages/server/src/adapters/media/tone.js';
import { agentToken } from '../packages/server/src/test-support/api.js';
import {
  type CallCenter,
  S,
  startCallCenter,
  type TestAgent,
} from '../packages/server/src/test-support/call-center.js';
import {
  CrmServer,
  crmPage,
  guideAudioAgent,
  type Hearing,
  launchBrowserSaying,
  openPage,
  pageHears,
  pcmHears,
  writeToneWav,
} from './support.js';

// The product promise "calls survive a page reload", during a consultation: agent 1001 (page A, 440 Hz) answers a
// virtual customer (1000 Hz) and consults agent 1002 (page B, its own Chromium, 700 Hz): A and B talk, the customer
// hears hold music. A's page reloads mid-consultation and runs the guide's code again. The SDK must come back in
// the consultation (same status, same connId), A's new peer connection must be bridged to B again while the
// customer keeps hearing music, and the reloaded page completes the attended transfer: B and the customer talk,
// A hears nothing. Tones as in audio-three-party.test.ts (700 rather than 660: hold music plays E5 = 659.26 Hz).

const CUSTOMER_HZ = 1000;
const A_HZ = 440;
const B_HZ = 700;
/** A tone "is heard" above this share of the signal (see `Hearing`). */
const HEARD = 0.5;
/** A tone "is not heard" below this share of all windows, silent ones counting 0 (see `Hearing`). */
const ABSENT = 0.05;

let center: CallCenter;
let crm: CrmServer;
let browserA: Browser;
let browserB: Browser;
let dir: string;
const contexts: BrowserContext[] = [];
/** Calls a test placed: a failed attempt's call is hung up by its customer, so a retry starts clean. */
const placed: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openhotline-reload-consult-'));
  const [wavA, wavB] = await Promise.all([
    writeToneWav(join(dir, 'agent-a-440.wav'), A_HZ),
    writeToneWav(join(dir, 'agent-b-700.wav'), B_HZ),
  ]);
  // No announcedAddress: Chromium offers no loopback candidates, so the server advertises its interface addresses.
  center = await startCallCenter({ checkIn: [], config: { media: { enabled: true } } });
  crm = await CrmServer.start();
  [browserA, browserB] = await Promise.all([launchBrowserSaying(wavA), launchBrowserSaying(wavB)]);
}, 60_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  for (const connId of placed.splice(0)) {
    if (center.server.hotline.media?.partyOf(connId)) await center.callerHangsUp(connId);
  }
  await Promise.all(['1001', '1002'].map((id) => agent(id).post('/v1/agent/checkout')));
});

afterAll(async () => {
  await Promise.all([browserA?.close(), browserB?.close()]);
  await crm?.close();
  await center?.close();
  await rm(dir, { recursive: true, force: true });
});

const run = <T = unknown>(page: Page, code: string) => page.evaluate(code) as Promise<T>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const status = (page: Page) => run<number>(page, 'APIs.getAgentBarStatus()');
const sdk = (page: Page, expression: string) => run(page, `window.SoftPhoneSDK.SoftPhone.getInstance().${expression}`);
const errors = (page: Page) => run<unknown[]>(page, 'window.__errors');
const lineUp = (page: Page) => run(page, 'window.__peerConnections?.[0]?.connectionState');

function agent(id: string): TestAgent {
  const found = center.agents[id];
  if (!found) throw new Error(`no agent ${id}`);
  return found;
}

/**
 * Agent `id` opens the guide's page in `browser` (check-in on load) and has its media line up. Watched from the
 * page, not from the agent's test channel: 1001's test channel is closed for the reload, and a retry of the test
 * finds it closed already.
 */
async function agentPage(browser: Browser, id: string): Promise<Page> {
  const token = await agentToken(center.server, id);
  const apiHost = new URL(center.server.url).host;
  const context = await browser.newContext();
  contexts.push(context);
  const page = await openPage(
    context,
    crm.page(
      `/reload-consult-${id}`,
      crmPage(
        { sdkUrl: `${center.server.url}/sdk/sdk.js` },
        // Raw microphone as in the three-party test: the tones are compared across parties.
        guideAudioAgent({ token, apiHost, checkInOnLoad: true, rawMicrophone: true }),
      ),
    ),
  );
  await expect.poll(() => lineUp(page), { timeout: 15_000 }).toBe('connected');
  return page;
}

/** Waits until the page no longer hears `hz`: a jitter buffer may play out a second of what came before. */
async function fallsSilentOn(page: Page, hz: number): Promise<void> {
  await expect
    .poll(async () => (await pageHears(page, hz, { ms: 500 })).overallShare, { timeout: 8000, interval: 0 })
    .toBeLessThan(ABSENT);
}

/** What a party heard per tone (Hz), and for the customer `music`: the hold-music notes together. */
type Heard = Record<string, Hearing>;

/** What each party hears, listened to at the same time (the pages over 1.8 s, the customer over the same span). */
async function listen(
  pages: Record<'A' | 'B', Page>,
  customer: VirtualParty,
  label: string,
): Promise<Record<'A' | 'B' | 'customer', Heard>> {
  const tones = [CUSTOMER_HZ, A_HZ, B_HZ];
  // Audio settles before anything is measured: a browser fades out what it last heard over some 400 ms.
  await sleep(1000);
  customer.clearHeard();
  const heardBy = async (page: Page) => {
    const heard: Heard = {};
    for (const hz of tones) heard[hz] = await pageHears(page, hz, { ms: 600 });
    return heard;
  };
  const [a, b] = await Promise.all([heardBy(pages.A), heardBy(pages.B)]);
  const pcm = customer.heard();
  const heard: Heard = { music: pcmHears(pcm, MUSIC_ON_HOLD_NOTES_HZ) };
  for (const hz of tones) heard[hz] = pcmHears(pcm, hz);
  const round = (v: number) => Math.round(v * 100) / 100;
  const summary = (of: Heard) =>
    Object.fromEntries(Object.entries(of).map(([k, h]) => [k, [round(h.audibleShare), round(h.overallShare)]]));
  console.info(
    `[audio-reload-consult] ${label}: shares heard`,
    JSON.stringify({ A: summary(a), B: summary(b), customer: { ...summary(heard), rms: round(rms(pcm)) } }),
  );
  return { A: a, B: b, customer: heard };
}

/** The consultation by ear: A and B talk, the customer hears music and neither agent, nobody hears the customer. */
function expectConsultation(heard: Record<'A' | 'B' | 'customer', Heard>): void {
  expect(heard.A[B_HZ]?.audibleShare, 'A hears B').toBeGreaterThan(HEARD);
  expect(heard.B[A_HZ]?.audibleShare, 'B hears A').toBeGreaterThan(HEARD);
  expect(heard.A[CUSTOMER_HZ]?.overallShare, 'A does not hear the waiting customer').toBeLessThan(ABSENT);
  expect(heard.B[CUSTOMER_HZ]?.overallShare, 'B does not hear the waiting customer').toBeLessThan(ABSENT);
  expect(heard.customer.music?.audibleShare, 'the customer hears hold music').toBeGreaterThan(HEARD);
  expect(heard.customer[A_HZ]?.overallShare, 'the customer does not hear A').toBeLessThan(ABSENT);
  expect(heard.customer[B_HZ]?.overallShare, 'the customer does not hear B').toBeLessThan(ABSENT);
}

describe('a page reload during a consultation', () => {
  it('comes back consulting (status, connId, A and B talk on a new peer connection, music for the customer) and completes the transfer', async () => {
    const pageA = await agentPage(browserA, '1001');
    const connId = await center.placeCall('13900006666');
    placed.push(connId);
    // The guide's answer demo on page A answers it.
    await expect.poll(() => status(pageA), { timeout: 10_000 }).toBe(S.AgentCallInboundEstablish);
    const customer = center.server.hotline.media?.partyOf(connId);
    if (!customer) throw new Error('no customer endpoint');
    const pageB = await agentPage(browserB, '1002');
    const pages = { A: pageA, B: pageB };

    // A consults B, whose page answers with the guide's answer demo.
    expect(await run(pageA, `APIs.callConsult({ type: 'agent', agentId: '1002' }).then((r) => r.ok)`)).toBe(true);
    await expect.poll(() => status(pageA), { timeout: 10_000 }).toBe(S.AgentCallThirdConsult);
    await expect.poll(() => status(pageB), { timeout: 5000 }).toBe(S.AgentCallConsultEstablish);
    expectConsultation(await listen(pages, customer, 'consulting'));
    const statusBefore = await status(pageA);
    expect(await sdk(pageA, 'getCurrentCall()?.connId')).toBe(connId);
    expect(await errors(pageA)).toEqual([]);

    // The page is A's only channel from here: the reload really leaves A without one for a moment.
    agent('1001').channel.close();
    const reloadedAt = Date.now();
    await pageA.reload();

    // The SDK knows it is in this consultation again: the same status, and the call the call APIs act on.
    await expect.poll(() => status(pageA), { timeout: 5000 }).toBe(statusBefore);
    await expect.poll(() => sdk(pageA, 'getCurrentCall()?.connId'), { timeout: 5000 }).toBe(connId);
    // A hears B again on the reloaded page's new <audio> element (so no leftover of the old page's audio): A's new
    // peer connection is bridged to B's line, not to the waiting customer. Both directions are checked just below.
    await expect
      .poll(async () => (await pageHears(pageA, B_HZ, { ms: 300 })).audibleShare, { timeout: 8000, interval: 100 })
      .toBeGreaterThan(HEARD);
    console.info(`[audio-reload-consult] A hears B again ${Date.now() - reloadedAt} ms after the reload began`);
    expectConsultation(await listen(pages, customer, 'after the reload'));
    expect(await run(pageA, 'window.__peerConnections.length')).toBe(1);
    expect(await lineUp(pageA)).toBe('connected');
    expect(await status(pageB), 'B is still in the consultation').toBe(S.AgentCallConsultEstablish);

    // The reloaded page completes the attended transfer, the guide's way without ids: the SDK's current call.
    expect(await run(pageA, 'APIs.consultComplete().then((r) => r.ok)')).toBe(true);
    // A leaves the call: after-call work (1 s in the demo instance), then ready.
    await expect.poll(() => status(pageA), { timeout: 5000 }).toBe(S.AgentReady);
    expect((await agent('1001').get<{ items: unknown[] }>('/v1/agent/calls')).body.items).toEqual([]);
    // The handed-over call is no longer A's current call (after-call work named it, and must not bring it back).
    expect(await sdk(pageA, 'getCurrentCall()')).toBeUndefined();
    // B now handles the call and is pushed nothing: it stays in AgentCallConsultEstablish (docs/call-states.md).
    expect(await status(pageB), 'B handles the call').toBe(S.AgentCallConsultEstablish);
    await fallsSilentOn(pageA, B_HZ);
    const heard = await listen(pages, customer, 'transferred');
    expect(heard.B[CUSTOMER_HZ]?.audibleShare, 'B hears the customer').toBeGreaterThan(HEARD);
    expect(heard.customer[B_HZ]?.audibleShare, 'the customer hears B').toBeGreaterThan(HEARD);
    expect(heard.customer[A_HZ]?.overallShare, 'the customer does not hear A').toBeLessThan(ABSENT);
    expect(heard.customer.music?.overallShare, 'no more hold music').toBeLessThan(ABSENT);
    expect(heard.B[A_HZ]?.overallShare, 'B no longer hears A').toBeLessThan(ABSENT);
    expect(heard.A[CUSTOMER_HZ]?.overallShare, 'A hears nothing of the customer').toBeLessThan(ABSENT);
    expect(heard.A[B_HZ]?.overallShare, 'A hears nothing of B').toBeLessThan(ABSENT);

    // B now handles the call: the guide's hang-up with no ids ends it.
    expect(await run(pageB, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    expect((await agent('1002').get<{ items: unknown[] }>('/v1/agent/calls')).body.items).toEqual([]);
    for (const page of [pageA, pageB]) expect(await errors(page)).toEqual([]);
    expect(await run(pageA, 'APIs.agentCheckout().then((r) => r.ok)')).toBe(true);
  }, 60_000);
});
