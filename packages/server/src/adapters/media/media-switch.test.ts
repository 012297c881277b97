import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentLineHooks, AgentLineTransport } from './agent-line.js';
import { MUSIC_ON_HOLD_NOTES_HZ } from './audio-sources.js';
import type { AudioCodecName } from './codec.js';
import { decodeMulaw, encodeMulaw } from './g711.js';
import type { IceCandidateInit, MediaEngine, MediaEngineEvents, OpenAgentLineOptions } from './media-engine.js';
import { MediaSwitch } from './media-switch.js';
import { liveOpusInstances, OpusDecoder, OpusEncoder } from './opus.js';
import type { OutgoingPacket } from './outbound-stream.js';
import { DtmfSendQueue, decodeTelephoneEvent } from './rfc4733.js';
import { ManualMediaClock } from './test-support/manual-clock.js';
import { concatPcm, rms, sineWave, toneEnergy } from './tone.js';
import { readWav } from './wav.js';

/** One second of media clock. */
const SECOND = 50;

const energy = (pcm: Int16Array, hz: number) => toneEnergy(pcm, 8000, hz);
/**
 * How much of what was heard is the hold melody: per 100 ms window, the share of its strongest note, averaged. (One
 * Goertzel over the whole melody would not do: each note starts at phase 0, so its repeats do not add up coherently.)
 */
function musicShare(pcm: Int16Array): number {
  let total = 0;
  let windows = 0;
  for (let start = 0; start + 800 <= pcm.length; start += 800, windows++) {
    const window = pcm.subarray(start, start + 800);
    total += Math.max(...MUSIC_ON_HOLD_NOTES_HZ.map((hz) => energy(window, hz)));
  }
  return windows === 0 ? 0 : total / windows;
}
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

let clock: ManualMediaClock;
let engine: MediaEngine;
let lines: FakeLine[];

/** An agent line without WebRTC: records what the switch asks of it. Its codec is what a test says it negotiated. */
class FakeLine implements AgentLineTransport {
  codec: AudioCodecName = 'pcmu';
  readonly candidates: (IceCandidateInit | null)[] = [];
  readonly offers: string[] = [];
  readonly written: OutgoingPacket[] = [];
  release: (() => void) | undefined;
  fail = false;
  closed = false;

  constructor(
    readonly id: string,
    readonly hooks: AgentLineHooks,
  ) {}

  async negotiate(offerSdp: string, _options: OpenAgentLineOptions): Promise<string> {
    this.offers.push(offerSdp);
    await new Promise<void>((resolve) => {
      this.release = resolve;
    });
    if (this.fail) throw new Error('refused');
    return `answer to ${offerSdp}`;
  }

  addRemoteCandidate(candidate: IceCandidateInit | null): void {
    this.candidates.push(candidate);
  }

  write(packet: OutgoingPacket): void {
    this.written.push(packet);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

beforeEach(() => {
  clock = new ManualMediaClock();
  lines = [];
  engine = new MediaSwitch({
    clock,
    lines: (id, hooks) => {
      const line = new FakeLine(id, hooks);
      lines.push(line);
      return line;
    },
  });
});

afterEach(async () => {
  await engine.close();
});

function collect<E extends keyof MediaEngineEvents>(event: E): MediaEngineEvents[E][] {
  const seen: MediaEngineEvents[E][] = [];
  engine.on(event, (payload) => seen.push(payload));
  return seen;
}

describe('two parties in a bridge', () => {
  it('hear each other, and the relay decodes nothing', () => {
    const alice = engine.createVirtualParty('alice', { prompt: { toneHz: 440 } });
    const bob = engine.createVirtualParty('bob', { prompt: { toneHz: 1000 } });
    engine.bridge('alice', 'bob');
    clock.tick(SECOND);
    expect(energy(alice.heard().subarray(800), 1000)).toBeGreaterThan(0.9);
    expect(energy(bob.heard().subarray(800), 440)).toBeGreaterThan(0.9);
    expect(engine.stats()).toMatchObject({ bridges: 1, packetsIn: 100, packetsRelayed: 100, framesDecoded: 0 });
  });

  it('hear nothing once the bridge is closed, and can be bridged to someone else', () => {
    const alice = engine.createVirtualParty('alice', { prompt: { toneHz: 440 } });
    engine.createVirtualParty('bob', { prompt: { toneHz: 1000 } });
    engine.createVirtualParty('carol', { prompt: { toneHz: 1400 } });
    const bridge = engine.bridge('alice', 'bob');
    clock.tick(SECOND);
    bridge.close();
    bridge.close();
    alice.clearHeard();
    clock.tick(SECOND);
    // What was already in its jitter buffer (two frames) plays out, then silence.
    expect(rms(alice.heard().subarray(800))).toBe(0);
    engine.bridge('alice', 'carol');
    alice.clearHeard();
    clock.tick(SECOND);
    expect(energy(alice.heard().subarray(800), 1400)).toBeGreaterThan(0.9);
  });

  it('play a prompt once when it does not loop', () => {
    const alice = engine.createVirtualParty('alice', { prompt: { toneHz: 440 } });
    engine.createVirtualParty('bob', { prompt: new Int16Array(800).fill(8000), loop: false });
    engine.bridge('alice', 'bob');
    clock.tick(SECOND);
    expect(engine.stats().packetsIn).toBe(SECOND + 5);
    expect(rms(alice.heard().subarray(4000))).toBe(0);
  });
});

describe('hold', () => {
  it('gives the held party music and keeps its voice from the other', () => {
    const agent = engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent', 'customer');
    clock.tick(SECOND);
    engine.setHold('customer', true);
    agent.clearHeard();
    customer.clearHeard();
    clock.tick(3 * SECOND);
    expect(musicShare(customer.heard())).toBeGreaterThan(0.7);
    expect(energy(customer.heard(), 440)).toBeLessThan(0.01);
    expect(rms(agent.heard().subarray(800))).toBe(0);

    engine.setHold('customer', false);
    agent.clearHeard();
    customer.clearHeard();
    clock.tick(SECOND);
    expect(energy(agent.heard().subarray(800), 1000)).toBeGreaterThan(0.9);
    expect(energy(customer.heard().subarray(800), 440)).toBeGreaterThan(0.9);
  });

  it('plays music to a held party that is in no bridge (while the agent consults someone else)', () => {
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.setHold('customer', true);
    clock.tick(3 * SECOND);
    expect(musicShare(customer.heard())).toBeGreaterThan(0.7);
  });
});

describe('mute', () => {
  it('stops what the muted party says from reaching the other, who still talks to it', () => {
    const agent = engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent', 'customer');
    engine.setMute('agent', true);
    clock.tick(SECOND);
    expect(rms(customer.heard())).toBe(0);
    expect(energy(agent.heard().subarray(800), 1000)).toBeGreaterThan(0.9);
    engine.setMute('agent', false);
    customer.clearHeard();
    clock.tick(SECOND);
    expect(energy(customer.heard().subarray(800), 440)).toBeGreaterThan(0.9);
  });
});

describe('waiting audio', () => {
  it('plays ringback (425 Hz, 1 s on, 4 s off) until the endpoint is bridged', () => {
    const agent = engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.setWaitingAudio('agent', 'ringback');
    clock.tick(5 * SECOND);
    const heard = agent.heard();
    expect(energy(heard.subarray(800, 8000), 425)).toBeGreaterThan(0.9);
    expect(rms(heard.subarray(9600, 40_000))).toBe(0);
    engine.bridge('agent', 'customer');
    agent.clearHeard();
    clock.tick(SECOND);
    expect(energy(agent.heard().subarray(800), 1000)).toBeGreaterThan(0.9);
  });

  it('can be music, and is refused when it is something else', () => {
    const agent = engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    engine.setWaitingAudio('agent', 'music');
    clock.tick(3 * SECOND);
    expect(musicShare(agent.heard())).toBeGreaterThan(0.7);
    expect(() => engine.setWaitingAudio('agent', 'jazz' as 'music')).toThrow(/none, ringback or music/);
  });
});

describe('a conference of three', () => {
  const tones = { agent: 440, customer: 1000, supervisor: 1400 } as const;

  it('lets each hear the two others and not itself', () => {
    const parties = Object.entries(tones).map(([id, toneHz]) => engine.createVirtualParty(id, { prompt: { toneHz } }));
    const conference = engine.conference(Object.keys(tones));
    expect(conference.participants()).toEqual(['agent', 'customer', 'supervisor']);
    clock.tick(SECOND);
    for (const party of parties) {
      const heard = party.heard().subarray(1600);
      const own = tones[party.id as keyof typeof tones];
      for (const hz of Object.values(tones)) {
        if (hz === own) expect(energy(heard, hz)).toBeLessThan(0.01);
        else expect(energy(heard, hz)).toBeGreaterThan(0.4);
      }
    }
    expect(engine.stats().framesEncoded).toBeGreaterThan(0);
    expect(engine.stats().framesDecoded).toBeGreaterThan(0);
  });

  it('goes on without a participant who leaves, and plays music to one on hold', () => {
    const agent = engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    const supervisor = engine.createVirtualParty('supervisor', { prompt: { toneHz: 1400 } });
    const conference = engine.conference(['agent', 'customer', 'supervisor']);
    clock.tick(SECOND);
    conference.remove('supervisor');
    engine.setHold('customer', true);
    agent.clearHeard();
    customer.clearHeard();
    supervisor.clearHeard();
    clock.tick(3 * SECOND);
    expect(rms(agent.heard().subarray(1600))).toBe(0);
    expect(musicShare(customer.heard())).toBeGreaterThan(0.7);
    expect(rms(supervisor.heard().subarray(1600))).toBe(0);
    conference.add('supervisor');
    engine.setHold('customer', false);
    agent.clearHeard();
    clock.tick(SECOND);
    expect(energy(agent.heard().subarray(1600), 1000)).toBeGreaterThan(0.4);
    expect(energy(agent.heard().subarray(1600), 1400)).toBeGreaterThan(0.4);
    conference.close();
    expect(engine.stats().conferences).toBe(0);
    engine.bridge('agent', 'customer');
  });

  it('is refused for busy, unknown or repeated endpoints, leaving nothing half-joined', () => {
    for (const id of ['a', 'b', 'c']) engine.createVirtualParty(id, { prompt: { toneHz: 440 } });
    engine.bridge('a', 'b');
    expect(() => engine.conference(['c', 'a'])).toThrow(expect.objectContaining({ code: 'EndpointBusy' }));
    expect(() => engine.conference(['c', 'x'])).toThrow(expect.objectContaining({ code: 'UnknownEndpoint' }));
    expect(() => engine.conference(['c', 'c'])).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => engine.conference(['c'])).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(engine.stats().conferences).toBe(0);
    engine.bridge('c', engine.createVirtualParty('d', { prompt: { toneHz: 440 } }).id);
  });
});

describe('DTMF', () => {
  it('reports a party’s keys as events and relays them to the bridged party', () => {
    const dtmf = collect('dtmf');
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    const agent = engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    engine.bridge('agent', 'customer');
    customer.sendDtmf('1#');
    clock.tick(SECOND);
    expect(dtmf).toEqual([
      { endpointId: 'customer', digit: '1' },
      { endpointId: 'customer', digit: '#' },
    ]);
    expect(agent.heardDigits()).toBe('1#');
  });

  it('sends keys to an endpoint, silencing its other audio meanwhile', () => {
    engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent', 'customer');
    clock.tick(SECOND);
    customer.clearHeard();
    engine.sendDtmf('customer', '42');
    engine.sendDtmf('customer', '*');
    clock.tick(SECOND);
    expect(customer.heardDigits()).toBe('42*');
    // Three keys take 27 ticks (4320 samples); the agent's voice is held back meanwhile and comes back after.
    const heard = customer.heard();
    expect(rms(heard.subarray(480, 4000))).toBe(0);
    expect(energy(heard.subarray(5600), 440)).toBeGreaterThan(0.9);
    expect(() => engine.sendDtmf('customer', '4x')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });

  it('still reports the keys of a held party but relays nothing from it', () => {
    const dtmf = collect('dtmf');
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    const agent = engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    engine.bridge('agent', 'customer');
    engine.setHold('customer', true);
    customer.sendDtmf('5');
    clock.tick(SECOND);
    expect(dtmf.map((event) => event.digit)).toEqual(['5']);
    expect(agent.heardDigits()).toBe('');
  });
});

describe('recording', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openhotline-rec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the agent on the left channel and the customer on the right', async () => {
    engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent', 'customer');
    const path = join(dir, 'call.wav');
    const recording = await engine.startRecording('call-1', { left: 'agent', right: 'customer', path });
    await expect(engine.startRecording('call-1', { left: 'agent', right: 'customer', path })).rejects.toMatchObject({
      code: 'RecordingExists',
    });
    clock.tick(2 * SECOND);
    const result = await recording.stop();
    expect(await recording.stop()).toBe(result);
    expect(result).toEqual({ path, durationMs: 2000, bytes: 44 + 2 * 2 * 16_000 });
    const wav = readWav(await readFile(path));
    expect(wav).toMatchObject({ sampleRate: 8000, channels: 2 });
    const left = wav.samples.filter((_, i) => i % 2 === 0).subarray(800);
    const right = wav.samples.filter((_, i) => i % 2 === 1).subarray(800);
    expect(energy(left, 440)).toBeGreaterThan(0.9);
    expect(energy(right, 1000)).toBeGreaterThan(0.9);
    expect(engine.stats().recordings).toBe(0);
  });

  it('keeps going with silence on the channel of an endpoint that hung up', async () => {
    engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent', 'customer');
    const path = join(dir, 'hangup.wav');
    const recording = await engine.startRecording('call-2', { left: 'agent', right: 'customer', path });
    clock.tick(SECOND);
    await engine.closeEndpoint('customer');
    clock.tick(SECOND);
    await recording.stop();
    const wav = readWav(await readFile(path));
    const right = wav.samples.filter((_, i) => i % 2 === 1);
    expect(energy(right.subarray(800, 8000), 1000)).toBeGreaterThan(0.9);
    expect(rms(right.subarray(9600))).toBe(0);
  });

  it('is finished by engine close, and refuses a file it cannot create', async () => {
    engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    await expect(
      engine.startRecording('bad', { left: 'agent', right: 'customer', path: join(dir, 'no', 'such', 'dir.wav') }),
    ).rejects.toMatchObject({ code: 'RecordingFailed' });
    const path = join(dir, 'closed.wav');
    await engine.startRecording('call-3', { left: 'agent', right: 'customer', path });
    clock.tick(SECOND);
    await engine.close();
    expect(readWav(await readFile(path)).samples.length).toBe(2 * 8000);
  });
});

describe('taps', () => {
  it('deliver what an endpoint says as 20 ms PCM frames, until removed', () => {
    const frames: Int16Array[] = [];
    engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    const untap = engine.tap('customer', (pcm) => frames.push(pcm));
    clock.tick(SECOND);
    expect(frames).toHaveLength(SECOND);
    expect(frames.every((frame) => frame.length === 160)).toBe(true);
    const joined = new Int16Array(frames.length * 160);
    frames.forEach((frame, i) => {
      joined.set(frame, i * 160);
    });
    expect(energy(joined, 1000)).toBeGreaterThan(0.9);
    untap();
    clock.tick(SECOND);
    expect(frames).toHaveLength(SECOND);
  });

  it('say nothing while the endpoint is muted, and a failing tap only raises a warning', () => {
    const warnings = collect('warning');
    const frames: Int16Array[] = [];
    engine.createVirtualParty('agent', { prompt: { toneHz: 440 } });
    engine.tap('agent', (pcm) => frames.push(pcm));
    engine.tap('agent', () => {
      throw new Error('speech engine down');
    });
    engine.setMute('agent', true);
    clock.tick(10);
    expect(frames).toHaveLength(0);
    engine.setMute('agent', false);
    clock.tick(1);
    expect(frames).toHaveLength(1);
    expect(warnings).toEqual([{ endpointId: 'agent', code: 'TapFailed', message: 'Error: speech engine down' }]);
  });
});

describe('endpoints and errors', () => {
  it('names what is wrong with a stable code', () => {
    engine.createVirtualParty('a', { prompt: { toneHz: 440 } });
    engine.createVirtualParty('b', { prompt: { toneHz: 440 } });
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code: string }).code;
      }
      return 'no error';
    };
    expect(code(() => engine.createVirtualParty('a', { prompt: { toneHz: 440 } }))).toBe('EndpointExists');
    expect(code(() => engine.createVirtualParty('c', { prompt: { toneHz: 5000 } }))).toBe('InvalidArgument');
    expect(code(() => engine.createVirtualParty('c', { prompt: new Int16Array(0) }))).toBe('InvalidArgument');
    expect(code(() => engine.createVirtualParty('', { prompt: { toneHz: 440 } }))).toBe('InvalidArgument');
    expect(code(() => engine.bridge('a', 'a'))).toBe('InvalidArgument');
    expect(code(() => engine.bridge('a', 'zz'))).toBe('UnknownEndpoint');
    expect(code(() => engine.setHold('zz', true))).toBe('UnknownEndpoint');
    engine.bridge('a', 'b');
    expect(code(() => engine.bridge('b', 'a'))).toBe('EndpointBusy');
    expect(code(() => engine.addRemoteCandidate('a', { candidate: 'x' }))).toBe('EndpointExists');
  });

  it('closing an endpoint closes its bridge and ignores ids it does not know', async () => {
    engine.createVirtualParty('a', { prompt: { toneHz: 440 } });
    engine.createVirtualParty('b', { prompt: { toneHz: 440 } });
    engine.bridge('a', 'b');
    await engine.closeEndpoint('a');
    await engine.closeEndpoint('a');
    expect(engine.stats()).toMatchObject({ endpoints: 1, bridges: 0 });
    engine.createVirtualParty('a', { prompt: { toneHz: 440 } });
    engine.bridge('a', 'b');
  });

  it('stops its clock on close and refuses further work', async () => {
    await engine.close();
    expect(clock.running).toBe(false);
    expect(() => engine.createVirtualParty('a', { prompt: { toneHz: 440 } })).toThrow(
      expect.objectContaining({ code: 'EngineClosed' }),
    );
    expect(() => engine.openAgentLine('line', 'v=0')).toThrow(expect.objectContaining({ code: 'EngineClosed' }));
    await engine.close();
  });
});

describe('agent lines, as the switch drives them', () => {
  it('buffers candidates that come before the offer and hands them to the new line', async () => {
    engine.addRemoteCandidate('line-1', { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host' });
    engine.addRemoteCandidate('line-1', null);
    const answered = engine.openAgentLine('line-1', 'offer-1');
    await nextTurn();
    expect(lines[0]!.candidates).toEqual([{ candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host' }, null]);
    lines[0]!.release!();
    expect(await answered).toEqual({ answerSdp: 'answer to offer-1' });
  });

  it('handles one offer at a time per line and keeps the line across renegotiations', async () => {
    const first = engine.openAgentLine('line-1', 'offer-1');
    const second = engine.openAgentLine('line-1', 'offer-2', { iceRestart: true });
    await nextTurn();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.offers).toEqual(['offer-1']);
    lines[0]!.release!();
    await first;
    await nextTurn();
    expect(lines[0]!.offers).toEqual(['offer-1', 'offer-2']);
    lines[0]!.release!();
    expect(await second).toEqual({ answerSdp: 'answer to offer-2' });
  });

  it('does not keep a new line whose offer failed', async () => {
    const answered = engine.openAgentLine('line-1', 'offer-1');
    await nextTurn();
    lines[0]!.fail = true;
    lines[0]!.release!();
    await expect(answered).rejects.toThrow('refused');
    expect(lines[0]!.closed).toBe(true);
    expect(engine.stats().endpoints).toBe(0);
  });

  it('reports line events and relays the line’s audio like any endpoint’s', async () => {
    const states = collect('lineState');
    const candidates = collect('localCandidate');
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    const answered = engine.openAgentLine('line-1', 'offer-1');
    await nextTurn();
    const line = lines[0]!;
    line.release!();
    await answered;
    line.hooks.state('connected');
    line.hooks.localCandidate(null);
    engine.bridge('line-1', 'customer');
    clock.tick(SECOND);
    expect(line.written.length).toBe(SECOND);
    for (let i = 0; i < 2 * SECOND; i++) {
      line.hooks.packet({
        kind: 'audio',
        codec: 'pcmu',
        ssrc: 7,
        timestamp: i * 160,
        marker: false,
        payload: Buffer.alloc(160, 0xff),
      });
    }
    expect(engine.stats().packetsRelayed).toBeGreaterThanOrEqual(3 * SECOND);
    await engine.closeEndpoint('line-1');
    expect(line.closed).toBe(true);
    expect(states).toEqual([
      { lineId: 'line-1', state: 'connected' },
      { lineId: 'line-1', state: 'closed' },
    ]);
    expect(candidates).toEqual([{ lineId: 'line-1', candidate: null }]);
    expect(customer.heard().length).toBe(SECOND * 160);
  });

  it('refuses an agent line on the id of a virtual party', () => {
    engine.createVirtualParty('x', { prompt: { toneHz: 440 } });
    expect(() => engine.openAgentLine('x', 'offer')).toThrow(expect.objectContaining({ code: 'EndpointExists' }));
  });
});

// ---- Opus -------------------------------------------------------------------------------------------------------

/** Opens a fake agent line that negotiated `codec`. */
async function openLine(id: string, codec: AudioCodecName): Promise<FakeLine> {
  const answered = engine.openAgentLine(id, `offer for ${id}`);
  await nextTurn();
  const line = lines.find((candidate) => candidate.id === id)!;
  line.codec = codec;
  line.release!();
  await answered;
  return line;
}

/**
 * A browser on a fake line: says a tone as one RTP packet per tick in the line's codec (Opus: its own encoder, 960
 * ticks a packet), and can press keys as telephone-event/48000 or /8000. `say()` is called before each tick.
 */
class FakeBrowser {
  readonly encoder = new OpusEncoder();
  private readonly tone: Int16Array;
  private frame = 0;
  private timestamp = 123_456;
  private readonly keys = new DtmfSendQueue();
  readonly sent: Buffer[] = [];

  constructor(
    readonly line: FakeLine,
    hz: number,
    readonly ssrc = 42,
  ) {
    this.tone = sineWave(hz, 8000, 8000, 0.3);
  }

  say(): void {
    const codec = this.line.codec;
    const ticks = codec === 'opus' ? 960 : 160;
    const now = this.timestamp;
    this.timestamp = (this.timestamp + ticks) >>> 0;
    const key = this.keys.next(now, ticks);
    if (key) {
      if (key.packet) this.line.hooks.packet({ kind: 'dtmf', codec, ssrc: this.ssrc, ...key.packet });
      return;
    }
    const start = (this.frame++ % 50) * 160;
    const pcm = this.tone.subarray(start, start + 160);
    const payload = codec === 'opus' ? this.encoder.encode(pcm) : encodeMulaw(pcm);
    this.sent.push(payload);
    this.line.hooks.packet({ kind: 'audio', codec, ssrc: this.ssrc, timestamp: now, marker: false, payload });
  }

  pressKeys(digits: string): void {
    this.keys.enqueue(digits);
  }

  close(): void {
    this.encoder.delete();
  }
}

/** Moves the clock `ticks` times, each browser saying its packet first (as real browsers keep sending). */
function run(ticks: number, browsers: readonly FakeBrowser[]): void {
  for (let i = 0; i < ticks; i++) {
    for (const browser of browsers) browser.say();
    clock.tick();
  }
}

/** What a fake line was sent: its audio decoded to 8 kHz PCM with a decoder of its own, as a browser would. */
function heardOn(line: FakeLine, from = 0): Int16Array {
  const audio = line.written.slice(from).filter((packet) => packet.kind === 'audio');
  const decoder = new OpusDecoder();
  try {
    return concatPcm(
      audio.map((packet) => (packet.codec === 'opus' ? decoder.decode(packet.payload) : decodeMulaw(packet.payload))),
    );
  } finally {
    decoder.delete();
  }
}

/** Timestamp steps between consecutive packets written to a line. */
function steps(packets: readonly OutgoingPacket[]): number[] {
  return packets.slice(1).map((packet, i) => (packet.timestamp - packets[i]!.timestamp) >>> 0);
}

describe('Opus agent lines', () => {
  let browsers: FakeBrowser[];
  let baseline: number;
  beforeEach(() => {
    browsers = [];
    baseline = liveOpusInstances();
  });
  afterEach(async () => {
    for (const browser of browsers) browser.close();
    await engine.close();
    // Every encoder and decoder the engine made is freed once its endpoints are gone.
    expect(liveOpusInstances()).toBe(baseline);
  });
  const browser = (line: FakeLine, hz: number) => {
    const made = new FakeBrowser(line, hz);
    browsers.push(made);
    return made;
  };

  it('relay Opus to Opus as it came: the exact payload bytes, 960-tick steps, nothing decoded or encoded', async () => {
    const a = browser(await openLine('agent-a', 'opus'), 440);
    const b = browser(await openLine('agent-b', 'opus'), 1000);
    engine.bridge('agent-a', 'agent-b');
    run(SECOND, [a, b]);
    const toB = b.line.written;
    expect(toB).toHaveLength(SECOND);
    // The very Buffer objects a sent: not a copy, not a re-encode.
    toB.forEach((packet, i) => {
      expect(packet.codec).toBe('opus');
      expect(packet.payload).toBe(a.sent[i]);
    });
    expect(steps(toB).every((step) => step === 960)).toBe(true);
    expect(energy(heardOn(b.line).subarray(1600), 440)).toBeGreaterThan(0.9);
    expect(energy(heardOn(a.line).subarray(1600), 1000)).toBeGreaterThan(0.9);
    expect(engine.stats()).toMatchObject({ packetsRelayed: 2 * SECOND, framesDecoded: 0, framesEncoded: 0 });
  });

  it('transcode between an Opus line and a PCMU party, both ways, and each hears the other', async () => {
    const agent = browser(await openLine('agent', 'opus'), 440);
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent', 'customer');
    run(SECOND, [agent]);
    const toAgent = agent.line.written;
    expect(toAgent.length).toBe(SECOND);
    expect(toAgent.every((packet) => packet.codec === 'opus' && packet.payload.length < 160)).toBe(true);
    expect(steps(toAgent).every((step) => step === 960)).toBe(true);
    expect(energy(heardOn(agent.line).subarray(1600), 1000)).toBeGreaterThan(0.9);
    expect(energy(customer.heard().subarray(1600), 440)).toBeGreaterThan(0.9);
    // One decode and one encode per packet each way; nothing went through untouched.
    expect(engine.stats()).toMatchObject({
      packetsRelayed: 0,
      framesDecoded: 2 * SECOND,
      framesEncoded: 2 * SECOND,
    });
  });

  it('share one decode between the transcode and the PCM consumers, and hand them 8 kHz frames', async () => {
    const agent = browser(await openLine('agent', 'opus'), 440);
    engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent', 'customer');
    const frames: Int16Array[] = [];
    engine.tap('agent', (pcm) => frames.push(pcm));
    run(SECOND, [agent]);
    expect(frames).toHaveLength(SECOND);
    expect(frames.every((frame) => frame.length === 160)).toBe(true);
    expect(energy(frames.at(-1)!, 440)).toBeGreaterThan(0.9);
    expect(engine.stats().framesDecoded).toBe(2 * SECOND);
  });

  it('conceal a lost Opus packet for the PCM consumers, and drop a late one', async () => {
    const line = await openLine('agent', 'opus');
    const frames: Int16Array[] = [];
    engine.tap('agent', (pcm) => frames.push(pcm));
    const encoder = new OpusEncoder();
    try {
      const tone = sineWave(440, 8000, 8000, 0.3);
      const packet = (n: number) => ({
        kind: 'audio' as const,
        codec: 'opus' as const,
        ssrc: 9,
        timestamp: n * 960,
        marker: false,
        payload: encoder.encode(tone.subarray((n % 50) * 160, (n % 50) * 160 + 160)),
      });
      const sent = Array.from({ length: 12 }, (_, n) => packet(n));
      for (const n of [0, 1, 2, 3, 5, 6, 7]) line.hooks.packet(sent[n]!);
      expect(frames).toHaveLength(8);
      line.hooks.packet(sent[4]!);
      expect(frames).toHaveLength(8);
      expect(engine.stats().framesDecoded).toBe(8);
    } finally {
      encoder.delete();
    }
  });

  it('play hold music and ringback to an Opus line as Opus, 960 ticks a frame', async () => {
    const line = await openLine('agent', 'opus');
    engine.setWaitingAudio('agent', 'ringback');
    clock.tick(SECOND);
    const ringback = line.written.slice();
    expect(ringback).toHaveLength(SECOND);
    expect(ringback.every((packet) => packet.codec === 'opus')).toBe(true);
    expect(steps(ringback).every((step) => step === 960)).toBe(true);
    expect(energy(heardOn(line).subarray(1600), 425)).toBeGreaterThan(0.9);

    engine.setWaitingAudio('agent', 'none');
    engine.setHold('agent', true);
    const before = line.written.length;
    clock.tick(3 * SECOND);
    const music = line.written.slice(before);
    expect(steps(music).every((step) => step === 960)).toBe(true);
    expect(musicShare(heardOn(line, before))).toBeGreaterThan(0.7);
    // Pre-encoded once and shared: playing them encodes nothing.
    expect(engine.stats().framesEncoded).toBe(0);
    // One continuous stream across the change: consecutive sequence numbers, marker on the new source.
    const all = line.written;
    for (let i = 1; i < all.length; i++) expect(all[i]!.sequenceNumber).toBe((all[i - 1]!.sequenceNumber + 1) & 0xffff);
    expect(all[before]!.marker).toBe(true);
  });

  it('mix a conference of two Opus lines and a PCMU party, each in its own codec', async () => {
    const a = browser(await openLine('agent-a', 'opus'), 440);
    const b = browser(await openLine('agent-b', 'opus'), 700);
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.conference(['agent-a', 'agent-b', 'customer']);
    run(2 * SECOND, [a, b]);
    const heardByA = heardOn(a.line).subarray(4000);
    const heardByB = heardOn(b.line).subarray(4000);
    const heardByCustomer = customer.heard().subarray(4000);
    expect(a.line.written.every((packet) => packet.codec === 'opus')).toBe(true);
    expect(energy(heardByA, 700)).toBeGreaterThan(0.3);
    expect(energy(heardByA, 1000)).toBeGreaterThan(0.3);
    expect(energy(heardByA, 440)).toBeLessThan(0.02);
    expect(energy(heardByB, 440)).toBeGreaterThan(0.3);
    expect(energy(heardByB, 1000)).toBeGreaterThan(0.3);
    expect(energy(heardByB, 700)).toBeLessThan(0.02);
    expect(energy(heardByCustomer, 440)).toBeGreaterThan(0.3);
    expect(energy(heardByCustomer, 700)).toBeGreaterThan(0.3);
    expect(steps(a.line.written.slice(5)).every((step) => step === 960)).toBe(true);
  });

  it('record an Opus leg: its voice on its channel, as 8 kHz PCM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openhotline-opus-rec-'));
    try {
      const agent = browser(await openLine('agent', 'opus'), 440);
      engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
      engine.bridge('agent', 'customer');
      const path = join(dir, 'call.wav');
      const recording = await engine.startRecording('call', { left: 'agent', right: 'customer', path });
      run(2 * SECOND, [agent]);
      await recording.stop();
      const wav = readWav(await readFile(path));
      expect(wav).toMatchObject({ sampleRate: 8000, channels: 2 });
      const left = wav.samples.filter((_, i) => i % 2 === 0).subarray(1600);
      const right = wav.samples.filter((_, i) => i % 2 === 1).subarray(1600);
      expect(energy(left, 440)).toBeGreaterThan(0.9);
      expect(energy(right, 1000)).toBeGreaterThan(0.9);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('send keys to an Opus line as telephone-event in its 48 kHz clock', async () => {
    const line = await openLine('agent', 'opus');
    engine.sendDtmf('agent', '7');
    clock.tick(SECOND);
    const events = line.written.filter((packet) => packet.kind === 'dtmf');
    expect(events).toHaveLength(7);
    expect(events.every((packet) => packet.codec === 'opus')).toBe(true);
    expect(events.map((packet) => decodeTelephoneEvent(packet.payload)!.duration)).toEqual([
      960, 1920, 2880, 3840, 4800, 4800, 4800,
    ]);
    expect(new Set(events.map((packet) => packet.timestamp)).size).toBe(1);
  });

  it('report an Opus line’s keys (telephone-event/48000) and pass them on to a PCMU party', async () => {
    const dtmf = collect('dtmf');
    const agent = browser(await openLine('agent', 'opus'), 440);
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent', 'customer');
    agent.pressKeys('3#');
    run(SECOND, [agent]);
    expect(dtmf).toEqual([
      { endpointId: 'agent', digit: '3' },
      { endpointId: 'agent', digit: '#' },
    ]);
    expect(customer.heardDigits()).toBe('3#');
  });

  it('move relayed keys into the receiver’s clock: durations ÷ 6 from an Opus line to a PCMU line', async () => {
    const agent = browser(await openLine('agent', 'opus'), 440);
    const other = await openLine('pcmu-line', 'pcmu');
    engine.bridge('agent', 'pcmu-line');
    agent.pressKeys('9');
    run(SECOND, [agent]);
    const events = other.written.filter((packet) => packet.kind === 'dtmf');
    expect(events.every((packet) => packet.codec === 'pcmu')).toBe(true);
    expect(events.map((packet) => decodeTelephoneEvent(packet.payload)!.duration)).toEqual([
      160, 320, 480, 640, 800, 800, 800,
    ]);
    expect(new Set(events.map((packet) => packet.timestamp)).size).toBe(1);
    // The audio around the keys is μ-law in 160-tick steps, one stream.
    const audio = other.written.filter((packet) => packet.kind === 'audio');
    expect(audio.every((packet) => packet.codec === 'pcmu' && packet.payload.length === 160)).toBe(true);
    expect(energy(heardOn(other).subarray(1600), 440)).toBeGreaterThan(0.8);
  });

  it('free the Opus encoders and decoders of endpoints closed in a loop', async () => {
    const party = engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    for (let i = 0; i < 30; i++) {
      const agent = browser(await openLine(`agent-${i}`, 'opus'), 440);
      engine.bridge(agent.line.id, party.id);
      engine.tap(agent.line.id, () => undefined);
      run(3, [agent]);
      // A decoder for the agent's voice and an encoder for what it hears (the engine's own, not the test's).
      expect(liveOpusInstances()).toBe(baseline + browsers.length + 2);
      await engine.closeEndpoint(agent.line.id);
      expect(liveOpusInstances()).toBe(baseline + browsers.length);
    }
  });
});
