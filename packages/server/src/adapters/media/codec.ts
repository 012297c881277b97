import { FRAME_MS } from './media-clock.js';
import { MediaError } from './media-engine.js';

/**
 * The audio codecs the engine speaks, and what the rest of the engine needs to know about each: its RTP clock and
 * how far one 20 ms frame moves the timestamp. Inside the engine PCM is always 8 kHz mono (ENGINE_SAMPLE_RATE);
 * only the payloads and the RTP clocks differ.
 *
 * - `opus`: between WebRTC legs (browsers offer it first). RTP clock 48 kHz whatever the audio bandwidth
 *   (RFC 7587), so a 20 ms frame is 960 ticks; the engine encodes and decodes it at 8 kHz.
 * - `pcmu`: G.711 μ-law, 8 kHz clock, 160 ticks a frame: virtual parties, SIP legs, and browsers told to use it.
 */
export type AudioCodecName = 'opus' | 'pcmu';

export const AUDIO_CODECS: readonly AudioCodecName[] = ['opus', 'pcmu'];

/** What agent lines may use, in preference order, unless the operator says otherwise. */
export const DEFAULT_LINE_CODECS: readonly AudioCodecName[] = ['opus', 'pcmu'];

const CLOCK_RATES: Readonly<Record<AudioCodecName, number>> = { opus: 48_000, pcmu: 8_000 };
const LABELS: Readonly<Record<AudioCodecName, string>> = { opus: 'Opus', pcmu: 'PCMU' };

/** The codec's name as people write it, for messages. */
export function codecLabel(codec: AudioCodecName): string {
  return LABELS[codec];
}

/** The codec's RTP clock rate in Hz (48000 for Opus, 8000 for PCMU). */
export function clockRate(codec: AudioCodecName): number {
  return CLOCK_RATES[codec];
}

/** RTP timestamp ticks per 20 ms frame: 960 for Opus, 160 for PCMU. */
export function frameTicks(codec: AudioCodecName): number {
  return (CLOCK_RATES[codec] * FRAME_MS) / 1000;
}

/** Checks an operator's codec list (names, no repeats, at least one); returns it lower-cased. */
export function validateCodecList(codecs: readonly string[]): AudioCodecName[] {
  if (!Array.isArray(codecs) || codecs.length === 0) {
    throw new MediaError('InvalidArgument', `codecs must list at least one of ${AUDIO_CODECS.join(', ')}`);
  }
  const names = codecs.map((codec) => (typeof codec === 'string' ? codec.toLowerCase() : String(codec)));
  for (const name of names) {
    if (!(AUDIO_CODECS as readonly string[]).includes(name)) {
      throw new MediaError('InvalidArgument', `unknown codec ${name}: the engine speaks ${AUDIO_CODECS.join(', ')}`);
    }
  }
  if (new Set(names).size !== names.length) throw new MediaError('InvalidArgument', 'a codec is listed twice');
  return names as AudioCodecName[];
}

/** Timelines a scaler keeps at once (a source's audio, its telephone-events in another clock, a past source). */
const MAX_TIMELINES = 8;

/**
 * Moves timestamps from one RTP clock to another, for packets that are transcoded (Opus at 48 kHz to PCMU at 8 kHz
 * or back). It follows the steps between packets rather than dividing the absolute value, so the result stays
 * continuous when the source's 32-bit timestamp wraps (2^32 is not a multiple of 6). One per receiving endpoint;
 * each source timeline (named by a key) is followed on its own.
 */
export class TimestampScaler {
  private readonly timelines = new Map<string, { lastIn: number; lastOut: number }>();

  /** `timestamp` in `fromRate` ticks to `toRate` ticks. A new key starts a new timeline at 0. */
  convert(key: string, timestamp: number, fromRate: number, toRate: number): number {
    const timeline = this.timelines.get(key);
    if (!timeline) {
      if (this.timelines.size >= MAX_TIMELINES) this.timelines.clear();
      this.timelines.set(key, { lastIn: timestamp, lastOut: 0 });
      return 0;
    }
    const step = (timestamp - timeline.lastIn) | 0;
    timeline.lastIn = timestamp;
    timeline.lastOut = (timeline.lastOut + Math.round((step * toRate) / fromRate)) >>> 0;
    return timeline.lastOut;
  }
}
