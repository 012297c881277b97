import { FRAME_MS, FRAME_SAMPLES } from './media-clock.js';
import type { Recording, RecordingResult } from './media-engine.js';
import { PcmFifo } from './pcm-fifo.js';
import type { Endpoint, PcmConsumer } from './switch-endpoint.js';
import type { WavFileWriter } from './wav.js';

/** Recordings write to disk twice a second, not on every tick. */
const RECORDING_FLUSH_FRAMES = 25;

/** Two endpoints recorded to one stereo WAV file (left and right), a frame per media clock tick. */
export class StereoRecording implements Recording {
  private readonly leftFifo = new PcmFifo();
  private readonly rightFifo = new PcmFifo();
  private readonly leftFrame = new Int16Array(FRAME_SAMPLES);
  private readonly rightFrame = new Int16Array(FRAME_SAMPLES);
  private chunk = new Int16Array(RECORDING_FLUSH_FRAMES * FRAME_SAMPLES * 2);
  private chunkFrames = 0;
  private frames = 0;
  private readonly leftConsumer: PcmConsumer = (pcm) => this.leftFifo.push(pcm);
  private readonly rightConsumer: PcmConsumer = (pcm) => this.rightFifo.push(pcm);
  private stopped: Promise<RecordingResult> | undefined;

  constructor(
    readonly id: string,
    private readonly left: Endpoint,
    private readonly right: Endpoint,
    private readonly writer: WavFileWriter,
    private readonly release: (recording: StereoRecording) => void,
  ) {
    left.pcmConsumers.add(this.leftConsumer);
    right.pcmConsumers.add(this.rightConsumer);
  }

  tick(): void {
    this.leftFifo.pull(this.leftFrame);
    this.rightFifo.pull(this.rightFrame);
    const base = this.chunkFrames * FRAME_SAMPLES * 2;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      this.chunk[base + 2 * i] = this.leftFrame[i]!;
      this.chunk[base + 2 * i + 1] = this.rightFrame[i]!;
    }
    this.frames++;
    if (++this.chunkFrames === RECORDING_FLUSH_FRAMES) this.flush();
  }

  stop(): Promise<RecordingResult> {
    this.stopped ??= (async () => {
      this.left.pcmConsumers.delete(this.leftConsumer);
      this.right.pcmConsumers.delete(this.rightConsumer);
      this.release(this);
      this.flush();
      const dataBytes = await this.writer.close();
      return { path: this.writer.path, durationMs: this.frames * FRAME_MS, bytes: 44 + dataBytes };
    })();
    return this.stopped;
  }

  private flush(): void {
    if (this.chunkFrames === 0) return;
    this.writer.write(this.chunk.subarray(0, this.chunkFrames * FRAME_SAMPLES * 2));
    this.chunk = new Int16Array(this.chunk.length);
    this.chunkFrames = 0;
  }
}
