import {
  AGENT_BAR_STATUS_TEXT,
  AgentBarStatus,
  AgentBasicCode,
  basicCodeOf,
  type CallRecord,
  DEFAULT_SERVICE_LEVEL_SECONDS,
  type WallboardAgent,
  type WallboardCall,
  type WallboardInterval,
  type WallboardQueue,
  type WallboardSnapshot,
  type WallboardSummary,
} from '@openhotline/protocol';
import type { Storage } from '../adapters/storage/storage.js';
import { HotlineError } from '../errors.js';
import { type AgentService, SYSTEM_BREAK_REASONS } from './agent-service.js';
import type { CallService } from './calls/call-service.js';
import type { Clock, Timer } from './clock.js';
import type { Logger } from './logger.js';
import { maskNumber } from './masking.js';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;
/** Live screens get at most this many pushes per second per instance, however busy the instance is. */
export const WALLBOARD_MIN_PUSH_INTERVAL_MS = 500;
/** A quiet instance still gets a push this often: the charts' window slides and the screen knows it is alive. */
export const WALLBOARD_REFRESH_MS = 15_000;

/** What happened to inbound calls in one minute; each call counts where its offer, answer and end happened. */
interface MinuteCounts {
  offered: number;
  answered: number;
  abandoned: number;
  unanswered: number;
  /** Arrival-to-answer time of each call answered in the minute: the service level is asked for any target. */
  readonly answerWaitsMs: number[];
  handled: number;
  handleMsTotal: number;
}

interface WindowCounts extends MinuteCounts {
  answeredWithinTarget: number;
}

/**
 * Rolling counts of one instance's inbound calls: one bucket per minute for the last 24 hours, fed with each
 * call record as the call service writes it. Each record costs a map lookup; a snapshot adds up at most 1,440
 * buckets, never the records themselves.
 */
export class CallStatistics {
  private readonly minutes = new Map<number, MinuteCounts>();
  /** Inbound calls seen and not yet ended, with whether their answer was counted. */
  private readonly open = new Map<string, { answered: boolean }>();
  private prunedMinute = 0;

  constructor(private readonly clock: Pick<Clock, 'now'>) {}

  /** Takes a call record (any milestone, any number of times): counts what it shows for the first time. */
  record(record: CallRecord): void {
    if (record.direction !== 'inbound') return;
    this.prune();
    let seen = this.open.get(record.connId);
    if (!seen) {
      seen = { answered: false };
      this.open.set(record.connId, seen);
      this.bucket(record.offeredAt).offered += 1;
    }
    if (!seen.answered && record.answeredAt !== null) {
      seen.answered = true;
      const bucket = this.bucket(record.answeredAt);
      bucket.answered += 1;
      bucket.answerWaitsMs.push(Math.max(0, record.answeredAt - record.offeredAt));
    }
    if (record.disposition === 'active') return;
    this.open.delete(record.connId);
    const endedAt = record.endedAt ?? this.clock.now();
    const bucket = this.bucket(endedAt);
    if (seen.answered) {
      // A call cut by a restart has no real end: its handle time would be the outage, so it is left out.
      if (record.disposition !== 'interrupted' && record.answeredAt !== null) {
        bucket.handled += 1;
        bucket.handleMsTotal += Math.max(0, endedAt - record.answeredAt);
      }
    } else if (record.disposition === 'abandoned') {
      bucket.abandoned += 1;
    } else {
      bucket.unanswered += 1;
    }
  }

  /** The `count` intervals of `stepMinutes` up to now, oldest first; the last one is the current, partial one. */
  series(stepMinutes: number, count: number, targetMs: number): WallboardInterval[] {
    const current = Math.floor(this.clock.now() / MINUTE_MS);
    const lastStart = current - (current % stepMinutes);
    const intervals: WallboardInterval[] = [];
    for (let i = count - 1; i >= 0; i--) {
      const from = lastStart - i * stepMinutes;
      const counts = this.add(from, from + stepMinutes, targetMs);
      intervals.push({
        start: from * MINUTE_MS,
        offered: counts.offered,
        answered: counts.answered,
        abandoned: counts.abandoned,
        serviceLevelPercent: serviceLevel(counts),
      });
    }
    return intervals;
  }

  /** Totals of the last `windowMinutes` minutes, the current one included. */
  summary(windowMinutes: number, targetMs: number): WallboardSummary {
    const current = Math.floor(this.clock.now() / MINUTE_MS);
    const counts = this.add(current - windowMinutes + 1, current + 1, targetMs);
    const waits = counts.answerWaitsMs;
    return {
      windowMinutes,
      offered: counts.offered,
      answered: counts.answered,
      abandoned: counts.abandoned,
      unanswered: counts.unanswered,
      serviceLevelPercent: serviceLevel(counts),
      averageSpeedOfAnswerMs: waits.length > 0 ? Math.round(waits.reduce((a, b) => a + b, 0) / waits.length) : null,
      averageHandleTimeMs: counts.handled > 0 ? Math.round(counts.handleMsTotal / counts.handled) : null,
    };
  }

  /** Adds up the minutes [from, to). */
  private add(fromMinute: number, toMinute: number, targetMs: number): WindowCounts {
    const total: WindowCounts = { ...emptyCounts(), answeredWithinTarget: 0 };
    for (let minute = fromMinute; minute < toMinute; minute++) {
      const counts = this.minutes.get(minute);
      if (!counts) continue;
      total.offered += counts.offered;
      total.answered += counts.answered;
      total.abandoned += counts.abandoned;
      total.unanswered += counts.unanswered;
      total.handled += counts.handled;
      total.handleMsTotal += counts.handleMsTotal;
      for (const wait of counts.answerWaitsMs) {
        total.answerWaitsMs.push(wait);
        if (wait <= targetMs) total.answeredWithinTarget += 1;
      }
    }
    return total;
  }

  private bucket(at: number): MinuteCounts {
    const minute = Math.floor(at / MINUTE_MS);
    // Older than the window (a record of a call that began yesterday): counted nowhere.
    if (minute <= Math.floor(this.clock.now() / MINUTE_MS) - DAY_MINUTES) return emptyCounts();
    let counts = this.minutes.get(minute);
    if (!counts) {
      counts = emptyCounts();
      this.minutes.set(minute, counts);
    }
    return counts;
  }

  /** Drops the minutes that left the 24-hour window, once per minute at most. */
  private prune(): void {
    const current = Math.floor(this.clock.now() / MINUTE_MS);
    if (current === this.prunedMinute) return;
    this.prunedMinute = current;
    for (const minute of this.minutes.keys()) if (minute <= current - DAY_MINUTES) this.minutes.delete(minute);
  }
}

function emptyCounts(): MinuteCounts {
  return { offered: 0, answered: 0, abandoned: 0, unanswered: 0, answerWaitsMs: [], handled: 0, handleMsTotal: 0 };
}

/** Answered within the target ÷ calls that stopped waiting (answered, abandoned or ended unanswered), in %. */
function serviceLevel(counts: WindowCounts): number | null {
  const finished = counts.answered + counts.abandoned + counts.unanswered;
  return finished === 0 ? null : Math.round((counts.answeredWithinTarget / finished) * 1000) / 10;
}

export interface WallboardDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly agents: AgentService;
  readonly calls: CallService;
  readonly log: Logger;
}

/** The screens watching one instance, and the throttle between its changes and their pushes. */
interface InstanceWatch {
  readonly instanceId: string;
  readonly listeners: Set<() => void>;
  pending: Timer | undefined;
  refresh: Timer | undefined;
  lastPushAt: number;
}

/**
 * The wallboard of each instance: agents, queues and calls read from the live services when a snapshot is asked
 * for, call statistics kept up to date from the call records as they are written. Watchers (live screens) are
 * told when something changed, at most every WALLBOARD_MIN_PUSH_INTERVAL_MS, and at least every WALLBOARD_REFRESH_MS.
 */
export class WallboardService {
  private readonly statistics = new Map<string, CallStatistics>();
  private readonly watches = new Map<string, InstanceWatch>();
  private closed = false;

  constructor(private readonly deps: WallboardDeps) {
    deps.agents.onStatusChange((instanceId) => this.changed(instanceId));
    deps.agents.onOffline((instanceId) => this.changed(instanceId));
    deps.calls.onRecord((record) => {
      this.statisticsOf(record.instanceId).record(record);
      this.changed(record.instanceId);
    });
  }

  /**
   * Counts the calls of the last 24 hours that storage already holds, so a restart does not blank the charts.
   * Runs once at start, after the call service closed the records of calls cut by the restart.
   */
  recover(): void {
    const { storage, clock } = this.deps;
    const from = clock.now() - DAY_MINUTES * MINUTE_MS;
    for (const instance of storage.instances.list()) {
      const statistics = this.statisticsOf(instance.id);
      let cursor: string | undefined;
      do {
        const page = storage.callRecords.list(instance.id, {
          from,
          direction: 'inbound',
          limit: 500,
          ...(cursor ? { cursor } : {}),
        });
        for (const record of page.items) statistics.record(record);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
  }

  close(): void {
    this.closed = true;
    for (const watch of this.watches.values()) {
      watch.pending?.cancel();
      watch.refresh?.cancel();
    }
    this.watches.clear();
  }

  /** The wallboard of an instance now. Throws InstanceNotFound. */
  snapshot(instanceId: string, serviceLevelSeconds = DEFAULT_SERVICE_LEVEL_SECONDS): WallboardSnapshot {
    const instance = this.deps.storage.instances.get(instanceId);
    if (!instance) throw new HotlineError('InstanceNotFound', `No instance "${instanceId}".`);
    const now = this.deps.clock.now();
    const agents = this.agentsOf(instanceId);
    const agentCounts: Record<string, number> = {};
    for (const code of Object.values(AgentBasicCode)) agentCounts[code] = 0;
    for (const agent of agents) agentCounts[agent.basicCode] = (agentCounts[agent.basicCode] ?? 0) + 1;
    const names = new Map(agents.map((agent) => [agent.agentId, agent.name]));
    const statistics = this.statisticsOf(instanceId);
    const targetMs = serviceLevelSeconds * 1000;
    return {
      instanceId,
      instanceName: instance.name,
      serverTime: now,
      serviceLevelSeconds,
      agents,
      agentCounts,
      queues: this.queuesOf(instanceId),
      calls: this.callsOf(instanceId, names, now),
      charts: {
        perMinute: statistics.series(1, 30, targetMs),
        perFiveMinutes: statistics.series(5, 24, targetMs),
      },
      summary: {
        last30Minutes: statistics.summary(30, targetMs),
        last24Hours: statistics.summary(DAY_MINUTES, targetMs),
      },
    };
  }

  /**
   * Calls `listener` whenever the instance's wallboard changed (throttled) and at least every refresh period.
   * Returns the function that stops it. Throws InstanceNotFound.
   */
  watch(instanceId: string, listener: () => void): () => void {
    if (!this.deps.storage.instances.get(instanceId)) {
      throw new HotlineError('InstanceNotFound', `No instance "${instanceId}".`);
    }
    let watch = this.watches.get(instanceId);
    if (!watch) {
      watch = { instanceId, listeners: new Set(), pending: undefined, refresh: undefined, lastPushAt: 0 };
      this.watches.set(instanceId, watch);
      this.armRefresh(watch);
    }
    watch.listeners.add(listener);
    const owned = watch;
    return () => {
      owned.listeners.delete(listener);
      if (owned.listeners.size > 0 || this.watches.get(instanceId) !== owned) return;
      owned.pending?.cancel();
      owned.refresh?.cancel();
      this.watches.delete(instanceId);
    };
  }

  private changed(instanceId: string): void {
    const watch = this.watches.get(instanceId);
    if (!watch || watch.pending || this.closed) return;
    const wait = Math.max(0, watch.lastPushAt + WALLBOARD_MIN_PUSH_INTERVAL_MS - this.deps.clock.now());
    // Even with no wait, the push goes after the current action: a burst of changes makes one push.
    watch.pending = this.deps.clock.setTimer(() => this.push(watch), wait);
  }

  private push(watch: InstanceWatch): void {
    watch.pending?.cancel();
    watch.pending = undefined;
    if (this.closed || this.watches.get(watch.instanceId) !== watch) return;
    watch.lastPushAt = this.deps.clock.now();
    this.armRefresh(watch);
    for (const listener of [...watch.listeners]) {
      try {
        listener();
      } catch (error) {
        this.deps.log.error({ err: error, instanceId: watch.instanceId }, 'wallboard push failed');
      }
    }
  }

  private armRefresh(watch: InstanceWatch): void {
    watch.refresh?.cancel();
    watch.refresh = this.deps.clock.setTimer(() => this.push(watch), WALLBOARD_REFRESH_MS);
  }

  private statisticsOf(instanceId: string): CallStatistics {
    let statistics = this.statistics.get(instanceId);
    if (!statistics) {
      statistics = new CallStatistics(this.deps.clock);
      this.statistics.set(instanceId, statistics);
    }
    return statistics;
  }

  private agentsOf(instanceId: string): WallboardAgent[] {
    const { storage, agents } = this.deps;
    return storage.agents.list(instanceId).map((agent) => {
      const state = agents.state(instanceId, agent.id);
      const checkedIn = state.status !== AgentBarStatus.Unregistered && state.status !== AgentBarStatus.AgentCheckout;
      return {
        agentId: agent.id,
        name: agent.name,
        skillGroupIds: checkedIn ? [...state.activeSkillGroupIds] : [...agent.skillGroupIds],
        status: state.status,
        basicCode: basicCodeOf(state.status),
        statusText: { ...AGENT_BAR_STATUS_TEXT[state.status] },
        breakReasonText:
          state.status === AgentBarStatus.AgentBreak ? this.breakReasonText(instanceId, state.breakReason) : null,
        since: state.since,
        online: agents.isOnline(instanceId, agent.id),
      };
    });
  }

  private breakReasonText(instanceId: string, code: string): { 'zh-CN': string; en: string } | null {
    if (code === '') return null;
    const configured = this.deps.storage.breakReasons.get(instanceId, code)?.label;
    if (configured) return { ...configured };
    const system = (SYSTEM_BREAK_REASONS as Record<string, { 'zh-CN': string; en: string }>)[code];
    return system ? { ...system } : { 'zh-CN': code, en: code };
  }

  private queuesOf(instanceId: string): WallboardQueue[] {
    const names = new Map(this.deps.storage.skillGroups.list(instanceId).map((group) => [group.id, group.name]));
    return this.deps.calls.queues(instanceId, { canSeeFullNumbers: false }).map((queue) => ({
      skillGroupId: queue.skillGroupId,
      name: names.get(queue.skillGroupId) ?? queue.skillGroupId,
      waiting: queue.waiting.length,
      longestWaitMs: queue.longestWaitMs,
      oldestQueuedAt: queue.waiting.reduce<number | null>(
        (oldest, w) => Math.min(oldest ?? w.queuedAt, w.queuedAt),
        null,
      ),
      readyAgents: queue.readyAgents,
    }));
  }

  private callsOf(instanceId: string, names: ReadonlyMap<string, string>, now: number): WallboardCall[] {
    const { calls } = this.deps;
    return calls.liveCalls(instanceId).flatMap((record) => {
      const progress = progressOf(record);
      let state = progress.state;
      let agentId = progress.agentId;
      // The handling agent's view knows what the record does not say (on hold, consulting).
      if (record.agentId !== '' && (state === 'talking' || state === 'dialing')) {
        const view = calls.callsOf(instanceId, record.agentId).find((v) => v.connId === record.connId);
        if (view && view.state !== 'ended') {
          state = view.state;
          agentId = record.agentId;
        }
      }
      return [
        {
          connId: record.connId,
          direction: record.direction,
          state,
          agentId,
          agentName: names.get(agentId) ?? '',
          skillGroupId: record.skillGroupId,
          number: customerNumberOf(record),
          startedAt: record.offeredAt,
          answeredAt: record.answeredAt,
          durationMs: Math.max(0, now - record.offeredAt),
        },
      ];
    });
  }
}

/** Where a live call is, read from the milestones of its record (the newest that says). */
function progressOf(record: CallRecord): { state: WallboardCall['state']; agentId: string } {
  for (let i = record.events.length - 1; i >= 0; i--) {
    const event = record.events[i];
    if (!event) continue;
    switch (event.type) {
      case 'queued':
        return { state: 'queued', agentId: '' };
      case 'ringing':
        return { state: 'ringing', agentId: event.agentId };
      case 'dialing':
      case 'remote-ringing':
        return { state: 'dialing', agentId: record.agentId };
      case 'answered':
      case 'consult-cancelled':
      case 'transferred':
        return { state: 'talking', agentId: record.agentId };
      case 'consult-started':
      case 'consult-answered':
        return { state: 'consulting', agentId: record.agentId };
      case 'conference':
        return { state: 'conference', agentId: record.agentId };
    }
  }
  return { state: record.answeredAt === null ? 'queued' : 'talking', agentId: record.agentId };
}

/** The customer's end of the call, masked: the wallboard hangs on a wall. An internal call's ends are agents. */
function customerNumberOf(record: CallRecord): string {
  switch (record.direction) {
    case 'inbound':
      return maskNumber(record.ani);
    case 'outbound':
      return maskNumber(record.dnis);
    case 'internal':
      return record.dnis;
  }
}
