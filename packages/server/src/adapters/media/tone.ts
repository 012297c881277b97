/**
 * Tones: generating them (prompts, hold music, ringback) and finding them (tests check by frequency that each
 * party hears the other). Detection is the Goertzel algorithm: one DFT bin at any frequency, O(n) per frequency.
 */

/** A sine wave as 16-bit PCM; amplitude is a fraction of full scale. */
export function sineWave(hz: number, samples: number, sampleRate: number, amplitude = 0.3, phase = 0): Int16Array {
  const out = new Int16Array(samples);
  const step = (2 * Math.PI * hz) / sampleRate;
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * 32_767 * Math.sin(phase + step * i));
  return out;
}

/** Root mean square as a fraction of full scale (0 for silence, about 0.707 × amplitude for a sine). */
export function rms(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  return Math.sqrt(sum / pcm.length) / 32_768;
}

/**
 * The share of the signal's energy at `hz`, between 0 and about 1: a pure tone at `hz` gives ≈ 1, a tone elsewhere
 * or silence ≈ 0, two equal tones ≈ 0.5 each. Windows of a few hundred milliseconds resolve tones a few Hz apart.
 */
export function toneEnergy(pcm: Int16Array, sampleRate: number, hz: number): number {
  const n = pcm.length;
  if (n === 0) return 0;
  let energy = 0;
  for (let i = 0; i < n; i++) energy += pcm[i]! * pcm[i]!;
  if (energy === 0) return 0;
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = pcm[i]! + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return (2 * power) / (n * energy);
}

/**
 * The candidate frequency carrying the most energy, or undefined when the signal is (near) silent
 * (RMS below `minRms`, default 0.001 of full scale) or no candidate holds at least `minShare` (default 0.1).
 */
export function dominantFrequency(
  pcm: Int16Array,
  sampleRate: number,
  candidates: readonly number[],
  { minRms = 0.001, minShare = 0.1 }: { minRms?: number; minShare?: number } = {},
): number | undefined {
  if (rms(pcm) < minRms) return undefined;
  let best: number | undefined;
  let bestShare = minShare;
  for (const hz of candidates) {
    const share = toneEnergy(pcm, sampleRate, hz);
    if (share >= bestShare) {
      best = hz;
      bestShare = share;
    }
  }
  return best;
}

/** Frames one after another as one stretch of PCM (to measure what was heard over several frames). */
export function concatPcm(frames: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}
