import type { MediaClock } from '../media-clock.js';

/** A media clock the test moves: `tick(50)` is one second of audio, computed at once. */
export class ManualMediaClock implements MediaClock {
  private onTick: (() => void) | undefined;

  start(onTick: () => void): () => void {
    this.onTick = onTick;
    return () => {
      this.onTick = undefined;
    };
  }

  tick(count = 1): void {
    for (let i = 0; i < count; i++) this.onTick?.();
  }

  get running(): boolean {
    return this.onTick !== undefined;
  }
}
