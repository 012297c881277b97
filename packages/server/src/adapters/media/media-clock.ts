/**
 * The engine's 20 ms heartbeat: virtual parties speak, the conference mixer mixes, hold music and ringback play and
 * recordings advance once per tick. Relaying between two endpoints does not wait for it (packets go out as they
 * come in). Tests use a manual clock and move time by ticks instead of sleeping.
 */
export interface MediaClock {
  /** Calls `onTick` every `FRAME_MS` until the returned function is called. */
  start(onTick: () => void): () => void;
}

export const FRAME_MS = 20;
export const FRAME_SAMPLES = 160;

/** Ticks that fell behind (a long GC pause) are caught up to this many at once, then the schedule resets. */
const MAX_CATCH_UP = 5;

/**
 * Real time. `setInterval` drifts (each period is at least 20 ms, so it runs slow); this schedules against the
 * ideal timeline instead, so 50 ticks take one second on average and the RTP clocks we generate keep pace with
 * the browsers'. The timer is unref'd: a running engine never keeps the process alive by itself.
 */
export function realtimeMediaClock(): MediaClock {
  return {
    start(onTick) {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      let next = performance.now() + FRAME_MS;
      const run = () => {
        if (stopped) return;
        let now = performance.now();
        for (let n = 0; now >= next && n < MAX_CATCH_UP; n++) {
          onTick();
          next += FRAME_MS;
          now = performance.now();
        }
        if (now - next > FRAME_MS * MAX_CATCH_UP) next = now + FRAME_MS;
        timer = setTimeout(run, Math.max(0, next - now));
        timer.unref();
      };
      timer = setTimeout(run, FRAME_MS);
      timer.unref();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    },
  };
}
