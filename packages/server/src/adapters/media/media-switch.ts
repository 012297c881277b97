import type { AgentLineFactory, AgentLineHooks } from './agent-line.js';
import {
  type AudioLoop,
  DEFAULT_RINGBACK,
  FrameLoop,
  musicOnHoldPcm,
  OpusFrameLoop,
  type RingbackTone,
  ringbackPcm,
} from './audio-sources.js';
import { type AudioCodecName, clockRate, frameTicks } from './codec.js';
import { type ConferenceHost, ConferenceMix } from './conference-mix.js';
import { decodeMulaw } from './g711.js';
import { FRAME_SAMPLES, type MediaClock } from './media-clock.js';
import {
  type Bridge,
  type Conference,
  type IceCandidateInit,
  type MediaEngine,
  type MediaEngineEventName,
  type MediaEngineEvents,
  type MediaEngineStats,
  MediaError,
  type OpenAgentLineOptions,
  type Recording,
  type RecordingOptions,
  type VirtualParty,
  type VirtualPartyOptions,
  type WaitingAudio,
} from './media-engine.js';
import { OpusDecoder } from './opus.js';
import type { SourcedPacket } from './outbound-stream.js';
import { PcmFifo } from './pcm-fifo.js';
import { rescaleTelephoneEvent, validateDigits } from './rfc4733.js';
import { StereoRecording } from './stereo-recording.js';
import { BridgeLink, Endpoint, type PcmConsumer } from './switch-endpoint.js';
import { VirtualPartyEndpoint } from './virtual-party.js';
import { ENGINE_SAMPLE_RATE, WavFileWriter } from './wav.js';

/**
 * The transport-independent heart of the embedded media engine: endpoints, who hears whom, and everything the
 * 20 ms media clock drives (virtual parties, hold music, ringback, the conference mixer, recordings, DTMF sending).
 * Agent lines come from an `AgentLineFactory` (werift by default, see werift-engine.ts), so this file never touches
 * WebRTC and its tests run on a manual clock.
 *
 * Every endpoint has a codec (codec.ts): an agent line the one its answer named (Opus between browsers, PCMU when
 * the browser or the operator wants G.711), a virtual party PCMU. The relay path (a packet from one endpoint to its
 * bridged peer of the same codec) copies nothing and decodes nothing: it checks two flags and gives the payload,
 * with a rewritten header, to the peer's outbound stream. PCM exists only where something needs it: taps,
 * recordings and conferences register as PCM consumers of an endpoint, a bridge between two codecs transcodes, and
 * a packet is decoded once for all of them. Engine-made audio (music, ringback, conference mixes, DTMF) is made in
 * each receiver's codec and RTP clock.
 */

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
/** Lost Opus packets concealed (libopus PLC) before a decode, at most: a longer gap is silence, not a guess. */
const MAX_CONCEALED_FRAMES = 3;
/** A decode failure is reported once per this many (a sender of garbage sends 50 packets a second). */
const DECODE_WARNING_EVERY = 500;

type Listeners = { [E in MediaEngineEventName]: Set<(payload: MediaEngineEvents[E]) => void> };

export class MediaSwitch implements MediaEngine, ConferenceHost {
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
  private readonly musicPcm: Int16Array;
  private readonly ringbackPcm: Int16Array;
  /** Music and ringback encoded once per codec, shared by every endpoint (Opus only once an endpoint needs it). */
  private readonly loops: Partial<Record<AudioCodecName, { readonly music: AudioLoop; readonly ringback: AudioLoop }>>;
  private readonly stopClock: () => void;
  private ticks = 0;
  private conferenceCount = 0;
  private closed = false;
  private counters = { packetsIn: 0, packetsRelayed: 0, framesDecoded: 0, framesEncoded: 0 };

  constructor(private readonly options: MediaSwitchOptions) {
    this.musicPcm = options.musicOnHold ?? musicOnHoldPcm();
    this.ringbackPcm = ringbackPcm(options.ringback ?? DEFAULT_RINGBACK);
    this.loops = { pcmu: { music: new FrameLoop(this.musicPcm), ringback: new FrameLoop(this.ringbackPcm) } };
    this.stopClock = options.clock.start(() => this.tick());
  }

  private loopsFor(codec: AudioCodecName): { readonly music: AudioLoop; readonly ringback: AudioLoop } {
    let loops = this.loops[codec];
    if (!loops) {
      // Only Opus gets here (PCMU's are made at start-up): some 400 frames, a few tens of milliseconds, once.
      loops = { music: new OpusFrameLoop(this.musicPcm), ringback: new OpusFrameLoop(this.ringbackPcm) };
      this.loops[codec] = loops;
    }
    return loops;
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
      endpoint = new Endpoint(lineId, line, undefined, () => this.ticks);
      this.endpoints.set(lineId, endpoint);
      for (const candidate of this.earlyCandidates.get(lineId) ?? []) line.addRemoteCandidate(candidate);
      this.earlyCandidates.delete(lineId);
    } else if (!endpoint.line) {
      throw new MediaError('EndpointExists', `${lineId} is not an agent line`);
    }
    try {
      const answerSdp = await endpoint.line!.negotiate(offerSdp, options);
      if (this.endpoints.get(lineId) !== endpoint) throw new MediaError('UnknownEndpoint', `${lineId} was closed`);
      // The first Opus line encodes music and ringback for Opus now, at check-in, rather than in the middle of a
      // media clock tick when it first needs them.
      this.loopsFor(endpoint.codec);
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
    const endpoint = new Endpoint(id, undefined, party, () => this.ticks);
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
    else if (endpoint.link instanceof ConferenceMix) this.leaveConference(endpoint.link, endpoint);
    // Recordings and taps hold their consumers on this object; it is no longer reachable, so they get silence.
    endpoint.pcmConsumers.clear();
    endpoint.release();
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
    const link = endpoint.link;
    let peer = link instanceof BridgeLink ? link.peerOf(endpoint) : undefined;
    // A held peer hears music; one being sent DTMF by the engine hears only that until the keys are done.
    if (peer && (peer.held || peer.dtmfOut.active)) peer = undefined;
    if (packet.kind === 'dtmf') {
      if (peer) this.relayDtmf(peer, packet, source);
      return;
    }
    const transcode = peer !== undefined && peer.codec !== packet.codec;
    let frames: Int16Array[] | undefined;
    if (endpoint.pcmConsumers.size > 0 || transcode) {
      frames = this.decode(endpoint, packet, source);
      for (const pcm of frames) for (const consume of endpoint.pcmConsumers) consume(pcm);
    }
    if (!peer) return;
    if (transcode) {
      this.sendTranscoded(peer, packet, frames!, source);
      return;
    }
    peer.out.send(source, packet);
    this.counters.packetsRelayed++;
  }

  /**
   * A packet as 8 kHz PCM: μ-law through its table; Opus through the sender's decoder (one per incoming stream, new
   * when the source changes), which first conceals a packet or two that never came (what comes before the packet's
   * own frame in the result). A late packet, one the decoder has already concealed, gives nothing.
   */
  private decode(endpoint: Endpoint, packet: SourcedPacket, source: string): Int16Array[] {
    if (packet.codec === 'pcmu') {
      this.counters.framesDecoded++;
      return [decodeMulaw(packet.payload)];
    }
    let state = endpoint.decoder;
    if (state?.source !== source) {
      state?.opus.delete();
      state = { source, opus: new OpusDecoder(), expected: packet.timestamp };
      endpoint.decoder = state;
    }
    const ticksPerFrame = frameTicks('opus');
    const gap = (packet.timestamp - state.expected) | 0;
    // More than a second behind is a sender that restarted its timeline, not a late packet.
    if (gap < 0 && gap > -clockRate('opus')) return [];
    const frames: Int16Array[] = [];
    const lost = Math.round(gap / ticksPerFrame);
    if (lost >= 1 && lost <= MAX_CONCEALED_FRAMES) {
      for (let i = 0; i < lost; i++) frames.push(state.opus.conceal());
    }
    try {
      const pcm = state.opus.decode(packet.payload);
      frames.push(pcm);
      state.expected = (packet.timestamp + (pcm.length * clockRate('opus')) / ENGINE_SAMPLE_RATE) >>> 0;
    } catch (error) {
      state.expected = (packet.timestamp + ticksPerFrame) >>> 0;
      if (endpoint.decodeFailures++ % DECODE_WARNING_EVERY === 0) {
        this.emit('warning', { endpointId: endpoint.id, code: 'DecodeFailed', message: String(error) });
      }
    }
    this.counters.framesDecoded += frames.length;
    return frames;
  }

  /**
   * A bridged packet for a peer of another codec: each decoded frame encoded in the peer's codec (its own Opus
   * encoder, or μ-law), its timestamp moved into the peer's clock. Concealed frames go out before the packet's own.
   */
  private sendTranscoded(peer: Endpoint, packet: SourcedPacket, frames: readonly Int16Array[], source: string): void {
    const { codec } = peer.out;
    const from = clockRate(packet.codec);
    const to = clockRate(codec);
    const key = `${source}@${packet.codec}`;
    const ticksPerFrame = frameTicks(packet.codec);
    frames.forEach((pcm, i) => {
      const payload = peer.encode(pcm);
      if (!payload) return;
      // Concealed frames are 20 ms each, just before the packet's own frame (the last one).
      const timestamp = (packet.timestamp - (frames.length - 1 - i) * ticksPerFrame) >>> 0;
      peer.out.send(key, {
        kind: 'audio',
        codec,
        timestamp: peer.scaler.convert(key, timestamp, from, to),
        marker: packet.marker && i === 0,
        payload,
      });
      this.counters.framesEncoded++;
    });
  }

  /** A key press for the bridged peer: as it came, or with its timestamp and duration moved into the peer's clock. */
  private relayDtmf(peer: Endpoint, packet: SourcedPacket, source: string): void {
    const { codec } = peer.out;
    const from = clockRate(packet.codec);
    const to = clockRate(codec);
    if (from === to) {
      peer.out.send(source, packet);
    } else {
      const key = `${source}@${packet.codec}`;
      peer.out.send(key, {
        kind: 'dtmf',
        codec,
        timestamp: peer.scaler.convert(key, packet.timestamp, from, to),
        marker: packet.marker,
        payload: rescaleTelephoneEvent(packet.payload, from, to),
      });
    }
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

  /**
   * This tick's engine-made audio for one endpoint: DTMF being sent to it, else hold music, else waiting audio. All
   * in the endpoint's codec and clock: music and ringback from the loops encoded once for that codec.
   */
  private playGenerated(endpoint: Endpoint): void {
    const { codec } = endpoint.out;
    const ticksPerFrame = frameTicks(codec);
    const now = (this.ticks * ticksPerFrame) >>> 0;
    const dtmf = endpoint.dtmfOut.next(now, ticksPerFrame);
    if (dtmf) {
      if (dtmf.packet) endpoint.out.send(`dtmf:${endpoint.generation}`, { kind: 'dtmf', codec, ...dtmf.packet });
      return;
    }
    if (endpoint.held) {
      const frame = endpoint.musicFrame++;
      endpoint.out.send(`hold:${endpoint.generation}`, {
        kind: 'audio',
        codec,
        timestamp: (frame * ticksPerFrame) >>> 0,
        marker: false,
        payload: this.loopsFor(codec).music.frame(frame),
      });
      return;
    }
    if (endpoint.link || endpoint.waiting === 'none') return;
    const frame = endpoint.waitingFrame++;
    const loops = this.loopsFor(codec);
    endpoint.out.send(`waiting:${endpoint.generation}`, {
      kind: 'audio',
      codec,
      timestamp: (frame * ticksPerFrame) >>> 0,
      marker: false,
      payload: (endpoint.waiting === 'music' ? loops.music : loops.ringback).frame(frame),
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
