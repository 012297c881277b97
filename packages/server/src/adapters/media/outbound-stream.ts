import { randomInt } from 'node:crypto';
import { type AudioCodecName, clockRate, frameTicks } from './codec.js';

/** A payload on its way through the engine. The payload is never modified once it entered the engine. */
export interface SourcedPacket {
  readonly kind: 'audio' | 'dtmf';
  /**
   * The codec of an audio payload. Timestamps are in that codec's RTP clock (48 kHz for Opus, 8 kHz for PCMU); for
   * a telephone-event it names the event's clock the same way (telephone-event/48000 goes with Opus).
   */
  readonly codec: AudioCodecName;
  /** RTP timestamp in the source's own timeline, in the codec's clock. */
  readonly timestamp: number;
  readonly marker: boolean;
  /** The codec's bytes (audio) or a 4-byte RFC 4733 event (dtmf), whose durations are in the same clock. */
  readonly payload: Buffer;
}

/** What a receiving endpoint is given: the payload with the header its own continuous stream needs. */
export interface OutgoingPacket extends SourcedPacket {
  readonly sequenceNumber: number;
}

/** A source whose timestamps move by more than this (in seconds) between packets has restarted (new SSRC, gap). */
const MAX_STEP_SECONDS = 1;

/**
 * One receiver's outgoing RTP stream. What it hears changes source — the bridged party, then hold music, then
 * another party after a transfer, DTMF in between — but it must see one stream: sequence numbers that go up by one
 * per packet, timestamps that advance with real time. Each source keeps its own timestamps (so relayed packets keep
 * their spacing and DTMF events keep their shared timestamp); when the source changes, a new offset maps it to
 * where this stream should be now, and the first audio packet carries the marker bit (a new talkspurt).
 *
 * The stream has one codec, the receiver's, and runs in its RTP clock (a frame is 960 ticks for Opus, 160 for PCMU):
 * every packet given to it must already be in that codec and clock. Same codec on both ends, only the header is
 * rewritten: the relay path never decodes. SSRC is left to the transport (werift sets the sender's own SSRC; a
 * virtual party does not need one).
 */
export class OutboundStream {
  private sequence = randomInt(0x10000);
  private lastTimestamp = randomInt(0x1_0000_0000);
  private lastSentAt: number | undefined;
  private source: string | undefined;
  private lastSourceTimestamp = 0;
  private offset = 0;
  private readonly frame: number;
  private readonly maxStep: number;

  constructor(
    readonly codec: AudioCodecName,
    /** Engine time in this stream's clock (media clock ticks × frame ticks): how far a silent switch moves. */
    private readonly now: () => number,
    private readonly deliver: (packet: OutgoingPacket) => void,
  ) {
    this.frame = frameTicks(codec);
    this.maxStep = clockRate(codec) * MAX_STEP_SECONDS;
  }

  send(source: string, packet: SourcedPacket): void {
    const now = this.now();
    const step = Math.abs((packet.timestamp - this.lastSourceTimestamp) | 0);
    let marker = packet.marker;
    if (source !== this.source || step > this.maxStep) {
      const elapsed = this.lastSentAt === undefined ? 0 : now - this.lastSentAt;
      const advance = Math.max(this.frame, Math.round(elapsed / this.frame) * this.frame);
      this.offset = (this.lastTimestamp + advance - packet.timestamp) >>> 0;
      this.source = source;
      if (packet.kind === 'audio') marker = true;
    }
    this.lastSourceTimestamp = packet.timestamp;
    const timestamp = (packet.timestamp + this.offset) >>> 0;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.lastTimestamp = timestamp;
    this.lastSentAt = now;
    this.deliver({
      kind: packet.kind,
      codec: packet.codec,
      sequenceNumber: this.sequence,
      timestamp,
      marker,
      payload: packet.payload,
    });
  }
}
