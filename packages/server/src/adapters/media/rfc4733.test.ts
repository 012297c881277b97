import { describe, expect, it } from 'vitest';
import { MediaError } from './media-engine.js';
import {
  DTMF_SLOTS_PER_KEY,
  DtmfDetector,
  DtmfSendQueue,
  decodeTelephoneEvent,
  digitToEvent,
  encodeTelephoneEvent,
  eventToDigit,
  planDtmf,
  rescaleTelephoneEvent,
  validateDigits,
} from './rfc4733.js';

describe('RFC 4733 telephone-events', () => {
  it('numbers the keys as the RFC does', () => {
    expect([...'0123456789*#ABCD'].map(digitToEvent)).toEqual([...Array(16).keys()]);
    expect(digitToEvent('a')).toBe(12);
    expect(digitToEvent('E')).toBeUndefined();
    expect(digitToEvent('12')).toBeUndefined();
    expect(eventToDigit(11)).toBe('#');
    expect(eventToDigit(16)).toBeUndefined();
  });

  it('encodes and decodes the 4-byte payload', () => {
    const payload = encodeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 800 });
    expect([...payload]).toEqual([11, 0x80 | 10, 0x03, 0x20]);
    expect(decodeTelephoneEvent(payload)).toEqual({ event: 11, end: true, volume: 10, duration: 800 });
    expect(decodeTelephoneEvent(Buffer.from([1, 2]))).toBeUndefined();
  });

  it('refuses what is not a key with a clear error', () => {
    expect(validateDigits('12a#')).toBe('12A#');
    expect(() => validateDigits('1x')).toThrow(MediaError);
    expect(() => validateDigits('1x')).toThrow(/"x" is not a DTMF digit/);
    expect(() => validateDigits('')).toThrow(/no DTMF digits/);
  });

  it('plans 100 ms presses, three end packets, then a gap', () => {
    const slots = planDtmf('5');
    expect(slots).toHaveLength(DTMF_SLOTS_PER_KEY);
    const packets = slots.filter((slot) => slot.packet).map((slot) => decodeTelephoneEvent(slot.packet!.payload)!);
    expect(packets.map((p) => p.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(packets.map((p) => p.end)).toEqual([false, false, false, false, true, true, true]);
    expect(slots.map((slot) => slot.packet?.marker ?? null)).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      null,
      null,
    ]);
  });

  it('reports each key once although its end packet comes three times', () => {
    const detector = new DtmfDetector();
    const queue = new DtmfSendQueue();
    queue.enqueue('19#');
    let keys = '';
    for (let now = 0; queue.active; now += 160) {
      const slot = queue.next(now);
      if (slot?.packet) keys += detector.push(slot.packet.timestamp, slot.packet.payload);
    }
    expect(keys).toBe('19#');
  });

  it('gives every key of a queue its own timestamp, also for keys queued while others play', () => {
    const queue = new DtmfSendQueue();
    queue.enqueue('1');
    const stamps = new Set<number>();
    for (let now = 1000; queue.active; now += 160) {
      if (now === 1000 + 160 * 3) queue.enqueue('1');
      const slot = queue.next(now);
      if (slot?.packet) stamps.add(slot.packet.timestamp);
    }
    expect([...stamps]).toEqual([1000, 1000 + 160 * DTMF_SLOTS_PER_KEY]);
  });

  it('still reports a key whose end packets were all lost, when the next key starts', () => {
    const detector = new DtmfDetector();
    const start = (event: number) => encodeTelephoneEvent({ event, end: false, volume: 10, duration: 160 });
    const end = (event: number) => encodeTelephoneEvent({ event, end: true, volume: 10, duration: 800 });
    expect(detector.push(100, start(4))).toBe('');
    expect(detector.push(1540, start(2))).toBe('4');
    expect(detector.push(1540, end(2))).toBe('2');
    expect(detector.push(1540, end(2))).toBe('');
  });

  it('plans and sends in the 48 kHz clock of telephone-event/48000 (next to Opus)', () => {
    const durations = planDtmf('5', 960)
      .filter((slot) => slot.packet)
      .map((slot) => decodeTelephoneEvent(slot.packet!.payload)!.duration);
    expect(durations).toEqual([960, 1920, 2880, 3840, 4800, 4800, 4800]);
    const queue = new DtmfSendQueue();
    const detector = new DtmfDetector();
    queue.enqueue('4*');
    let keys = '';
    const stamps = new Set<number>();
    for (let now = 4_294_966_000; queue.active; now = (now + 960) >>> 0) {
      const slot = queue.next(now, 960);
      if (!slot?.packet) continue;
      stamps.add(slot.packet.timestamp);
      keys += detector.push(slot.packet.timestamp, slot.packet.payload);
    }
    // Detection works in any clock (events are told apart by timestamp), also across the 32-bit wrap.
    expect(keys).toBe('4*');
    expect([...stamps]).toEqual([4_294_966_000, (4_294_966_000 + 960 * DTMF_SLOTS_PER_KEY) >>> 0]);
  });

  it('moves an event into another clock by scaling its duration', () => {
    const at48k = encodeTelephoneEvent({ event: 3, end: true, volume: 10, duration: 4800 });
    expect(decodeTelephoneEvent(rescaleTelephoneEvent(at48k, 48_000, 8000))).toEqual({
      event: 3,
      end: true,
      volume: 10,
      duration: 800,
    });
    expect(rescaleTelephoneEvent(at48k, 48_000, 48_000)).toBe(at48k);
    // 8 kHz to 48 kHz saturates at the field's 16 bits rather than wrapping.
    const long = encodeTelephoneEvent({ event: 1, end: false, volume: 10, duration: 20_000 });
    expect(decodeTelephoneEvent(rescaleTelephoneEvent(long, 8000, 48_000))!.duration).toBe(0xffff);
  });
});
