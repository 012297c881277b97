import { randomBytes } from 'node:crypto';

/**
 * Time and timers, passed to every service so that tests can move time instead of sleeping.
 */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, delayMs: number): Timer;
}

export interface Timer {
  cancel(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, delayMs) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

export type IdGenerator = (prefix: string) => string;

/** Ids are random, URL-safe and prefixed with what they name (`conn_…`), so logs read without a lookup. */
export const randomIds: IdGenerator = (prefix) => `${prefix}_${randomBytes(12).toString('base64url')}`;

/** A manual clock for tests: timers fire only when `advance` moves time past them. */
export class ManualClock implements Clock {
  private current: number;
  private timers: { at: number; fn: () => void; cancelled: boolean; order: number }[] = [];
  private order = 0;

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, delayMs: number): Timer {
    const timer = { at: this.current + Math.max(0, delayMs), fn, cancelled: false, order: this.order++ };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward, firing due timers in time order (and timers they set, if due). */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      due.cancelled = true;
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }

  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}
