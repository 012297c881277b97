import type { Call } from './call.js';

/**
 * The callers waiting in queues: per instance one line ordered by `queueOrder` (first come, first served across
 * the instance's groups, so an agent in two groups serves the older caller first), plus a count per group.
 * Arrivals append; a caller back from an unanswered ring goes back to its old place by binary search.
 */
export class WaitingCalls {
  private readonly lines = new Map<string, Call[]>();
  private readonly groupOf = new Map<Call, string>();
  private readonly counts = new Map<string, number>();

  get size(): number {
    return this.groupOf.size;
  }

  has(call: Call): boolean {
    return this.groupOf.has(call);
  }

  add(call: Call): void {
    if (this.groupOf.has(call)) this.remove(call);
    let line = this.lines.get(call.instanceId);
    if (!line) {
      line = [];
      this.lines.set(call.instanceId, line);
    }
    line.splice(this.positionFor(line, call.queueOrder), 0, call);
    const key = `${call.instanceId}/${call.skillGroupId}`;
    this.groupOf.set(call, key);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  remove(call: Call): void {
    const key = this.groupOf.get(call);
    if (key === undefined) return;
    this.groupOf.delete(call);
    this.counts.set(key, (this.counts.get(key) ?? 1) - 1);
    const line = this.lines.get(call.instanceId);
    if (!line) return;
    const at = line.indexOf(call, Math.max(0, this.positionFor(line, call.queueOrder) - 1));
    if (at >= 0) line.splice(at, 1);
    if (line.length === 0) this.lines.delete(call.instanceId);
  }

  count(instanceId: string, skillGroupId: string): number {
    return this.counts.get(`${instanceId}/${skillGroupId}`) ?? 0;
  }

  /** The instance's waiting callers in line order (a live view: copy before changing the line while iterating). */
  line(instanceId: string): readonly Call[] {
    return this.lines.get(instanceId) ?? [];
  }

  instanceIds(): string[] {
    return [...this.lines.keys()];
  }

  /** First index whose queueOrder is greater than `order` (stable: equal orders keep arrival order). */
  private positionFor(line: readonly Call[], order: number): number {
    let low = 0;
    let high = line.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((line[mid]?.queueOrder ?? 0) <= order) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
