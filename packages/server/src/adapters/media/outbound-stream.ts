import { randomInt } from 'node:crypto';
import { FRAME_SAMPLES } from './media-clock.js';

/** A payload on its way through the engine. The payload is never modified once it entered the engine. */
export interface SourcedPacket {
  readonly kind: 'audio' | 'dtmf';
  /** RTP timestamp in the source's own timeline (8 kHz). */
  readonly timestamp: number;
  readonly marker: boolean;
  /** μ-law bytes (audio) or a 4-byte RFC 4733 event (dtmf). */
  readonly payload: Buffer;
}

/** What a receiving endpoint is given: the payload with the header its own continuous stream needs. */
export interface OutgoingPacket extends SourcedPacket {
  readonly sequenceNumber: number;
}

/** A source whose timestamps move by more than this between packets has restarted (new SSRC, long gap). */
const MAX_TIMESTAMP_STEP = 8_000;

/**
 * One receiver's outgoing RTP stream. What it hears changes source — the bridged party, then hold music, then
 * another party after a transfer, DTMF in between — but it must see one stream: sequence numbers that go up by one
 * per packet, timestamps that advance with real time. Each source keeps its own timestamps (so relayed packets keep
 * their spacing and DTMF events keep their shared timestamp); when the source changes, a new offset maps it to
 * where this stream should be now, and the first audio packet carries the marker bit (a new talkspurt).
 *
 * Only the header is rewritten: the relay path never decodes. SSRC is left to the transport (werift sets the
 * sender's own SSRC; a virtual party does not need one).
 */
export class OutboundStream {
  private sequence = randomInt(0x10000);
  private lastTimestamp = randomInt(0x1_0000_0000);
  private lastSentAt: number | undefined;
  private source: string | undefined;
  private lastSourceTimestamp = 0;
  private offset = 0;

  constructor(
    /** Engine time in samples (media clock ticks × 160): how far the timestamp moves across a silent switch. */
    private readonly nowSamples: () => number,
    private readonly deliver: (packet: OutgoingPacket) => void,
  ) {}

  send(source: string, packet: SourcedPacket): void {
    const now = this.nowSamples();
    const step = Math.abs((packet.timestamp - this.lastSourceTimestamp) | 0);
    let marker = packet.marker;
    if (source !== this.source || step > MAX_TIMESTAMP_STEP) {
      const elapsed = this.lastSentAt === undefined ? 0 : now - this.lastSentAt;
      const advance = Math.max(FRAME_SAMPLES, Math.round(elapsed / FRAME_SAMPLES) * FRAME_SAMPLES);
      this.offset = (this.lastTimestamp + advance - packet.timestamp) >>> 0;
      this.source = source;
      if (packet.kind === 'audio') marker = true;
    }
    this.lastSourceTimestamp = packet.timestamp;
    const timestamp = (packet.timestamp + this.offset) >>> 0;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.lastTimestamp = timestamp;
    this.lastSentAt = now;
    this.deliver({ kind: packet.kind, sequenceNumber: this.sequence, timestamp, marker, payload: packet.payload });
  }
}
