/**
 * The replay ring of one agent's stream: the bytes of its newest frames, in one buffer.
 *
 * A ring of Buffer objects keeps a JavaScript object (and a share of a pooled slab) alive per kept frame. A
 * thousand agents keep 128 each, and every new frame pushes one out: each frame object lives long enough to be
 * promoted to the old generation and then dies there, which is work for the major garbage collector on every
 * status change of every agent (measured: about a tenth of the event channel's throughput). Here a ring is a fixed
 * handful of objects whatever goes through it: the frames are copied into one arena, appended at its end and
 * moved to its start (copyWithin) when the end is reached, so the live frames are always one contiguous run.
 *
 * The arena starts small and doubles, up to `maxBytes`; a frame that would not fit even then pushes the oldest
 * out early, so a stream of unusually large frames keeps fewer than `capacity` of them (a resume that reaches
 * further back gets a snapshot, as it would past the capacity).
 */
export class FrameRing {
  private arena: Buffer;
  /**
   * Where each kept frame starts and how long it is, by slot (slots are used round-robin from `first`). A start is
   * counted from `base`, not from the arena's first byte, so that moving the frames to the start of the arena
   * changes one number instead of every start (a double: these positions only ever grow).
   */
  private readonly starts: Float64Array;
  private readonly lengths: Int32Array;
  private base = 0;
  private first = 0;
  private count = 0;
  /** Where the next frame goes: just after the newest one. */
  private end = 0;

  constructor(
    readonly capacity: number,
    private readonly maxBytes: number,
    initialBytes = 16 * 1024,
  ) {
    if (!(capacity >= 1 && maxBytes >= 1)) throw new RangeError('a frame ring needs room for at least one frame');
    this.starts = new Float64Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.arena = Buffer.allocUnsafe(Math.min(initialBytes, maxBytes));
  }

  /** How many frames are kept. */
  get size(): number {
    return this.count;
  }

  /** Keeps a copy of `frame` as the newest; drops the oldest as needed. A frame over `maxBytes` empties the ring. */
  push(frame: Buffer): void {
    const length = frame.length;
    if (length > this.maxBytes) {
      this.clear();
      return;
    }
    if (this.count === this.capacity) this.dropOldest();
    if (this.end + length > this.arena.length) this.makeRoom(length);
    this.arena.set(frame, this.end);
    const slot = (this.first + this.count) % this.capacity;
    this.starts[slot] = this.base + this.end;
    this.lengths[slot] = length;
    this.count += 1;
    this.end += length;
  }

  /** Copies of the newest `n` frames (at most `size`), oldest first. */
  newest(n: number): Buffer[] {
    const taken = Math.min(n, this.count);
    const frames: Buffer[] = [];
    for (let i = this.count - taken; i < this.count; i++) {
      const slot = (this.first + i) % this.capacity;
      const start = (this.starts[slot] as number) - this.base;
      frames.push(Buffer.from(this.arena.subarray(start, start + (this.lengths[slot] as number))));
    }
    return frames;
  }

  clear(): void {
    this.first = 0;
    this.count = 0;
    this.end = 0;
  }

  private dropOldest(): void {
    this.first = (this.first + 1) % this.capacity;
    this.count -= 1;
    if (this.count === 0) this.clear();
  }

  /**
   * Makes `length` bytes free after the newest frame. The arena grows while the live frames would fill more than
   * two thirds of it, so a move to the start copies at most half as many bytes as were appended since the last one;
   * at `maxBytes` the oldest frames make way.
   */
  private makeRoom(length: number): void {
    let live = this.liveBytes();
    if ((live + length) * 3 > this.arena.length * 2 && this.arena.length < this.maxBytes) {
      this.grow(Math.min(this.maxBytes, Math.max(this.arena.length * 2, Math.ceil(((live + length) * 3) / 2))));
      if (this.end + length <= this.arena.length) return;
    }
    while (this.count > 0 && live + length > this.arena.length) {
      this.dropOldest();
      live = this.liveBytes();
    }
    this.compact(this.arena);
  }

  private liveBytes(): number {
    return this.count === 0 ? 0 : this.end - this.offsetOfOldest();
  }

  /** The oldest frame's byte offset in the arena. */
  private offsetOfOldest(): number {
    return (this.starts[this.first] as number) - this.base;
  }

  private grow(bytes: number): void {
    const bigger = Buffer.allocUnsafe(bytes);
    this.compact(bigger);
    this.arena = bigger;
  }

  /** Moves the live frames to the start of `target` (the arena itself, or a bigger one) and fixes their offsets. */
  private compact(target: Buffer): void {
    if (this.count === 0) {
      this.end = 0;
      return;
    }
    const from = this.offsetOfOldest();
    if (target === this.arena) this.arena.copyWithin(0, from, this.end);
    else target.set(this.arena.subarray(from, this.end), 0);
    this.base += from;
    this.end -= from;
  }
}
