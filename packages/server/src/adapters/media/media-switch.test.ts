import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MUSIC_ON_HOLD_NOTES_HZ } from './audio-sources.js';
import type { IceCandidateInit, MediaEngine, MediaEngineEvents, OpenAgentLineOptions } from './media-engine.js';
import { type AgentLineHooks, type AgentLineTransport, MediaSwitch } from './media-switch.js';
import type { OutgoingPacket } from './outbound-stream.js';
import { ManualMediaClock } from './test-support/manual-clock.js';
import { rms, toneEnergy } from './tone.js';
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

/** An agent line without WebRTC: records what the switch asks of it. */
class FakeLine implements AgentLineTransport {
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
