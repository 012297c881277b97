import { describe, expect, it } from 'vitest';
import { liveOpusInstances, OpusDecoder, OpusEncoder } from './opus.js';
import { concatPcm, dominantFrequency, rms, sineWave, toneEnergy } from './tone.js';

/** 20 ms frames of a tone at 8 kHz. */
function toneFrames(hz: number, frames: number): Int16Array[] {
  const pcm = sineWave(hz, frames * 160, 8000, 0.3);
  return Array.from({ length: frames }, (_, i) => pcm.subarray(i * 160, (i + 1) * 160));
}

describe('Opus at the engine’s 8 kHz', () => {
  it('carries a 440 Hz tone through encode and decode, in small packets', () => {
    const encoder = new OpusEncoder();
    const decoder = new OpusDecoder();
    try {
      const packets = toneFrames(440, 50).map((frame) => encoder.encode(frame));
      // 24 kbit/s is at most 60 bytes a frame; a μ-law frame is 160.
      for (const packet of packets) expect(packet.length).toBeLessThanOrEqual(60);
      const decoded = packets.map((packet) => decoder.decode(packet));
      expect(decoded.every((frame) => frame.length === 160)).toBe(true);
      // The codec's look-ahead delays the start: judge the second half.
      const heard = concatPcm(decoded.slice(25));
      expect(toneEnergy(heard, 8000, 440)).toBeGreaterThan(0.9);
      expect(dominantFrequency(heard, 8000, [300, 440, 700, 1000, 1400])).toBe(440);
      expect(rms(heard)).toBeGreaterThan(0.15);
    } finally {
      encoder.delete();
      decoder.delete();
    }
  });

  it('conceals lost packets without throwing, and goes on decoding after them', () => {
    const encoder = new OpusEncoder();
    const decoder = new OpusDecoder();
    try {
      const packets = toneFrames(1000, 60).map((frame) => encoder.encode(frame));
      // Packets 30 and 31 lost in a row.
      const heard = packets.map((packet, i) => (i === 30 || i === 31 ? decoder.conceal() : decoder.decode(packet)));
      expect(heard.every((frame) => frame.length === 160)).toBe(true);
      // The first concealed frame carries the tone on, not a hole.
      expect(dominantFrequency(heard[30]!, 8000, [440, 700, 1000, 1400])).toBe(1000);
      expect(toneEnergy(heard[30]!, 8000, 1000)).toBeGreaterThan(0.5);
      expect(rms(heard[30]!)).toBeGreaterThan(0.1);
      expect(toneEnergy(concatPcm(heard.slice(36)), 8000, 1000)).toBeGreaterThan(0.9);
      // An empty payload (or a TOC byte alone) is a loss too.
      expect(decoder.decode(Buffer.alloc(0))).toHaveLength(160);
      expect(decoder.decode(Buffer.from([0x08]))).toHaveLength(160);
    } finally {
      encoder.delete();
      decoder.delete();
    }
  });

  it('refuses what it cannot encode or decode with an error, not a crash', () => {
    const encoder = new OpusEncoder();
    const decoder = new OpusDecoder();
    try {
      expect(() => encoder.encode(new Int16Array(100))).toThrow(RangeError);
      expect(OpusEncoder.canEncode(160)).toBe(true);
      expect(OpusEncoder.canEncode(480)).toBe(true);
      expect(OpusEncoder.canEncode(161)).toBe(false);
      // A packet whose TOC byte announces more frames than it holds is invalid.
      expect(() => decoder.decode(Buffer.from([0xff, 0xff, 0xff]))).toThrow(/Decode error/);
      // The decoder is still usable afterwards.
      expect(decoder.decode(encoder.encode(new Int16Array(160)))).toHaveLength(160);
    } finally {
      encoder.delete();
      decoder.delete();
    }
  });

  it('frees its WebAssembly memory on delete: instances made and deleted in a loop leave none behind', () => {
    const before = liveOpusInstances();
    // The heap does not grow and holds about 20,000 instances: 24,000 made here would exhaust it if delete leaked.
    for (let i = 0; i < 12_000; i++) {
      const encoder = new OpusEncoder();
      const decoder = new OpusDecoder();
      if (i % 1_000 === 0) decoder.decode(encoder.encode(new Int16Array(160)));
      expect(liveOpusInstances()).toBe(before + 2);
      encoder.delete();
      decoder.delete();
      decoder.delete();
    }
    expect(liveOpusInstances()).toBe(before);
    // A deleted instance refuses work instead of touching freed memory.
    const deleted = new OpusEncoder();
    deleted.delete();
    expect(() => deleted.encode(new Int16Array(160))).toThrow(/deleted/);
  });
});
