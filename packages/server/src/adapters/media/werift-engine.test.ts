import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MUSIC_ON_HOLD_NOTES_HZ } from './audio-sources.js';
import type { MediaEngine, MediaEngineEvents } from './media-engine.js';
import { liveOpusInstances } from './opus.js';
import { BrowserLikeClient, connectClient, sleep, waitFor } from './test-support/browser-like-client.js';
import { toneEnergy } from './tone.js';
import { readWav } from './wav.js';
import { createWeriftMediaEngine } from './werift-engine.js';

/**
 * The engine with real WebRTC: a second werift peer plays the agent's browser (Opus, PCMU and telephone-event
 * offered as a browser does, trickled candidates, a 440 Hz voice) over loopback, and every check is by frequency,
 * as the browser tests do. The agent's line negotiates Opus; the virtual customer speaks PCMU, so agent ↔ customer
 * is transcoded, and agent ↔ agent is relayed.
 */

const AGENT_HZ = 440;
const CUSTOMER_HZ = 1000;
const THIRD_HZ = 1400;
/** Audio heard in the first 100 ms after a change is still the old path's (jitter buffers, packets in flight). */
const SETTLE = 800;

/**
 * "Hears it": the tone's share of the windows, over real UDP on a machine that may be busy (a late packet or a
 * jitter-buffer gap costs a window). Silence or another tone measures near 0, so this still fails when it should.
 */
const HEARD = 0.6;
const settled = (pcm: Int16Array) => pcm.subarray(Math.min(SETTLE, pcm.length));

/**
 * A tone's share of what was heard, measured per 100 ms window and averaged: network audio comes with the odd late
 * packet and jitter-buffer gap, which shifts the phase, and one Goertzel over seconds would read that as less tone.
 * `measure` picks the share in each window (the strongest of several tones, for music).
 */
function windowed(pcm: Int16Array, measure: (window: Int16Array) => number): number {
  let total = 0;
  let windows = 0;
  for (let start = 0; start + 800 <= pcm.length; start += 800, windows++)
    total += measure(pcm.subarray(start, start + 800));
  return windows === 0 ? 0 : total / windows;
}
const energy = (pcm: Int16Array, hz: number) => windowed(pcm, (window) => toneEnergy(window, 8000, hz));
const musicShare = (pcm: Int16Array) =>
  windowed(pcm, (window) => Math.max(...MUSIC_ON_HOLD_NOTES_HZ.map((hz) => toneEnergy(window, 8000, hz))));

let engine: MediaEngine;
let client: BrowserLikeClient;
let warnings: MediaEngineEvents['warning'][];
let opusBefore: number;
const others: BrowserLikeClient[] = [];

function collect<E extends keyof MediaEngineEvents>(event: E): MediaEngineEvents[E][] {
  const seen: MediaEngineEvents[E][] = [];
  engine.on(event, (payload) => seen.push(payload));
  return seen;
}

beforeEach(async () => {
  opusBefore = liveOpusInstances();
  // Node to Node on one machine: advertise loopback only (a browser would need a real interface address).
  engine = createWeriftMediaEngine({ announcedAddress: '127.0.0.1' });
  warnings = collect('warning');
  client = new BrowserLikeClient(AGENT_HZ);
  await connectClient(engine, 'agent-1', client);
  client.startSending();
});

afterEach(async () => {
  await client.close();
  for (const other of others.splice(0)) await other.close();
  await engine.close();
  expect(warnings).toEqual([]);
  // The engine's Opus encoders and decoders (and the clients') are all freed.
  expect(liveOpusInstances()).toBe(opusBefore);
});

/** A second browser on its own agent line, saying `hz`. */
async function secondAgent(lineId: string, hz: number): Promise<BrowserLikeClient> {
  const other = new BrowserLikeClient(hz);
  others.push(other);
  await connectClient(engine, lineId, other);
  other.startSending();
  return other;
}

const rtpmaps = (sdp: string) => sdp.split(/\r?\n/).filter((line) => line.startsWith('a=rtpmap:'));

describe('an agent line and a virtual customer', () => {
  it('hear each other: the line speaks Opus, the customer PCMU, transcoded both ways', async () => {
    expect(client.codec).toBe('opus');
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    await sleep(1000);
    expect(energy(settled(client.heard()), CUSTOMER_HZ)).toBeGreaterThan(HEARD);
    expect(energy(settled(customer.heard()), AGENT_HZ)).toBeGreaterThan(HEARD);
    const stats = engine.stats();
    expect(stats.framesDecoded).toBeGreaterThan(80);
    expect(stats.framesEncoded).toBeGreaterThan(80);
  });

  it('answer with Opus and telephone-event when offered, loopback candidates only, candidates after the answer', async () => {
    const second = new BrowserLikeClient(AGENT_HZ);
    const order: string[] = [];
    engine.on('localCandidate', (event) => {
      if (event.lineId === 'agent-2') order.push(event.candidate === null ? 'end' : 'candidate');
    });
    const offer = await second.offer();
    const answer = engine.openAgentLine('agent-2', offer).then((result) => {
      order.push('answer');
      return result;
    });
    const { answerSdp } = await answer;
    await sleep(50);
    await second.close();
    expect(order[0]).toBe('answer');
    expect(order).toContain('end');
    // One audio codec, so the browser sends what the engine expects; keys in the same clock.
    expect(rtpmaps(answerSdp)).toEqual(['a=rtpmap:111 opus/48000/2', 'a=rtpmap:110 telephone-event/48000']);
    const candidates = answerSdp.split(/\r?\n/).filter((line) => line.startsWith('a=candidate:'));
    expect(candidates.length).toBeGreaterThan(0);
    for (const line of candidates) expect(line).toMatch(/ 127\.0\.0\.1 \d+ typ host/);
  });

  it('answer with PCMU when the offer has only PCMU, and the two lines then transcode to each other', async () => {
    const pcmu = new BrowserLikeClient(THIRD_HZ, { codecs: ['pcmu'] });
    others.push(pcmu);
    const offer = await pcmu.offer();
    expect(rtpmaps(offer)).toEqual(['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000']);
    await connectClient(engine, 'agent-2', pcmu);
    expect(pcmu.codec).toBe('pcmu');
    engine.bridge('agent-1', 'agent-2');
    pcmu.startSending();
    await sleep(300);
    pcmu.clearHeard();
    client.clearHeard();
    await sleep(1000);
    expect(energy(settled(pcmu.heard()), AGENT_HZ)).toBeGreaterThan(HEARD);
    expect(energy(settled(client.heard()), THIRD_HZ)).toBeGreaterThan(HEARD);
    expect(engine.stats().framesEncoded).toBeGreaterThan(80);
  });

  it('keep the payload types the browser chose, and keys in the audio’s clock when it offered that', async () => {
    const renumber = (sdp: string, from: number, to: number) =>
      sdp
        .replace(new RegExp(`^(m=audio .*) ${from}( |\r?$)`, 'm'), `$1 ${to}$2`)
        .replaceAll(`a=rtpmap:${from} `, `a=rtpmap:${to} `)
        .replaceAll(`a=fmtp:${from} `, `a=fmtp:${to} `);
    const other = new BrowserLikeClient(AGENT_HZ);
    // Other numbers than werift's own, as another browser might choose.
    const offer = renumber(renumber(await other.offer(), 111, 109), 110, 96);
    await other.close();
    const { answerSdp } = await engine.openAgentLine('agent-2', offer);
    expect(rtpmaps(answerSdp)).toEqual(['a=rtpmap:109 opus/48000/2', 'a=rtpmap:96 telephone-event/48000']);
    expect(answerSdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 109 96\r?$/m);
    // Chromium's PCMU-only offer numbers telephone-event/8000 126.
    const pcmu = new BrowserLikeClient(AGENT_HZ, { codecs: ['pcmu'] });
    const pcmuOffer = renumber(await pcmu.offer(), 101, 126);
    await pcmu.close();
    const pcmuAnswer = (await engine.openAgentLine('agent-3', pcmuOffer)).answerSdp;
    expect(rtpmaps(pcmuAnswer)).toEqual(['a=rtpmap:0 PCMU/8000', 'a=rtpmap:126 telephone-event/8000']);
  });

  it('refuses offers it cannot serve, leaving no line behind', async () => {
    await expect(engine.openAgentLine('bad-1', 'hello')).rejects.toMatchObject({ code: 'InvalidSdp' });
    const other = new BrowserLikeClient(AGENT_HZ, { codecs: ['pcmu'] });
    const offer = await other.offer();
    await other.close();
    const neither = offer
      .replace('m=audio 9 UDP/TLS/RTP/SAVPF 0 101', 'm=audio 9 UDP/TLS/RTP/SAVPF 101')
      .replace(/a=rtpmap:0 PCMU\/8000\r?\n/, '');
    await expect(engine.openAgentLine('bad-2', neither)).rejects.toMatchObject({ code: 'NoCommonCodec' });
    expect(engine.stats().endpoints).toBe(1);
  });

  it('answer with PCMU only when the operator forces G.711, and refuse an offer of Opus alone', async () => {
    const g711 = createWeriftMediaEngine({ announcedAddress: '127.0.0.1', codecs: ['pcmu'] });
    try {
      const browser = new BrowserLikeClient(AGENT_HZ);
      const { answerSdp } = await g711.openAgentLine('agent', await browser.offer());
      await browser.close();
      expect(rtpmaps(answerSdp)).toEqual(['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000']);
      const opusOnly = new BrowserLikeClient(AGENT_HZ, { codecs: ['opus'] });
      const offer = await opusOnly.offer();
      await opusOnly.close();
      await expect(g711.openAgentLine('opus-only', offer)).rejects.toMatchObject({ code: 'NoCommonCodec' });
      expect(() => createWeriftMediaEngine({ codecs: ['g729' as 'pcmu'] })).toThrow(/unknown codec g729/);
    } finally {
      await g711.close();
    }
  });
});

describe('two agent lines speaking Opus', () => {
  it('hear each other, relayed without decoding or encoding anything', async () => {
    const other = await secondAgent('agent-2', THIRD_HZ);
    expect(other.codec).toBe('opus');
    engine.bridge('agent-1', 'agent-2');
    await sleep(300);
    client.clearHeard();
    other.clearHeard();
    await sleep(1000);
    expect(energy(settled(client.heard()), THIRD_HZ)).toBeGreaterThan(HEARD);
    expect(energy(settled(other.heard()), AGENT_HZ)).toBeGreaterThan(HEARD);
    const stats = engine.stats();
    expect(stats.packetsRelayed).toBeGreaterThan(80);
    expect(stats.framesDecoded).toBe(0);
    expect(stats.framesEncoded).toBe(0);
  });
});

describe('hold and mute', () => {
  it('a held customer hears music and the agent hears nothing from them', async () => {
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    await sleep(300);
    engine.setHold('customer', true);
    await sleep(100);
    client.clearHeard();
    customer.clearHeard();
    await sleep(1200);
    expect(musicShare(customer.heard())).toBeGreaterThan(HEARD);
    expect(energy(customer.heard(), AGENT_HZ)).toBeLessThan(0.01);
    expect(client.received.length).toBe(0);

    engine.setHold('customer', false);
    client.clearHeard();
    await sleep(800);
    expect(energy(settled(client.heard()), CUSTOMER_HZ)).toBeGreaterThan(HEARD);
  });

  it('a held agent hears music and the customer hears nothing from them', async () => {
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    await sleep(300);
    engine.setHold('agent-1', true);
    await sleep(100);
    client.clearHeard();
    customer.clearHeard();
    await sleep(1200);
    expect(musicShare(settled(client.heard()))).toBeGreaterThan(HEARD);
    expect(energy(client.heard(), CUSTOMER_HZ)).toBeLessThan(0.01);
    expect(energy(settled(customer.heard()), AGENT_HZ)).toBeLessThan(0.01);
  });

  it('a muted agent is not heard by the customer, and still hears them', async () => {
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    await sleep(300);
    engine.setMute('agent-1', true);
    await sleep(100);
    client.clearHeard();
    customer.clearHeard();
    await sleep(800);
    expect(energy(settled(customer.heard()), AGENT_HZ)).toBeLessThan(0.01);
    expect(energy(settled(client.heard()), CUSTOMER_HZ)).toBeGreaterThan(HEARD);
    engine.setMute('agent-1', false);
    customer.clearHeard();
    await sleep(800);
    expect(energy(settled(customer.heard()), AGENT_HZ)).toBeGreaterThan(HEARD);
  });
});

describe('DTMF (RFC 4733) both ways', () => {
  it('reports the agent’s keys and passes them on to the customer', async () => {
    const dtmf = collect('dtmf');
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    client.sendDtmf('1#');
    await waitFor(() => dtmf.length === 2, 'two keys', 3000);
    expect(dtmf).toEqual([
      { endpointId: 'agent-1', digit: '1' },
      { endpointId: 'agent-1', digit: '#' },
    ]);
    await waitFor(() => customer.heardDigits() === '1#', 'keys relayed', 3000);
  });

  it('sends keys to the agent’s browser, from the engine and from the customer', async () => {
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    engine.sendDtmf('agent-1', '58');
    await waitFor(() => client.digits === '58', 'keys from the engine', 3000);
    customer.sendDtmf('9*');
    await waitFor(() => client.digits === '589*', 'keys from the customer', 3000);
  });
});

describe('DTMF with a browser that offers keys at 8 kHz only next to Opus (as Firefox does)', () => {
  it('answers Opus with telephone-event/8000, and keys go both ways with durations in the 8 kHz clock', async () => {
    const firefox = new BrowserLikeClient(AGENT_HZ, { codecs: ['opus'], telephoneEventClocks: [8000] });
    others.push(firefox);
    const answer = await connectClient(engine, 'agent-ff', firefox);
    expect(rtpmaps(answer)).toEqual(['a=rtpmap:111 opus/48000/2', 'a=rtpmap:101 telephone-event/8000']);
    firefox.startSending();
    const dtmf = collect('dtmf');
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-ff', 'customer');

    firefox.sendDtmf('3');
    await waitFor(() => dtmf.length === 1, 'the browser’s key', 3000);
    expect(dtmf).toEqual([{ endpointId: 'agent-ff', digit: '3' }]);
    await waitFor(() => customer.heardDigits() === '3', 'the key relayed to the customer', 3000);

    customer.sendDtmf('7');
    await waitFor(() => firefox.digits === '7', 'the customer’s key at the browser', 3000);
    // What the browser sent and what it got count in the same 8 kHz clock: the same order of magnitude, and well
    // under what 48 kHz ticks of the same key would be (six times more).
    const sent = Math.max(...firefox.sentKeyDurations);
    const received = Math.max(...firefox.receivedKeyDurations);
    expect(sent).toBeGreaterThan(0);
    expect(received).toBeGreaterThan(sent / 3);
    expect(received).toBeLessThan(sent * 3);
  });
});

describe('a conference of three', () => {
  it('lets the agent and two parties each hear the two others', async () => {
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    const supervisor = engine.createVirtualParty('supervisor', { prompt: { toneHz: THIRD_HZ } });
    engine.conference(['agent-1', 'customer', 'supervisor']);
    await sleep(300);
    client.clearHeard();
    customer.clearHeard();
    supervisor.clearHeard();
    await sleep(1000);
    const heardBy = { agent: client.heard(), customer: customer.heard(), supervisor: supervisor.heard() };
    expect(energy(heardBy.agent, CUSTOMER_HZ)).toBeGreaterThan(0.3);
    expect(energy(heardBy.agent, THIRD_HZ)).toBeGreaterThan(0.3);
    expect(energy(heardBy.agent, AGENT_HZ)).toBeLessThan(0.01);
    expect(energy(heardBy.customer, AGENT_HZ)).toBeGreaterThan(0.3);
    expect(energy(heardBy.customer, THIRD_HZ)).toBeGreaterThan(0.3);
    expect(energy(heardBy.supervisor, AGENT_HZ)).toBeGreaterThan(0.3);
    expect(energy(heardBy.supervisor, CUSTOMER_HZ)).toBeGreaterThan(0.3);
  });
});

describe('recording', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openhotline-media-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts the agent on the left channel and the customer on the right', async () => {
    engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    const path = join(dir, 'call.wav');
    const recording = await engine.startRecording('call-1', { left: 'agent-1', right: 'customer', path });
    await sleep(1500);
    const result = await recording.stop();
    expect(result.durationMs).toBeGreaterThan(1200);
    const wav = readWav(await readFile(path));
    expect(wav).toMatchObject({ sampleRate: 8000, channels: 2 });
    const left = wav.samples.filter((_, i) => i % 2 === 0);
    const right = wav.samples.filter((_, i) => i % 2 === 1);
    expect(energy(settled(left), AGENT_HZ)).toBeGreaterThan(HEARD);
    expect(energy(settled(right), CUSTOMER_HZ)).toBeGreaterThan(HEARD);
  });
});

describe('a line that lives across calls and networks', () => {
  it('keeps audio flowing through an ICE restart on the same line, bridge and all', async () => {
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    const states = collect('lineState');
    engine.bridge('agent-1', 'customer');
    await sleep(300);
    await connectClient(engine, 'agent-1', client, { iceRestart: true });
    client.clearHeard();
    customer.clearHeard();
    await sleep(1000);
    expect(energy(settled(client.heard()), CUSTOMER_HZ)).toBeGreaterThan(HEARD);
    expect(energy(settled(customer.heard()), AGENT_HZ)).toBeGreaterThan(HEARD);
    expect(engine.stats()).toMatchObject({ endpoints: 2, bridges: 1 });
    expect(states.filter((event) => event.state === 'closed')).toEqual([]);
  });

  it('takes a brand-new peer connection (a page reload) on the same line, bridge and all', async () => {
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    await sleep(300);
    await client.close();
    client = new BrowserLikeClient(THIRD_HZ);
    await connectClient(engine, 'agent-1', client);
    client.startSending();
    customer.clearHeard();
    await sleep(1000);
    expect(energy(settled(client.heard()), CUSTOMER_HZ)).toBeGreaterThan(HEARD);
    expect(energy(settled(customer.heard()), THIRD_HZ)).toBeGreaterThan(HEARD);
  });

  it('gives the browser one continuous RTP stream when the agent moves from one call to the next', async () => {
    engine.createVirtualParty('first', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.createVirtualParty('second', { prompt: { toneHz: THIRD_HZ } });
    const first = engine.bridge('agent-1', 'first');
    await sleep(500);
    first.close();
    engine.setHold('agent-1', true);
    await sleep(200);
    engine.setHold('agent-1', false);
    engine.bridge('agent-1', 'second');
    client.clearHeard();
    await sleep(800);
    expect(energy(settled(client.heard()), THIRD_HZ)).toBeGreaterThan(HEARD);

    const received = client.received;
    expect(new Set(received.map((packet) => packet.ssrc)).size).toBe(1);
    for (let i = 1; i < received.length; i++) {
      const step = (received[i]!.sequenceNumber - received[i - 1]!.sequenceNumber) & 0xffff;
      expect(step).toBe(1);
      expect((received[i]!.timestamp - received[i - 1]!.timestamp) | 0).toBeGreaterThanOrEqual(160);
    }
  });

  it('taps the agent’s voice as 20 ms frames, decoding only once someone listens', async () => {
    await secondAgent('agent-2', THIRD_HZ);
    engine.bridge('agent-1', 'agent-2');
    await sleep(300);
    expect(engine.stats().framesDecoded).toBe(0);
    const frames: Int16Array[] = [];
    const untap = engine.tap('agent-1', (pcm) => frames.push(pcm));
    await sleep(500);
    untap();
    expect(frames.length).toBeGreaterThan(15);
    expect(frames.every((frame) => frame.length === 160)).toBe(true);
    expect(toneEnergy(frames[frames.length - 1]!, 8000, AGENT_HZ)).toBeGreaterThan(0.8);
    expect(engine.stats().framesDecoded).toBe(frames.length);
  });

  it('closes the line on request and releases every socket on engine close', async () => {
    const states = collect('lineState');
    await engine.closeEndpoint('agent-1');
    expect(states).toEqual([{ lineId: 'agent-1', state: 'closed' }]);
    await client.close();
    await engine.close();
    // werift lets go of its UDP sockets a few milliseconds after close() resolves.
    await waitFor(() => !process.getActiveResourcesInfo().includes('UDPWrap'), 'UDP sockets closed', 2000);
  });
});
