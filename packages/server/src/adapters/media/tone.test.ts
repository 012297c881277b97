import { describe, expect, it } from 'vitest';
import { dominantFrequency, rms, sineWave, toneEnergy } from './tone.js';

describe('tone detection (Goertzel)', () => {
  it('puts nearly all of a pure tone at its frequency and almost none elsewhere', () => {
    const tone = sineWave(440, 4000, 8000);
    expect(toneEnergy(tone, 8000, 440)).toBeGreaterThan(0.95);
    expect(toneEnergy(tone, 8000, 1000)).toBeLessThan(0.01);
    expect(toneEnergy(tone, 8000, 523.25)).toBeLessThan(0.01);
  });

  it('splits the energy of two equal tones', () => {
    const a = sineWave(440, 4000, 8000, 0.2);
    const b = sineWave(1000, 4000, 8000, 0.2);
    const mix = a.map((sample, i) => sample + b[i]!);
    expect(toneEnergy(mix, 8000, 440)).toBeCloseTo(0.5, 1);
    expect(toneEnergy(mix, 8000, 1000)).toBeCloseTo(0.5, 1);
  });

  it('finds the dominant candidate, and nothing in silence', () => {
    const tone = sineWave(1000, 1600, 8000);
    expect(dominantFrequency(tone, 8000, [440, 1000, 1400])).toBe(1000);
    expect(dominantFrequency(new Int16Array(1600), 8000, [440, 1000])).toBeUndefined();
    expect(toneEnergy(new Int16Array(100), 8000, 440)).toBe(0);
  });

  it('measures RMS as a fraction of full scale', () => {
    expect(rms(sineWave(1000, 8000, 8000, 0.5))).toBeCloseTo(0.5 / Math.SQRT2, 2);
    expect(rms(new Int16Array(0))).toBe(0);
  });
});
