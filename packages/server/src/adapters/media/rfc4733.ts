import { MediaError } from './media-engine.js';

/**
 * DTMF as RFC 4733 telephone-events: the 4-byte payload, a detector that turns a stream of event packets into key
 * presses (once each, even though the end packet is sent three times), and the packet plan a sender follows.
 */

const DIGITS = '0123456789*#ABCD';

/** The event code of a key (0–15), or undefined for anything else. Lower-case a–d are accepted. */
export function digitToEvent(digit: string): number | undefined {
  const index = DIGITS.indexOf(digit.toUpperCase());
  return digit.length === 1 && index >= 0 ? index : undefined;
}

export function eventToDigit(event: number): string | undefined {
  return DIGITS[event];
}

/** Checks a string of keys; throws MediaError `InvalidArgument` naming the first bad character. */
export function validateDigits(digits: string): string {
  if (digits.length === 0) throw new MediaError('InvalidArgument', 'no DTMF digits given');
  for (const digit of digits) {
    if (digitToEvent(digit) === undefined) {
      throw new MediaError('InvalidArgument', `"${digit}" is not a DTMF digit (0-9 * # A-D)`);
    }
  }
  return digits.toUpperCase();
}

export interface TelephoneEvent {
  /** 0–255; 0–15 are the DTMF keys. */
  readonly event: number;
  /** The E bit: this packet ends the event. */
  readonly end: boolean;
  /** Power level in −dBm0 (0–63). */
  readonly volume: number;
  /** Duration so far, in timestamp units of the event's clock (8 kHz, or 48 kHz alongside Opus). */
  readonly duration: number;
}

export function encodeTelephoneEvent({ event, end, volume, duration }: TelephoneEvent): Buffer {
  const payload = Buffer.alloc(4);
  payload[0] = event & 0xff;
  payload[1] = (end ? 0x80 : 0) | (volume & 0x3f);
  payload.writeUInt16BE(Math.min(duration, 0xffff), 2);
  return payload;
}

/** Decodes a telephone-event payload, or undefined when it is too short to be one. */
export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  return {
    event: payload[0]!,
    end: (payload[1]! & 0x80) !== 0,
    volume: payload[1]! & 0x3f,
    duration: (payload[2]! << 8) | payload[3]!,
  };
}

/**
 * The same event in another RTP clock: the duration scaled (telephone-event/48000 next to Opus, /8000 next to
 * PCMU). Returns the payload itself when the clocks are the same.
 */
export function rescaleTelephoneEvent(payload: Buffer, fromRate: number, toRate: number): Buffer {
  const decoded = decodeTelephoneEvent(payload);
  if (!decoded || fromRate === toRate) return payload;
  return encodeTelephoneEvent({ ...decoded, duration: Math.round((decoded.duration * toRate) / fromRate) });
}

/**
 * Turns event packets into key presses. An event is identified by its RTP timestamp (all its packets share it);
 * the key is reported on its first end packet, or — when every end packet was lost — as soon as the next event
 * starts.
 */
export class DtmfDetector {
  private currentTimestamp: number | undefined;
  private currentEvent: number | undefined;
  private reported = false;

  /** Feeds one packet; returns the keys it completes ('' for none, two keys when an end was lost). */
  push(timestamp: number, payload: Uint8Array): string {
    const decoded = decodeTelephoneEvent(payload);
    if (!decoded) return '';
    let keys = '';
    if (timestamp !== this.currentTimestamp) {
      if (this.currentEvent !== undefined && !this.reported) keys += eventToDigit(this.currentEvent) ?? '';
      this.currentTimestamp = timestamp;
      this.currentEvent = decoded.event;
      this.reported = false;
    }
    if (decoded.end && !this.reported) {
      this.reported = true;
      keys += eventToDigit(decoded.event) ?? '';
    }
    return keys;
  }
}

/** One 20 ms slot of a DTMF send: a packet to send (first one marked), or a gap between keys. */
export interface DtmfSlot {
  /** Which key of the string this slot belongs to (the packets of one key share an RTP timestamp). */
  readonly keyIndex: number;
  readonly packet?: { readonly payload: Buffer; readonly marker: boolean };
}

/** Key press length, 100 ms like browsers send; then the end packet twice more, then a gap. */
const TONE_SLOTS = 5;
const END_REPEATS = 2;
const GAP_SLOTS = 2;
const VOLUME = 10;
export const DTMF_SLOTS_PER_KEY = TONE_SLOTS + END_REPEATS + GAP_SLOTS;

/** One slot of a key press, clock-free: the event, whether it ends, and its duration so far in 20 ms frames. */
interface PlannedSlot {
  readonly keyIndex: number;
  readonly event?: { readonly event: number; readonly end: boolean; readonly frames: number; readonly first: boolean };
}

function plan(digits: string): PlannedSlot[] {
  const slots: PlannedSlot[] = [];
  [...validateDigits(digits)].forEach((digit, keyIndex) => {
    const event = digitToEvent(digit)!;
    for (let i = 0; i < TONE_SLOTS; i++) {
      slots.push({ keyIndex, event: { event, end: i === TONE_SLOTS - 1, frames: i + 1, first: i === 0 } });
    }
    for (let i = 0; i < END_REPEATS; i++) {
      slots.push({ keyIndex, event: { event, end: true, frames: TONE_SLOTS, first: false } });
    }
    for (let i = 0; i < GAP_SLOTS; i++) slots.push({ keyIndex });
  });
  return slots;
}

function slotPacket(event: NonNullable<PlannedSlot['event']>, ticksPerFrame: number) {
  const payload = encodeTelephoneEvent({
    event: event.event,
    end: event.end,
    volume: VOLUME,
    duration: event.frames * ticksPerFrame,
  });
  return { payload, marker: event.first };
}

/**
 * The packets (one per 20 ms slot) that send `digits` as RFC 4733 events, durations in a clock of `ticksPerFrame`
 * a frame: 160 at 8 kHz, 960 for telephone-event/48000.
 */
export function planDtmf(digits: string, ticksPerFrame = 160): DtmfSlot[] {
  return plan(digits).map(({ keyIndex, event }) =>
    event ? { keyIndex, packet: slotPacket(event, ticksPerFrame) } : { keyIndex },
  );
}

/**
 * Keys waiting to be sent, one slot per media clock tick. Each key's packets share the RTP timestamp of the tick
 * its first packet goes out on (RFC 4733 §2.5.1.2); keys queued while others are still playing follow them.
 */
export class DtmfSendQueue {
  private readonly slots: { readonly key: number; readonly event?: PlannedSlot['event'] }[] = [];
  private nextKey = 0;
  private currentKey = -1;
  private eventTimestamp = 0;

  /** Validates and queues keys (throws MediaError `InvalidArgument`). */
  enqueue(digits: string): void {
    for (const slot of plan(digits)) this.slots.push({ key: this.nextKey + slot.keyIndex, event: slot.event });
    this.nextKey += validateDigits(digits).length;
  }

  get active(): boolean {
    return this.slots.length > 0;
  }

  /**
   * Takes this tick's slot. `now` is the sender's RTP timestamp for this tick, in a clock of `ticksPerFrame` a
   * 20 ms frame (160 at 8 kHz, 960 at 48 kHz), which the durations follow. Returns undefined when the queue is
   * empty, `{}` for a gap between keys, or the packet to send.
   */
  next(
    now: number,
    ticksPerFrame = 160,
  ): { packet?: { timestamp: number; payload: Buffer; marker: boolean } } | undefined {
    const slot = this.slots.shift();
    if (!slot) return undefined;
    if (slot.key !== this.currentKey) {
      this.currentKey = slot.key;
      this.eventTimestamp = now >>> 0;
    }
    return slot.event ? { packet: { timestamp: this.eventTimestamp, ...slotPacket(slot.event, ticksPerFrame) } } : {};
  }
}
