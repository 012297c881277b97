import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MUSIC_ON_HOLD_NOTES_HZ } from '../packages/server/src/adapters/media/audio-sources.js';
import type { VirtualParty } from '../packages/server/src/adapters/media/media-engine.js';
import { rms } from '../packages/server/src/adapters/media/tone.js';
import { agentToken } from '../packages/server/src/test-support/api.js';
import { type CallCenter, startCallCenter, type TestAgent } from '../packages/server/src/test-support/call-center.js';
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

// Three parties, three tones, checked by frequency: a virtual customer says 1000 Hz (the server's default prompt),
// agent 1001 (page A, its own Chromium) says 440 Hz, agent 1002 (page B, another Chromium: one fake-microphone file
// per launch) says 700 Hz. 700 rather than 660: hold music plays E5 = 659.26 Hz, and the customer must be heard
// to get music and none of the agents. No tone is a harmonic of another.
// Attended transfer: A answers, consults B (A and B talk, the customer hears music), completes (B and the
// customer talk, A hears nothing). Conference: all three hear both others, and nobody hears themselves.

const CUSTOMER_HZ = 1000;
const A_HZ = 440;
const B_HZ = 700;
/** A tone "is heard" above this share of the signal; two mixed tones give about half each. */
const HEARD = 0.5;
const HEARD_IN_MIX = 0.15;
/** A tone "is not heard" below this share of all windows, silent ones counting 0 (see `Hearing`). */
const ABSENT = 0.05;

let center: CallCenter;
let crm: CrmServer;
let browserA: Browser;
let browserB: Browser;
let dir: string;
const contexts: BrowserContext[] = [];
/** Calls a test placed: a failed test's call is hung up by its customer, so the next test starts clean. */
const placed: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openhotline-three-party-'));
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
  // Whatever a failed test left behind, the next one starts with both agents checked out.
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

function agent(id: string): TestAgent {
  const found = center.agents[id];
  if (!found) throw new Error(`no agent ${id}`);
  return found;
}

/** Agent `id` opens the guide's page in `browser`, checks in on load, and has its media line up. */
async function agentPage(browser: Browser, id: string): Promise<Page> {
  const token = await agentToken(center.server, id);
  const apiHost = new URL(center.server.url).host;
  const before = agent(id).messages().length;
  const context = await browser.newContext();
  contexts.push(context);
  const page = await openPage(
    context,
    crm.page(
      `/agent-${id}`,
      crmPage(
        { sdkUrl: `${center.server.url}/sdk/sdk.js` },
        guideAudioAgent({ token, apiHost, checkInOnLoad: true, rawMicrophone: true }),
      ),
    ),
  );
  await agent(id).waitFor('AgentJoinChannel', before, 15_000);
  return page;
}

/** A virtual customer calls; agent 1001 (the only one checked in) answers with the guide's demo. */
async function customerAnsweredByA(): Promise<{ connId: string; customer: VirtualParty }> {
  const before = agent('1001').messages().length;
  const connId = await center.placeCall('13900003333');
  placed.push(connId);
  await agent('1001').waitFor('AgentCallInboundEstablish', before, 10_000);
  const customer = center.server.hotline.media?.partyOf(connId);
  if (!customer) throw new Error('no customer endpoint');
  return { connId, customer };
}

/** A, still talking with the customer, consults B; B's page answers with the guide's demo. */
async function aConsultsB(pageA: Page): Promise<void> {
  const before = agent('1001').messages().length;
  expect(await run(pageA, `APIs.callConsult({ type: 'agent', agentId: '1002' }).then((r) => r.ok)`)).toBe(true);
  await agent('1001').waitFor('AgentCallThirdConsult', before, 10_000);
}

/**
 * Waits until the page no longer hears `hz` (within 8 s). An agent who left is unlinked at once on the server, but
 * on a loaded machine the browser's jitter buffer can hold a second or more of what came before, which it then
 * plays out; absence is checked once that is over, and a line that stays linked still fails here.
 */
async function fallsSilentOn(page: Page, hz: number): Promise<void> {
  await expect
    .poll(async () => (await pageHears(page, hz, { ms: 500 })).overallShare, { timeout: 8000, interval: 0 })
    .toBeLessThan(ABSENT);
}

/** What a party heard per tone (Hz), and for the customer `music`: the hold-music notes together. */
type Heard = Record<string, Hearing>;

/** What each party hears, listened to at the same time (the pages over 1.2 s, the customer over the same span). */
async function listen(
  pages: Record<'A' | 'B', Page>,
  customer: VirtualParty,
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
  // Each tone as [share of the audible windows, share of all windows]: their ratio is how much was audible.
  const round = (v: number) => Math.round(v * 100) / 100;
  const summary = (of: Heard) =>
    Object.fromEntries(Object.entries(of).map(([k, h]) => [k, [round(h.audibleShare), round(h.overallShare)]]));
  console.info(
    '[audio-three-party] shares heard',
    JSON.stringify({ A: summary(a), B: summary(b), customer: { ...summary(heard), rms: round(rms(pcm)) } }),
  );
  return { A: a, B: b, customer: heard };
}

describe('attended transfer, by ear', () => {
  it('consult: A and B talk while the customer hears music; complete: B and the customer talk, A hears nothing', async () => {
    const pageA = await agentPage(browserA, '1001');
    const { connId, customer } = await customerAnsweredByA();
    const pageB = await agentPage(browserB, '1002');
    const pages = { A: pageA, B: pageB };

    let heard = await listen(pages, customer);
    expect(heard.A[CUSTOMER_HZ]?.audibleShare, 'A hears the customer').toBeGreaterThan(HEARD);
    expect(heard.customer[A_HZ]?.audibleShare, 'the customer hears A').toBeGreaterThan(HEARD);

    await aConsultsB(pageA);
    heard = await listen(pages, customer);
    expect(heard.A[B_HZ]?.audibleShare, 'A hears B').toBeGreaterThan(HEARD);
    expect(heard.B[A_HZ]?.audibleShare, 'B hears A').toBeGreaterThan(HEARD);
    expect(heard.A[CUSTOMER_HZ]?.overallShare, 'A does not hear the waiting customer').toBeLessThan(ABSENT);
    expect(heard.B[CUSTOMER_HZ]?.overallShare, 'B does not hear the waiting customer').toBeLessThan(ABSENT);
    expect(heard.customer.music?.audibleShare, 'the customer hears hold music').toBeGreaterThan(HEARD);
    expect(heard.customer[A_HZ]?.overallShare, 'the customer does not hear A').toBeLessThan(ABSENT);
    expect(heard.customer[B_HZ]?.overallShare, 'the customer does not hear B').toBeLessThan(ABSENT);

    const before = agent('1001').messages().length;
    expect(await run(pageA, 'APIs.consultComplete().then((r) => r.ok)')).toBe(true);
    await agent('1001').waitFor('AgentCallRelease', before, 10_000);
    await fallsSilentOn(pageA, B_HZ);
    heard = await listen(pages, customer);
    expect(heard.B[CUSTOMER_HZ]?.audibleShare, 'B hears the customer').toBeGreaterThan(HEARD);
    expect(heard.customer[B_HZ]?.audibleShare, 'the customer hears B').toBeGreaterThan(HEARD);
    expect(heard.customer[A_HZ]?.overallShare, 'the customer no longer hears A').toBeLessThan(ABSENT);
    expect(heard.customer.music?.overallShare, 'no more hold music').toBeLessThan(ABSENT);
    expect(heard.B[A_HZ]?.overallShare, 'B no longer hears A').toBeLessThan(ABSENT);
    expect(heard.A[CUSTOMER_HZ]?.overallShare, 'A hears nothing of the customer').toBeLessThan(ABSENT);
    expect(heard.A[B_HZ]?.overallShare, 'A hears nothing of B').toBeLessThan(ABSENT);

    // B now handles the call: the guide's hang-up with no ids ends it.
    expect(await run(pageB, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    for (const page of [pageA, pageB]) expect(await run(page, 'window.__errors')).toEqual([]);
  }, 90_000);
});

describe('three-way conference, by ear', () => {
  it('all three hear both others and not themselves; when A leaves, B and the customer go on talking', async () => {
    const pageA = await agentPage(browserA, '1001');
    const { connId, customer } = await customerAnsweredByA();
    const pageB = await agentPage(browserB, '1002');
    const pages = { A: pageA, B: pageB };
    await aConsultsB(pageA);

    const before = agent('1001').messages().length;
    expect(await run(pageA, 'APIs.callConference().then((r) => r.ok)')).toBe(true);
    await agent('1001').waitFor('AgentCallConference', before, 10_000);
    let heard = await listen(pages, customer);
    expect(heard.customer[A_HZ]?.audibleShare, 'the customer hears A').toBeGreaterThan(HEARD_IN_MIX);
    expect(heard.customer[B_HZ]?.audibleShare, 'the customer hears B').toBeGreaterThan(HEARD_IN_MIX);
    expect(heard.customer.music?.overallShare, 'no hold music in a conference').toBeLessThan(ABSENT);
    expect(heard.A[CUSTOMER_HZ]?.audibleShare, 'A hears the customer').toBeGreaterThan(HEARD_IN_MIX);
    expect(heard.A[B_HZ]?.audibleShare, 'A hears B').toBeGreaterThan(HEARD_IN_MIX);
    expect(heard.B[CUSTOMER_HZ]?.audibleShare, 'B hears the customer').toBeGreaterThan(HEARD_IN_MIX);
    expect(heard.B[A_HZ]?.audibleShare, 'B hears A').toBeGreaterThan(HEARD_IN_MIX);
    // Each hears the mix of the others only (N-1): no echo of their own voice.
    expect(heard.customer[CUSTOMER_HZ]?.overallShare, 'the customer does not hear itself').toBeLessThan(ABSENT);
    expect(heard.A[A_HZ]?.overallShare, 'A does not hear itself').toBeLessThan(ABSENT);
    expect(heard.B[B_HZ]?.overallShare, 'B does not hear itself').toBeLessThan(ABSENT);

    // A leaves the conference: B handles the call and keeps talking with the customer.
    const leaving = agent('1001').messages().length;
    expect(await run(pageA, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await agent('1001').waitFor('AgentCallRelease', leaving, 10_000);
    await fallsSilentOn(pageA, CUSTOMER_HZ);
    heard = await listen(pages, customer);
    expect(heard.B[CUSTOMER_HZ]?.audibleShare, 'B hears the customer').toBeGreaterThan(HEARD);
    expect(heard.customer[B_HZ]?.audibleShare, 'the customer hears B').toBeGreaterThan(HEARD);
    expect(heard.customer[A_HZ]?.overallShare, 'the customer no longer hears A').toBeLessThan(ABSENT);
    expect(heard.A[CUSTOMER_HZ]?.overallShare, 'A hears nothing of the customer').toBeLessThan(ABSENT);

    expect(await run(pageB, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    for (const page of [pageA, pageB]) expect(await run(page, 'window.__errors')).toEqual([]);
  }, 90_000);
});
