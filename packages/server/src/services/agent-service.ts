import {
  AGENT_BAR_STATUS_TEXT,
  AGENT_BASIC_CODE_TEXT,
  type Agent,
  AgentBarStatus,
  type AgentSnapshot,
  basicCodeOf,
  type CheckinRequest,
  type EnumWSEventType,
  type HotlineEventData,
  type Instance,
  isCallStatus,
  SceneType,
  type StateHistoryEntry,
  WS_EVENT_TEXT,
} from '@openhotline/protocol';
import type { Storage } from '../adapters/storage/storage.js';
import {
  type AgentCommand,
  type AgentEffect,
  type AgentState,
  INITIAL_AGENT_STATE,
  transition,
  withServing,
} from '../domain/agent-machine.js';
import { HotlineError } from '../errors.js';
import { type AgentKey, type AgentStreams, agentKey } from './agent-streams.js';
import type { Clock, Timer } from './clock.js';
import type { Logger } from './logger.js';

/** Break reasons the server sets by itself; agents cannot pick them. */
export const SYSTEM_BREAK_REASONS = {
  ringTimeout: { 'zh-CN': '振铃超时', en: 'Ringing timed out' },
} as const;

/** Used when an agent goes on break without naming a reason and the instance has none configured. */
export const DEFAULT_BREAK_REASON = 'break';

/** Call fields of a hotline-message, filled by the call service; agent-only events leave them empty. */
export type CallFields = Partial<
  Pick<
    HotlineEventData,
    | 'acid'
    | 'aid'
    | 'ani'
    | 'dnis'
    | 'connId'
    | 'holdConnId'
    | 'jobId'
    | 'mid'
    | 'name'
    | 'subSessionId'
    | 'callDirection'
    | 'releasedBy'
    | 'releaseReason'
    | 'location'
  >
>;

export interface AgentServiceDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly streams: AgentStreams;
  readonly log: Logger;
}

/**
 * Applies the agent state machine: loads and persists each agent's state, carries out the effects (pushes
 * hotline-messages, arms the after-call-work and channel-grace timers) and writes the state history.
 * Every status change of every agent goes through `execute`, so the machine's table is the only rulebook.
 */
export class AgentService {
  private readonly states = new Map<AgentKey, AgentState>();
  private readonly acwTimers = new Map<AgentKey, { timer: Timer; endsAt: number }>();
  private readonly graceTimers = new Map<AgentKey, Timer>();
  private readonly channels = new Map<AgentKey, number>();
  /** After close no timer is armed and none fires: the storage behind them is gone. */
  private closed = false;
  /** Set by the call service: hang up the agent's calls when it is forced out of a call status. */
  releaseCalls: (instanceId: string, agentId: string, reason: string) => void = () => {};
  /**
   * Set by the media service: whether an agent with no live channel left can still hear and be heard (its audio
   * line is up). Such an agent keeps its call past the grace period; one that cannot is released from it. Without
   * media the server cannot tell, and the call is kept.
   */
  keepsCallWithoutChannel: (instanceId: string, agentId: string) => boolean = () => true;
  /** Told after every action that changed an agent's status (the ACD listens for agents becoming ready). */
  private readonly statusListeners: ((instanceId: string, agentId: string, state: AgentState) => void)[] = [];
  /** Told when an agent's last live channel closes (a ringing call must move on). */
  private readonly offlineListeners: ((instanceId: string, agentId: string) => void)[] = [];

  constructor(private readonly deps: AgentServiceDeps) {}

  /**
   * Resumes after a start: statuses come back from storage; an agent left in a call status (the server died
   * mid-call) is released into after-call work so nobody stays stuck; checked-in agents get the channel grace
   * period to reconnect, as if their channels had just dropped.
   */
  recover(): void {
    const { storage, log } = this.deps;
    for (const record of storage.agentRuntime.listAll()) {
      const key = agentKey(record.instanceId, record.agentId);
      this.states.set(key, {
        status: record.status,
        since: record.since,
        breakReason: record.breakReason,
        activeSkillGroupIds: record.activeSkillGroupIds,
        acwSeconds: record.acwSeconds,
        idleSince: record.idleSince,
        resumeStatus: null,
      });
      if (isCallStatus(record.status)) {
        log.warn({ agent: key, status: record.status }, 'agent was in a call status at start; releasing');
        this.releaseFromCall(record.instanceId, record.agentId, 'server-restart');
      } else if (record.status === AgentBarStatus.AgentAcw) {
        const acw = this.effectiveAcwSeconds(record.instanceId, record.agentId);
        if (acw > 0) this.armAcwTimer(record.instanceId, record.agentId, Math.max(record.since + acw * 1000, 0));
      }
      if (this.isCheckedIn(key)) this.startGrace(record.instanceId, record.agentId);
    }
  }

  close(): void {
    this.closed = true;
    for (const { timer } of this.acwTimers.values()) timer.cancel();
    for (const timer of this.graceTimers.values()) timer.cancel();
    this.acwTimers.clear();
    this.graceTimers.clear();
  }

  state(instanceId: string, agentId: string): AgentState {
    return this.stateOf(agentKey(instanceId, agentId));
  }

  /** By key: the hot paths build the key once per action rather than once per lookup. */
  private stateOf(key: AgentKey): AgentState {
    return this.states.get(key) ?? INITIAL_AGENT_STATE;
  }

  snapshot(instanceId: string, agentId: string): AgentSnapshot {
    const agent = this.requireAgent(instanceId, agentId);
    const key = agentKey(instanceId, agentId);
    const state = this.stateOf(key);
    return {
      instanceId,
      agentId,
      name: agent.name,
      status: state.status,
      agentBasicCode: basicCodeOf(state.status),
      since: state.since,
      breakReason: state.breakReason,
      activeSkillGroupIds: [...state.activeSkillGroupIds],
      acwSeconds: this.effectiveAcwSeconds(instanceId, agentId, state, agent),
      acwEndsAt: this.acwTimers.get(key)?.endsAt ?? null,
      channels: this.channels.get(key) ?? 0,
    };
  }

  checkin(instanceId: string, agentId: string, request: CheckinRequest): AgentSnapshot {
    const agent = this.requireEnabledAgent(instanceId, agentId);
    const wanted = request.skillGroupIds ?? agent.skillGroupIds;
    const unknown = wanted.filter((id) => !agent.skillGroupIds.includes(id));
    if (unknown.length > 0) {
      throw new HotlineError('UnknownSkillGroup', `The agent is not a member of: ${unknown.join(', ')}.`, {
        skillGroupIds: unknown,
      });
    }
    const instance = this.requireInstance(instanceId);
    this.execute(
      instanceId,
      agentId,
      {
        type: 'checkin',
        skillGroupIds: wanted,
        acwSeconds: request.acwSeconds ?? null,
        readyOnCheckin: instance.settings.readyOnCheckin,
      },
      'checkin',
    );
    const key = agentKey(instanceId, agentId);
    // Checked in with no channel open (a backend-driven check-in): the grace clock runs from now.
    if ((this.channels.get(key) ?? 0) === 0) this.startGrace(instanceId, agentId);
    return this.snapshot(instanceId, agentId);
  }

  checkout(instanceId: string, agentId: string): AgentSnapshot {
    this.requireAgent(instanceId, agentId);
    this.execute(instanceId, agentId, { type: 'checkout' }, 'checkout');
    return this.snapshot(instanceId, agentId);
  }

  ready(instanceId: string, agentId: string): AgentSnapshot {
    this.requireEnabledAgent(instanceId, agentId);
    this.execute(instanceId, agentId, { type: 'ready' }, 'ready');
    return this.snapshot(instanceId, agentId);
  }

  startBreak(instanceId: string, agentId: string, reasonCode: string | undefined): AgentSnapshot {
    this.requireAgent(instanceId, agentId);
    const code = reasonCode ?? this.deps.storage.breakReasons.list(instanceId)[0]?.code ?? DEFAULT_BREAK_REASON;
    const known = this.deps.storage.breakReasons.get(instanceId, code);
    if (reasonCode !== undefined && (!known || known.system)) {
      throw new HotlineError('UnknownBreakReason', `"${reasonCode}" is not a break reason of this instance.`, {
        reasonCode,
      });
    }
    this.execute(instanceId, agentId, { type: 'break', reasonCode: code }, 'break');
    return this.snapshot(instanceId, agentId);
  }

  /** Changes the after-call work time of the current check-in (the SDK's autoChangeOnLineTime). */
  setAcwSeconds(instanceId: string, agentId: string, acwSeconds: number): AgentSnapshot {
    this.requireAgent(instanceId, agentId);
    const key = agentKey(instanceId, agentId);
    const state = this.state(instanceId, agentId);
    const changed = withServing(state, state.activeSkillGroupIds, acwSeconds);
    this.states.set(key, changed);
    this.deps.storage.writeStatus(instanceId, agentId, changed);
    return this.snapshot(instanceId, agentId);
  }

  forceCheckout(instanceId: string, agentId: string, reason: string): AgentSnapshot {
    this.requireAgent(instanceId, agentId);
    this.execute(instanceId, agentId, { type: 'forceCheckout', reason }, reason);
    return this.snapshot(instanceId, agentId);
  }

  history(instanceId: string, agentId: string, limit: number, before?: number): StateHistoryEntry[] {
    this.requireAgent(instanceId, agentId);
    return this.deps.storage.stateHistory.list(instanceId, agentId, {
      limit,
      ...(before !== undefined ? { before } : {}),
    });
  }

  /** A live channel of the agent opened: it is reachable, so any pending grace checkout is called off. */
  channelOpened(instanceId: string, agentId: string): void {
    const key = agentKey(instanceId, agentId);
    this.channels.set(key, (this.channels.get(key) ?? 0) + 1);
    this.graceTimers.get(key)?.cancel();
    this.graceTimers.delete(key);
    // A ready agent coming online can now be offered calls.
    const state = this.state(instanceId, agentId);
    if (state.status === AgentBarStatus.AgentReady) {
      for (const listener of this.statusListeners) listener(instanceId, agentId, state);
    }
  }

  /** The last channel closing starts the grace period: a reload gets back in time, a closed laptop does not. */
  channelClosed(instanceId: string, agentId: string): void {
    const key = agentKey(instanceId, agentId);
    const left = Math.max(0, (this.channels.get(key) ?? 0) - 1);
    this.channels.set(key, left);
    if (this.closed) return;
    if (left === 0) for (const listener of this.offlineListeners) listener(instanceId, agentId);
    if (left === 0 && this.isCheckedIn(key)) this.startGrace(instanceId, agentId);
  }

  onStatusChange(listener: (instanceId: string, agentId: string, state: AgentState) => void): void {
    this.statusListeners.push(listener);
  }

  onOffline(listener: (instanceId: string, agentId: string) => void): void {
    this.offlineListeners.push(listener);
  }

  /** Ready agents of an instance with at least one live channel: only they can hear a call ring. */
  readyAgents(instanceId: string): { agentId: string; idleSince: number; skillGroupIds: readonly string[] }[] {
    const prefix = `${instanceId}/`;
    const ready: { agentId: string; idleSince: number; skillGroupIds: readonly string[] }[] = [];
    for (const [key, state] of this.states) {
      if (state.status !== AgentBarStatus.AgentReady || !key.startsWith(prefix)) continue;
      if ((this.channels.get(key) ?? 0) === 0) continue;
      ready.push({
        agentId: key.slice(prefix.length),
        idleSince: state.idleSince ?? state.since,
        skillGroupIds: state.activeSkillGroupIds,
      });
    }
    return ready;
  }

  /** Whether the agent has a live channel open. */
  isOnline(instanceId: string, agentId: string): boolean {
    return (this.channels.get(agentKey(instanceId, agentId)) ?? 0) > 0;
  }

  /**
   * Pushes an event that changes no status (the media line opened or closed: AgentJoinChannel, AgentLeaveChannel),
   * in the agent's current status.
   */
  announce(instanceId: string, agentId: string, code: EnumWSEventType, cmd: string): void {
    if (this.closed || !this.deps.storage.agents.get(instanceId, agentId)) return;
    const key = agentKey(instanceId, agentId);
    this.notify(key, instanceId, agentId, code, this.stateOf(key).status, cmd, undefined);
  }

  /** How many known agents are in each status (for metrics and the wallboard). */
  countByStatus(): Map<AgentBarStatus, number> {
    const counts = new Map<AgentBarStatus, number>();
    for (const state of this.states.values()) counts.set(state.status, (counts.get(state.status) ?? 0) + 1);
    return counts;
  }

  /** Forgets a removed agent entirely (timers, state, runtime row). */
  forget(instanceId: string, agentId: string): void {
    const key = agentKey(instanceId, agentId);
    this.acwTimers.get(key)?.timer.cancel();
    this.acwTimers.delete(key);
    this.graceTimers.get(key)?.cancel();
    this.graceTimers.delete(key);
    this.states.delete(key);
    this.channels.delete(key);
  }

  /**
   * Runs one command through the machine, then its follow-ups, as one action: persists the final state,
   * appends a history entry per status change and carries out the effects in order. Throws IllegalTransition
   * (with the current status) when the machine refuses the first command; a refused follow-up is a bug and logged.
   */
  execute(instanceId: string, agentId: string, command: AgentCommand, cmd: string, call?: CallFields): AgentState {
    const key = agentKey(instanceId, agentId);
    const initialStatus = this.stateOf(key).status;
    const queue: AgentCommand[] = [command];
    let first = true;
    for (let next = queue.shift(); next; next = queue.shift()) {
      const before = this.stateOf(key);
      const now = this.deps.clock.now();
      const result = transition(before, next, now);
      if (!result.ok) {
        if (first) {
          throw new HotlineError(
            'IllegalTransition',
            `Cannot ${next.type} while ${AGENT_BAR_STATUS_TEXT[before.status].en.toLowerCase()} (status ${before.status}).`,
            { command: next.type, from: before.status, allowedFrom: result.error.allowedFrom },
          );
        }
        this.deps.log.error({ agent: key, command: next.type, from: before.status }, 'follow-up refused');
        break;
      }
      first = false;
      const after = result.state;
      this.states.set(key, after);
      // Storage follows the in-memory state (the truth), written behind: see Storage.writeStatus.
      if (after.status !== before.status || after.breakReason !== before.breakReason) {
        this.deps.storage.writeStatus(instanceId, agentId, after, {
          at: now,
          from: before.status,
          to: after.status,
          cmd,
          breakReason: after.breakReason,
        });
      } else if (next.type === 'checkin') {
        this.deps.storage.writeStatus(instanceId, agentId, after);
      }
      for (const effect of result.effects) {
        const followUp = this.carryOut(key, instanceId, agentId, effect, cmd, call);
        if (followUp) queue.push(followUp);
      }
    }
    const final = this.stateOf(key);
    if (final.status !== initialStatus)
      for (const listener of this.statusListeners) listener(instanceId, agentId, final);
    return final;
  }

  private carryOut(
    key: AgentKey,
    instanceId: string,
    agentId: string,
    effect: AgentEffect,
    cmd: string,
    call: CallFields | undefined,
  ): AgentCommand | undefined {
    switch (effect.kind) {
      case 'notify':
        this.notify(key, instanceId, agentId, effect.code, effect.status, cmd, call);
        return undefined;
      case 'startAcwTimer':
        this.armAcwTimer(instanceId, agentId, effect.endsAt);
        return undefined;
      case 'cancelAcwTimer':
        this.acwTimers.get(key)?.timer.cancel();
        this.acwTimers.delete(key);
        return undefined;
      case 'releaseCalls':
        this.releaseCalls(instanceId, agentId, effect.reason);
        return undefined;
      case 'followUp':
        return effect.command;
    }
  }

  private notify(
    key: AgentKey,
    instanceId: string,
    agentId: string,
    code: EnumWSEventType,
    status: AgentBarStatus,
    cmd: string,
    call: CallFields | undefined,
  ): void {
    const agent = this.deps.storage.agents.get(instanceId, agentId);
    const instance = this.deps.storage.instances.get(instanceId);
    const now = this.deps.clock.now();
    const basic = basicCodeOf(status);
    const { eventTime, time } = timeTexts(now);
    const descriptions = descriptionsOf(basic, code);
    // One literal of fixed shape (no spread of `call`): V8 builds it in one step, and this runs for every event.
    const data: HotlineEventData = {
      acid: call?.acid ?? '',
      agentBasicCode: basic,
      agentBasicDesc: descriptions['zh-CN'].agentBasicDesc,
      agentCallCode: code,
      agentCallDesc: descriptions['zh-CN'].agentCallDesc,
      aid: call?.aid ?? '',
      ani: call?.ani ?? '',
      appName: instance?.name ?? instanceId,
      cmd,
      connId: call?.connId ?? '',
      departmentId: agent?.departmentId ?? '',
      dnis: call?.dnis ?? '',
      eventTime,
      holdConnId: call?.holdConnId ?? '',
      jobId: call?.jobId ?? '',
      mid: call?.mid ?? '',
      name: call?.name ?? '',
      status,
      subSessionId: call?.subSessionId ?? '',
      supportNewFunction: '1',
      time,
      callDirection: call?.callDirection ?? '',
      releasedBy: call?.releasedBy ?? '',
      releaseReason: call?.releaseReason ?? '',
      location: call?.location ?? null,
      instanceId,
      agentId,
      breakReason: this.stateOf(key).breakReason,
      descriptions,
    };
    this.deps.streams.publish(key, {
      sceneType: SceneType.HotlineMessage,
      head: { agentCallCode: code, agentBasicCode: basic, status, eventTime },
      data,
    });
  }

  private armAcwTimer(instanceId: string, agentId: string, endsAt: number): void {
    const key = agentKey(instanceId, agentId);
    this.acwTimers.get(key)?.timer.cancel();
    if (this.closed) return;
    const timer = this.deps.clock.setTimer(() => {
      this.acwTimers.delete(key);
      if (this.closed) return;
      this.execute(instanceId, agentId, { type: 'acwTimeout' }, 'acw-timeout');
    }, endsAt - this.deps.clock.now());
    this.acwTimers.set(key, { timer, endsAt });
  }

  private startGrace(instanceId: string, agentId: string): void {
    const key = agentKey(instanceId, agentId);
    const instance = this.deps.storage.instances.get(instanceId);
    if (!instance || this.closed) return;
    this.graceTimers.get(key)?.cancel();
    this.graceTimers.set(
      key,
      this.deps.clock.setTimer(() => {
        this.graceTimers.delete(key);
        if (this.closed || (this.channels.get(key) ?? 0) > 0 || !this.isCheckedIn(key)) return;
        if (isCallStatus(this.state(instanceId, agentId).status)) {
          // Calls survive a reload, and an agent whose audio still flows is still in the call: look again later.
          if (this.keepsCallWithoutChannel(instanceId, agentId)) {
            this.startGrace(instanceId, agentId);
            return;
          }
          // Neither a channel nor audio: nobody is at that desk. The call goes on without the agent where it can
          // (a consulted agent takes the customer over), or ends; then the agent is checked out.
          this.deps.log.info({ agent: key }, 'no live channel and no audio within the grace period; leaving the call');
        } else {
          this.deps.log.info({ agent: key }, 'no live channel within the grace period; checking out');
        }
        this.execute(instanceId, agentId, { type: 'forceCheckout', reason: 'channel-lost' }, 'channel-lost');
      }, instance.settings.channelGraceSeconds * 1000),
    );
  }

  private isCheckedIn(key: AgentKey): boolean {
    const status = this.states.get(key)?.status ?? AgentBarStatus.Unregistered;
    return status !== AgentBarStatus.Unregistered && status !== AgentBarStatus.AgentCheckout;
  }

  private effectiveAcwSeconds(
    instanceId: string,
    agentId: string,
    state = this.state(instanceId, agentId),
    agent = this.deps.storage.agents.get(instanceId, agentId),
  ): number {
    if (state.acwSeconds !== null) return state.acwSeconds;
    if (agent && agent.acwSeconds !== null) return agent.acwSeconds;
    return this.deps.storage.instances.get(instanceId)?.settings.acwSeconds ?? 1;
  }

  /** Called by the call service when a call ends for the agent: release, then after-call work. */
  releaseFromCall(instanceId: string, agentId: string, cmd: string, call?: CallFields): void {
    this.execute(instanceId, agentId, { type: 'callReleased' }, cmd, call);
    if (this.state(instanceId, agentId).status === AgentBarStatus.AgentCallRelease) {
      const acwSeconds = this.effectiveAcwSeconds(instanceId, agentId);
      this.execute(instanceId, agentId, { type: 'beginAcw', acwSeconds }, cmd, call);
    }
  }

  private requireInstance(instanceId: string): Instance {
    const instance = this.deps.storage.instances.get(instanceId);
    if (!instance) throw new HotlineError('InstanceNotFound', `No instance "${instanceId}".`);
    return instance;
  }

  private requireAgent(instanceId: string, agentId: string): Agent {
    const agent = this.deps.storage.agents.get(instanceId, agentId);
    if (!agent) throw new HotlineError('AgentNotFound', `No agent "${agentId}" in instance "${instanceId}".`);
    return agent;
  }

  private requireEnabledAgent(instanceId: string, agentId: string): Agent {
    const agent = this.requireAgent(instanceId, agentId);
    if (!agent.enabled) throw new HotlineError('AgentDisabled', `Agent "${agentId}" is disabled.`);
    return agent;
  }
}

/**
 * The two texts of an event's time, for the last millisecond asked about: a burst of changes (a shift logging in,
 * a queue storm) falls in a few milliseconds, and formatting an ISO date costs more than the rest of a message's
 * fields together.
 */
let lastTime = { at: Number.NaN, eventTime: '', time: '' };

function timeTexts(at: number): { eventTime: string; time: string } {
  if (at !== lastTime.at) lastTime = { at, eventTime: String(at), time: new Date(at).toISOString() };
  return lastTime;
}

type Descriptions = HotlineEventData['descriptions'];

/**
 * The two languages' texts of a (basic code, event) pair. There are a few dozen pairs and every message carries
 * one, so each is built once and shared (frozen: it ends up inside messages that are serialized, never changed).
 */
const DESCRIPTIONS = new Map<string, Map<EnumWSEventType, Descriptions>>();

function descriptionsOf(basic: ReturnType<typeof basicCodeOf>, code: EnumWSEventType): Descriptions {
  let byCode = DESCRIPTIONS.get(basic);
  if (!byCode) {
    byCode = new Map();
    DESCRIPTIONS.set(basic, byCode);
  }
  let descriptions = byCode.get(code);
  if (!descriptions) {
    descriptions = Object.freeze({
      'zh-CN': Object.freeze({
        agentBasicDesc: AGENT_BASIC_CODE_TEXT[basic]['zh-CN'],
        agentCallDesc: WS_EVENT_TEXT[code]['zh-CN'],
      }),
      en: Object.freeze({ agentBasicDesc: AGENT_BASIC_CODE_TEXT[basic].en, agentCallDesc: WS_EVENT_TEXT[code].en }),
    });
    byCode.set(code, descriptions);
  }
  return descriptions;
}
