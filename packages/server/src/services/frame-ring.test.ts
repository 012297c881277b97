import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameRing } from './frame-ring.js';

/** What a ring must keep: the longest run of the newest frames within its count and its bytes. */
function expectedKept(pushed: readonly Buffer[], capacity: number, maxBytes: number): Buffer[] {
  const kept: Buffer[] = [];
  let bytes = 0;
  for (let i = pushed.length - 1; i >= 0; i--) {
    const frame = pushed[i] as Buffer;
    // A frame too big for the ring empties it: nothing before it can be replayed either.
    if (frame.length > maxBytes) break;
    if (kept.length === capacity || bytes + frame.length > maxBytes) break;
    kept.unshift(frame);
    bytes += frame.length;
  }
  return kept;
}

describe('frame ring', () => {
  it('keeps exactly the newest frames that fit its count and bytes, through growth, moves and drops', () => {
    const frame = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((bytes) => Buffer.from(bytes));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 1, max: 256 }),
        fc.array(fc.tuple(frame, fc.integer({ min: 0, max: 14 })), { maxLength: 80 }),
        (capacity, maxBytes, initialBytes, steps) => {
          const ring = new FrameRing(capacity, maxBytes, initialBytes);
          const pushed: Buffer[] = [];
          for (const [next, ask] of steps) {
            ring.push(next);
            pushed.push(Buffer.from(next));
            // The caller's buffer may be reused: the ring must have copied it.
            next.fill(0xee);
            const kept = expectedKept(pushed, capacity, maxBytes);
            expect(ring.size).toBe(kept.length);
            expect(ring.newest(ask)).toEqual(kept.slice(Math.max(0, kept.length - ask)));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hands out copies, which later pushes do not change', () => {
    const ring = new FrameRing(2, 64, 8);
    ring.push(Buffer.from('first'));
    const [copy] = ring.newest(1);
    for (let i = 0; i < 20; i++) ring.push(Buffer.from(`frame number ${i}`));
    expect(copy?.toString()).toBe('first');
    expect(ring.newest(5).map(String)).toEqual(['frame number 18', 'frame number 19']);
  });
});
