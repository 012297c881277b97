import OpusScript from 'opusscript';
import { ENGINE_SAMPLE_RATE } from './wav.js';

/**
 * Opus for the engine, on opusscript (libopus 1.4 compiled to WebAssembly: no native build, installs offline).
 * Both directions work on the engine's 8 kHz mono PCM: libopus takes 8 kHz input and decodes any Opus stream (a
 * browser's fullband one too) straight to 8 kHz. The RTP clock of Opus stays 48 kHz (codec.ts).
 *
 * Each instance holds memory in the one WebAssembly heap all instances share, which does not grow and which the
 * garbage collector does not see: whoever creates an encoder or decoder must `delete()` it. `liveOpusInstances()`
 * counts those not deleted, so tests can check that closing endpoints frees them.
 */

/** Bits per second: plenty for narrowband voice, well under what a browser sends. */
export const OPUS_BITRATE = 24_000;
/**
 * libopus's effort setting (0-10, default 10). At 8 kHz, 5 costs about 60 % of 10's CPU per frame for no audible
 * difference on a telephone voice; the encoder is the expensive half of a transcode.
 */
const OPUS_COMPLEXITY = 5;
/** The loss rate the encoder plans in-band FEC for; without a figure above 0 libopus sends no FEC at all. */
const OPUS_EXPECTED_LOSS_PERCENT = 10;

// libopus CTL requests (opus_defines.h); opusscript only names the bitrate one.
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

/** The frame sizes libopus accepts at 8 kHz, in samples: 2.5, 5, 10, 20, 40 and 60 ms. */
const ENCODABLE_SAMPLES = new Set([20, 40, 80, 160, 320, 480]);

let live = 0;

/** Encoders and decoders created and not yet deleted (all of them, in this process). */
export function liveOpusInstances(): number {
  return live;
}

abstract class OpusInstance {
  protected readonly opus: OpusScript;
  private deleted = false;

  constructor() {
    this.opus = new OpusScript(ENGINE_SAMPLE_RATE, 1, OpusScript.Application.VOIP);
    live++;
  }

  /** Frees the WebAssembly memory. Safe twice; the instance is unusable afterwards. */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    live--;
    this.opus.delete();
  }

  protected assertLive(): void {
    if (this.deleted) throw new Error('this Opus instance was deleted');
  }
}

/** One outgoing Opus stream: 8 kHz PCM frames in, Opus packets out. Stateful: one per receiving endpoint. */
export class OpusEncoder extends OpusInstance {
  constructor() {
    super();
    this.opus.setBitrate(OPUS_BITRATE);
    this.opus.encoderCTL(OPUS_SET_COMPLEXITY, OPUS_COMPLEXITY);
    this.opus.encoderCTL(OPUS_SET_INBAND_FEC, 1);
    this.opus.encoderCTL(OPUS_SET_PACKET_LOSS_PERC, OPUS_EXPECTED_LOSS_PERCENT);
  }

  /** Whether `samples` at 8 kHz is a frame length Opus can encode in one packet. */
  static canEncode(samples: number): boolean {
    return ENCODABLE_SAMPLES.has(samples);
  }

  /** Encodes one frame (usually 160 samples, 20 ms) to an Opus packet. */
  encode(pcm: Int16Array): Buffer {
    this.assertLive();
    if (!OpusEncoder.canEncode(pcm.length)) throw new RangeError(`Opus cannot encode a frame of ${pcm.length} samples`);
    // opusscript copies the bytes into its heap itself: a view on the samples is enough.
    return this.opus.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), pcm.length);
  }
}

/** One incoming Opus stream: packets in, 8 kHz PCM out. Stateful: one per stream, a new one when the SSRC changes. */
export class OpusDecoder extends OpusInstance {
  /** Decodes a packet (any Opus packet, 2.5 to 120 ms) to 8 kHz PCM. Throws on a packet that is not Opus. */
  decode(payload: Uint8Array): Int16Array {
    this.assertLive();
    if (payload.length <= 1) return this.conceal();
    return toSamples(this.opus.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)));
  }

  /**
   * Packet loss concealment: a 20 ms frame that continues the audio where the lost packet would have been (libopus
   * extrapolates from what it decoded last, fading out over consecutive losses).
   */
  conceal(): Int16Array {
    this.assertLive();
    // opusscript has no frame size for a loss and would conceal libopus's longest frame (120 ms), fading the next
    // packets in from silence. A packet of only a TOC byte is a loss too (RFC 6716 §3.2.1), and libopus conceals
    // just the duration its TOC names: 20 ms, in the mode of the last packet it decoded.
    return toSamples(this.opus.decode(LOST_20MS));
  }
}

/** A code-0 packet of configuration 1 (20 ms frames) with an empty frame. */
const LOST_20MS = Buffer.from([1 << 3]);

/** The decoded bytes as samples, without a copy when the Buffer is 2-byte aligned (Node's pool slices are). */
function toSamples(bytes: Buffer): Int16Array {
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
  const copy = new Uint8Array(bytes);
  return new Int16Array(copy.buffer, 0, copy.byteLength >> 1);
}
