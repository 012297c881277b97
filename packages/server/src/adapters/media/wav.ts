import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { MediaError } from './media-engine.js';

/**
 * WAV in and out: prompts are read from 16-bit PCM WAV files (any integer multiple of 8 kHz, mono or stereo) and
 * brought to the engine's 8 kHz mono; recordings are written as 2-channel 16-bit PCM at 8 kHz, streamed to disk so
 * an hour-long call does not sit in memory.
 */

export const ENGINE_SAMPLE_RATE = 8_000;

export interface PcmAudio {
  readonly sampleRate: number;
  readonly channels: number;
  /** Interleaved samples. */
  readonly samples: Int16Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function invalid(message: string): MediaError {
  return new MediaError('InvalidWav', message);
}

/** Parses a 16-bit PCM WAV file. Throws MediaError `InvalidWav` naming what is wrong. */
export function readWav(bytes: Uint8Array): PcmAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw invalid('not a RIFF/WAVE file');
  let format: { channels: number; sampleRate: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16) throw invalid('fmt chunk too short');
      const audioFormat = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const bits = view.getUint16(body + 14, true);
      const pcm =
        audioFormat === WAVE_FORMAT_PCM ||
        (audioFormat === WAVE_FORMAT_EXTENSIBLE && size >= 26 && view.getUint16(body + 24, true) === WAVE_FORMAT_PCM);
      if (!pcm) throw invalid(`audio format ${audioFormat} is not PCM`);
      if (bits !== 16) throw invalid(`${bits}-bit samples are not supported (16-bit PCM only)`);
      if (channels < 1) throw invalid('no channels');
      format = { channels, sampleRate };
    } else if (id === 'data') {
      if (!format) throw invalid('data chunk before fmt chunk');
      // A streaming writer that never patched its header leaves size 0 or 0xffffffff: take what is there.
      const available = bytes.length - body;
      const length = size === 0 || size > available ? available : size;
      const frameBytes = 2 * format.channels;
      const count = Math.floor(length / frameBytes) * format.channels;
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) samples[i] = view.getInt16(body + 2 * i, true);
      return { sampleRate: format.sampleRate, channels: format.channels, samples };
    }
    offset = body + size + (size % 2);
  }
  throw invalid(format ? 'no data chunk' : 'no fmt chunk');
}

/**
 * Reads a prompt: a 16-bit PCM WAV at 8 kHz or an integer multiple of it (16, 24, 32, 48 kHz), mono or stereo, as
 * 8 kHz mono. Other rates (44.1 kHz) are refused rather than resampled badly: convert them first.
 */
export function readWavAs8kMono(bytes: Uint8Array): Int16Array {
  const audio = readWav(bytes);
  const factor = audio.sampleRate / ENGINE_SAMPLE_RATE;
  if (!Number.isInteger(factor) || factor < 1) {
    throw invalid(`sample rate ${audio.sampleRate} Hz is not supported (8000 Hz or an integer multiple of it)`);
  }
  return decimate(downmix(audio), factor);
}

function downmix(audio: PcmAudio): Int16Array {
  if (audio.channels === 1) return audio.samples;
  const frames = audio.samples.length / audio.channels;
  const mono = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < audio.channels; c++) sum += audio.samples[f * audio.channels + c]!;
    mono[f] = Math.round(sum / audio.channels);
  }
  return mono;
}

/** Low-pass (windowed sinc, cut-off 3.6 kHz) then keep every `factor`-th sample, so 4–8 kHz does not alias. */
function decimate(pcm: Int16Array, factor: number): Int16Array {
  if (factor === 1) return pcm;
  const half = 8 * factor;
  const cutoff = 3_600 / (ENGINE_SAMPLE_RATE * factor);
  const taps = new Float64Array(2 * half + 1);
  let gain = 0;
  for (let k = -half; k <= half; k++) {
    const sinc = k === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * k) / (Math.PI * k);
    const hamming = 0.54 + 0.46 * Math.cos((Math.PI * k) / half);
    taps[k + half] = sinc * hamming;
    gain += sinc * hamming;
  }
  const out = new Int16Array(Math.floor(pcm.length / factor));
  for (let o = 0; o < out.length; o++) {
    const center = o * factor;
    let acc = 0;
    for (let k = -half; k <= half; k++) {
      const i = center + k;
      if (i >= 0 && i < pcm.length) acc += pcm[i]! * taps[k + half]!;
    }
    out[o] = Math.max(-32_768, Math.min(32_767, Math.round(acc / gain)));
  }
  return out;
}

/** A 44-byte canonical WAV header for 16-bit PCM. */
export function wavHeader(dataBytes: number, sampleRate: number, channels: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Encodes interleaved 16-bit samples as a complete WAV file in memory (tests, short prompts). */
export function encodeWav(audio: PcmAudio): Buffer {
  return Buffer.concat([
    wavHeader(audio.samples.length * 2, audio.sampleRate, audio.channels),
    pcmBytes(audio.samples),
  ]);
}

function pcmBytes(samples: Int16Array): Buffer {
  const bytes = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i]!, 2 * i);
  return bytes;
}

/**
 * Writes a WAV file as samples come: the header is written with size 0 first and patched on close. Writes are
 * queued, never concurrent; the first failure is kept and reported by `close`.
 */
export class WavFileWriter {
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;
  private dataBytes = 0;
  private closed: Promise<number> | undefined;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    readonly sampleRate: number,
    readonly channels: number,
  ) {}

  /** Creates (or truncates) the file. Throws MediaError `RecordingFailed` when it cannot be opened. */
  static async create(path: string, sampleRate: number, channels: number): Promise<WavFileWriter> {
    let file: FileHandle;
    try {
      file = await open(path, 'w');
    } catch (error) {
      throw new MediaError('RecordingFailed', `cannot open ${path}: ${(error as Error).message}`);
    }
    const writer = new WavFileWriter(path, file, sampleRate, channels);
    writer.enqueue(wavHeader(0, sampleRate, channels));
    return writer;
  }

  /** Appends interleaved samples. */
  write(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    this.dataBytes += samples.length * 2;
    this.enqueue(pcmBytes(samples));
  }

  /** Patches the header and closes the file; resolves to the data size in bytes. Safe to call twice. */
  close(): Promise<number> {
    this.closed ??= (async () => {
      await this.queue;
      try {
        if (this.failure === undefined)
          await this.file.write(wavHeader(this.dataBytes, this.sampleRate, this.channels), 0, 44, 0);
      } finally {
        await this.file.close();
      }
      if (this.failure !== undefined) {
        throw new MediaError('RecordingFailed', `writing ${this.path} failed: ${(this.failure as Error).message}`);
      }
      return this.dataBytes;
    })();
    return this.closed;
  }

  private enqueue(bytes: Buffer): void {
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await this.file.write(bytes);
      } catch (error) {
        this.failure = error;
      }
    });
  }
}
