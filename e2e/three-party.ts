import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
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
  run,
  sleep,
  writeToneWav,
} from './support.js';

/**
 * The harness of the browser tests with three parties on one call (audio-three-party, audio-reload-consult): a call
 * center with media, a CRM page server, and two Chromiums, one per agent (Chromium's fake microphone takes one file
 * per launch). Three tones, checked by frequency: the virtual customer says 1000 Hz (the server's default prompt),
 * agent 1001 (page A, `browserA`) says 440 Hz, agent 1002 (page B, `browserB`) says 700 Hz. 700 rather than 660: hold
 * music plays E5 = 659.26 Hz, and the customer must be heard to get music and none of the agents. No tone is a
 * harmonic of another.
 */

export const CUSTOMER_HZ = 1000;
export const A_HZ = 440;
export const B_HZ = 700;
/** A tone "is heard" above this share of the signal (see `Hearing`). */
export const HEARD = 0.5;
/** A tone "is not heard" below this share of all windows, silent ones counting 0 (see `Hearing`). */
export const ABSENT = 0.05;
/** A tone "is heard" in a mix above this share: two mixed tones give about half each. */
export const HEARD_IN_MIX = 0.15;

/** What a party heard per tone (Hz), and for the customer `music`: the hold-music notes together. */
export type Heard = Record<string, Hearing>;
/** What the three parties heard over the same span. */
export type HeardByAll = Record<'A' | 'B' | 'customer', Heard>;

/** The state of the page's first peer connection (the audio probe keeps them): 'connected' once its line is up. */
export const lineUp = (page: Page) => run(page, 'window.__peerConnections?.[0]?.connectionState');

export interface ThreePartyOptions {
  /** Names the log lines (`[label] …`), the temporary folder and the CRM pages' paths (`/<label>-<agent id>`). */
  label: string;
  /**
   * Where `agentPage` sees that the agent's media line is up. 'channel': AgentJoinChannel on the agent's test
   * channel. 'page': the page's peer connection is `connected`, for a test that closes the agent's test channel
   * (a retry of that test finds it closed already).
   */
  lineUpSeenOn: 'channel' | 'page';
}

export interface ThreeParty {
  readonly center: CallCenter;
  readonly crm: CrmServer;
  readonly browserA: Browser;
  readonly browserB: Browser;
  agent(id: string): TestAgent;
  /** Agent `id` opens the guide's page in `browser`, checks in on load, and has its media line up. */
  agentPage(browser: Browser, id: string): Promise<Page>;
  /** A virtual customer calls from `caller`; if the call is still up after the test, the customer hangs up. */
  placeCall(caller: string): Promise<string>;
  /** The virtual customer of a call. */
  customerOf(connId: string): VirtualParty;
  fallsSilentOn(page: Page, hz: number): Promise<void>;
  listen(pages: Record<'A' | 'B', Page>, customer: VirtualParty, moment?: string): Promise<HeardByAll>;
}

/**
 * Call once, at the top level of a test file: its hooks start the center, the CRM server and both browsers before
 * the file's tests, clean up after each test, and stop everything after the last. The returned fields are usable
 * inside the tests (the center and browsers exist from `beforeAll` on).
 */
export function startThreeParty(options: ThreePartyOptions): ThreeParty {
  let center: CallCenter | undefined;
  let crm: CrmServer | undefined;
  let browserA: Browser | undefined;
  let browserB: Browser | undefined;
  let dir: string | undefined;
  const contexts: BrowserContext[] = [];
  /** Calls a test placed: a failed attempt's call is hung up by its customer, so the next test or retry starts clean. */
  const placed: string[] = [];

  const up = () => {
    if (!center || !crm || !browserA || !browserB) throw new Error(`${options.label}: the harness has not started`);
    return { center, crm, browserA, browserB };
  };
  const agent = (id: string): TestAgent => {
    const found = up().center.agents[id];
    if (!found) throw new Error(`no agent ${id}`);
    return found;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `openhotline-${options.label}-`));
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
    const { center } = up();
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
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  return {
    get center() {
      return up().center;
    },
    get crm() {
      return up().crm;
    },
    get browserA() {
      return up().browserA;
    },
    get browserB() {
      return up().browserB;
    },
    agent,

    async agentPage(browser, id) {
      const { center, crm } = up();
      const token = await agentToken(center.server, id);
      const apiHost = new URL(center.server.url).host;
      const before = agent(id).messages().length;
      const context = await browser.newContext();
      contexts.push(context);
      const page = await openPage(
        context,
        crm.page(
          `/${options.label}-${id}`,
          crmPage(
            { sdkUrl: `${center.server.url}/sdk/sdk.js` },
            // Raw microphone: the tones are compared across parties.
            guideAudioAgent({ token, apiHost, checkInOnLoad: true, rawMicrophone: true }),
          ),
        ),
      );
      if (options.lineUpSeenOn === 'channel') await agent(id).waitFor('AgentJoinChannel', before, 15_000);
      else await expect.poll(() => lineUp(page), { timeout: 15_000 }).toBe('connected');
      return page;
    },

    async placeCall(caller) {
      const connId = await up().center.placeCall(caller);
      placed.push(connId);
      return connId;
    },

    customerOf(connId) {
      const customer = up().center.server.hotline.media?.partyOf(connId);
      if (!customer) throw new Error('no customer endpoint');
      return customer;
    },

    /**
     * Waits until the page no longer hears `hz` (within 8 s). An agent who left is unlinked at once on the server,
     * but on a loaded machine the browser's jitter buffer can hold a second or more of what came before, which it
     * then plays out; absence is checked once that is over, and a line that stays linked still fails here.
     */
    async fallsSilentOn(page, hz) {
      await expect
        .poll(async () => (await pageHears(page, hz, { ms: 500 })).overallShare, { timeout: 8000, interval: 0 })
        .toBeLessThan(ABSENT);
    },

    /**
     * What each party hears, listened to at the same time: each page over 1.8 s (three tones, 600 ms each, one after
     * the other), the customer over the same span. Logs the shares as `[label] shares heard` or, given a `moment`,
     * `[label] moment: shares heard`.
     */
    async listen(pages, customer, moment) {
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
        `[${options.label}]${moment === undefined ? '' : ` ${moment}:`} shares heard`,
        JSON.stringify({ A: summary(a), B: summary(b), customer: { ...summary(heard), rms: round(rms(pcm)) } }),
      );
      return { A: a, B: b, customer: heard };
    },
  };
}

/** The consultation by ear: A and B talk, the customer hears music and neither agent, nobody hears the customer. */
export function expectConsultation(heard: HeardByAll): void {
  expect(heard.A[B_HZ]?.audibleShare, 'A hears B').toBeGreaterThan(HEARD);
  expect(heard.B[A_HZ]?.audibleShare, 'B hears A').toBeGreaterThan(HEARD);
  expect(heard.A[CUSTOMER_HZ]?.overallShare, 'A does not hear the waiting customer').toBeLessThan(ABSENT);
  expect(heard.B[CUSTOMER_HZ]?.overallShare, 'B does not hear the waiting customer').toBeLessThan(ABSENT);
  expect(heard.customer.music?.audibleShare, 'the customer hears hold music').toBeGreaterThan(HEARD);
  expect(heard.customer[A_HZ]?.overallShare, 'the customer does not hear A').toBeLessThan(ABSENT);
  expect(heard.customer[B_HZ]?.overallShare, 'the customer does not hear B').toBeLessThan(ABSENT);
}

/** The attended transfer by ear, once complete: B and the customer talk, no more music, A hears and is heard by nobody. */
export function expectTransferred(heard: HeardByAll): void {
  expect(heard.B[CUSTOMER_HZ]?.audibleShare, 'B hears the customer').toBeGreaterThan(HEARD);
  expect(heard.customer[B_HZ]?.audibleShare, 'the customer hears B').toBeGreaterThan(HEARD);
  expect(heard.customer[A_HZ]?.overallShare, 'the customer no longer hears A').toBeLessThan(ABSENT);
  expect(heard.customer.music?.overallShare, 'no more hold music').toBeLessThan(ABSENT);
  expect(heard.B[A_HZ]?.overallShare, 'B no longer hears A').toBeLessThan(ABSENT);
  expect(heard.A[CUSTOMER_HZ]?.overallShare, 'A hears nothing of the customer').toBeLessThan(ABSENT);
  expect(heard.A[B_HZ]?.overallShare, 'A hears nothing of B').toBeLessThan(ABSENT);
}

/** A consultation called off, by ear: A and the customer talk again, no more music, B is out of it. */
export function expectConsultationCancelled(heard: HeardByAll): void {
  expect(heard.A[CUSTOMER_HZ]?.audibleShare, 'A hears the customer again').toBeGreaterThan(HEARD);
  expect(heard.customer[A_HZ]?.audibleShare, 'the customer hears A again').toBeGreaterThan(HEARD);
  expect(heard.customer.music?.overallShare, 'no more hold music').toBeLessThan(ABSENT);
  expect(heard.A[B_HZ]?.overallShare, 'A no longer hears B').toBeLessThan(ABSENT);
  expect(heard.B[A_HZ]?.overallShare, 'B no longer hears A').toBeLessThan(ABSENT);
  expect(heard.customer[B_HZ]?.overallShare, 'the customer never hears B').toBeLessThan(ABSENT);
}

/** The three-way conference by ear: each hears both others in the mix, no hold music, and nobody hears themselves. */
export function expectConference(heard: HeardByAll): void {
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
}
