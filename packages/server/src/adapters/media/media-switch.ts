import { DEFAULT_RINGBACK, FrameLoop, musicOnHoldPcm, type RingbackTone, ringbackPcm } from './audio-sources.js';
import { decodeMulaw, encodeMulaw } from './g711.js';
import { FRAME_MS, FRAME_SAMPLES, type MediaClock } from './media-clock.js';
import {
  type Bridge,
  type Conference,
  type IceCandidateInit,
  type LineState,
  type MediaEngine,
  type MediaEngineEventName,
  type MediaEngineEvents,
  type MediaEngineStats,
  MediaError,
  type OpenAgentLineOptions,
  type Recording,
  type RecordingOptions,
  type RecordingResult,
  type VirtualParty,
  type VirtualPartyOptions,
  type WaitingAudio,
} from './media-engine.js';
import { OutboundStream, type OutgoingPacket, type SourcedPacket } from './outbound-stream.js';
import { PcmFifo } from './pcm-fifo.js';
import { DtmfDetector, DtmfSendQueue, validateDigits } from './rfc4733.js';
import { VirtualPartyEndpoint } from './virtual-party.js';
import { ENGINE_SAMPLE_RATE, WavFileWriter } from './wav.js';

/**
 * The transport-independent heart of the embedded media engine: endpoints, who hears whom, and everything the
 * 20 ms media clock drives (virtual parties, hold music, ringback, the conference mixer, recordings, DTMF sending).
 * Agent lines come from an `AgentLineFactory` (werift by default, see werift-engine.ts), so this file never touches
 * WebRTC and its tests run on a manual clock.
 *
 * The relay path (a packet from one endpoint to its bridged peer) copies nothing and decodes nothing: it checks
 * two flags and gives the payload, with a rewritten header, to the peer's outbound stream. PCM exists only where
 * something needs it: taps, recordings and conferences register as PCM consumers of an endpoint, and a packet is
 * decoded once when there is at least one.
 */

/** A packet an agent line received from the browser (payload already copied out of werift's buffers). */
export interface InboundPacket extends SourcedPacket {
  /** The sender's SSRC: a new one (a reloaded page) starts a new source for the receivers' streams. */
  readonly ssrc: number;
}

/** What the switch needs from an agent line's transport. */
export interface AgentLineTransport {
  /** Applies an offer, returns the answer SDP. Rejects with a MediaError. */
  negotiate(offerSdp: string, options: OpenAgentLineOptions): Promise<string>;
  addRemoteCandidate(candidate: IceCandidateInit | null): void;
  /** Sends a packet to the browser (dropped while the transport is not connected). */
  write(packet: OutgoingPacket): void;
  close(): Promise<void>;
}

/** How an agent line reports back to the switch. */
export interface AgentLineHooks {
  packet(packet: InboundPacket): void;
  state(state: Exclude<LineState, 'closed'>): void;
  localCandidate(candidate: IceCandidateInit | null): void;
  warning(code: string, message: string): void;
}

export type AgentLineFactory = (lineId: string, hooks: AgentLineHooks) => AgentLineTransport;

export interface MediaSwitchOptions {
  readonly clock: MediaClock;
  readonly lines: AgentLineFactory;
  /** Music on hold as 8 kHz PCM (looped); the default is a generated melody. */
  readonly musicOnHold?: Int16Array;
  readonly ringback?: RingbackTone;
}

/** Remote candidates kept for lines that do not exist yet: a few per line, for a bounded number of lines. */
const MAX_EARLY_CANDIDATES = 32;
const MAX_EARLY_LINES = 256;
/** Recordings write to disk twice a second, not on every tick. */
const RECORDING_FLUSH_FRAMES = 25;

type PcmConsumer = (pcm: Int16Array) => void;

class Endpoint {
  held = false;
  muted = false;
  waiting: WaitingAudio = 'none';
  link: BridgeLink | ConferenceMix | undefined;
  /** Frame counters of the generated sources, so music starts at its beginning when hold starts. */
  musicFrame = 0;
  waitingFrame = 0;
  /** Bumped whenever a generated source restarts, so the outbound stream re-maps its timestamps. */
  generation = 0;
  readonly dtmfIn = new DtmfDetector();
  readonly dtmfOut = new DtmfSendQueue();
  readonly pcmConsumers = new Set<PcmConsumer>();
  readonly out: OutboundStream;

  constructor(
    readonly id: string,
    readonly line: AgentLineTransport | undefined,
    readonly party: VirtualPartyEndpoint | undefined,
    nowSamples: () => number,
  ) {
    this.out = new OutboundStream(nowSamples, (packet) => {
      if (line) line.write(packet);
      else party?.receive(packet);
    });
  }
}

class BridgeLink implements Bridge {
  readonly endpoints: readonly [string, string];
  closed = false;

  constructor(
    readonly a: Endpoint,
    readonly b: Endpoint,
    private readonly release: (bridge: BridgeLink) => void,
  ) {
    this.endpoints = [a.id, b.id];
  }

  peerOf(endpoint: Endpoint): Endpoint {
    return endpoint === this.a ? this.b : this.a;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release(this);
  }
}

interface ConferenceMember {
  readonly fifo: PcmFifo;
  readonly consumer: PcmConsumer;
  readonly frame: Int16Array;
}

class ConferenceMix implements Conference {
  readonly members = new Map<Endpoint, ConferenceMember>();
  private timestamp = 0;
  closed = false;

  constructor(
    readonly id: string,
    private readonly engine: MediaSwitch,
  ) {}

  participants(): readonly string[] {
    return [...this.members.keys()].map((endpoint) => endpoint.id);
  }

  add(endpointId: string): void {
    if (this.closed) throw new MediaError('InvalidArgument', `conference ${this.id} is closed`);
    this.engine.joinConference(this, endpointId);
  }

  remove(endpointId: string): void {
    const endpoint = [...this.members.keys()].find((candidate) => candidate.id === endpointId);
    if (endpoint) this.engine.leaveConference(this, endpoint);
  }

  close(): void {
    if (this.closed) return;
    for (const endpoint of [...this.members.keys()]) this.engine.leaveConference(this, endpoint);
    this.closed = true;
    this.engine.conferenceClosed(this);
  }

  /** One tick: everyone's frame summed once, then each member gets the sum minus its own voice (N-1 mixing). */
  mix(): number {
    const sum = new Int32Array(FRAME_SAMPLES);
    for (const member of this.members.values()) {
      member.fifo.pull(member.frame);
      for (let i = 0; i < FRAME_SAMPLES; i++) sum[i]! += member.frame[i]!;
    }
    const timestamp = this.timestamp;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
    const out = new Int16Array(FRAME_SAMPLES);
    let encoded = 0;
    for (const [endpoint, member] of this.members) {
      if (endpoint.held || endpoint.dtmfOut.active) continue;
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        out[i] = Math.max(-32_768, Math.min(32_767, sum[i]! - member.frame[i]!));
      }
      endpoint.out.send(`conference:${this.id}`, {
        kind: 'audio',
        timestamp,
        marker: false,
        payload: encodeMulaw(out),
      });
      encoded++;
    }
    return encoded;
  }
}

class StereoRecording implements Recording {
  private readonly leftFifo = new PcmFifo();
  private readonly rightFifo = new PcmFifo();
  private readonly leftFrame = new Int16Array(FRAME_SAMPLES);
  private readonly rightFrame = new Int16Array(FRAME_SAMPLES);
  private chunk = new Int16Array(RECORDING_FLUSH_FRAMES * FRAME_SAMPLES * 2);
  private chunkFrames = 0;
  private frames = 0;
  private readonly leftConsumer: PcmConsumer = (pcm) => this.leftFifo.push(pcm);
  private readonly rightConsumer: PcmConsumer = (pcm) => this.rightFifo.push(pcm);
  private stopped: Promise<RecordingResult> | undefined;

  constructor(
    readonly id: string,
    private readonly left: Endpoint,
    private readonly right: Endpoint,
    private readonly writer: WavFileWriter,
    private readonly release: (recording: StereoRecording) => void,
  ) {
    left.pcmConsumers.add(this.leftConsumer);
    right.pcmConsumers.add(this.rightConsumer);
  }

  tick(): void {
    this.leftFifo.pull(this.leftFrame);
    this.rightFifo.pull(this.rightFrame);
    const base = this.chunkFrames * FRAME_SAMPLES * 2;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      this.chunk[base + 2 * i] = this.leftFrame[i]!;
      this.chunk[base + 2 * i + 1] = this.rightFrame[i]!;
    }
    this.frames++;
    if (++this.chunkFrames === RECORDING_FLUSH_FRAMES) this.flush();
  }

  stop(): Promise<RecordingResult> {
    this.stopped ??= (async () => {
      this.left.pcmConsumers.delete(this.leftConsumer);
      this.right.pcmConsumers.delete(this.rightConsumer);
      this.release(this);
      this.flush();
      const dataBytes = await this.writer.close();
      return { path: this.writer.path, durationMs: this.frames * FRAME_MS, bytes: 44 + dataBytes };
    })();
    return this.stopped;
  }

  private flush(): void {
    if (this.chunkFrames === 0) return;
    this.writer.write(this.chunk.subarray(0, this.chunkFrames * FRAME_SAMPLES * 2));
    this.chunk = new Int16Array(this.chunk.length);
    this.chunkFrames = 0;
  }
}

type Listeners = { [E in MediaEngineEventName]: Set<(payload: MediaEngineEvents[E]) => void> };

export class MediaSwitch implements MediaEngine {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly bridges = new Set<BridgeLink>();
  private readonly conferences = new Set<ConferenceMix>();
  private readonly recordings = new Map<string, StereoRecording>();
  private readonly earlyCandidates = new Map<string, (IceCandidateInit | null)[]>();
  private readonly lineQueues = new Map<string, Promise<unknown>>();
  private readonly closing = new Set<Promise<void>>();
  private readonly listeners: Listeners = {
    localCandidate: new Set(),
    lineState: new Set(),
    dtmf: new Set(),
    warning: new Set(),
  };
  private readonly music: FrameLoop;
  private readonly ringback: FrameLoop;
  private readonly stopClock: () => void;
  private ticks = 0;
  private conferenceCount = 0;
  private closed = false;
  private counters = { packetsIn: 0, packetsRelayed: 0, framesDecoded: 0, framesEncoded: 0 };

  constructor(private readonly options: MediaSwitchOptions) {
    this.music = new FrameLoop(options.musicOnHold ?? musicOnHoldPcm());
    this.ringback = new FrameLoop(ringbackPcm(options.ringback ?? DEFAULT_RINGBACK));
    this.stopClock = options.clock.start(() => this.tick());
  }

  on<E extends MediaEngineEventName>(event: E, listener: (payload: MediaEngineEvents[E]) => void): () => void {
    const set = this.listeners[event] as Set<(payload: MediaEngineEvents[E]) => void>;
    set.add(listener);
    return () => set.delete(listener);
  }

  // ---- agent lines -------------------------------------------------------------------------------------------

  openAgentLine(lineId: string, offerSdp: string, options: OpenAgentLineOptions = {}): Promise<{ answerSdp: string }> {
    this.assertOpen();
    requireId(lineId, 'lineId');
    const existing = this.endpoints.get(lineId);
    if (existing && !existing.line) throw new MediaError('EndpointExists', `${lineId} is not an agent line`);
    // One negotiation at a time per line: a second offer waits for the first answer (glare is the client's to avoid).
    const previous = this.lineQueues.get(lineId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.negotiateLine(lineId, offerSdp, options));
    this.lineQueues.set(lineId, run);
    const forget = () => {
      if (this.lineQueues.get(lineId) === run) this.lineQueues.delete(lineId);
    };
    run.then(forget, forget);
    return run;
  }

  private async negotiateLine(
    lineId: string,
    offerSdp: string,
    options: OpenAgentLineOptions,
  ): Promise<{ answerSdp: string }> {
    this.assertOpen();
    let endpoint = this.endpoints.get(lineId);
    const created = !endpoint;
    if (!endpoint) {
      const line = this.options.lines(lineId, this.lineHooks(lineId));
      endpoint = new Endpoint(lineId, line, undefined, () => this.ticks * FRAME_SAMPLES);
      this.endpoints.set(lineId, endpoint);
      for (const candidate of this.earlyCandidates.get(lineId) ?? []) line.addRemoteCandidate(candidate);
      this.earlyCandidates.delete(lineId);
    } else if (!endpoint.line) {
      throw new MediaError('EndpointExists', `${lineId} is not an agent line`);
    }
    try {
      const answerSdp = await endpoint.line!.negotiate(offerSdp, options);
      if (this.endpoints.get(lineId) !== endpoint) throw new MediaError('UnknownEndpoint', `${lineId} was closed`);
      return { answerSdp };
    } catch (error) {
      // A line that never got an answer does not linger half-open.
      if (created && this.endpoints.get(lineId) === endpoint) await this.removeEndpoint(endpoint, false);
      throw error;
    }
  }

  addRemoteCandidate(lineId: string, candidate: IceCandidateInit | null): void {
    this.assertOpen();
    requireId(lineId, 'lineId');
    if (candidate !== null && (typeof candidate !== 'object' || typeof candidate.candidate !== 'string')) {
      throw new MediaError('InvalidArgument', 'a candidate is { candidate: string, sdpMid?, sdpMLineIndex? } or null');
    }
    const endpoint = this.endpoints.get(lineId);
    if (endpoint?.line) {
      endpoint.line.addRemoteCandidate(candidate);
      return;
    }
    if (endpoint) throw new MediaError('EndpointExists', `${lineId} is not an agent line`);
    // The offer has not arrived yet (or is still on its way through another queue): keep a few.
    let early = this.earlyCandidates.get(lineId);
    if (!early) {
      if (this.earlyCandidates.size >= MAX_EARLY_LINES) {
        this.earlyCandidates.delete(this.earlyCandidates.keys().next().value!);
      }
      early = [];
      this.earlyCandidates.set(lineId, early);
    }
    if (early.length < MAX_EARLY_CANDIDATES) early.push(candidate);
  }

  private lineHooks(lineId: string): AgentLineHooks {
    const current = () => {
      const endpoint = this.endpoints.get(lineId);
      return endpoint?.line ? endpoint : undefined;
    };
    return {
      packet: (packet) => {
        const endpoint = current();
        if (endpoint) this.ingress(endpoint, packet, `${lineId}/${packet.ssrc}`);
      },
      state: (state) => {
        if (current()) this.emit('lineState', { lineId, state });
      },
      localCandidate: (candidate) => {
        if (current()) this.emit('localCandidate', { lineId, candidate });
      },
      warning: (code, message) => this.emit('warning', { endpointId: lineId, code, message }),
    };
  }

  // ---- virtual parties ---------------------------------------------------------------------------------------

  createVirtualParty(id: string, options: VirtualPartyOptions): VirtualParty {
    this.assertOpen();
    requireId(id, 'id');
    if (this.endpoints.has(id)) throw new MediaError('EndpointExists', `endpoint ${id} already exists`);
    const party = new VirtualPartyEndpoint(options);
    const endpoint = new Endpoint(id, undefined, party, () => this.ticks * FRAME_SAMPLES);
    this.endpoints.set(id, endpoint);
    return {
      id,
      heard: () => party.heard(),
      clearHeard: () => party.clearHeard(),
      heardDigits: () => party.heardDigits(),
      sendDtmf: (digits) => {
        if (this.endpoints.get(id) !== endpoint) throw new MediaError('UnknownEndpoint', `party ${id} is closed`);
        party.sendDtmf(digits);
      },
    };
  }

  // ---- endpoints ---------------------------------------------------------------------------------------------

  async closeEndpoint(id: string): Promise<void> {
    const endpoint = this.endpoints.get(id);
    this.earlyCandidates.delete(id);
    if (endpoint) await this.removeEndpoint(endpoint, true);
  }

  private removeEndpoint(endpoint: Endpoint, announce: boolean): Promise<void> {
    this.endpoints.delete(endpoint.id);
    if (endpoint.link instanceof BridgeLink) endpoint.link.close();
    else if (endpoint.link) this.leaveConference(endpoint.link, endpoint);
    // Recordings and taps hold their consumers on this object; it is no longer reachable, so they get silence.
    endpoint.pcmConsumers.clear();
    if (!endpoint.line) return Promise.resolve();
    if (announce) this.emit('lineState', { lineId: endpoint.id, state: 'closed' });
    const closing = endpoint.line.close().catch((error: unknown) => {
      this.emit('warning', { endpointId: endpoint.id, code: 'CloseFailed', message: String(error) });
    });
    this.closing.add(closing);
    return closing.finally(() => this.closing.delete(closing));
  }

  private endpoint(id: string): Endpoint {
    this.assertOpen();
    const endpoint = this.endpoints.get(id);
    if (!endpoint) throw new MediaError('UnknownEndpoint', `no endpoint ${id}`);
    return endpoint;
  }

  // ---- connecting endpoints ----------------------------------------------------------------------------------

  bridge(a: string, b: string): Bridge {
    const first = this.endpoint(a);
    const second = this.endpoint(b);
    if (first === second) throw new MediaError('InvalidArgument', `cannot bridge ${a} to itself`);
    this.assertFree(first);
    this.assertFree(second);
    const bridge = new BridgeLink(first, second, (closed) => {
      this.bridges.delete(closed);
      if (closed.a.link === closed) closed.a.link = undefined;
      if (closed.b.link === closed) closed.b.link = undefined;
    });
    first.link = bridge;
    second.link = bridge;
    first.waiting = 'none';
    second.waiting = 'none';
    this.bridges.add(bridge);
    return bridge;
  }

  conference(endpointIds: readonly string[]): Conference {
    this.assertOpen();
    if (!Array.isArray(endpointIds) || endpointIds.length < 2) {
      throw new MediaError('InvalidArgument', 'a conference needs at least two endpoints');
    }
    if (new Set(endpointIds).size !== endpointIds.length) {
      throw new MediaError('InvalidArgument', 'an endpoint is listed twice');
    }
    // Check them all first, so a failure leaves nothing half-joined.
    for (const id of endpointIds) this.assertFree(this.endpoint(id));
    const conference = new ConferenceMix(`conference-${++this.conferenceCount}`, this);
    this.conferences.add(conference);
    for (const id of endpointIds) this.joinConference(conference, id);
    return conference;
  }

  /** @internal ConferenceMix.add */
  joinConference(conference: ConferenceMix, endpointId: string): void {
    const endpoint = this.endpoint(endpointId);
    this.assertFree(endpoint);
    const fifo = new PcmFifo();
    const consumer: PcmConsumer = (pcm) => fifo.push(pcm);
    conference.members.set(endpoint, { fifo, consumer, frame: new Int16Array(FRAME_SAMPLES) });
    endpoint.pcmConsumers.add(consumer);
    endpoint.link = conference;
    endpoint.waiting = 'none';
  }

  /** @internal ConferenceMix.remove/close */
  leaveConference(conference: ConferenceMix, endpoint: Endpoint): void {
    const member = conference.members.get(endpoint);
    if (!member) return;
    conference.members.delete(endpoint);
    endpoint.pcmConsumers.delete(member.consumer);
    if (endpoint.link === conference) endpoint.link = undefined;
  }

  /** @internal ConferenceMix.close */
  conferenceClosed(conference: ConferenceMix): void {
    this.conferences.delete(conference);
  }

  private assertFree(endpoint: Endpoint): void {
    if (endpoint.link instanceof BridgeLink) {
      throw new MediaError('EndpointBusy', `${endpoint.id} is bridged to ${endpoint.link.peerOf(endpoint).id}`);
    }
    if (endpoint.link) throw new MediaError('EndpointBusy', `${endpoint.id} is in ${endpoint.link.id}`);
  }

  setHold(endpointId: string, held: boolean): void {
    const endpoint = this.endpoint(endpointId);
    if (held && !endpoint.held) {
      endpoint.musicFrame = 0;
      endpoint.generation++;
    }
    endpoint.held = held;
  }

  setMute(endpointId: string, muted: boolean): void {
    this.endpoint(endpointId).muted = muted;
  }

  setWaitingAudio(endpointId: string, audio: WaitingAudio): void {
    const endpoint = this.endpoint(endpointId);
    if (audio !== 'none' && audio !== 'ringback' && audio !== 'music') {
      throw new MediaError('InvalidArgument', `waiting audio is none, ringback or music, got ${String(audio)}`);
    }
    if (audio !== endpoint.waiting) {
      endpoint.waitingFrame = 0;
      endpoint.generation++;
    }
    endpoint.waiting = audio;
  }

  sendDtmf(endpointId: string, digits: string): void {
    const endpoint = this.endpoint(endpointId);
    validateDigits(digits);
    if (!endpoint.dtmfOut.active) endpoint.generation++;
    endpoint.dtmfOut.enqueue(digits);
  }

  // ---- PCM consumers -----------------------------------------------------------------------------------------

  tap(endpointId: string, onFrame: (pcm: Int16Array) => void): () => void {
    const endpoint = this.endpoint(endpointId);
    const consumer: PcmConsumer = (pcm) => {
      try {
        onFrame(pcm);
      } catch (error) {
        this.emit('warning', { endpointId, code: 'TapFailed', message: String(error) });
      }
    };
    endpoint.pcmConsumers.add(consumer);
    return () => endpoint.pcmConsumers.delete(consumer);
  }

  async startRecording(recordingId: string, options: RecordingOptions): Promise<Recording> {
    requireId(recordingId, 'recordingId');
    if (this.recordings.has(recordingId)) throw new MediaError('RecordingExists', `recording ${recordingId} exists`);
    const left = this.endpoint(options.left);
    const right = this.endpoint(options.right);
    if (left === right) throw new MediaError('InvalidArgument', 'left and right must be different endpoints');
    if (typeof options.path !== 'string' || options.path === '') {
      throw new MediaError('InvalidArgument', 'a recording needs a file path');
    }
    const writer = await WavFileWriter.create(options.path, ENGINE_SAMPLE_RATE, 2);
    // The file took a moment to open: the engine may have closed, or someone else took the id.
    if (this.closed || this.recordings.has(recordingId)) {
      await writer.close();
      throw this.closed
        ? new MediaError('EngineClosed', 'the media engine is closed')
        : new MediaError('RecordingExists', `recording ${recordingId} exists`);
    }
    const recording = new StereoRecording(recordingId, left, right, writer, (done) => {
      if (this.recordings.get(done.id) === done) this.recordings.delete(done.id);
    });
    this.recordings.set(recordingId, recording);
    return recording;
  }

  // ---- the media path ----------------------------------------------------------------------------------------

  private ingress(endpoint: Endpoint, packet: SourcedPacket, source: string): void {
    this.counters.packetsIn++;
    if (packet.kind === 'dtmf') {
      for (const digit of endpoint.dtmfIn.push(packet.timestamp, packet.payload)) {
        this.emit('dtmf', { endpointId: endpoint.id, digit });
      }
    }
    if (endpoint.held || endpoint.muted) return;
    if (packet.kind === 'audio' && endpoint.pcmConsumers.size > 0) {
      const pcm = decodeMulaw(packet.payload);
      this.counters.framesDecoded++;
      for (const consume of endpoint.pcmConsumers) consume(pcm);
    }
    const link = endpoint.link;
    if (!(link instanceof BridgeLink)) return;
    const peer = link.peerOf(endpoint);
    // A held peer hears music; one being sent DTMF by the engine hears only that until the keys are done.
    if (peer.held || peer.dtmfOut.active) return;
    peer.out.send(source, packet);
    this.counters.packetsRelayed++;
  }

  private tick(): void {
    this.ticks++;
    for (const endpoint of this.endpoints.values()) {
      const said = endpoint.party?.speak();
      if (said) this.ingress(endpoint, said, endpoint.id);
    }
    for (const conference of this.conferences) this.counters.framesEncoded += conference.mix();
    for (const endpoint of this.endpoints.values()) this.playGenerated(endpoint);
    for (const recording of this.recordings.values()) recording.tick();
    for (const endpoint of this.endpoints.values()) endpoint.party?.listen();
  }

  /** This tick's engine-made audio for one endpoint: DTMF being sent to it, else hold music, else waiting audio. */
  private playGenerated(endpoint: Endpoint): void {
    const now = (this.ticks * FRAME_SAMPLES) >>> 0;
    const dtmf = endpoint.dtmfOut.next(now);
    if (dtmf) {
      if (dtmf.packet) endpoint.out.send(`dtmf:${endpoint.generation}`, { kind: 'dtmf', ...dtmf.packet });
      return;
    }
    if (endpoint.held) {
      const frame = endpoint.musicFrame++;
      const payload = this.music.frame(frame);
      endpoint.out.send(`hold:${endpoint.generation}`, {
        kind: 'audio',
        timestamp: frame * FRAME_SAMPLES,
        marker: false,
        payload,
      });
      return;
    }
    if (endpoint.link || endpoint.waiting === 'none') return;
    const frame = endpoint.waitingFrame++;
    const loop = endpoint.waiting === 'music' ? this.music : this.ringback;
    const payload = loop.frame(frame);
    endpoint.out.send(`waiting:${endpoint.generation}`, {
      kind: 'audio',
      timestamp: frame * FRAME_SAMPLES,
      marker: false,
      payload,
    });
  }

  // ---- the rest ----------------------------------------------------------------------------------------------

  stats(): MediaEngineStats {
    return {
      endpoints: this.endpoints.size,
      bridges: this.bridges.size,
      conferences: this.conferences.size,
      recordings: this.recordings.size,
      ...this.counters,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const recordings = [...this.recordings.values()].map((recording) =>
      recording.stop().catch((error: unknown) => {
        this.emit('warning', { code: 'RecordingFailed', message: String(error) });
      }),
    );
    const endpoints = [...this.endpoints.values()].map((endpoint) => this.removeEndpoint(endpoint, true));
    this.stopClock();
    await Promise.all([...recordings, ...endpoints, ...this.closing]);
    this.earlyCandidates.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('EngineClosed', 'the media engine is closed');
  }

  private emit<E extends MediaEngineEventName>(event: E, payload: MediaEngineEvents[E]): void {
    for (const listener of this.listeners[event] as Set<(payload: MediaEngineEvents[E]) => void>) {
      try {
        listener(payload);
      } catch (error) {
        // A listener's bug must not break the media path; report it unless the warning listener itself failed.
        if (event !== 'warning') this.emit('warning', { code: 'ListenerFailed', message: String(error) });
      }
    }
  }
}

function requireId(id: string, name: string): void {
  if (typeof id !== 'string' || id === '')
    throw new MediaError('InvalidArgument', `${name} must be a non-empty string`);
}
