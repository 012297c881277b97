import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from './media-engine.js';
import { dominantFrequency, sineWave, toneEnergy } from './tone.js';
import { encodeWav, readWav, readWavAs8kMono, WavFileWriter } from './wav.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openhotline-wav-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('reading prompts', () => {
  it('reads an 8 kHz mono file as is', () => {
    const tone = sineWave(1000, 800, 8000);
    const pcm = readWavAs8kMono(encodeWav({ sampleRate: 8000, channels: 1, samples: tone }));
    expect([...pcm]).toEqual([...tone]);
  });

  it('brings 16 kHz down to 8 kHz, keeping a 1 kHz tone and removing a 6 kHz one that would alias', () => {
    const wanted = sineWave(1000, 16_000, 16_000, 0.3);
    const alias = sineWave(6000, 16_000, 16_000, 0.3);
    const mixed = wanted.map((sample, i) => sample + alias[i]!);
    const pcm = readWavAs8kMono(encodeWav({ sampleRate: 16_000, channels: 1, samples: mixed }));
    expect(pcm.length).toBe(8000);
    // 6 kHz sampled at 8 kHz would fold onto 2 kHz: the filter must have removed it first.
    expect(toneEnergy(pcm, 8000, 1000)).toBeGreaterThan(0.95);
    expect(toneEnergy(pcm, 8000, 2000)).toBeLessThan(0.01);
  });

  it('mixes stereo down to mono', () => {
    const left = sineWave(440, 800, 8000, 0.2);
    const interleaved = new Int16Array(1600);
    for (let i = 0; i < 800; i++) interleaved[2 * i] = left[i]!;
    const pcm = readWavAs8kMono(encodeWav({ sampleRate: 8000, channels: 2, samples: interleaved }));
    expect(dominantFrequency(pcm, 8000, [440, 1000])).toBe(440);
    expect(pcm[200]).toBe(Math.round(left[200]! / 2));
  });

  it('refuses what it cannot read, saying why', () => {
    const wav = encodeWav({ sampleRate: 44_100, channels: 1, samples: new Int16Array(10) });
    expect(() => readWavAs8kMono(wav)).toThrow(MediaError);
    expect(() => readWavAs8kMono(wav)).toThrow(/44100 Hz is not supported/);
    expect(() => readWav(Buffer.from('not a wav file at all'))).toThrow(/not a RIFF\/WAVE file/);
    const eightBit = encodeWav({ sampleRate: 8000, channels: 1, samples: new Int16Array(10) });
    eightBit.writeUInt16LE(8, 34);
    expect(() => readWav(eightBit)).toThrow(/8-bit samples/);
    const aLaw = encodeWav({ sampleRate: 8000, channels: 1, samples: new Int16Array(10) });
    aLaw.writeUInt16LE(6, 20);
    expect(() => readWav(aLaw)).toThrow(/audio format 6 is not PCM/);
  });

  it('skips chunks it does not know (LIST) and reads a file whose header was never patched', () => {
    const tone = sineWave(440, 160, 8000);
    const wav = encodeWav({ sampleRate: 8000, channels: 1, samples: tone });
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.alloc(1)]);
    const withList = Buffer.concat([wav.subarray(0, 36), list, wav.subarray(36)]);
    expect([...readWav(withList).samples]).toEqual([...tone]);
    const unpatched = Buffer.from(wav);
    unpatched.writeUInt32LE(0, 40);
    expect(readWav(unpatched).samples.length).toBe(160);
  });
});

describe('writing recordings', () => {
  it('streams a stereo file and patches its header on close', async () => {
    const path = join(dir, 'stereo.wav');
    const writer = await WavFileWriter.create(path, 8000, 2);
    const frame = new Int16Array([1, -1, 2, -2, 3, -3]);
    writer.write(frame);
    writer.write(frame);
    expect(await writer.close()).toBe(24);
    expect(await writer.close()).toBe(24);
    const audio = readWav(await readFile(path));
    expect(audio).toMatchObject({ sampleRate: 8000, channels: 2 });
    expect([...audio.samples]).toEqual([...frame, ...frame]);
  });

  it('fails to start with RecordingFailed when the file cannot be created', async () => {
    await expect(WavFileWriter.create(join(dir, 'missing', 'x.wav'), 8000, 2)).rejects.toMatchObject({
      code: 'RecordingFailed',
    });
  });
});
