import type { AgentLineTransport } from './agent-line.js';
import { type AudioCodecName, frameTicks, TimestampScaler } from './codec.js';
import { encodeMulaw } from './g711.js';
import type { Bridge, WaitingAudio } from './media-engine.js';
import { type OpusDecoder, OpusEncoder } from './opus.js';
import { OutboundStream, type OutgoingPacket } from './outbound-stream.js';
import { DtmfDetector, DtmfSendQueue } from './rfc4733.js';
import type { VirtualPartyEndpoint } from './virtual-party.js';

/**
 * What an endpoint can be linked to besides a bridge: a conference (conference-mix.ts's ConferenceMix, which the
 * switch links). Declared by what this file needs of it, because the mix holds Endpoints itself.
 */
export interface ConferenceLink {
  readonly id: string;
}

/** Takes an endpoint's voice as 8 kHz PCM, one frame at a time (taps, recordings, conference members). */
export type PcmConsumer = (pcm: Int16Array) => void;

/** The Opus decoder of one incoming stream, and where in the stream's timeline it is. */
export interface InboundDecoder {
  readonly source: string;
  readonly opus: OpusDecoder;
  /** The timestamp the next packet should have (this one's plus its duration), in 48 kHz ticks. */
  expected: number;
}

/**
 * One party of the switch: an agent's line or a virtual party, what it is linked to (a bridge or a conference), its
 * hold/mute/waiting state, its DTMF in and out, who consumes its PCM, and its one outgoing stream in its codec.
 */
export class Endpoint {
  held = false;
  muted = false;
  waiting: WaitingAudio = 'none';
  link: BridgeLink | ConferenceLink | undefined;
  /** Frame counters of the generated sources, so music starts at its beginning when hold starts. */
  musicFrame = 0;
  waitingFrame = 0;
  /** Bumped whenever a generated source restarts, so the outbound stream re-maps its timestamps. */
  generation = 0;
  readonly dtmfIn = new DtmfDetector();
  readonly dtmfOut = new DtmfSendQueue();
  readonly pcmConsumers = new Set<PcmConsumer>();
  /** Timestamps of what is transcoded for this endpoint, moved into its clock. */
  readonly scaler = new TimestampScaler();
  /** What it sends, decoded (only while something needs its PCM and it speaks Opus). */
  decoder: InboundDecoder | undefined;
  decodeFailures = 0;
  private stream: OutboundStream | undefined;
  private encoder: OpusEncoder | undefined;
  private released = false;
  private readonly deliver: (packet: OutgoingPacket) => void;

  constructor(
    readonly id: string,
    readonly line: AgentLineTransport | undefined,
    readonly party: VirtualPartyEndpoint | undefined,
    /** Media clock ticks so far. */
    private readonly ticks: () => number,
  ) {
    this.deliver = (packet) => {
      if (line) line.write(packet);
      else party?.receive(packet);
    };
  }

  /** What it receives and sends: an agent line's negotiated codec; PCMU for everything else. */
  get codec(): AudioCodecName {
    return this.line?.codec ?? 'pcmu';
  }

  /** Its one outgoing stream, in its codec's clock: made anew (and the encoder dropped) if the codec changed. */
  get out(): OutboundStream {
    const codec = this.codec;
    if (this.stream?.codec !== codec) {
      const ticksPerFrame = frameTicks(codec);
      this.stream = new OutboundStream(codec, () => this.ticks() * ticksPerFrame, this.deliver);
      this.encoder?.delete();
      this.encoder = undefined;
    }
    return this.stream;
  }

  /** Encodes engine-made PCM (a transcoded frame, a conference mix) for this endpoint, in its codec. */
  encode(pcm: Int16Array): Buffer | undefined {
    if (this.out.codec === 'pcmu') return encodeMulaw(pcm);
    // A closed endpoint gets no new encoder: it would never be freed.
    if (this.released || !OpusEncoder.canEncode(pcm.length)) return undefined;
    this.encoder ??= new OpusEncoder();
    return this.encoder.encode(pcm);
  }

  /** Frees its Opus encoder and decoder (WebAssembly memory the garbage collector does not see). */
  release(): void {
    this.released = true;
    this.encoder?.delete();
    this.encoder = undefined;
    this.decoder?.opus.delete();
    this.decoder = undefined;
  }
}

/** Two endpoints that hear each other. */
export class BridgeLink implements Bridge {
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
