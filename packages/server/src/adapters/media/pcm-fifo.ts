import { FRAME_SAMPLES } from './media-clock.js';

/**
 * A small jitter buffer of decoded PCM between packet arrival (irregular, network-timed) and the 20 ms media clock
 * (regular): the mixer and the recorder pull one frame per tick from each input. It waits for two frames before
 * playing out (and again after running dry), and trims itself when an input runs fast, so latency stays bounded
 * (at most 120 ms) whatever the drift between the sender's clock and ours.
 */
export class PcmFifo {
  private readonly buffer: Int16Array;
  private readIndex = 0;
  private size = 0;
  private primed = false;

  constructor(
    private readonly prebuffer = 2 * FRAME_SAMPLES,
    private readonly maxDepth = 6 * FRAME_SAMPLES,
    capacity = 50 * FRAME_SAMPLES,
  ) {
    this.buffer = new Int16Array(capacity);
  }

  get available(): number {
    return this.size;
  }

  push(pcm: Int16Array): void {
    const capacity = this.buffer.length;
    for (let i = 0; i < pcm.length; i++) {
      if (this.size === capacity) {
        this.readIndex = (this.readIndex + 1) % capacity;
        this.size--;
      }
      this.buffer[(this.readIndex + this.size) % capacity] = pcm[i]!;
      this.size++;
    }
    if (this.size > this.maxDepth) this.skip(this.size - this.prebuffer);
  }

  /** Fills `out` with the next samples (zeros where there are none); returns whether any real audio came out. */
  pull(out: Int16Array): boolean {
    if (!this.primed && this.size < this.prebuffer) {
      out.fill(0);
      return false;
    }
    this.primed = true;
    const n = Math.min(out.length, this.size);
    for (let i = 0; i < n; i++) out[i] = this.buffer[(this.readIndex + i) % this.buffer.length]!;
    out.fill(0, n);
    this.skip(n);
    // Ran dry mid-frame: wait for the prebuffer again rather than play out every packet with a gap after it.
    if (n < out.length) this.primed = false;
    return n > 0;
  }

  clear(): void {
    this.readIndex = 0;
    this.size = 0;
    this.primed = false;
  }

  private skip(n: number): void {
    this.readIndex = (this.readIndex + n) % this.buffer.length;
    this.size -= n;
  }
}
