import { describe, expect, it } from 'vitest';
import { clockRate, frameTicks, TimestampScaler, validateCodecList } from './codec.js';

describe('codecs', () => {
  it('know their RTP clocks: Opus 48 kHz (960 ticks a frame), PCMU 8 kHz (160)', () => {
    expect([clockRate('opus'), frameTicks('opus')]).toEqual([48_000, 960]);
    expect([clockRate('pcmu'), frameTicks('pcmu')]).toEqual([8000, 160]);
  });

  it('check an operator’s list: known names, no repeats, not empty', () => {
    expect(validateCodecList(['PCMU'])).toEqual(['pcmu']);
    expect(validateCodecList(['pcmu', 'opus'])).toEqual(['pcmu', 'opus']);
    expect(() => validateCodecList([])).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => validateCodecList(['g722'])).toThrow(/unknown codec g722/);
    expect(() => validateCodecList(['opus', 'OPUS'])).toThrow(/listed twice/);
  });
});

describe('moving timestamps between clocks', () => {
  it('follows the steps, so a 48 kHz source wrapping at 2^32 stays continuous at 8 kHz', () => {
    const scaler = new TimestampScaler();
    const start = 4_294_967_296 - 2 * 960;
    const out = [0, 1, 2, 3, 4].map((n) => scaler.convert('a', (start + n * 960) >>> 0, 48_000, 8000));
    expect(out).toEqual([0, 160, 320, 480, 640]);
  });

  it('keeps each source’s timeline apart, and starts a new one at 0', () => {
    const scaler = new TimestampScaler();
    expect(scaler.convert('a', 1000, 8000, 48_000)).toBe(0);
    expect(scaler.convert('b', 50, 8000, 48_000)).toBe(0);
    expect(scaler.convert('a', 1160, 8000, 48_000)).toBe(960);
    expect(scaler.convert('b', 210, 8000, 48_000)).toBe(960);
    // A packet repeated (the end of a telephone-event) keeps its timestamp.
    expect(scaler.convert('b', 210, 8000, 48_000)).toBe(960);
  });
});
