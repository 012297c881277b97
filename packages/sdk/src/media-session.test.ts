import { AgentBarStatus as S, EnumWSEventType as W } from '@openhotline/protocol';
import * as esbuild from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CORE } from '../build.mjs';
import type { CallQuality } from './call-quality';
import {
  createMediaSession,
  type MediaEnvironment,
  MediaFailure,
  type MediaHost,
  type MediaSession,
  QUALITY_INTERVAL_MS,
  serverCodecsFirst,
} from './media-session';
import { SoftPhone } from './softphone';
import { collect, FakeSocket, flush, makePhone, notify } from './test-support/fakes';

// The media session against a scripted browser (peer connection, microphone, <audio>, Web Audio), in Node. What
// it sends and how it reacts; headless Chromium against the real server is e2e/audio.test.ts.

// ------------------------------------------------------------------ a scripted browser

class FakeTrack {
  stopped = false;
  onended: (() => void) | null = null;
  constructor(readonly deviceId: string) {}
  stop() {
    this.stopped = true;
  }
  getSettings() {
    return { deviceId: this.deviceId };
  }
}

class FakeSender {
  readonly tracks: (FakeTrack | null)[] = [];
  async replaceTrack(track: FakeTrack | null) {
    this.tracks.push(track);
  }
}

class FakeTransceiver {
  readonly sender = new FakeSender();
  codecs: { mimeType: string; clockRate: number }[] | undefined;
  constructor(readonly direction: string) {}
  setCodecPreferences(codecs: { mimeType: string; clockRate: number }[]) {
    this.codecs = codecs;
  }
}

class FakePeerConnection {
  static readonly all: FakePeerConnection[] = [];
  readonly transceivers: FakeTransceiver[] = [];
  readonly candidates: unknown[] = [];
  readonly remote: string[] = [];
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  signalingState = 'stable';
  iceConnectionState = 'new';
  iceRestarts = 0;
  closed = false;
  stats: Record<string, unknown>[] = [];
  onicecandidate: ((event: { candidate: unknown }) => void) | null = null;
  ontrack: ((event: { track: unknown; streams: unknown[] }) => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  private generation = 0;

  constructor(readonly config: { iceServers: unknown[] }) {
    FakePeerConnection.all.push(this);
  }

  static latest(): FakePeerConnection {
    const pc = FakePeerConnection.all.at(-1);
    if (!pc) throw new Error('no peer connection');
    return pc;
  }

  addTransceiver(_kind: string, init: { direction: string }) {
    const transceiver = new FakeTransceiver(init.direction);
    this.transceivers.push(transceiver);
    return transceiver;
  }
  restartIce() {
    this.iceRestarts++;
  }
  async createOffer() {
    if (this.iceRestarts > this.generation) this.generation = this.iceRestarts;
    return { type: 'offer', sdp: `offer ufrag-${this.generation}` };
  }
  async setLocalDescription(description: { type: string; sdp: string }) {
    this.localDescription = description;
    this.signalingState = 'have-local-offer';
  }
  async setRemoteDescription(description: { type: string; sdp: string }) {
    if (description.sdp === 'bad') throw new Error('InvalidAccessError: bad answer');
    this.remoteDescription = description;
    this.remote.push(description.sdp);
    this.signalingState = 'stable';
  }
  async addIceCandidate(candidate: unknown) {
    // As browsers do: a candidate before the remote description is an error.
    if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
    this.candidates.push(candidate);
  }
  async getStats() {
    return new Map(this.stats.map((entry, i) => [String(i), entry]));
  }
  close() {
    this.closed = true;
  }
  // ---- the browser's side
  gather(candidate: string) {
    const value = candidate
      ? { candidate, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u', toJSON: () => ({}) }
      : null;
    this.onicecandidate?.({ candidate: value });
  }
  setIceState(state: string) {
    this.iceConnectionState = state;
    this.oniceconnectionstatechange?.();
  }
}

class FakeAudio {
  autoplay = false;
  hidden = false;
  srcObject: unknown = null;
  paused = true;
  removed = false;
  sinkId = '';
  readonly attributes: Record<string, string> = {};
  /** What the next play() does: the browser's autoplay decision. */
  static allow = true;
  plays = 0;
  setAttribute(name: string, value: string) {
    this.attributes[name] = value;
  }
  play() {
    this.plays++;
    if (!FakeAudio.allow) return Promise.reject({ name: 'NotAllowedError', message: 'play() failed' });
    this.paused = false;
    return Promise.resolve();
  }
  remove() {
    this.removed = true;
  }
  async setSinkId(id: string) {
    if (id === 'missing') throw new Error('NotFoundError');
    this.sinkId = id;
  }
}

class FakeDocument {
  readonly elements: FakeAudio[] = [];
  readonly listeners = new Map<string, Set<() => void>>();
  readonly body = { appendChild: (element: FakeAudio) => this.elements.push(element) };
  documentElement = this.body;
  noSinkId = false;
  createElement(tag: string) {
    if (tag !== 'audio') throw new Error(`unexpected <${tag}>`);
    const audio = new FakeAudio();
    if (this.noSinkId) Object.defineProperty(audio, 'setSinkId', { value: undefined });
    return audio;
  }
  addEventListener(type: string, listener: () => void) {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener);
    this.listeners.set(type, set);
  }
  removeEventListener(type: string, listener: () => void) {
    this.listeners.get(type)?.delete(listener);
  }
  /** A click in the page. */
  gesture() {
    for (const listener of [...(this.listeners.get('pointerdown') ?? [])]) listener();
  }
  listening(): number {
    return [...this.listeners.values()].reduce((n, set) => n + set.size, 0);
  }
}

class FakeAudioContext {
  static readonly all: FakeAudioContext[] = [];
  static startSuspended = false;
  state = FakeAudioContext.startSuspended ? 'suspended' : 'running';
  currentTime = 0;
  readonly destination = { name: 'speakers' };
  readonly oscillators: { hz: number; started: boolean; stopped: boolean }[] = [];
  readonly levels: [number, number][] = [];
  resumes = 0;
  closed = false;
  sinkId = '';
  constructor() {
    FakeAudioContext.all.push(this);
  }
  createGain() {
    return {
      gain: { value: 0, setTargetAtTime: (value: number, at: number) => this.levels.push([value, at]) },
      connect() {},
      disconnect() {},
    };
  }
  createOscillator() {
    const record = { hz: 0, started: false, stopped: false };
    this.oscillators.push(record);
    return {
      frequency: {
        set value(hz: number) {
          record.hz = hz;
        },
      },
      connect() {},
      disconnect() {},
      start: () => {
        record.started = true;
      },
      stop: () => {
        record.stopped = true;
      },
    };
  }
  async resume() {
    this.resumes++;
  }
  async close() {
    this.closed = true;
  }
  async setSinkId(id: string) {
    this.sinkId = id;
  }
}

class ManualIntervals {
  private next = 1;
  readonly running = new Map<number, { fn: () => void; ms: number }>();
  set = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.running.set(id, { fn, ms });
    return id;
  };
  clear = (id: unknown) => {
    this.running.delete(id as number);
  };
  tick(ms: number) {
    for (const { fn, ms: every } of [...this.running.values()]) if (every === ms) fn();
  }
}

const CODECS = [
  { mimeType: 'audio/opus', clockRate: 48_000, channels: 2 },
  { mimeType: 'audio/red', clockRate: 48_000 },
  { mimeType: 'audio/G722', clockRate: 8000 },
  { mimeType: 'audio/PCMU', clockRate: 8000 },
  { mimeType: 'audio/PCMA', clockRate: 8000 },
  { mimeType: 'audio/telephone-event', clockRate: 48_000 },
  { mimeType: 'audio/telephone-event', clockRate: 8000 },
];

interface Browser {
  env: MediaEnvironment;
  document: FakeDocument;
  intervals: ManualIntervals;
  network: EventTarget;
  connection: EventTarget;
  gum: {
    constraints: unknown[];
    fail?: { name: string; message: string } | undefined;
    /** The default microphone answers a moment late (a slow permission prompt). */
    slowDefault?: boolean;
    tracks: FakeTrack[];
  };
}

function fakeBrowser({ getUserMedia = true } = {}): Browser {
  const document = new FakeDocument();
  const intervals = new ManualIntervals();
  const network = new EventTarget();
  const connection = new EventTarget();
  const gum: Browser['gum'] = { constraints: [], tracks: [] };
  const mediaDevices = {
    ...(getUserMedia
      ? {
          async getUserMedia(constraints: { audio: { deviceId?: { exact: string } } }) {
            gum.constraints.push(constraints);
            if (gum.fail) throw gum.fail;
            if (gum.slowDefault && !constraints.audio.deviceId) await new Promise((r) => setTimeout(r, 5));
            const track = new FakeTrack(constraints.audio.deviceId?.exact ?? 'default');
            gum.tracks.push(track);
            return { getAudioTracks: () => [track] };
          },
        }
      : {}),
    async enumerateDevices() {
      return [
        { kind: 'audioinput', deviceId: 'default', groupId: 'g1', label: 'Default' },
        { kind: 'audioinput', deviceId: 'headset', groupId: 'g2', label: 'Headset' },
        { kind: 'audiooutput', deviceId: 'default', groupId: 'g1', label: 'Speakers' },
        { kind: 'videoinput', deviceId: 'cam', groupId: 'g3', label: 'Camera' },
      ];
    },
  };
  const env = {
    RTCPeerConnection: FakePeerConnection,
    capabilities: () => ({ codecs: CODECS, headerExtensions: [] }),
    MediaStream: class {
      constructor(readonly tracks: unknown[]) {}
    },
    mediaDevices,
    document,
    AudioContext: FakeAudioContext,
    network: [
      [network, 'online'],
      [connection, 'change'],
    ],
    setInterval: intervals.set,
    clearInterval: intervals.clear,
  } as unknown as MediaEnvironment;
  return { env, document, intervals, network, connection, gum };
}

type Sent = Parameters<MediaHost['send']>[0];

function fakeHost({ channelOpen = true } = {}) {
  const sent: Sent[] = [];
  const reports: { code: string; message: string | undefined }[] = [];
  const qualities: CallQuality[] = [];
  const host = {
    open: channelOpen,
    send(frame: Sent) {
      if (!host.open) return false;
      sent.push(frame);
      return true;
    },
    report(code: string, message?: string) {
      reports.push({ code, message });
    },
    quality(quality: CallQuality) {
      qualities.push(quality);
    },
  };
  const offers = () => sent.filter((f): f is Extract<Sent, { type: 'media.offer' }> => f.type === 'media.offer');
  return { host: host as MediaHost & { open: boolean }, sent, reports, qualities, offers };
}

function setup(options: { getUserMedia?: boolean; channelOpen?: boolean } = {}) {
  const browser = fakeBrowser(options);
  const host = fakeHost(options);
  const session = createMediaSession(host.host, { environment: browser.env });
  sessions.push(session);
  return { ...browser, ...host, session };
}

/** Connects and answers the first offer: the line is up. */
async function open(options: Parameters<typeof setup>[0] = {}) {
  const made = setup(options);
  made.session.connect(true);
  await flush();
  made.session.handle({ type: 'media.answer', sdp: 'answer-1' });
  await flush();
  return { ...made, pc: FakePeerConnection.latest() };
}

let sessions: MediaSession[] = [];
beforeEach(() => {
  FakePeerConnection.all.length = 0;
  FakeAudioContext.all.length = 0;
  FakeAudioContext.startSuspended = false;
  FakeAudio.allow = true;
});
afterEach(() => {
  for (const session of sessions) session.close();
  sessions = [];
});

// ------------------------------------------------------------------ the tests

describe('opening the line at check-in', () => {
  it('offers one sendrecv audio line without STUN, Opus, PCMU and telephone-event first, then adds the microphone', async () => {
    const { session, offers, gum } = setup();
    session.connect(true);
    await flush();
    const pc = FakePeerConnection.latest();
    expect(pc.config).toEqual({ iceServers: [] });
    expect(pc.transceivers.map((t) => t.direction)).toEqual(['sendrecv']);
    expect(pc.transceivers[0]?.codecs?.slice(0, 4)).toEqual([
      { mimeType: 'audio/opus', clockRate: 48_000, channels: 2 },
      { mimeType: 'audio/PCMU', clockRate: 8000 },
      { mimeType: 'audio/telephone-event', clockRate: 48_000 },
      { mimeType: 'audio/telephone-event', clockRate: 8000 },
    ]);
    expect(pc.transceivers[0]?.codecs).toHaveLength(CODECS.length);
    expect(offers()).toEqual([{ type: 'media.offer', sdp: 'offer ufrag-0' }]);
    expect(gum.constraints).toEqual([
      { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } },
    ]);
    expect(pc.transceivers[0]?.sender.tracks).toEqual([gum.tracks[0]]);
  });

  it('keeps the browser order otherwise, and tolerates a browser without setCodecPreferences', () => {
    expect(serverCodecsFirst(CODECS).map((c) => `${c.mimeType}/${c.clockRate}`)).toEqual([
      'audio/opus/48000',
      'audio/PCMU/8000',
      'audio/telephone-event/48000',
      'audio/telephone-event/8000',
      'audio/red/48000',
      'audio/G722/8000',
      'audio/PCMA/8000',
    ]);
    // Whatever order the browser lists them in, and with other clocks of telephone-event left where they were.
    const shuffled = [
      { mimeType: 'audio/telephone-event', clockRate: 16_000 },
      { mimeType: 'audio/G722', clockRate: 8000 },
      { mimeType: 'audio/telephone-event', clockRate: 8000 },
      { mimeType: 'audio/PCMU', clockRate: 8000 },
      { mimeType: 'audio/telephone-event', clockRate: 48_000 },
      { mimeType: 'audio/OPUS', clockRate: 48_000 },
    ];
    expect(serverCodecsFirst(shuffled).map((c) => `${c.mimeType}/${c.clockRate}`)).toEqual([
      'audio/OPUS/48000',
      'audio/PCMU/8000',
      'audio/telephone-event/48000',
      'audio/telephone-event/8000',
      'audio/telephone-event/16000',
      'audio/G722/8000',
    ]);
  });

  it('takes the microphone processing it is given', async () => {
    const browser = fakeBrowser();
    const { host } = fakeHost();
    const session = createMediaSession(host, {
      environment: browser.env,
      processing: { noiseSuppression: false },
    });
    sessions.push(session);
    session.connect(true);
    await flush();
    expect(browser.gum.constraints).toEqual([
      { audio: { echoCancellation: true, noiseSuppression: false, autoGainControl: true } },
    ]);
  });

  it('trickles the browser candidates, an empty one as the end of candidates', async () => {
    const { session, sent } = setup();
    session.connect(true);
    await flush();
    const pc = FakePeerConnection.latest();
    pc.gather('candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host');
    pc.gather('');
    expect(sent.filter((f) => f.type === 'media.candidate')).toEqual([
      {
        type: 'media.candidate',
        candidate: {
          candidate: 'candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
          usernameFragment: 'u',
        },
      },
      { type: 'media.candidate', candidate: null },
    ]);
  });

  it('buffers the server candidates until the answer is applied, then adds them in order', async () => {
    const { session } = setup();
    session.connect(true);
    await flush();
    const pc = FakePeerConnection.latest();
    const first = { candidate: 'candidate:a 1 udp 1 10.0.0.1 40000 typ host', sdpMid: '0' };
    const second = { candidate: 'candidate:b 1 udp 1 10.0.0.2 40000 typ host', sdpMid: '0' };
    session.handle({ type: 'media.candidate', candidate: first });
    session.handle({ type: 'media.candidate', candidate: null });
    expect(pc.candidates).toEqual([]);
    session.handle({ type: 'media.answer', sdp: 'answer-1' });
    session.handle({ type: 'media.candidate', candidate: second });
    await flush();
    expect(pc.remote).toEqual(['answer-1']);
    expect(pc.candidates).toEqual([first, second]);
  });

  it('offers the line even when the microphone is refused, and says why', async () => {
    const { session, offers, gum, reports } = setup();
    gum.fail = { name: 'NotAllowedError', message: 'Permission denied' };
    session.connect(true);
    await flush();
    expect(offers()).toHaveLength(1);
    expect(reports).toEqual([
      {
        code: 'MicrophonePermissionDenied',
        message: 'The microphone could not be opened (NotAllowedError: Permission denied).',
      },
    ]);
  });

  it('reports a missing microphone as MicrophoneUnavailable, and nothing where getUserMedia does not exist', async () => {
    const one = setup();
    one.gum.fail = { name: 'NotFoundError', message: 'Requested device not found' };
    one.session.connect(true);
    const other = setup({ getUserMedia: false });
    other.session.connect(true);
    await flush();
    expect(one.reports.map((r) => r.code)).toEqual(['MicrophoneUnavailable']);
    // The environment checks reported InsecureContext / MicrophoneUnavailable at registration already.
    expect(other.reports).toEqual([]);
    expect(other.offers()).toHaveLength(1);
  });

  it('ignores an answer nobody asked for, and reports one the browser cannot apply', async () => {
    const { session, pc, reports } = await open();
    session.handle({ type: 'media.answer', sdp: 'stray' });
    await flush();
    expect(pc.remote).toEqual(['answer-1']);
    session.connect();
    await flush();
    session.handle({ type: 'media.answer', sdp: 'bad' });
    await flush();
    expect(reports.map((r) => r.code)).toEqual(['AudioLineFailed']);
  });

  it("reports the server's refusal of the offer (an error frame while an offer is out), and only then", async () => {
    const { session, reports } = setup();
    session.connect(true);
    await flush();
    session.handle({ type: 'error', code: 'ServiceUnavailable', message: 'Media is disabled on this server.' });
    session.handle({ type: 'error', code: 'InvalidJson', message: 'not JSON' });
    expect(reports).toEqual([
      { code: 'AudioLineFailed', message: 'The server refused the audio line: Media is disabled on this server.' },
    ]);
  });
});

describe('renegotiating the same line', () => {
  it('restarts ICE on a new channel connection, on the same peer connection', async () => {
    const { session, pc, offers } = await open();
    session.connect(true);
    await flush();
    expect(FakePeerConnection.all).toHaveLength(1);
    expect(pc.iceRestarts).toBe(1);
    expect(offers().at(-1)).toEqual({ type: 'media.offer', sdp: 'offer ufrag-1', iceRestart: true });
  });

  it('restarts ICE when the network changes (online, connection change) or the server says the line failed', async () => {
    const { session, pc, offers, network, connection } = await open();
    network.dispatchEvent(new Event('online'));
    await flush();
    session.handle({ type: 'media.answer', sdp: 'answer-2' });
    await flush();
    connection.dispatchEvent(new Event('change'));
    await flush();
    session.handle({ type: 'media.answer', sdp: 'answer-3' });
    await flush();
    // A form field's change event bubbling up to window is no network change.
    network.dispatchEvent(new Event('change'));
    await flush();
    session.handle({ type: 'media.state', state: 'failed' });
    await flush();
    expect(pc.iceRestarts).toBe(3);
    expect(offers().map((o) => o.iceRestart)).toEqual([undefined, true, true, true]);
  });

  it('waits for the answer before the next offer on the same channel, and offers at once on a new one', async () => {
    const { session, pc, offers } = await open();
    session.connect();
    await flush();
    session.connect();
    session.connect();
    await flush();
    expect(offers()).toHaveLength(2);
    session.handle({ type: 'media.answer', sdp: 'answer-2' });
    await flush();
    expect(offers()).toHaveLength(3);
    // The channel dropped with an offer out: its answer will never come, the new channel offers now.
    session.connect(true);
    await flush();
    expect(offers()).toHaveLength(4);
    expect(pc.remote).toEqual(['answer-1', 'answer-2']);
  });

  it('offers again when the channel comes back after an offer could not be sent', async () => {
    const { session, host, offers } = setup({ channelOpen: false });
    session.connect(true);
    await flush();
    expect(offers()).toEqual([]);
    host.open = true;
    session.connect(true);
    await flush();
    expect(offers()).toHaveLength(1);
    // Nothing was ever answered: this is a first offer for the server, not a restart.
    expect(offers()[0]?.iceRestart).toBeUndefined();
  });

  it('restarts ICE by itself after a failure, twice, then reports AudioLineFailed', async () => {
    const { session, pc, offers, reports } = await open();
    for (let i = 2; i <= 4; i++) {
      pc.setIceState('failed');
      await flush();
      session.handle({ type: 'media.answer', sdp: `answer-${i}` });
      await flush();
    }
    expect(offers()).toHaveLength(3);
    expect(reports.map((r) => r.code)).toEqual(['AudioLineFailed']);
    // Connected again: the budget of restarts is back.
    pc.setIceState('connected');
    pc.setIceState('failed');
    await flush();
    expect(offers()).toHaveLength(4);
  });
});

describe('playing the remote audio', () => {
  it('plays it in a hidden <audio autoplay> element the SDK adds to the page', async () => {
    const { pc, document } = await open();
    const stream = { id: 'remote' };
    pc.ontrack?.({ track: {}, streams: [stream] });
    await flush();
    const [audio] = document.elements;
    expect(audio).toMatchObject({ autoplay: true, hidden: true, srcObject: stream, paused: false });
    expect(audio?.attributes).toEqual({ 'data-openhotline-audio': '' });
  });

  it('reports AudioPlaybackBlocked once a call needs the audio, and plays on the next click', async () => {
    FakeAudio.allow = false;
    const { session, pc, document, reports } = await open();
    pc.ontrack?.({ track: {}, streams: [{ id: 'remote' }] });
    await flush();
    // Checked in, no call yet: nothing to say (a page that checks in on load has had no gesture yet).
    expect(reports).toEqual([]);
    session.setCallState(false, true);
    session.setCallState(false, true);
    expect(reports.map((r) => r.code)).toEqual(['AudioPlaybackBlocked']);

    FakeAudio.allow = true;
    document.gesture();
    await flush();
    expect(document.elements[0]?.paused).toBe(false);
    expect(document.listening()).toBe(0);
  });

  it('tries again when the microphone arrives (Chromium lets capturing pages autoplay)', async () => {
    FakeAudio.allow = false;
    const { session, document } = setup();
    session.connect(true);
    // The track arrives before the microphone does.
    FakePeerConnection.latest().ontrack?.({ track: {}, streams: [{ id: 'remote' }] });
    FakeAudio.allow = true;
    await flush();
    expect(document.elements[0]?.plays).toBe(2);
    expect(document.elements[0]?.paused).toBe(false);
  });
});

describe('after a reload mid-call (in a call before the microphone is open)', () => {
  it('says nothing of a refused play() that the microphone then unblocks', async () => {
    FakeAudio.allow = false;
    const { session, document, reports, gum } = setup();
    gum.slowDefault = true;
    session.setCallState(false, true);
    session.connect(true);
    FakePeerConnection.latest().ontrack?.({ track: {}, streams: [{ id: 'remote' }] });
    await flush(1);
    expect(reports).toEqual([]);
    FakeAudio.allow = true;
    await new Promise((resolve) => setTimeout(resolve, 10));
    await flush();
    expect(document.elements[0]?.paused).toBe(false);
    expect(reports).toEqual([]);
  });

  it('reports the block once the microphone has settled without unblocking it', async () => {
    FakeAudio.allow = false;
    const { session, reports, gum } = setup();
    gum.fail = { name: 'NotAllowedError', message: 'denied' };
    session.setCallState(false, true);
    session.connect(true);
    FakePeerConnection.latest().ontrack?.({ track: {}, streams: [{ id: 'remote' }] });
    await flush();
    expect(reports.map((r) => r.code)).toEqual(['MicrophonePermissionDenied', 'AudioPlaybackBlocked']);
  });
});

describe('the ring tone', () => {
  it('rings with two oscillators while ringing, in the double-ring cadence, and stops on answer', async () => {
    const { session } = setup();
    session.setCallState(true, false);
    const context = FakeAudioContext.all[0];
    expect(context?.oscillators.map((o) => [o.hz, o.started])).toEqual([
      [400, true],
      [450, true],
    ]);
    expect(context?.levels.map(([level]) => level > 0)).toEqual([true, false, true, false]);
    expect(context?.levels.map(([, at]) => at)).toEqual([0, 0.4, 0.6000000000000001, 1]);
    session.setCallState(true, false);
    expect(context?.oscillators).toHaveLength(2);
    session.setCallState(false, true);
    expect(context?.oscillators.every((o) => o.stopped)).toBe(true);
    // The next call rings on the same context.
    session.setCallState(true, false);
    expect(FakeAudioContext.all).toHaveLength(1);
    expect(context?.oscillators).toHaveLength(4);
  });

  it('repeats the cadence every 3 s until stopped', () => {
    const { session, intervals } = setup();
    session.setCallState(true, false);
    intervals.tick(3000);
    expect(FakeAudioContext.all[0]?.levels).toHaveLength(8);
    session.setCallState(false, false);
    intervals.tick(3000);
    expect(FakeAudioContext.all[0]?.levels).toHaveLength(8);
  });

  it('resumes a context the autoplay policy suspended on the next click', () => {
    FakeAudioContext.startSuspended = true;
    const { session, document } = setup();
    session.setCallState(true, false);
    const context = FakeAudioContext.all[0];
    expect(context?.resumes).toBe(1);
    document.gesture();
    expect(context?.resumes).toBe(2);
  });
});

describe('audio devices', () => {
  it('lists microphones and outputs, and which are in use', async () => {
    const { session } = await open();
    expect(await session.getAudioDevices()).toEqual({
      inputs: [
        { deviceId: 'default', groupId: 'g1', label: 'Default' },
        { deviceId: 'headset', groupId: 'g2', label: 'Headset' },
      ],
      outputs: [{ deviceId: 'default', groupId: 'g1', label: 'Speakers' }],
      input: 'default',
      output: '',
    });
  });

  it('switches the microphone mid-call with replaceTrack: no new offer, the old track released', async () => {
    const { session, pc, gum, offers } = await open();
    await session.setAudioInput('headset');
    const [first, second] = gum.tracks;
    expect(pc.transceivers[0]?.sender.tracks).toEqual([first, second]);
    expect(second?.deviceId).toBe('headset');
    expect(first?.stopped).toBe(true);
    expect(offers()).toHaveLength(1);
    expect((await session.getAudioDevices()).input).toBe('headset');
  });

  it('remembers a microphone chosen before check-in for the line it opens', async () => {
    const { session, gum } = setup();
    await session.setAudioInput('headset');
    expect(gum.constraints).toEqual([]);
    session.connect(true);
    await flush();
    expect(gum.constraints).toEqual([
      {
        audio: {
          echoCancellation: true,
          noiseSuppression: true,
          autoGainControl: true,
          deviceId: { exact: 'headset' },
        },
      },
    ]);
  });

  it('ends with the chosen microphone when it is chosen while the line is still opening', async () => {
    const { session, gum } = setup();
    gum.slowDefault = true;
    session.connect(true);
    await session.setAudioInput('headset');
    await flush();
    const sender = FakePeerConnection.latest().transceivers[0]?.sender;
    expect(sender?.tracks.at(-1)?.deviceId).toBe('headset');
    expect(gum.tracks.filter((t) => !t.stopped).map((t) => t.deviceId)).toEqual(['headset']);
  });

  it('reports a microphone that ends by itself (unplugged), and another input brings the line its audio back', async () => {
    const { session, pc, gum, reports, offers } = await open();
    const [first] = gum.tracks;
    first?.onended?.();
    expect(reports).toEqual([{ code: 'MicrophoneUnavailable', message: expect.stringMatching(/microphone stopped/) }]);
    await session.setAudioInput('headset');
    const second = gum.tracks[1];
    expect(pc.transceivers[0]?.sender.tracks).toEqual([first, second]);
    expect(offers()).toHaveLength(1);
    // The replaced track ending later is no news.
    first?.onended?.();
    expect(reports).toHaveLength(1);
  });

  it('rejects a microphone that cannot be opened with its code, keeping the one in use', async () => {
    const { session, gum } = await open();
    gum.fail = { name: 'OverconstrainedError', message: 'deviceId' };
    await expect(session.setAudioInput('gone')).rejects.toMatchObject({ code: 'MicrophoneUnavailable' });
    expect(gum.tracks[0]?.stopped).toBe(false);
  });

  it('plays the call and the ring on the chosen output (setSinkId)', async () => {
    const { session, pc, document } = await open();
    pc.ontrack?.({ track: {}, streams: [{ id: 'remote' }] });
    session.setCallState(true, false);
    await session.setAudioOutput('usb-headset');
    expect(document.elements[0]?.sinkId).toBe('usb-headset');
    expect(FakeAudioContext.all[0]?.sinkId).toBe('usb-headset');
    await expect(session.setAudioOutput('missing')).rejects.toMatchObject({ code: 'AudioDeviceFailed' });
    expect((await session.getAudioDevices()).output).toBe('usb-headset');
  });

  it('says so where the browser cannot choose the output', async () => {
    const { session, document } = setup();
    document.noSinkId = true;
    const failure = await session.setAudioOutput('usb-headset').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MediaFailure);
    expect(failure).toMatchObject({ code: 'AudioDeviceFailed', message: expect.stringMatching(/setSinkId/) });
  });
});

describe('call quality', () => {
  const entries = (received: number, sent: number) => [
    { type: 'transport', selectedCandidatePairId: 'p' },
    { type: 'candidate-pair', id: 'p', currentRoundTripTime: 0.03 },
    {
      type: 'inbound-rtp',
      kind: 'audio',
      packetsReceived: received / 160,
      packetsLost: 0,
      bytesReceived: received,
      jitter: 0.004,
    },
    { type: 'outbound-rtp', kind: 'audio', bytesSent: sent },
  ];

  it(`reads the stats every ${QUALITY_INTERVAL_MS} ms during a call only`, async () => {
    const { session, pc, intervals, qualities } = await open();
    session.setCallState(false, true);
    pc.stats = entries(4000, 4000);
    intervals.tick(QUALITY_INTERVAL_MS);
    await flush();
    pc.stats = entries(8000, 8000);
    intervals.tick(QUALITY_INTERVAL_MS);
    await flush();
    expect(qualities).toEqual([{ rttMs: 30, jitterMs: 4, packetLossPct: 0, mos: 4.39, oneWayAudio: 'none' }]);
    session.setCallState(false, false);
    expect(intervals.running.size).toBe(0);
  });

  it('warns when the server stops sending while the microphone still goes out', async () => {
    const { session, pc, intervals, qualities } = await open();
    session.setCallState(false, true);
    for (let i = 1; i <= 5; i++) {
      pc.stats = entries(4000, 4000 * i);
      intervals.tick(QUALITY_INTERVAL_MS);
      await flush();
    }
    expect(qualities.map((q) => q.oneWayAudio)).toEqual(['none', 'none', 'inbound-missing', 'inbound-missing']);
  });
});

describe('closing at check-out', () => {
  it('closes the peer connection, releases the microphone and the ring, removes the <audio> and the listeners', async () => {
    const { session, pc, gum, document, network, offers } = await open();
    pc.ontrack?.({ track: {}, streams: [{ id: 'remote' }] });
    session.setCallState(true, false);
    session.close();
    expect(pc.closed).toBe(true);
    expect(gum.tracks[0]?.stopped).toBe(true);
    expect(document.elements[0]).toMatchObject({ removed: true, srcObject: null });
    expect(FakeAudioContext.all[0]?.closed).toBe(true);
    network.dispatchEvent(new Event('online'));
    await flush();
    expect(offers()).toHaveLength(1);

    // The next check-in opens a fresh line: a first offer, not a restart.
    session.connect(true);
    await flush();
    expect(FakePeerConnection.all).toHaveLength(2);
    expect(offers().at(-1)).toEqual({ type: 'media.offer', sdp: 'offer ufrag-0' });
  });
});

// ------------------------------------------------------------------ the SoftPhone's media seam

class RecordingMedia implements MediaSession {
  readonly calls: string[] = [];
  readonly frames: unknown[] = [];
  host: MediaHost | undefined;
  failWith: MediaFailure | undefined;
  connect(newChannel?: boolean) {
    this.calls.push(`connect(${newChannel})`);
  }
  handle(frame: unknown) {
    this.frames.push(frame);
  }
  setCallState(ringing: boolean, inCall: boolean) {
    const call = `state(${ringing},${inCall})`;
    if (this.calls.at(-1) !== call) this.calls.push(call);
  }
  async getAudioDevices() {
    if (this.failWith) throw this.failWith;
    return { inputs: [], outputs: [], input: '', output: '' };
  }
  async setAudioInput() {}
  async setAudioOutput() {
    if (this.failWith) throw this.failWith;
  }
  close() {
    if (this.calls.at(-1) !== 'close') this.calls.push('close');
  }
}

const CONFIG = { InstanceId: 'demo', BearerToken: 'token-1', apiHost: 'hotline.example.com:8443' };

async function phoneWithMedia(status: S) {
  const media = new RecordingMedia();
  const made = makePhone({
    media: (host) => {
      media.host = host;
      return media;
    },
  });
  phones.push(made.phone);
  made.phone.setConfig(CONFIG);
  await flush();
  const socket = FakeSocket.latest();
  socket.handshake(status, 10);
  return { ...made, media, socket };
}

let phones: SoftPhone[] = [];
beforeEach(() => FakeSocket.reset());
afterEach(() => {
  for (const phone of phones) phone.destroy();
  phones = [];
});

describe('the SoftPhone and its media session', () => {
  it('opens the line once checked in with the channel in sync, rings, measures during the call, closes at check-out', async () => {
    const { media, socket } = await phoneWithMedia(S.AgentReady);
    // Registered (status -1: nothing to close yet), then the snapshot says checked in and the channel is in sync.
    expect(media.calls).toEqual(['close', 'state(false,false)', 'connect(true)', 'state(false,false)']);
    media.calls.length = 0;
    socket.receive(notify(11, W.AgentRinging, S.AgentRinging, { connId: 'c1' }));
    socket.receive(notify(12, W.AgentCallInboundEstablish, S.AgentCallInboundEstablish, { connId: 'c1' }));
    socket.receive(notify(13, W.AgentCallHeld, S.AgentCallHeld, { connId: 'c1' }));
    socket.receive(notify(14, W.AgentCallRelease, S.AgentCallRelease, { connId: 'c1' }));
    socket.receive(notify(15, W.AgentCheckout, S.AgentCheckout));
    expect(media.calls).toEqual([
      'state(true,false)',
      'state(false,true)',
      'state(false,false)',
      'close',
      'state(false,false)',
    ]);
  });

  it('opens nothing for a checked-out agent, and opens at check-in', async () => {
    const { media, socket } = await phoneWithMedia(S.AgentCheckout);
    expect(media.calls).not.toContain('connect(true)');
    socket.receive(notify(11, W.AgentCheckin, S.AgentCheckin));
    socket.receive(notify(12, W.AgentReady, S.AgentReady));
    expect(media.calls.filter((c) => c.startsWith('connect'))).toEqual(['connect(true)']);
  });

  it("re-offers on every new channel connection (the owner of the line is the latest offer's channel)", async () => {
    const { media, socket } = await phoneWithMedia(S.AgentReady);
    socket.serverClose(1006);
    await flush();
    const next = FakeSocket.latest();
    expect(next).not.toBe(socket);
    next.open();
    next.receive({
      type: 'hello',
      epoch: 'ep1',
      seq: 10,
      connectionId: 'c2',
      serverTime: 2000,
      heartbeatIntervalMs: 15_000,
    });
    expect(media.calls.filter((c) => c.startsWith('connect'))).toEqual(['connect(true)', 'connect(true)']);
  });

  it('passes the media frames to the session and sends its frames on the channel', async () => {
    const { media, socket } = await phoneWithMedia(S.AgentReady);
    socket.receive({ type: 'media.answer', sdp: 'answer' });
    socket.receive({ type: 'media.state', state: 'connected' });
    expect(media.frames).toEqual([
      { type: 'media.answer', sdp: 'answer' },
      { type: 'media.state', state: 'connected' },
    ]);
    expect(media.host?.send({ type: 'media.offer', sdp: 'offer' })).toBe(true);
    expect(socket.sent.at(-1)).toEqual({ type: 'media.offer', sdp: 'offer' });
    socket.serverClose(1006);
    expect(media.host?.send({ type: 'media.candidate', candidate: null })).toBe(false);
  });

  it('emits onCallQuality to its registrations, and media problems as actionError (action media)', async () => {
    const { phone, media } = await phoneWithMedia(S.AgentReady);
    const seen = collect(phone, ['onCallQuality', 'actionError']);
    const quality: CallQuality = { rttMs: 3, jitterMs: 1, packetLossPct: 0, mos: 4.4, oneWayAudio: 'none' };
    media.host?.quality(quality);
    media.host?.report('AudioPlaybackBlocked');
    expect(seen[0]).toEqual(['onCallQuality', quality]);
    expect(seen[1]?.[0]).toBe('actionError');
    expect(seen[1]?.[1]).toMatchObject({
      action: 'media',
      code: 'AudioPlaybackBlocked',
      remedy: expect.stringMatching(/click or key press/),
    });
  });

  it("answers the device APIs through the session: actionSuccess, or actionError with the session's code", async () => {
    const { phone, media } = await phoneWithMedia(S.AgentReady);
    const seen = collect(phone, ['actionSuccess', 'actionError']);
    expect(await phone.getAudioDevices()).toEqual({
      ok: true,
      data: { inputs: [], outputs: [], input: '', output: '' },
    });
    media.failWith = new MediaFailure('AudioDeviceFailed', 'no setSinkId');
    const result = await phone.setAudioOutput('x');
    expect(result.ok).toBe(false);
    expect(seen.map(([name, data]) => [name, (data as { action: string }).action])).toEqual([
      ['actionSuccess', 'getAudioDevices'],
      ['actionError', 'setAudioOutput'],
    ]);
    expect(seen[1]?.[1]).toMatchObject({ code: 'AudioDeviceFailed', message: 'no setSinkId' });
    expect((await phone.setAudioInput(42 as unknown as string)).ok).toBe(false);
  });
});

describe('SoftPhone.registerMediaSession', () => {
  it('is what a SoftPhone without a media dependency uses; without it the device APIs say there is none', async () => {
    const { phone } = makePhone();
    phones.push(phone);
    phone.setConfig(CONFIG);
    const without = await phone.getAudioDevices();
    expect(without.ok).toBe(false);
    expect(without.ok ? undefined : without.error.code).toBe('AudioDeviceFailed');

    const media = new RecordingMedia();
    SoftPhone.registerMediaSession(() => media);
    try {
      expect((await phone.getAudioDevices()).ok).toBe(true);
    } finally {
      SoftPhone.registerMediaSession(undefined as never);
    }
  });
});

describe('the size budget', () => {
  it('keeps the media session out of the headless core: only the registration seam is in it', async () => {
    const result = await esbuild.build({ ...CORE, write: false, outdir: '/virtual' });
    const code = result.outputFiles?.find((f) => f.path.endsWith('.js'))?.text ?? '';
    expect(code).toMatch(/registerMediaSession/);
    expect(code).not.toMatch(/media\.offer|setCodecPreferences|createOscillator|data-openhotline-audio/);
  });
});
