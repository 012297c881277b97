import { describe, expect, it } from 'vitest';
import { PcmFifo } from './pcm-fifo.js';

const frame = (value: number) => new Int16Array(160).fill(value);

describe('the jitter buffer between packets and the media clock', () => {
  it('waits for two frames before playing, then plays one per tick', () => {
    const fifo = new PcmFifo();
    const out = new Int16Array(160);
    fifo.push(frame(1));
    expect(fifo.pull(out)).toBe(false);
    fifo.push(frame(2));
    expect(fifo.pull(out)).toBe(true);
    expect(out[0]).toBe(1);
    fifo.push(frame(3));
    expect(fifo.pull(out)).toBe(true);
    expect(out[0]).toBe(2);
  });

  it('fills with silence when it runs dry, and waits for the prebuffer again', () => {
    const fifo = new PcmFifo();
    const out = new Int16Array(160);
    fifo.push(frame(1));
    fifo.push(frame(2));
    fifo.pull(out);
    fifo.pull(out);
    expect(fifo.pull(out)).toBe(false);
    expect(out.every((sample) => sample === 0)).toBe(true);
    fifo.push(frame(3));
    expect(fifo.pull(out)).toBe(false);
  });

  it('trims itself when an input runs fast, so latency stays bounded', () => {
    const fifo = new PcmFifo();
    for (let i = 0; i < 20; i++) fifo.push(frame(i));
    expect(fifo.available).toBeLessThanOrEqual(6 * 160);
    const out = new Int16Array(160);
    fifo.pull(out);
    expect(out[0]).toBeGreaterThan(10);
  });
});
