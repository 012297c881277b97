import { readFileSync } from 'node:fs';

/**
 * The calling thread's scheduler times from `/proc/thread-self/schedstat` (Linux), in ns: how long it ran on a CPU,
 * and how long it was ready to run but waited for one (on a run queue). Both are NaN where the system does not
 * tell. On a machine whose cores are all busy, the wait is latency the machine adds to whatever the thread was
 * about to do: a benchmark that reports it shows how much of a latency figure is its neighbours'.
 */
export function threadTimes(): { readonly cpuNs: number; readonly waitNs: number } {
  try {
    const [cpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return { cpuNs: Number(cpu), waitNs: Number(wait) };
  } catch {
    return { cpuNs: Number.NaN, waitNs: Number.NaN };
  }
}
