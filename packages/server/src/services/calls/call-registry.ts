import {
  type AgentBarStatus,
  type CallDisposition,
  type CallIds,
  type CallRecord,
  type CallView,
  AgentBarStatus as Status,
} from '@openhotline/protocol';
import type { Carrier } from '../../adapters/carrier/carrier.js';
import type { NumberLocator } from '../../adapters/location/number-location.js';
import type { Storage } from '../../adapters/storage/storage.js';
import type { AcdPolicy } from '../../domain/acd.js';
import type { AgentCommand } from '../../domain/agent-machine.js';
import { type CallEvent, callTransition } from '../../domain/call-machine.js';
import { HotlineError } from '../../errors.js';
import type { AgentService, CallFields } from '../agent-service.js';
import { type AgentKey, agentKey } from '../agent-streams.js';
import type { Clock, IdGenerator } from '../clock.js';
import type { Logger } from '../logger.js';
import { maskNumber } from '../masking.js';
import type { CallMedia, MediaCallRef } from '../media-service.js';
import { type AgentPart, type Call, callStateOf, toRecord } from './call.js';
import { WaitingCalls } from './waiting-calls.js';

export interface CallServiceDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly agents: AgentService;
  readonly carrier: Carrier;
  readonly locator: NumberLocator;
  readonly log: Logger;
  readonly acd?: AcdPolicy;
  /** Audio for calls; absent, calls are signaling only (tests of call logic, or media off). */
  readonly media?: CallMedia;
}

/** The dialable form of a number: digits with an optional leading +, 3 to 20 digits. */
export const DIALABLE = /^\+?[0-9]{3,20}$/;

/**
 * The live calls and the state every part of the call service shares: the calls by connId, the calls each agent
 * is on, the callers waiting in queues, and the agent being forced out. Also the bookkeeping every part does the
 * same way: moving a call through the call machine, driving its agents through the agent service, notes, legs,
 * records and views.
 *
 * Ending a call lives here too, because it is the inverse of `register`: it is the one place a call leaves the
 * registry, and every part (queues, hang-ups, failed dials) ends calls.
 */
export class CallRegistry {
  private readonly calls = new Map<string, Call>();
  private readonly byAgent = new Map<AgentKey, Set<string>>();
  /** Filled and served by the ACD; a call that ends leaves it too. */
  readonly waiting = new WaitingCalls();
  /** The agent being forced out: its status is already handled by the agent service. */
  private departing: AgentKey | undefined;
  /** Told each time a call's record is written, at every milestone (the wallboard counts calls from these). */
  private readonly recordListeners: ((record: CallRecord) => void)[] = [];
  /** Told each time a call changes phase (which is also when a queue loses or regains a caller). */
  private readonly phaseListeners = new Set<(call: Call) => void>();

  constructor(private readonly deps: CallServiceDeps) {}

  // ---------------------------------------------------------------- the calls and who is on them

  get(connId: string): Call | undefined {
    return this.calls.get(connId);
  }

  all(): IterableIterator<Call> {
    return this.calls.values();
  }

  /** The connIds of the calls an agent is on, as a copy: callers may end or leave calls while walking them. */
  connIdsOf(instanceId: string, agentId: string): string[] {
    return [...(this.byAgent.get(agentKey(instanceId, agentId)) ?? [])];
  }

  register(call: Call): void {
    this.calls.set(call.connId, call);
    if (call.agent) this.index(call, call.agent.agentId);
  }

  index(call: Call, agentId: string): void {
    const key = agentKey(call.instanceId, agentId);
    let set = this.byAgent.get(key);
    if (!set) {
      set = new Set();
      this.byAgent.set(key, set);
    }
    set.add(call.connId);
  }

  unindex(call: Call, agentId: string): void {
    const participates =
      call.phase !== 'ended' &&
      (call.agent?.agentId === agentId ||
        call.ringing?.agentId === agentId ||
        (call.third?.type === 'agent' && call.third.agentId === agentId));
    if (participates) return;
    const key = agentKey(call.instanceId, agentId);
    this.byAgent.get(key)?.delete(call.connId);
    if (this.byAgent.get(key)?.size === 0) this.byAgent.delete(key);
  }

  /** Runs `release` with the agent marked as forced out, so its calls do not drive its status meanwhile. */
  asDeparting(instanceId: string, agentId: string, release: () => void): void {
    this.departing = agentKey(instanceId, agentId);
    try {
      release();
    } finally {
      this.departing = undefined;
    }
  }

  // ---------------------------------------------------------------- lookups and guards

  /** The call, if this agent is on it; another agent's call answers exactly like an unknown id. */
  callOf(instanceId: string, agentId: string, connId: string): Call {
    const call = this.calls.get(connId);
    const onIt = this.byAgent.get(agentKey(instanceId, agentId))?.has(connId) ?? false;
    if (!call || call.instanceId !== instanceId || !onIt) {
      throw new HotlineError('CallNotFound', `No call "${connId}" for this agent.`);
    }
    return call;
  }

  /** The call, if this agent handles it (not merely rings or is consulted). */
  handledCall(instanceId: string, agentId: string, connId: string): Call {
    const call = this.callOf(instanceId, agentId, connId);
    if (call.agent?.agentId !== agentId)
      throw this.illegal(call, 'control', 'only the agent handling the call can do this');
    return call;
  }

  checkIds(call: Call, part: AgentPart, ids: CallIds): void {
    const mismatched =
      (ids.jobId !== undefined && ids.jobId !== '' && ids.jobId !== part.jobId) ||
      (ids.aid !== undefined && ids.aid !== '' && ids.aid !== part.legId) ||
      (ids.acid !== undefined && ids.acid !== '' && ids.acid !== (call.customer?.legId ?? ''));
    if (mismatched) throw new HotlineError('CallIdsMismatch', undefined, { connId: call.connId });
  }

  move(call: Call, event: CallEvent): void {
    const result = callTransition(call.phase, event);
    if (!result.ok) throw this.illegal(call, event);
    call.phase = result.phase;
    for (const listener of this.phaseListeners) listener(call);
  }

  illegal(call: Call, action: string, why?: string): HotlineError {
    return new HotlineError(
      'IllegalCallAction',
      `Cannot ${action} a call that is ${call.phase}${why ? `: ${why}` : ''}.`,
      { connId: call.connId, state: call.phase, action },
    );
  }

  requireAvailableAgent(instanceId: string, agentId: string): void {
    const agent = this.deps.storage.agents.get(instanceId, agentId);
    if (!agent) throw new HotlineError('AgentNotFound', `No agent "${agentId}".`);
    const status: AgentBarStatus = this.deps.agents.state(instanceId, agentId).status;
    if (status !== Status.AgentReady || !this.deps.agents.isOnline(instanceId, agentId)) {
      throw new HotlineError('TargetUnavailable', `Agent "${agentId}" is not ready to take a call.`, {
        agentId,
        status,
      });
    }
  }

  // ---------------------------------------------------------------- the agents of a call

  newPart(agentId: string): AgentPart {
    return { agentId, legId: this.deps.ids('leg'), jobId: this.deps.ids('job') };
  }

  agentCommand(call: Call, agentId: string, command: AgentCommand, cmd: string): void {
    if (this.departing === agentKey(call.instanceId, agentId)) return;
    this.deps.agents.execute(call.instanceId, agentId, command, cmd, this.fieldsFor(call, agentId));
  }

  releaseAgentFromCall(call: Call, agentId: string, releasedBy: CallRecord['releasedBy'], reason: string): void {
    this.leaveLeg(call, this.legOf(call, agentId));
    if (this.departing === agentKey(call.instanceId, agentId)) return;
    try {
      this.deps.agents.releaseFromCall(call.instanceId, agentId, reason, {
        ...this.fieldsFor(call, agentId),
        releasedBy,
        releaseReason: reason,
      });
    } catch (error) {
      // The agent may already be out (checked out by force); the call goes on regardless.
      this.deps.log.warn({ err: error, connId: call.connId, agentId }, 'could not release agent from call');
    }
  }

  // ---------------------------------------------------------------- leaving and ending

  /** Ends the call for everyone: legs hung up, agents released into after-call work, record closed. */
  end(call: Call, disposition: CallDisposition, releasedBy: CallRecord['releasedBy'], reason: string): void {
    if (call.phase === 'ended') return;
    this.move(call, 'hangup');
    call.queueTimer?.cancel();
    call.dialTimer?.cancel();
    call.ringing?.timer?.cancel();
    this.waiting.remove(call);
    call.endedAt = this.deps.clock.now();
    call.disposition = disposition;
    call.releasedBy = releasedBy;
    call.releaseReason = reason;
    call.customer?.leg?.hangup();
    if (call.third?.type === 'number') call.third.leg?.hangup();
    const agents = [
      call.agent?.agentId,
      call.ringing?.agentId,
      call.third?.type === 'agent' ? call.third.agentId : undefined,
    ];
    for (const agentId of agents) if (agentId) this.releaseAgentFromCall(call, agentId, releasedBy, reason);
    call.ringing = null;
    for (const leg of call.legs) if (leg.leftAt === null) leg.leftAt = call.endedAt;
    this.note(call, 'ended', '', `${disposition}; ${releasedBy} ${reason}`);
    this.deps.media?.ended(this.mediaRef(call));
    this.writeRecord(call);
    this.calls.delete(call.connId);
    for (const agentId of call.agentIds) this.unindex(call, agentId);
  }

  releaseHandler(call: Call, releasedBy: CallRecord['releasedBy'], reason: string): void {
    const handler = call.agent;
    if (!handler) return;
    if (call.phase !== 'ended') this.deps.media?.handlerLeft(this.mediaRef(call));
    this.leaveLeg(call, handler.legId);
    call.agent = null;
    this.releaseAgentFromCall(call, handler.agentId, releasedBy, reason);
    this.unindex(call, handler.agentId);
  }

  dropThird(call: Call, releasedBy: CallRecord['releasedBy'], reason: string): void {
    const third = call.third;
    if (!third) return;
    call.third = null;
    if (third.type === 'agent') {
      this.releaseAgentFromCall(call, third.agentId, releasedBy, reason);
      this.unindex(call, third.agentId);
    } else {
      third.leg?.hangup();
    }
    this.leaveLeg(call, third.legId);
  }

  // ---------------------------------------------------------------- views, notes, legs and records

  mediaRef(call: Call): MediaCallRef {
    return {
      connId: call.connId,
      instanceId: call.instanceId,
      customerLegId: call.customer?.legId ?? null,
      customerKind: call.customer?.kind ?? 'virtual',
    };
  }

  /** The call's fields of a hotline-message for one agent, with numbers masked unless it may see them. */
  private fieldsFor(call: Call, agentId: string): CallFields {
    const part =
      call.ringing?.agentId === agentId
        ? call.ringing
        : call.agent?.agentId === agentId
          ? call.agent
          : call.third?.type === 'agent' && call.third.agentId === agentId
            ? call.third
            : undefined;
    const canSee = this.deps.storage.agents.get(call.instanceId, agentId)?.canSeeFullNumbers ?? false;
    const show = (number: string) => (canSee ? number : maskNumber(number));
    const customerIsAni = call.direction === 'inbound';
    return {
      connId: call.connId,
      jobId: part?.jobId ?? '',
      aid: part?.legId ?? '',
      acid: call.customer?.legId ?? '',
      ani: call.direction === 'internal' ? call.ani : customerIsAni ? show(call.ani) : call.ani,
      dnis: call.direction === 'internal' ? call.dnis : customerIsAni ? call.dnis : show(call.dnis),
      holdConnId: call.phase === 'held' || call.phase === 'consulting' ? call.connId : '',
      subSessionId: call.subSessionId,
      mid: call.business.memberId,
      name: call.business.memberName,
      callDirection: call.direction,
      location: call.location,
    };
  }

  view(call: Call, agentId: string, afterLeaving = false): CallView {
    const fields = this.fieldsFor(call, agentId);
    return {
      connId: call.connId,
      jobId: fields.jobId ?? '',
      acid: fields.acid ?? '',
      aid: fields.aid ?? '',
      holdConnId: fields.holdConnId ?? '',
      subSessionId: call.subSessionId,
      direction: call.direction,
      // An agent that just handed the call on sees it as over for itself.
      state: afterLeaving ? 'ended' : callStateOf(call),
      ani: fields.ani ?? '',
      dnis: fields.dnis ?? '',
      muted: call.muted,
      startedAt: call.offeredAt,
      answeredAt: call.answeredAt,
      endedAt: call.endedAt,
      location: call.location,
      ...call.business,
    };
  }

  note(call: Call, type: string, agentId: string, detail: string): void {
    call.events.push({ at: this.deps.clock.now(), type, agentId, detail });
  }

  joinLeg(
    call: Call,
    legId: string,
    role: 'customer' | 'agent' | 'third',
    party: string,
    kind: 'virtual' | 'webrtc' | 'sip' | 'agent',
  ): void {
    call.legs.push({ legId, role, party, kind, joinedAt: this.deps.clock.now(), leftAt: null });
  }

  leaveLeg(call: Call, legId: string | undefined): void {
    const leg = call.legs.find((l) => l.legId === legId && l.leftAt === null);
    if (leg) leg.leftAt = this.deps.clock.now();
  }

  private legOf(call: Call, agentId: string): string | undefined {
    if (call.agent?.agentId === agentId) return call.agent.legId;
    if (call.ringing?.agentId === agentId) return call.ringing.legId;
    if (call.third?.type === 'agent' && call.third.agentId === agentId) return call.third.legId;
    return undefined;
  }

  onRecord(listener: (record: CallRecord) => void): void {
    this.recordListeners.push(listener);
  }

  /** Listens to phase changes; the returned function stops listening. Listeners must not act on the call. */
  onPhase(listener: (call: Call) => void): () => void {
    this.phaseListeners.add(listener);
    return () => this.phaseListeners.delete(listener);
  }

  writeRecord(call: Call): void {
    const record = toRecord(call);
    this.deps.storage.callRecords.put(record);
    for (const listener of this.recordListeners) listener(record);
  }
}
