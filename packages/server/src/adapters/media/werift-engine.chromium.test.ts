import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MUSIC_ON_HOLD_NOTES_HZ } from './audio-sources.js';
import type { IceCandidateInit, MediaEngine, MediaEngineEvents } from './media-engine.js';
import { sleep, waitFor } from './test-support/browser-like-client.js';
import { sineWave, toneEnergy } from './tone.js';
import { encodeWav } from './wav.js';
import { directlyReceivedPackets, directlyReceivedRtcpPackets } from './werift-direct-rtp.js';
import { createWeriftMediaEngine } from './werift-engine.js';
import { aesCmSrtpPackets } from './werift-srtp.js';

/**
 * The engine against the real client: headless Chromium with a fake microphone saying 440 Hz, its own
 * RTCPeerConnection (Opus offered first, telephone-event/48000 on 110 and /8000 on 126), host candidates on the
 * machine's interface. What the browser hears is read from a Web Audio analyser. Skipped where Chromium is not
 * installed.
 */

const CHROMIUM = '/usr/bin/chromium';
/** As e2e/support.ts: without the background-networking flags Chromium floods a closed network with connections. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];
const CANDIDATES_HZ = [440, 1000, ...MUSIC_ON_HOLD_NOTES_HZ];

/** Runs in the page: a softphone reduced to its media line, signaling through functions the test exposes. */
function pageSoftphone(): void {
  type Win = typeof window & Record<string, unknown>;
  const w = window as Win;
  const pending: RTCIceCandidateInit[] = [];
  let answered = false;
  const pc = new RTCPeerConnection();
  const context = new AudioContext();
  let analyser: AnalyserNode | undefined;
  w.pc = pc;
  w.addRemoteCandidate = async (candidate: RTCIceCandidateInit | null) => {
    if (!answered) {
      if (candidate) pending.push(candidate);
    } else if (candidate) await pc.addIceCandidate(candidate);
  };
  pc.onicecandidate = (event) => (w.sendCandidate as (c: unknown) => void)(event.candidate?.toJSON() ?? null);
  pc.ontrack = (event) => {
    const stream = event.streams[0] ?? new MediaStream([event.track]);
    // Chromium feeds a remote stream to Web Audio only while a media element plays it.
    const audio = new Audio();
    audio.srcObject = stream;
    audio.muted = true;
    void audio.play();
    analyser = context.createAnalyser();
    analyser.fftSize = 4096;
    analyser.smoothingTimeConstant = 0;
    context.createMediaStreamSource(stream).connect(analyser);
  };
  w.negotiate = async (iceRestart: boolean) => {
    answered = false;
    if (iceRestart) pc.restartIce();
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await (w.openLine as (sdp: string, restart: boolean) => Promise<string>)(
      pc.localDescription!.sdp,
      iceRestart,
    );
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    answered = true;
    for (const candidate of pending.splice(0)) await pc.addIceCandidate(candidate);
  };
  w.start = async (pcmuOnly: boolean) => {
    // Without voice processing: noise suppression would treat a steady tone as noise.
    const microphone = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    pc.addTrack(microphone.getAudioTracks()[0]!, microphone);
    if (pcmuOnly) {
      // As a G.711-only softphone would: PCMU and its telephone-event, nothing else.
      const codecs = RTCRtpReceiver.getCapabilities('audio')!.codecs.filter(
        (codec) =>
          codec.mimeType === 'audio/PCMU' || (codec.mimeType === 'audio/telephone-event' && codec.clockRate === 8000),
      );
      pc.getTransceivers()[0]!.setCodecPreferences(codecs);
    }
    await (w.negotiate as (restart: boolean) => Promise<void>)(false);
  };
  /** The loudest of the candidate frequencies right now (one 85 ms FFT), or 0 in silence. */
  w.loudest = (candidates: number[]) => {
    if (!analyser) return 0;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    const level = (hz: number) => bins[Math.round((hz * analyser!.fftSize) / context.sampleRate)]!;
    const loudest = candidates.reduce((best, hz) => (level(hz) > level(best) ? hz : best));
    return level(loudest) > -80 ? loudest : 0;
  };
}

/** Waits until the browser hears only `hz` in two snapshots running (5 s at most); returns how long it took. */
async function untilBrowserHears(page: Page, hz: number): Promise<number> {
  const started = Date.now();
  while (!(await browserHears(page, 2)).every((heard) => heard === hz)) {
    if (Date.now() - started > 5000) throw new Error(`the browser did not come to hear ${hz} Hz`);
  }
  return Date.now() - started;
}

/** What the browser hears most, over `count` snapshots 100 ms apart: each snapshot's loudest candidate (0: silence). */
async function browserHears(page: Page, count = 6): Promise<number[]> {
  const heard: number[] = [];
  for (let i = 0; i < count; i++) {
    await sleep(100);
    heard.push(
      await page.evaluate(
        (candidates) => (window as unknown as Record<string, (c: number[]) => number>).loudest!(candidates),
        CANDIDATES_HZ,
      ),
    );
  }
  return heard;
}

/**
 * The browser hears `hz` and nothing else, in most snapshots: on a loaded machine Chromium's playout has the odd
 * 100 ms of silence (0), which says nothing about the engine.
 */
function expectMostly(heard: number[], hz: number): void {
  expect(heard.filter((other) => other !== hz && other !== 0)).toEqual([]);
  expect(heard.filter((other) => other === hz).length).toBeGreaterThanOrEqual(heard.length - 2);
}

/**
 * Listens until the browser mostly hears `hz` (within 5 s), then checks it: after an ICE restart on a busy machine
 * the audio may pause once more while the new path settles; a line that never comes back still fails.
 */
async function expectMostlySoon(page: Page, hz: number): Promise<void> {
  const deadline = Date.now() + 5000;
  let heard = await browserHears(page);
  while (heard.filter((other) => other === hz).length < heard.length - 2 && Date.now() < deadline) {
    heard = await browserHears(page);
  }
  expectMostly(heard, hz);
}

/** Ids per attempt: a retried test must not meet the endpoints of the attempt before it in the shared engine. */
let attempt = 0;

const windowedEnergy = (pcm: Int16Array, hz: number) => {
  let total = 0;
  let windows = 0;
  for (let start = 800; start + 800 <= pcm.length; start += 800, windows++) {
    total += toneEnergy(pcm.subarray(start, start + 800), 8000, hz);
  }
  return windows === 0 ? 0 : total / windows;
};

describe.skipIf(!existsSync(CHROMIUM))('an agent line with Chromium as the browser', () => {
  let dir: string;
  let server: Server;
  let browser: Browser;
  let engine: MediaEngine;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openhotline-chromium-'));
    const microphone = join(dir, 'agent-440.wav');
    await writeFile(
      microphone,
      encodeWav({ sampleRate: 48_000, channels: 1, samples: sineWave(440, 48_000 * 30, 48_000) }),
    );
    // getUserMedia needs a secure context: http://localhost is one.
    server = createServer((_, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${microphone}`],
    });
    // Chromium offers no loopback candidates: the engine advertises the machine's interface addresses (default).
    engine = createWeriftMediaEngine();
  });

  afterAll(async () => {
    await browser?.close();
    await engine?.close();
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A page whose softphone opens `lineId` on the engine; resolves once the line is connected. */
  async function openLine(lineId: string, { pcmuOnly = false } = {}): Promise<{ page: Page; answers: string[] }> {
    const page = await browser.newPage();
    const answers: string[] = [];
    await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
    engine.on('localCandidate', (event) => {
      if (event.lineId !== lineId) return;
      void page
        .evaluate(
          (candidate) =>
            (window as unknown as Record<string, (c: unknown) => Promise<void>>).addRemoteCandidate!(candidate),
          event.candidate,
        )
        .catch(() => {});
    });
    await page.exposeFunction('openLine', async (sdp: string, iceRestart: boolean) => {
      const { answerSdp } = await engine.openAgentLine(lineId, sdp, { iceRestart });
      answers.push(answerSdp);
      return answerSdp;
    });
    await page.exposeFunction('sendCandidate', (candidate: IceCandidateInit | null) => {
      engine.addRemoteCandidate(lineId, candidate);
    });
    let connected = false;
    engine.on('lineState', (event) => {
      if (event.lineId === lineId) connected = event.state === 'connected';
    });
    await page.evaluate(pageSoftphone);
    await page.evaluate(
      (pcmu) => (window as unknown as Record<string, (pcmu: boolean) => Promise<void>>).start!(pcmu),
      pcmuOnly,
    );
    await waitFor(() => connected, 'the line to connect');
    return { page, answers };
  }

  const rtpmaps = (sdp: string) => sdp.split(/\r?\n/).filter((line) => line.startsWith('a=rtpmap:'));

  it('negotiates Opus, and carries audio both ways, DTMF, hold music and an ICE restart', async () => {
    attempt += 1;
    // Chromium reports every few seconds: its RTCP is counted over the whole test.
    const rtcpBefore = directlyReceivedRtcpPackets();
    const lineId = `agent-${attempt}`;
    const customerId = `customer-${attempt}`;
    const dtmf: MediaEngineEvents['dtmf'][] = [];
    const warnings: MediaEngineEvents['warning'][] = [];
    engine.on('dtmf', (event) => dtmf.push(event));
    engine.on('warning', (event) => warnings.push(event));
    const { page, answers } = await openLine(lineId);
    // Opus, and the keys in its clock, with Chromium's own payload type numbers.
    expect(rtpmaps(answers[0]!)).toEqual(['a=rtpmap:111 opus/48000/2', 'a=rtpmap:110 telephone-event/48000']);

    const customer = engine.createVirtualParty(customerId, { prompt: { toneHz: 1000 } });
    engine.bridge(lineId, customerId);
    await untilBrowserHears(page, 1000);
    expectMostly(await browserHears(page), 1000);
    customer.clearHeard();
    await sleep(800);
    expect(windowedEnergy(customer.heard(), 440)).toBeGreaterThan(0.6);

    // Chromium sends the keys as telephone-event/48000 next to Opus.
    await page.evaluate(() => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      pc.getSenders()[0]!.dtmf!.insertDTMF('12#', 100, 70);
    });
    await waitFor(() => dtmf.length === 3, 'three keys', 3000);
    expect(dtmf.map((event) => event.digit).join('')).toBe('12#');
    await waitFor(() => customer.heardDigits() === '12#', 'the keys relayed to the customer', 3000);

    engine.setHold(lineId, true);
    await sleep(300);
    const onHold = await browserHears(page, 8);
    expect(
      onHold.filter((hz) => (MUSIC_ON_HOLD_NOTES_HZ as readonly number[]).includes(hz)).length,
    ).toBeGreaterThanOrEqual(6);
    engine.setHold(lineId, false);

    // The ICE restart: audio stops for the few packets the new checks take (under 100 ms unloaded), then resumes.
    await page.evaluate(() => (window as unknown as Record<string, (r: boolean) => Promise<void>>).negotiate!(true));
    await untilBrowserHears(page, 1000);
    await expectMostlySoon(page, 1000);
    const directBefore = directlyReceivedPackets();
    const aesCmBefore = aesCmSrtpPackets();
    customer.clearHeard();
    await sleep(800);
    expect(windowedEnergy(customer.heard(), 440)).toBeGreaterThan(0.6);
    // Chromium's packets take the engine's direct receive path (werift-direct-rtp.ts), after the restart too, with
    // the SRTP profile the engine's own AES-CM transform handles (srtp-aes-cm.ts), in both directions.
    expect(directlyReceivedPackets() - directBefore).toBeGreaterThan(30);
    expect(aesCmSrtpPackets() - aesCmBefore).toBeGreaterThan(60);
    const srtpCipher = await page.evaluate(async () => {
      const stats = await (window as unknown as { pc: RTCPeerConnection }).pc.getStats();
      let cipher: string | undefined;
      stats.forEach((report: { type: string; srtpCipher?: string }) => {
        if (report.type === 'transport') cipher = report.srtpCipher;
      });
      return cipher;
    });
    expect(srtpCipher).toBe('SRTP_AES128_CM_HMAC_SHA1_80');
    // The line's RTCP reports (werift-rtcp-reports.ts), as Chromium reads them: its stream as the line received it
    // (an RR block answering Chromium's own SR, hence a round-trip time) and the line's stream (an SR).
    const rtcp = await page.evaluate(async () => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      for (let attempt = 0; attempt < 40; attempt++) {
        const stats = await pc.getStats();
        let roundTripTime: number | undefined;
        let remotePacketsSent: number | undefined;
        stats.forEach((report: { type: string; roundTripTime?: number; packetsSent?: number }) => {
          if (report.type === 'remote-inbound-rtp') roundTripTime = report.roundTripTime;
          if (report.type === 'remote-outbound-rtp') remotePacketsSent = report.packetsSent;
        });
        if (roundTripTime !== undefined && remotePacketsSent !== undefined) return { roundTripTime, remotePacketsSent };
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return undefined;
    });
    expect(rtcp).toBeDefined();
    expect(rtcp!.roundTripTime).toBeGreaterThanOrEqual(0);
    expect(rtcp!.roundTripTime).toBeLessThan(0.2);
    expect(rtcp!.remotePacketsSent).toBeGreaterThan(50);
    // Chromium's own reports reached the line the direct way (decrypted by its AES-CM transform).
    expect(directlyReceivedRtcpPackets() - rtcpBefore).toBeGreaterThanOrEqual(1);
    expect(rtpmaps(answers.at(-1)!)).toEqual(rtpmaps(answers[0]!));
    // Opus to a PCMU customer is transcoded both ways.
    expect(engine.stats().framesDecoded).toBeGreaterThan(100);
    expect(engine.stats().framesEncoded).toBeGreaterThan(100);
    expect(warnings).toEqual([]);
    await page.close();
    await engine.closeEndpoint(lineId);
    await engine.closeEndpoint(customerId);
  });

  it('answers a PCMU-only offer with PCMU and telephone-event/8000 on 126, and relays it to a PCMU party as is', async () => {
    attempt += 1;
    const lineId = `g711-${attempt}`;
    const customerId = `g711-customer-${attempt}`;
    const { page, answers } = await openLine(lineId, { pcmuOnly: true });
    expect(rtpmaps(answers[0]!)).toEqual(['a=rtpmap:0 PCMU/8000', 'a=rtpmap:126 telephone-event/8000']);
    const customer = engine.createVirtualParty(customerId, { prompt: { toneHz: 1000 } });
    const before = engine.stats();
    engine.bridge(lineId, customerId);
    await untilBrowserHears(page, 1000);
    customer.clearHeard();
    await sleep(800);
    expect(windowedEnergy(customer.heard(), 440)).toBeGreaterThan(0.6);
    // Same codec on both ends: nothing decoded, nothing encoded.
    const after = engine.stats();
    expect(after.framesDecoded - before.framesDecoded).toBe(0);
    expect(after.framesEncoded - before.framesEncoded).toBe(0);
    expect(after.packetsRelayed - before.packetsRelayed).toBeGreaterThan(40);
    await page.close();
    await engine.closeEndpoint(lineId);
    await engine.closeEndpoint(customerId);
  });

  it('reports the line failed as soon as the browser closes its peer connection, not when ICE consent runs out', async () => {
    attempt += 1;
    const lineId = `closing-${attempt}`;
    const { page } = await openLine(lineId);
    const states: string[] = [];
    engine.on('lineState', (event) => {
      if (event.lineId === lineId) states.push(event.state);
    });
    const closedAt = Date.now();
    await page.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.close());
    // The browser's DTLS alert arrives at once; werift alone would wait for consent to expire (30 s).
    await waitFor(() => states.includes('failed'), 'the line to fail', 5_000);
    expect(Date.now() - closedAt).toBeLessThan(5_000);
    await page.close();
    await engine.closeEndpoint(lineId);
  });
});
