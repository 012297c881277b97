import { encodeMulaw } from './g711.js';
import { FRAME_SAMPLES } from './media-clock.js';
import { OpusEncoder } from './opus.js';
import { ENGINE_SAMPLE_RATE } from './wav.js';

/**
 * The audio the engine makes up itself: music on hold and ringback. Both are generated in code (no audio files to
 * ship or license) and encoded once per codec (μ-law at start-up, Opus the first time an Opus endpoint needs it),
 * shared by every endpoint, so playing them costs a slice or an array lookup per 20 ms frame.
 */

/** The notes of the hold melody, C major pentatonic without A (A would collide with the 440 Hz test tone). */
export const MUSIC_ON_HOLD_NOTES_HZ = [523.25, 587.33, 659.26, 783.99] as const;

const [C5, D5, E5, G5] = MUSIC_ON_HOLD_NOTES_HZ;
const MELODY = [C5, E5, G5, E5, D5, G5, E5, C5];
const NOTE_MS = 375;

/** A calm eight-note arpeggio (3 s), each note with a soft attack and decay so the loop never clicks. */
export function musicOnHoldPcm(): Int16Array {
  const noteSamples = (NOTE_MS * ENGINE_SAMPLE_RATE) / 1000;
  const pcm = new Int16Array(MELODY.length * noteSamples);
  const attack = 0.02 * ENGINE_SAMPLE_RATE;
  const release = 0.05 * ENGINE_SAMPLE_RATE;
  MELODY.forEach((hz, n) => {
    for (let i = 0; i < noteSamples; i++) {
      const decay = Math.exp((-1.5 * i) / noteSamples);
      const envelope = Math.min(1, i / attack, (noteSamples - i) / release) * decay;
      const sample = 0.25 * envelope * Math.sin((2 * Math.PI * hz * i) / ENGINE_SAMPLE_RATE);
      pcm[n * noteSamples + i] = Math.round(sample * 32_767);
    }
  });
  return pcm;
}

export interface RingbackTone {
  /** Frequencies played together, e.g. [425] (ITU-T E.180) or [440, 480] (North America). */
  readonly frequenciesHz: readonly number[];
  readonly onMs: number;
  readonly offMs: number;
}

/** ITU-T E.180's recommended ringing tone: 425 Hz, 1 s on, 4 s off. */
export const DEFAULT_RINGBACK: RingbackTone = { frequenciesHz: [425], onMs: 1_000, offMs: 4_000 };

export function ringbackPcm(tone: RingbackTone): Int16Array {
  const on = Math.round((tone.onMs * ENGINE_SAMPLE_RATE) / 1000);
  const off = Math.round((tone.offMs * ENGINE_SAMPLE_RATE) / 1000);
  const pcm = new Int16Array(on + off);
  const amplitude = 0.3 / Math.max(1, tone.frequenciesHz.length);
  const ramp = 0.01 * ENGINE_SAMPLE_RATE;
  for (let i = 0; i < on; i++) {
    let sample = 0;
    for (const hz of tone.frequenciesHz) sample += Math.sin((2 * Math.PI * hz * i) / ENGINE_SAMPLE_RATE);
    pcm[i] = Math.round(amplitude * Math.min(1, i / ramp, (on - i) / ramp) * sample * 32_767);
  }
  return pcm;
}

/** Pre-encoded audio played frame by frame, looping. Frames are never modified: many endpoints send the same one. */
export interface AudioLoop {
  readonly frames: number;
  frame(index: number): Buffer;
}

/** The μ-law loop: frames are slices of one buffer. */
export class FrameLoop implements AudioLoop {
  private readonly mulaw: Buffer;
  readonly frames: number;

  constructor(pcm: Int16Array) {
    const frames = Math.max(1, Math.ceil(pcm.length / FRAME_SAMPLES));
    const padded = new Int16Array(frames * FRAME_SAMPLES);
    padded.set(pcm);
    this.mulaw = encodeMulaw(padded);
    this.frames = frames;
  }

  frame(index: number): Buffer {
    const start = (index % this.frames) * FRAME_SAMPLES;
    return this.mulaw.subarray(start, start + FRAME_SAMPLES);
  }
}

/**
 * The Opus loop: one packet per 20 ms frame, encoded in order by one encoder (so each packet follows on from the
 * one before, as a live stream would), which is freed at once. A receiver joining mid-loop, or the wrap from the
 * last frame to the first, is a jump its decoder handles like any change of talker.
 */
export class OpusFrameLoop implements AudioLoop {
  private readonly packets: Buffer[];
  readonly frames: number;

  constructor(pcm: Int16Array) {
    const frames = Math.max(1, Math.ceil(pcm.length / FRAME_SAMPLES));
    const padded = new Int16Array(frames * FRAME_SAMPLES);
    padded.set(pcm);
    const encoder = new OpusEncoder();
    try {
      this.packets = Array.from({ length: frames }, (_, i) =>
        encoder.encode(padded.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES)),
      );
    } finally {
      encoder.delete();
    }
    this.frames = frames;
  }

  frame(index: number): Buffer {
    return this.packets[index % this.frames]!;
  }
}
