import { describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw, MULAW_SILENCE, mulawDecodeSample, mulawEncodeSample } from './g711.js';
import { rms, sineWave } from './tone.js';

describe('G.711 μ-law', () => {
  it('maps the reference points of the standard', () => {
    expect(mulawEncodeSample(0)).toBe(MULAW_SILENCE);
    expect(mulawDecodeSample(0xff)).toBe(0);
    expect(mulawDecodeSample(0x80)).toBe(32_124);
    expect(mulawDecodeSample(0x00)).toBe(-32_124);
    expect(mulawEncodeSample(32_767)).toBe(0x80);
    expect(mulawEncodeSample(-32_768)).toBe(0x00);
  });

  it('is a fixed point on every code: decode, encode, decode gives the same sample', () => {
    for (let byte = 0; byte < 256; byte++) {
      const sample = mulawDecodeSample(byte);
      expect(mulawDecodeSample(mulawEncodeSample(sample))).toBe(sample);
    }
  });

  it('is monotonic and its error stays within the segment step', () => {
    let previous = Number.NEGATIVE_INFINITY;
    for (let sample = -32_768; sample <= 32_767; sample += 7) {
      const decoded = mulawDecodeSample(mulawEncodeSample(sample));
      expect(decoded).toBeGreaterThanOrEqual(previous);
      previous = decoded;
      // The quantisation step doubles per segment: 1/16 of the magnitude bounds it (plus the 8-unit first step).
      expect(Math.abs(decoded - sample)).toBeLessThanOrEqual(
        Math.abs(sample) / 16 + 8 + (Math.abs(sample) > 32_635 ? 700 : 0),
      );
    }
  });

  it('keeps about 35 dB of signal-to-noise over a 40 dB range of levels (what companding is for)', () => {
    for (const amplitude of [0.9, 0.1, 0.01]) {
      // 1013 Hz is not a divisor of 8 kHz, so the samples sweep every phase and the error averages out.
      const tone = sineWave(1013, 8000, 8000, amplitude);
      const decoded = decodeMulaw(encodeMulaw(tone));
      const noise = tone.map((sample, i) => sample - decoded[i]!);
      expect(20 * Math.log10(rms(tone) / rms(noise))).toBeGreaterThan(34);
    }
  });

  it('decodes into a caller-supplied buffer', () => {
    const out = new Int16Array(4);
    expect(decodeMulaw(Buffer.from([0xff, 0x80, 0x00, 0x7f]), out)).toBe(out);
    expect([...out]).toEqual([0, 32_124, -32_124, 0]);
  });
});
