import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMON } from '../packages/sdk/build.mjs';
import { MUSIC_ON_HOLD_NOTES_HZ } from '../packages/server/src/adapters/media/audio-sources.js';
import { sineWave } from '../packages/server/src/adapters/media/tone.js';
import { encodeWav } from '../packages/server/src/adapters/media/wav.js';
import { agentToken } from '../packages/server/src/test-support/api.js';
import { type CallCenter, startCallCenter } from '../packages/server/src/test-support/call-center.js';
import {
  AUDIO_PROBE,
  CrmServer,
  CuttableProxy,
  crmPage,
  launchBrowser,
  openPage,
  pageHears,
  pcmHears,
  run,
  sleep,
} from './support.js';

// Call audio through the real stack: a CRM page loads /sdk/sdk.js and checks agent 1001 in with the guide's calls;
// the SDK opens the media line (headless Chromium's own WebRTC, a fake microphone saying 440 Hz); a virtual
// customer says 1000 Hz. Each side must hear the other, by frequency: the customer on the server (what its
// endpoint received), the agent in the page (Web Audio on the stream the SDK plays).

const AGENT_HZ = 440;
const CUSTOMER_HZ = 1000;

let center: CallCenter;
let crm: CrmServer;
/** The page reaches the server (HTTP and the live channel) through this; media goes direct over UDP. */
let proxy: CuttableProxy;
let browser: Browser;
let dir: string;
let mediaAddOn = '';
let context: BrowserContext | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openhotline-audio-'));
  const microphone = join(dir, 'agent-440.wav');
  // Chromium loops the file; 48 kHz mono as its capture runs.
  await writeFile(
    microphone,
    encodeWav({ sampleRate: 48_000, channels: 1, samples: sineWave(AGENT_HZ, 48_000 * 10, 48_000) }),
  );
  // No announcedAddress: Chromium offers no loopback candidates, so the server advertises its interface addresses.
  center = await startCallCenter({ checkIn: [], config: { media: { enabled: true } } });
  crm = await CrmServer.start();
  proxy = await CuttableProxy.start(Number(new URL(center.server.url).port));
  // Autoplay as in a real browser (a gesture is needed): the test checks that the SDK says so and recovers.
  browser = await launchBrowser([
    `--use-file-for-fake-audio-capture=${microphone}`,
    '--autoplay-policy=user-gesture-required',
  ]);
  mediaAddOn = await mediaAddOnUntilTheScriptTagBuildHasIt();
}, 60_000);

afterEach(async () => {
  await context?.close();
  context = undefined;
  proxy.restore();
  // Whatever a failed test left behind (a call in progress too), the next one starts with agent 1001 checked out.
  await center.admin('POST', '/v1/admin/instances/demo/agents/1001/force-checkout');
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await crm?.close();
  await center?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The full script-tag build registers the media session itself once its entry calls
 * SoftPhone.registerMediaSession(createMediaSession). Until then this registers it the same way from a second
 * script, built from the same source, so the page under test is what sdk.js will be.
 */
async function mediaAddOnUntilTheScriptTagBuildHasIt(): Promise<string> {
  const sdk = await readFile(join(__dirname, '../packages/sdk/dist/sdk.js'), 'utf8');
  if (sdk.includes('media.offer')) return '';
  const result = await esbuild.build({
    ...COMMON,
    stdin: {
      contents:
        "import { createMediaSession } from './media-session'; window.SoftPhoneSDK.SoftPhone.registerMediaSession(createMediaSession);",
      resolveDir: join(__dirname, '../packages/sdk/src'),
      loader: 'ts',
    },
    format: 'iife',
    minify: true,
    write: false,
  });
  return result.outputFiles?.[0]?.text ?? '';
}

/**
 * The guide's setup and answer demo (instance, host and token changed), plus the test's probes. With
 * `checkInOnLoad` the page checks in as it loads, as the guide's full demo does: before any user gesture.
 */
async function agentPage(path: string, { checkInOnLoad = false } = {}): Promise<Page> {
  const token = await agentToken(center.server, '1001');
  const apiHost = `127.0.0.1:${proxy.port}`;
  const code = `// Test probe: what the SDK plays, and its peer connections (to read their statistics).
${AUDIO_PROBE}
window.__quality = [];
${mediaAddOn}
const { SoftPhone, APIs, EnumEventName } = window.SoftPhoneSDK;
const softPhone = SoftPhone.getInstance();
softPhone.setConfig({ InstanceId: 'demo', BearerToken: ${JSON.stringify(token)}, apiHost: ${JSON.stringify(apiHost)} });
softPhone.register(EnumEventName.actionError, (e) => window.__errors.push(e.data));
softPhone.register('onCallQuality', (e) => window.__quality.push(e.data));
// The guide's answer demo.
softPhone.register(EnumEventName.AgentRinging, (eventData, prevConfig, data) => {
  const { data: { connId, jobId, acid, aid } } = eventData;
  APIs.callAnswer(connId, jobId, acid, aid);
});
${checkInOnLoad ? 'APIs.agentCheckin();' : ''}`;
  const url = crm.page(path, crmPage({ sdkUrl: `${center.server.url}/sdk/sdk.js` }, code));
  context = await browser.newContext();
  return openPage(context, url);
}

type Win = Window & Record<string, unknown>;
const errorCodes = (page: Page) =>
  page.evaluate(() => ((window as unknown as Win).__errors as { code: string }[]).map((e) => e.code));

/**
 * Agent 1001 checks in from the page, unless the page did on load (Playwright's evaluate counts as a user gesture,
 * so the test does not touch such a page); resolves when the SDK's media line is up (AgentJoinChannel).
 */
async function checkInWithAudio(page: Page, before: number, { onLoad = false } = {}): Promise<void> {
  const agent = center.agents['1001'];
  if (!agent) throw new Error('no agent 1001');
  if (!onLoad) expect(await run(page, 'APIs.agentCheckin().then((r) => r.ok)')).toBe(true);
  const joined = await agent.waitFor('AgentJoinChannel', before, 15_000);
  expect(joined.data.status).toBe(3);
}

const messageCount = () => center.agents['1001']?.messages().length ?? 0;

/** A virtual customer calls; the guide's answer demo answers; resolves with the connId once established. */
async function callAnsweredByTheGuideDemo(): Promise<string> {
  const agent = center.agents['1001'];
  if (!agent) throw new Error('no agent 1001');
  const before = agent.messages().length;
  const connId = await center.placeCall('13900001111');
  await agent.waitFor('AgentCallInboundEstablish', before, 10_000);
  return connId;
}

async function checkOut(page: Page): Promise<void> {
  const agent = center.agents['1001'];
  if (!agent) throw new Error('no agent 1001');
  const before = agent.messages().length;
  expect(await run(page, 'APIs.agentCheckout().then((r) => r.ok)')).toBe(true);
  await agent.waitFor('AgentLeaveChannel', before, 10_000);
}

describe('a call from the page carries audio both ways', () => {
  it('answers with the guide demo: each side hears the other; hold, mute, DTMF, hang-up and check-out', async () => {
    const before = messageCount();
    const page = await agentPage('/audio', { checkInOnLoad: true });
    await checkInWithAudio(page, before, { onLoad: true });
    const connId = await callAnsweredByTheGuideDemo();
    const party = center.server.hotline.media?.partyOf(connId);
    if (!party) throw new Error('no customer endpoint');

    // Nobody has touched the page: the browser refused to play, and the SDK said so once the call needed it.
    await expect.poll(() => errorCodes(page), { timeout: 5000 }).toEqual(['AudioPlaybackBlocked']);
    expect(await run(page, `document.querySelector('audio[data-openhotline-audio]').paused`)).toBe(true);
    // The next click in the page starts it.
    await page.mouse.click(5, 5);
    await expect.poll(() => run(page, `document.querySelector('audio[data-openhotline-audio]').paused`)).toBe(false);

    await sleep(500);
    party.clearHeard();
    expect((await pageHears(page, CUSTOMER_HZ, { ms: 1200 })).audibleShare).toBeGreaterThan(0.5);
    expect(pcmHears(party.heard(), AGENT_HZ).audibleShare).toBeGreaterThan(0.5);

    // Hold: the customer hears music and nothing of the agent; the agent hears nothing of the customer.
    expect(await run(page, 'APIs.callHold().then((r) => r.ok)')).toBe(true);
    await sleep(400);
    party.clearHeard();
    // Eventually silent: on a loaded machine the browser's jitter buffer may still play out what came before.
    await expect
      .poll(async () => (await pageHears(page, CUSTOMER_HZ, { ms: 600 })).overallShare, { timeout: 5000, interval: 0 })
      .toBeLessThan(0.1);
    expect(pcmHears(party.heard(), MUSIC_ON_HOLD_NOTES_HZ).audibleShare).toBeGreaterThan(0.3);
    expect(pcmHears(party.heard(), AGENT_HZ).overallShare).toBeLessThan(0.1);

    // Retrieve, then mute: the customer no longer hears the agent, the agent still hears the customer.
    expect(await run(page, 'APIs.callRetrieve().then((r) => r.ok)')).toBe(true);
    expect(await run(page, 'APIs.callMute(true).then((r) => r.ok)')).toBe(true);
    await sleep(400);
    party.clearHeard();
    expect((await pageHears(page, CUSTOMER_HZ, { ms: 1200 })).audibleShare).toBeGreaterThan(0.5);
    expect(pcmHears(party.heard(), AGENT_HZ).overallShare).toBeLessThan(0.1);
    expect(await run(page, 'APIs.callMute(false).then((r) => r.ok)')).toBe(true);

    // Keys from the page reach the customer as RFC 4733 events.
    expect(await run(page, `APIs.sendDtmf('12#').then((r) => r.ok)`)).toBe(true);
    await expect.poll(() => party.heardDigits(), { timeout: 5000 }).toBe('12#');

    expect(await run(page, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => center.server.hotline.media?.partyOf(connId)).toBeUndefined();

    // The next call comes on the same line: no new peer connection, audio at once.
    const second = await callAnsweredByTheGuideDemo();
    const secondParty = center.server.hotline.media?.partyOf(second);
    await sleep(300);
    secondParty?.clearHeard();
    expect((await pageHears(page, CUSTOMER_HZ)).audibleShare).toBeGreaterThan(0.5);
    expect(pcmHears(secondParty?.heard() ?? new Int16Array(), AGENT_HZ).audibleShare).toBeGreaterThan(0.5);
    expect(await run(page, 'window.__peerConnections.length')).toBe(1);
    // The line: no STUN server, Opus both ways (the customer's PCMU is transcoded on the server).
    expect(await run(page, 'window.__peerConnections[0].getConfiguration().iceServers')).toEqual([]);
    expect(
      await run(
        page,
        `window.__peerConnections[0].getStats().then((r) => [...r.values()].filter((s) => s.type === 'codec').map((s) => s.mimeType))`,
      ),
    ).toEqual(['audio/opus', 'audio/opus']);
    expect(await run(page, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);

    await checkOut(page);
    // The line is closed, its <audio> element gone.
    expect(await run(page, 'window.__peerConnections[0].connectionState')).toBe('closed');
    expect(await run(page, `document.querySelectorAll('audio[data-openhotline-audio]').length`)).toBe(0);
    expect(await errorCodes(page)).toEqual(['AudioPlaybackBlocked']);
  }, 60_000);
});

describe('call quality', () => {
  it('emits onCallQuality during a call with plausible figures, and stops after it', async () => {
    const before = messageCount();
    const page = await agentPage('/quality');
    await checkInWithAudio(page, before);
    await callAnsweredByTheGuideDemo();
    await page.waitForFunction(() => ((window as unknown as Win).__quality as unknown[]).length >= 4, undefined, {
      timeout: 10_000,
    });
    const samples = await run<
      { rttMs: number; jitterMs: number; packetLossPct: number; mos: number; oneWayAudio: string }[]
    >(page, 'window.__quality');
    for (const sample of samples) {
      expect(sample.rttMs).toBeGreaterThanOrEqual(0);
      expect(sample.rttMs).toBeLessThan(200);
      expect(sample.jitterMs).toBeGreaterThanOrEqual(0);
      expect(sample.packetLossPct).toBeGreaterThanOrEqual(0);
      expect(sample.mos).toBeGreaterThanOrEqual(1);
      expect(sample.mos).toBeLessThanOrEqual(4.5);
    }
    // Both directions flow on a healthy line: no one-way warning, and a LAN-grade score.
    const last = samples.at(-1);
    expect(last?.oneWayAudio).toBe('none');
    expect(last?.mos).toBeGreaterThan(4);

    expect(await run(page, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await sleep(1200);
    const afterCall = await run<number>(page, 'window.__quality.length');
    await sleep(1200);
    expect(await run<number>(page, 'window.__quality.length')).toBe(afterCall);
    await checkOut(page);
    expect(await errorCodes(page)).toEqual([]);
  }, 40_000);
});

describe('the live channel reconnects mid-call', () => {
  it('re-offers the line on the new channel with an ICE restart, and the call keeps its audio', async () => {
    const before = messageCount();
    const page = await agentPage('/reconnect');
    await page.mouse.click(5, 5);
    await checkInWithAudio(page, before);
    const connId = await callAnsweredByTheGuideDemo();
    const party = center.server.hotline.media?.partyOf(connId);
    if (!party) throw new Error('no customer endpoint');
    await sleep(500);
    expect(
      (await pageHears(page, CUSTOMER_HZ, { ms: 600 })).audibleShare,
      'the agent hears the customer',
    ).toBeGreaterThan(0.5);
    const ufrag = () =>
      run<string>(page, `/a=ice-ufrag:(\\S+)/.exec(window.__peerConnections[0].localDescription.sdp)[1]`);
    const firstUfrag = await ufrag();

    // A network outage cuts the channel (UDP media is not behind the proxy); it comes back a moment later.
    proxy.cut();
    await page.waitForFunction(() => {
      const { SoftPhone } = (window as unknown as Win).SoftPhoneSDK as {
        SoftPhone: { getInstance(): { getConnectionState(): string } };
      };
      return SoftPhone.getInstance().getConnectionState() !== 'open';
    });
    proxy.restore();
    await page.waitForFunction(
      () => {
        const { SoftPhone } = (window as unknown as Win).SoftPhoneSDK as {
          SoftPhone: { getInstance(): { getConnectionState(): string } };
        };
        return SoftPhone.getInstance().getConnectionState() === 'open';
      },
      undefined,
      { timeout: 10_000 },
    );

    // The new channel re-offered with new ICE credentials on the same peer connection; audio flows both ways.
    await expect.poll(ufrag, { timeout: 5000 }).not.toBe(firstUfrag);
    await expect
      .poll(() => run(page, 'window.__peerConnections[0].iceConnectionState'), { timeout: 5000 })
      .toMatch(/connected|completed/);
    await sleep(500);
    party.clearHeard();
    expect(
      (await pageHears(page, CUSTOMER_HZ)).audibleShare,
      'the agent hears the customer after the restart',
    ).toBeGreaterThan(0.5);
    expect(
      pcmHears(party.heard(), AGENT_HZ).audibleShare,
      'the customer hears the agent after the restart',
    ).toBeGreaterThan(0.5);
    expect(await run(page, 'window.__peerConnections.length')).toBe(1);

    expect(await run(page, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await checkOut(page);
    expect(await errorCodes(page)).toEqual([]);
  }, 40_000);
});
