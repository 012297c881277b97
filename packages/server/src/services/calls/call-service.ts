import {
  type AgentBarStatus,
  type CallDisposition,
  type CallIds,
  type CallRecord,
  type CallView,
  type OutboundCallRequest,
  AgentBarStatus as Status,
  type TransferTarget,
} from '@openhotline/protocol';
import type { Carrier, CarrierLeg, CarrierLegEvents, DialFailure } from '../../adapters/carrier/carrier.js';
import type { NumberLocator } from '../../adapters/location/number-location.js';
import type { Storage } from '../../adapters/storage/storage.js';
import { type AcdPolicy, longestIdlePolicy } from '../../domain/acd.js';
import { type AgentCommand, RULES } from '../../domain/agent-machine.js';
import { type CallEvent, callTransition } from '../../domain/call-machine.js';
import { HotlineError } from '../../errors.js';
import type { AgentService, CallFields } from '../agent-service.js';
import { type AgentKey, agentKey } from '../agent-streams.js';
import type { Clock, IdGenerator } from '../clock.js';
import { settingsOf } from '../directory-service.js';
import type { Logger } from '../logger.js';
import { maskNumber } from '../masking.js';
import type { CallMedia, MediaCallRef } from '../media-service.js';
import { type AgentPart, type Call, callStateOf, type OfferPurpose, toRecord } from './call.js';
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

export interface InboundRequest {
  readonly from: string;
  readonly to: string;
  readonly kind: 'virtual' | 'sip' | 'webrtc';
  readonly leg: CarrierLeg;
  /** The customer leg's id when the network already named it: a web caller's media endpoint has this id. */
  readonly legId?: string;
}

export interface QueueView {
  readonly skillGroupId: string;
  readonly waiting: { connId: string; position: number; ani: string; queuedAt: number; waitingMs: number }[];
  readonly longestWaitMs: number;
  readonly readyAgents: number;
}

/** The dialable form of a number: digits with an optional leading +, 3 to 20 digits. */
const DIALABLE = /^\+?[0-9]{3,20}$/;

/**
 * Runs every call: inbound calls into skill group queues and out to agents (ACD), outbound calls through the
 * carrier, and the agents' call control. Each change of a call is checked against the call machine, and each
 * change of an agent goes through the agent service (so through the agent machine) with the call's ids in the
 * pushed hotline-message. Records are written at each milestone, so a crash leaves an `active` record that the
 * next start closes as `interrupted`, never a half-written one.
 */
export class CallService {
  private readonly calls = new Map<string, Call>();
  private readonly byAgent = new Map<AgentKey, Set<string>>();
  private readonly queued = new WaitingCalls();
  private readonly acd: AcdPolicy;
  private queueSeq = 0;
  private distributionScheduled = false;
  private closed = false;
  /** The agent being forced out: its status is already handled by the agent service. */
  private departing: AgentKey | undefined;
  /** Told each time a call's record is written, at every milestone (the wallboard counts calls from these). */
  private readonly recordListeners: ((record: CallRecord) => void)[] = [];

  constructor(private readonly deps: CallServiceDeps) {
    this.acd = deps.acd ?? longestIdlePolicy;
    deps.agents.onStatusChange((_instanceId, _agentId, state) => {
      if (state.status === Status.AgentReady) this.scheduleDistribution();
    });
    deps.agents.onOffline((instanceId, agentId) => this.agentOffline(instanceId, agentId));
    deps.agents.releaseCalls = (instanceId, agentId, reason) => this.releaseAgent(instanceId, agentId, reason);
  }

  /** Closes the records of calls that were up when the server stopped. */
  recover(): void {
    const now = this.deps.clock.now();
    for (const record of this.deps.storage.callRecords.listActive()) {
      this.deps.storage.callRecords.put({
        ...record,
        disposition: 'interrupted',
        releasedBy: 'system',
        releaseReason: 'server-restart',
        endedAt: now,
        events: [...record.events, { at: now, type: 'ended', agentId: '', detail: 'server-restart' }],
      });
    }
  }

  close(): void {
    this.closed = true;
    for (const call of this.calls.values()) {
      call.queueTimer?.cancel();
      call.dialTimer?.cancel();
      call.ringing?.timer?.cancel();
    }
    this.deps.carrier.close();
  }

  // ---------------------------------------------------------------- entry points

  /** A call arrives at a hotline number from the network (the virtual carrier, SIP or a web caller). */
  acceptInbound(request: InboundRequest): { connId: string; events: CarrierLegEvents } {
    const hotline = this.deps.storage.hotlineNumbers.findByNumber(request.to);
    if (!hotline) throw new HotlineError('HotlineNumberNotFound', `No hotline number "${request.to}".`);
    const call = this.newCall(hotline.instanceId, 'inbound', {
      ani: request.from,
      dnis: request.to,
      callerIdUsed: '',
      customer: request.from,
      customerKind: request.kind,
      ...(request.legId ? { customerLegId: request.legId } : {}),
    });
    const customer = call.customer;
    if (customer) {
      customer.leg = request.leg;
      customer.answered = true;
    }
    call.phase = 'queued';
    this.register(call);
    this.note(call, 'offered', '', `${request.from} → ${request.to}`);
    this.enqueue(call, hotline.skillGroupId, false);
    return {
      connId: call.connId,
      events: {
        ringing: () => {},
        answered: () => {},
        failed: () => this.customerGone(call),
        hungUp: () => this.customerGone(call),
        dtmf: (digits) => this.note(call, 'dtmf-received', '', digits),
      },
    };
  }

  /** The guide's doCallOut: the agent calls a customer through the carrier. */
  dialOut(instanceId: string, agentId: string, request: OutboundCallRequest): CallView {
    const number = request.number.trim();
    if (!DIALABLE.test(number)) throw new HotlineError('InvalidNumber', `"${number}" is not a dialable number.`);
    const callerId = this.chooseCallerId(instanceId, agentId, request.calloutNumber);
    this.requireAgentCan(instanceId, agentId, 'dialOut');
    const call = this.newCall(instanceId, 'outbound', {
      ani: callerId,
      dnis: number,
      callerIdUsed: callerId,
      customer: number,
      customerKind: 'virtual',
    });
    call.business.memberId = String(request.memberId ?? '');
    call.business.memberName = request.memberName ?? '';
    call.business.fromSource = request.fromSource ?? 'other_system_out';
    call.business.taskId = String(request.taskId ?? '');
    call.business.channelId = String(request.channelId ?? '');
    call.business.caseId = String(request.caseId ?? '');
    call.phase = 'dialing';
    call.agent = this.newPart(agentId);
    call.lastAgentId = agentId;
    call.agentIds.add(agentId);
    this.register(call);
    this.joinLeg(call, call.agent.legId, 'agent', agentId, 'agent');
    this.note(call, 'dialing', agentId, `${callerId} → ${number}`);
    this.agentCommand(call, agentId, { type: 'dialOut' }, 'callout');
    this.deps.media?.ringback(this.mediaRef(call), agentId);
    this.writeRecord(call);

    const settings = settingsOf(this.deps.storage.instances.get(instanceId));
    call.dialTimer = this.deps.clock.setTimer(
      () => this.remoteFailed(call, 'no-answer'),
      settings.outboundNoAnswerSeconds * 1000,
    );
    const customer = call.customer;
    if (customer) {
      customer.leg = this.deps.carrier.dial(
        { connId: call.connId, to: number, from: callerId },
        {
          ringing: () => this.note(call, 'remote-ringing', '', ''),
          answered: () => this.remoteAnswered(call),
          failed: (reason) => this.remoteFailed(call, reason),
          hungUp: () => this.customerGone(call),
          dtmf: (digits) => this.note(call, 'dtmf-received', '', digits),
        },
      );
    }
    return this.view(call, agentId);
  }

  /** An internal call from one agent to another. */
  callAgent(instanceId: string, agentId: string, targetAgentId: string): CallView {
    if (targetAgentId === agentId) throw new HotlineError('TargetUnavailable', 'An agent cannot call itself.');
    this.requireAgentCan(instanceId, agentId, 'dialOut');
    this.requireAvailableAgent(instanceId, targetAgentId);
    const call = this.newCall(instanceId, 'internal', {
      ani: agentId,
      dnis: targetAgentId,
      callerIdUsed: '',
      customer: null,
      customerKind: 'virtual',
    });
    call.phase = 'dialing';
    call.agent = this.newPart(agentId);
    call.lastAgentId = agentId;
    call.agentIds.add(agentId);
    this.register(call);
    this.joinLeg(call, call.agent.legId, 'agent', agentId, 'agent');
    this.note(call, 'dialing', agentId, `agent ${targetAgentId}`);
    this.agentCommand(call, agentId, { type: 'dialOut' }, 'internal-call');
    this.deps.media?.ringback(this.mediaRef(call), agentId);
    this.offer(call, targetAgentId, 'internal');
    this.writeRecord(call);
    return this.view(call, agentId);
  }

  // ---------------------------------------------------------------- agent call control

  answer(instanceId: string, agentId: string, connId: string, ids: CallIds): CallView {
    const call = this.callOf(instanceId, agentId, connId);
    const offer = call.ringing;
    if (!offer || offer.agentId !== agentId) {
      // Answering twice is harmless; answering a call that does not ring for this agent is not.
      if (call.agent?.agentId === agentId && call.phase !== 'dialing') return this.view(call, agentId);
      throw this.illegal(call, 'answer');
    }
    this.checkIds(call, offer, ids);
    offer.timer?.cancel();
    call.ringing = null;
    const part: AgentPart = { agentId, legId: offer.legId, jobId: offer.jobId };
    this.joinLeg(call, part.legId, offer.purpose === 'consult' ? 'third' : 'agent', agentId, 'agent');
    switch (offer.purpose) {
      case 'queue':
      case 'transfer': {
        this.move(call, 'answer');
        call.queueTimer?.cancel();
        call.queueTimer = undefined;
        call.agent = part;
        call.lastAgentId = agentId;
        call.answeredAt ??= this.deps.clock.now();
        this.note(call, 'answered', agentId, '');
        this.agentCommand(call, agentId, { type: 'answerRequest' }, 'answer');
        this.agentCommand(call, agentId, { type: 'inboundEstablished' }, 'answer');
        call.customer?.leg?.connected?.();
        this.deps.media?.connect(this.mediaRef(call), agentId);
        break;
      }
      case 'consult': {
        this.move(call, 'thirdAnswered');
        call.third = { type: 'agent', ...part, answered: true };
        this.note(call, 'consult-answered', agentId, '');
        this.agentCommand(call, agentId, { type: 'consultEstablished' }, 'answer');
        if (call.agent) {
          this.agentCommand(call, call.agent.agentId, { type: 'thirdAnswered' }, 'consult');
          this.deps.media?.consult(this.mediaRef(call), call.agent.agentId, agentId);
        }
        break;
      }
      case 'internal': {
        this.move(call, 'remoteAnswered');
        call.third = { type: 'agent', ...part, answered: true };
        call.answeredAt = this.deps.clock.now();
        this.note(call, 'answered', agentId, '');
        this.agentCommand(call, agentId, { type: 'internalEstablished' }, 'answer');
        if (call.agent) {
          this.agentCommand(call, call.agent.agentId, { type: 'internalEstablished' }, 'internal-call');
          this.deps.media?.consult(this.mediaRef(call), call.agent.agentId, agentId);
        }
        break;
      }
    }
    this.writeRecord(call);
    return this.view(call, agentId);
  }

  hangup(instanceId: string, agentId: string, connId: string, ids: CallIds): CallView {
    const call = this.callOf(instanceId, agentId, connId);
    this.agentLeaves(call, agentId, ids);
    return this.view(call, agentId);
  }

  hold(instanceId: string, agentId: string, connId: string): CallView {
    return this.setHeld(instanceId, agentId, connId, true);
  }

  retrieve(instanceId: string, agentId: string, connId: string): CallView {
    return this.setHeld(instanceId, agentId, connId, false);
  }

  /** Hold and retrieve are one action in two directions: call phase, record, agent status and audio follow. */
  private setHeld(instanceId: string, agentId: string, connId: string, held: boolean): CallView {
    const call = this.handledCall(instanceId, agentId, connId);
    this.move(call, held ? 'hold' : 'retrieve');
    this.note(call, held ? 'held' : 'retrieved', agentId, '');
    this.agentCommand(call, agentId, { type: held ? 'hold' : 'retrieve' }, held ? 'hold' : 'retrieve');
    this.deps.media?.hold(this.mediaRef(call), held);
    this.writeRecord(call);
    return this.view(call, agentId);
  }

  mute(instanceId: string, agentId: string, connId: string, muted: boolean): CallView {
    const call = this.handledCall(instanceId, agentId, connId);
    this.move(call, 'mute');
    if (call.muted !== muted) {
      call.muted = muted;
      this.deps.media?.mute(this.mediaRef(call), agentId, muted);
      this.note(call, muted ? 'muted' : 'unmuted', agentId, '');
      this.writeRecord(call);
    }
    return this.view(call, agentId);
  }

  dtmf(instanceId: string, agentId: string, connId: string, digits: string): CallView {
    const call = this.handledCall(instanceId, agentId, connId);
    this.move(call, 'dtmf');
    const far = call.third?.type === 'number' && call.phase !== 'conference' ? call.third.leg : call.customer?.leg;
    far?.sendDtmf(digits);
    if (far === call.customer?.leg) this.deps.media?.dtmf(this.mediaRef(call), digits);
    this.note(call, 'dtmf-sent', agentId, digits);
    this.writeRecord(call);
    return this.view(call, agentId);
  }

  /** Blind transfer: the agent leaves at once; the target gets the call. */
  transfer(instanceId: string, agentId: string, connId: string, target: TransferTarget): CallView {
    const call = this.handledCall(instanceId, agentId, connId);
    this.refuseOnInternal(call, 'transfer');
    switch (target.type) {
      case 'agent': {
        if (target.agentId === agentId)
          throw new HotlineError('TargetUnavailable', 'Cannot transfer a call to yourself.');
        this.requireAvailableAgent(instanceId, target.agentId);
        this.move(call, 'blindTransferToAgent');
        this.note(call, 'transferred', agentId, `agent ${target.agentId}`);
        this.releaseHandler(call, 'agent', 'transferred');
        this.offer(call, target.agentId, 'transfer');
        break;
      }
      case 'skillGroup': {
        if (!this.deps.storage.skillGroups.get(instanceId, target.skillGroupId)) {
          throw new HotlineError('SkillGroupNotFound', `No skill group "${target.skillGroupId}".`);
        }
        this.move(call, 'blindTransferToQueue');
        this.note(call, 'transferred', agentId, `skill group ${target.skillGroupId}`);
        this.releaseHandler(call, 'agent', 'transferred');
        call.excluded.add(agentId);
        this.enqueue(call, target.skillGroupId, false);
        break;
      }
      case 'number': {
        if (!DIALABLE.test(target.number))
          throw new HotlineError('InvalidNumber', `"${target.number}" is not dialable.`);
        this.move(call, 'blindTransferToNumber');
        this.note(call, 'transferred', agentId, `number ${target.number}`);
        this.releaseHandler(call, 'agent', 'transferred');
        this.dialThird(call, target.number, 'transfer');
        break;
      }
    }
    this.writeRecord(call);
    return this.view(call, agentId, true);
  }

  /** Attended transfer, step 1: the customer waits on hold while the agent calls the target. */
  consult(instanceId: string, agentId: string, connId: string, target: TransferTarget): CallView {
    const call = this.handledCall(instanceId, agentId, connId);
    this.refuseOnInternal(call, 'consult');
    if (!callTransition(call.phase, 'consultStart').ok) throw this.illegal(call, 'consultStart');
    switch (target.type) {
      case 'agent':
      case 'skillGroup': {
        const targetAgentId = target.type === 'agent' ? target.agentId : this.pickForConsult(call, target.skillGroupId);
        if (targetAgentId === agentId) throw new HotlineError('TargetUnavailable', 'Cannot consult yourself.');
        this.requireAvailableAgent(instanceId, targetAgentId);
        this.move(call, 'consultStart');
        this.note(call, 'consult-started', agentId, `agent ${targetAgentId}`);
        this.agentCommand(call, agentId, { type: 'consultStart' }, 'consult');
        this.deps.media?.hold(this.mediaRef(call), true);
        this.offer(call, targetAgentId, 'consult');
        break;
      }
      case 'number': {
        if (!DIALABLE.test(target.number))
          throw new HotlineError('InvalidNumber', `"${target.number}" is not dialable.`);
        this.move(call, 'consultStart');
        this.note(call, 'consult-started', agentId, `number ${target.number}`);
        this.agentCommand(call, agentId, { type: 'consultStart' }, 'consult');
        this.deps.media?.hold(this.mediaRef(call), true);
        this.dialThird(call, target.number, 'consult');
        break;
      }
    }
    this.writeRecord(call);
    return this.view(call, agentId);
  }

  consultCancel(instanceId: string, agentId: string, connId: string): CallView {
    const call = this.handledCall(instanceId, agentId, connId);
    if (!callTransition(call.phase, 'consultCancel').ok) throw this.illegal(call, 'consultCancel');
    this.agentCommand(call, agentId, { type: 'thirdRetrieveRequest' }, 'consult-cancel');
    this.dropThird(call, 'agent', 'consult-cancelled');
    // Cancelled before the consulted agent answered: its phone stops ringing.
    const ringing = call.ringing;
    if (ringing?.purpose === 'consult') {
      ringing.timer?.cancel();
      call.ringing = null;
      this.releaseAgentFromCall(call, ringing.agentId, 'agent', 'consult-cancelled');
      this.unindex(call, ringing.agentId);
    }
    this.move(call, 'consultCancel');
    this.note(call, 'consult-cancelled', agentId, '');
    this.agentCommand(call, agentId, { type: 'thirdLeft' }, 'consult-cancel');
    this.deps.media?.connect(this.mediaRef(call), agentId);
    this.writeRecord(call);
    return this.view(call, agentId);
  }

  /** Attended transfer, step 2: the agent leaves, the customer talks with the consulted party. */
  consultComplete(instanceId: string, agentId: string, connId: string): CallView {
    const call = this.handledCall(instanceId, agentId, connId);
    this.completeConsult(call);
    return this.view(call, agentId, true);
  }

  conference(instanceId: string, agentId: string, connId: string): CallView {
    const call = this.handledCall(instanceId, agentId, connId);
    if (!call.third?.answered) throw this.illegal(call, 'conference', 'the third party has not answered');
    this.move(call, 'conference');
    this.note(call, 'conference', agentId, '');
    this.agentCommand(call, agentId, { type: 'conference' }, 'conference');
    if (call.third?.type === 'agent') this.deps.media?.conference(this.mediaRef(call), [agentId, call.third.agentId]);
    else this.deps.media?.hold(this.mediaRef(call), false);
    this.writeRecord(call);
    return this.view(call, agentId);
  }

  /** The calls an agent is on (ringing, talking, consulted...). */
  callsOf(instanceId: string, agentId: string): CallView[] {
    const connIds = this.byAgent.get(agentKey(instanceId, agentId)) ?? new Set();
    return [...connIds].flatMap((connId) => {
      const call = this.calls.get(connId);
      return call ? [this.view(call, agentId)] : [];
    });
  }

  /** Queues of an instance: waiting callers in order and how long they wait. */
  queues(instanceId: string, options: { canSeeFullNumbers: boolean; skillGroupIds?: readonly string[] }): QueueView[] {
    const now = this.deps.clock.now();
    const ready = this.deps.agents.readyAgents(instanceId);
    const groups = this.deps.storage.skillGroups
      .list(instanceId)
      .filter((g) => !options.skillGroupIds || options.skillGroupIds.includes(g.id));
    return groups.map((group) => {
      const waiting = this.queued
        .line(instanceId)
        .filter((c) => c.skillGroupId === group.id)
        .map((c, index) => ({
          connId: c.connId,
          position: index + 1,
          ani: options.canSeeFullNumbers ? c.ani : maskNumber(c.ani),
          queuedAt: c.queuedAt ?? c.offeredAt,
          waitingMs: now - (c.queuedAt ?? c.offeredAt),
        }));
      return {
        skillGroupId: group.id,
        waiting,
        longestWaitMs: waiting.reduce((max, w) => Math.max(max, w.waitingMs), 0),
        readyAgents: ready.filter((r) => r.skillGroupIds.includes(group.id)).length,
      };
    });
  }

  /** Where a live call stands for its own customer (the web-call page): its phase and its place in the queue. */
  customerState(connId: string): { phase: Call['phase']; position: number } | undefined {
    const call = this.calls.get(connId);
    if (!call) return undefined;
    const line = this.queued.line(call.instanceId).filter((c) => c.skillGroupId === call.skillGroupId);
    return { phase: call.phase, position: line.indexOf(call) + 1 };
  }

  /** The instance of a live call (undefined once it ended). */
  instanceOf(connId: string): string | undefined {
    return this.calls.get(connId)?.instanceId;
  }

  /** Live calls of an instance (for the wallboard and the admin API). */
  liveCalls(instanceId: string): CallRecord[] {
    return [...this.calls.values()].filter((c) => c.instanceId === instanceId).map(toRecord);
  }

  onRecord(listener: (record: CallRecord) => void): void {
    this.recordListeners.push(listener);
  }

  // ---------------------------------------------------------------- network events

  private remoteAnswered(call: Call): void {
    if (call.phase !== 'dialing' || !call.agent) return;
    call.dialTimer?.cancel();
    this.move(call, 'remoteAnswered');
    if (call.customer) call.customer.answered = true;
    call.answeredAt = this.deps.clock.now();
    this.note(call, 'answered', '', 'callee answered');
    this.agentCommand(call, call.agent.agentId, { type: 'outboundEstablished' }, 'callee-answered');
    this.deps.media?.connect(this.mediaRef(call), call.agent.agentId);
    this.writeRecord(call);
  }

  private remoteFailed(call: Call, reason: DialFailure): void {
    if (call.phase !== 'dialing') return;
    call.customer?.leg?.hangup();
    const releasedBy = reason === 'busy' || reason === 'rejected' ? 'customer' : 'system';
    this.end(call, reason, releasedBy, reason);
  }

  /** The customer hung up (first, or after the agent). */
  private customerGone(call: Call): void {
    if (call.phase === 'ended') return;
    if (call.customer) call.customer.leg = null;
    const disposition = call.answeredAt === null ? 'abandoned' : 'answered';
    this.end(call, disposition, 'customer', 'customer-hangup');
  }

  /** An external third party (consulted number or transfer target) hung up. */
  private thirdNumberGone(call: Call): void {
    const third = call.third;
    if (third?.type !== 'number' || call.phase === 'ended') return;
    third.leg = null;
    if (!call.agent) {
      // Customer and external party were alone after a transfer: the call is over.
      this.end(call, 'answered', 'third', 'third-hangup');
      return;
    }
    this.thirdLeaves(call, 'third', 'third-hangup');
  }

  // ---------------------------------------------------------------- ACD

  /** The queue rules of a group: its own settings, else the instance's. */
  private queueRules(instanceId: string, skillGroupId: string) {
    const instance = settingsOf(this.deps.storage.instances.get(instanceId));
    const queue = this.deps.storage.skillGroups.get(instanceId, skillGroupId)?.queue ?? {};
    return {
      timeoutSeconds: queue.timeoutSeconds ?? instance.queueTimeoutSeconds,
      maxLength: queue.maxLength ?? instance.maxQueueLength,
      overflow: queue.overflow ?? { action: 'hangup' as const },
    };
  }

  private enqueue(call: Call, skillGroupId: string, front: boolean): void {
    const rules = this.queueRules(call.instanceId, skillGroupId);
    const now = this.deps.clock.now();
    if (!front) {
      if (this.queued.count(call.instanceId, skillGroupId) >= rules.maxLength) {
        call.skillGroupId = skillGroupId;
        this.note(call, 'queue-full', '', skillGroupId);
        this.overflow(call, 'queue-full');
        return;
      }
      // A fresh entry (first arrival, or a transfer into this queue) waits from now, at the back of the line.
      call.queueOrder = ++this.queueSeq;
      call.queuedAt = now;
      call.queueTimer?.cancel();
      call.queueTimer = this.deps.clock.setTimer(() => this.queueTimedOut(call), rules.timeoutSeconds * 1000);
    }
    call.skillGroupId = skillGroupId;
    this.queued.add(call);
    this.note(call, 'queued', '', skillGroupId);
    this.writeRecord(call);
    this.scheduleDistribution();
  }

  private queueTimedOut(call: Call): void {
    call.queueTimer = undefined;
    if (call.phase === 'ended') return;
    if (call.phase !== 'queued') {
      // Ringing at the deadline: let this offer play out; a requeue will time out at once.
      call.queueTimer = this.deps.clock.setTimer(() => this.queueTimedOut(call), 1000);
      return;
    }
    this.note(call, 'queue-timeout', '', call.skillGroupId);
    this.overflow(call, 'queue-timeout');
  }

  /**
   * A full queue or a timeout: the group's overflow moves the call to another group, once per group (so two
   * groups overflowing into each other cannot bounce a caller forever), or hangs up with the reason.
   */
  private overflow(call: Call, reason: 'queue-full' | 'queue-timeout'): void {
    const from = call.skillGroupId;
    const { overflow } = this.queueRules(call.instanceId, from);
    call.overflowedFrom.add(from);
    if (overflow.action === 'group' && !call.overflowedFrom.has(overflow.skillGroupId)) {
      if (call.phase === 'queued') this.move(call, 'overflow');
      this.queued.remove(call);
      this.note(call, 'overflow', '', `${from} → ${overflow.skillGroupId} (${reason})`);
      this.enqueue(call, overflow.skillGroupId, false);
      return;
    }
    this.end(call, reason, 'system', reason);
  }

  private scheduleDistribution(): void {
    if (this.distributionScheduled || this.closed) return;
    this.distributionScheduled = true;
    // After the current action: the agent that just became ready has finished its own transition.
    queueMicrotask(() => {
      this.distributionScheduled = false;
      this.distribute();
    });
  }

  /** Offers waiting calls, oldest first, to the longest-idle ready agents of their groups. */
  private distribute(): void {
    if (this.closed || this.queued.size === 0) return;
    for (const instanceId of this.queued.instanceIds()) {
      const ready = this.deps.agents.readyAgents(instanceId);
      if (ready.length === 0) continue;
      const taken = new Set<string>();
      // A copy: offering takes calls out of the line while we walk it.
      for (const call of [...this.queued.line(instanceId)]) {
        if (taken.size === ready.length) break;
        const candidates = ready.filter((r) => !taken.has(r.agentId) && r.skillGroupIds.includes(call.skillGroupId));
        let choice = this.acd.pick(candidates, call.excluded);
        if (!choice && candidates.length > 0) {
          // Everyone ready has already rung for this call: start a new round rather than let it wait it out.
          call.excluded.clear();
          choice = this.acd.pick(candidates, call.excluded);
        }
        if (!choice) continue;
        taken.add(choice.agentId);
        try {
          this.offer(call, choice.agentId, 'queue');
        } catch (error) {
          this.deps.log.error({ err: error, connId: call.connId, agent: choice.agentId }, 'offer failed');
        }
      }
    }
  }

  private offer(call: Call, agentId: string, purpose: OfferPurpose): void {
    if (purpose === 'queue') this.move(call, 'offer');
    this.queued.remove(call);
    const settings = settingsOf(this.deps.storage.instances.get(call.instanceId));
    const part = this.newPart(agentId);
    call.ringing = { ...part, purpose, timer: undefined };
    call.ringingAt ??= this.deps.clock.now();
    call.agentIds.add(agentId);
    call.excluded.add(agentId);
    this.index(call, agentId);
    this.note(call, 'ringing', agentId, purpose);
    this.agentCommand(call, agentId, { type: 'offerCall' }, purpose === 'queue' ? 'call-offer' : purpose);
    call.ringing.timer = this.deps.clock.setTimer(
      () => this.ringEnded(call, agentId, 'ring-timeout'),
      settings.ringTimeoutSeconds * 1000,
    );
    this.writeRecord(call);
  }

  /**
   * The offer to a ringing agent ends without an answer: timeout, lost channel, or the agent rejected it.
   * The agent goes on break (timeout, lost channel) or to after-call work (reject), and the call moves on.
   */
  private ringEnded(call: Call, agentId: string, why: 'ring-timeout' | 'channel-lost' | 'rejected'): void {
    const offer = call.ringing;
    if (!offer || offer.agentId !== agentId || call.phase === 'ended') return;
    offer.timer?.cancel();
    call.ringing = null;
    this.unindex(call, agentId);
    this.note(call, why, agentId, '');
    if (why === 'rejected') {
      this.releaseAgentFromCall(call, agentId, 'agent', 'rejected');
    } else {
      this.agentCommand(call, agentId, { type: 'ringTimeout', reasonCode: 'ringTimeout' }, why);
    }
    switch (offer.purpose) {
      case 'queue':
      case 'transfer':
        this.move(call, why === 'rejected' ? 'reject' : 'ringTimeout');
        if (call.skillGroupId) this.enqueue(call, call.skillGroupId, offer.purpose === 'queue');
        else this.end(call, 'failed', 'system', 'transfer-not-answered');
        break;
      case 'consult':
        // The consultation may already be over (cancelled while this agent was still ringing).
        if (call.phase === 'consulting') {
          this.move(call, 'thirdGone');
          if (call.agent) {
            this.agentCommand(call, call.agent.agentId, { type: 'thirdLeft' }, why);
            this.deps.media?.connect(this.mediaRef(call), call.agent.agentId);
          }
        }
        this.writeRecord(call);
        break;
      case 'internal':
        this.end(call, why === 'rejected' ? 'rejected' : 'no-answer', why === 'rejected' ? 'third' : 'system', why);
        break;
    }
  }

  private agentOffline(instanceId: string, agentId: string): void {
    for (const connId of [...(this.byAgent.get(agentKey(instanceId, agentId)) ?? [])]) {
      const call = this.calls.get(connId);
      // Calls in talk survive a reload; only an unanswered offer must move on now.
      if (call?.ringing?.agentId === agentId) this.ringEnded(call, agentId, 'channel-lost');
    }
  }

  /** The agent is forced out (checked out by an administrator or the server): its calls go on without it. */
  private releaseAgent(instanceId: string, agentId: string, reason: string): void {
    const key = agentKey(instanceId, agentId);
    this.departing = key;
    try {
      for (const connId of [...(this.byAgent.get(key) ?? [])]) {
        const call = this.calls.get(connId);
        if (call) this.agentLeaves(call, agentId, {}, reason);
      }
    } finally {
      this.departing = undefined;
    }
  }

  // ---------------------------------------------------------------- leaving and ending

  /** What an agent's hang-up means depends on its part in the call. */
  private agentLeaves(call: Call, agentId: string, ids: CallIds, reason = 'agent-hangup'): void {
    if (call.ringing?.agentId === agentId) {
      this.checkIds(call, call.ringing, ids);
      this.ringEnded(call, agentId, 'rejected');
      return;
    }
    if (call.third?.type === 'agent' && call.third.agentId === agentId) {
      this.thirdLeaves(call, 'third', reason);
      return;
    }
    if (call.agent?.agentId !== agentId) throw this.illegal(call, 'hangup');
    this.checkIds(call, call.agent, ids);
    switch (call.phase) {
      case 'dialing':
        this.end(call, 'cancelled', 'agent', reason);
        return;
      case 'consulting':
        // Hanging up while the consulted party is on the line hands the customer over (attended transfer).
        if (call.third?.answered) this.completeConsult(call);
        else this.end(call, 'answered', 'agent', reason);
        return;
      case 'conference': {
        this.move(call, 'agentLeaves');
        this.note(call, 'agent-left', agentId, '');
        this.releaseHandler(call, 'agent', reason);
        this.promoteThird(call);
        this.writeRecord(call);
        return;
      }
      default:
        this.end(call, 'answered', 'agent', reason);
    }
  }

  /** The third party (consulted agent or number) leaves; the agent and the customer talk again. */
  private thirdLeaves(call: Call, by: 'third' | 'agent', reason: string): void {
    if (!call.third) return;
    this.dropThird(call, by, reason);
    if (call.phase === 'consulting' || call.phase === 'conference') {
      this.move(call, 'thirdGone');
      this.note(call, 'third-left', '', reason);
      if (call.agent) {
        this.agentCommand(call, call.agent.agentId, { type: 'thirdLeft' }, reason);
        this.deps.media?.connect(this.mediaRef(call), call.agent.agentId);
      }
    } else if (call.direction === 'internal') {
      this.end(call, 'answered', by, reason);
      return;
    }
    this.writeRecord(call);
  }

  private completeConsult(call: Call): void {
    if (!callTransition(call.phase, 'consultComplete').ok) throw this.illegal(call, 'consultComplete');
    if (!call.third?.answered) throw this.illegal(call, 'consultComplete', 'the third party has not answered');
    const leaving = call.agent?.agentId ?? '';
    this.move(call, 'consultComplete');
    this.note(call, 'transferred', leaving, 'attended');
    this.releaseHandler(call, 'agent', 'transferred');
    this.promoteThird(call);
    this.writeRecord(call);
  }

  /** After the handling agent left, a third agent becomes the handler; an external third stays as such. */
  private promoteThird(call: Call): void {
    const third = call.third;
    if (third?.type === 'agent') {
      call.agent = { agentId: third.agentId, legId: third.legId, jobId: third.jobId };
      call.lastAgentId = third.agentId;
      call.third = null;
      this.deps.media?.connect(this.mediaRef(call), third.agentId);
    } else {
      // An external party takes over: no media endpoint for it yet, the customer stops waiting on hold.
      this.deps.media?.hold(this.mediaRef(call), false);
    }
  }

  /** Ends the call for everyone: legs hung up, agents released into after-call work, record closed. */
  private end(call: Call, disposition: CallDisposition, releasedBy: CallRecord['releasedBy'], reason: string): void {
    if (call.phase === 'ended') return;
    this.move(call, 'hangup');
    call.queueTimer?.cancel();
    call.dialTimer?.cancel();
    call.ringing?.timer?.cancel();
    this.queued.remove(call);
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

  private releaseHandler(call: Call, releasedBy: CallRecord['releasedBy'], reason: string): void {
    const handler = call.agent;
    if (!handler) return;
    if (call.phase !== 'ended') this.deps.media?.handlerLeft(this.mediaRef(call));
    this.leaveLeg(call, handler.legId);
    call.agent = null;
    this.releaseAgentFromCall(call, handler.agentId, releasedBy, reason);
    this.unindex(call, handler.agentId);
  }

  private dropThird(call: Call, releasedBy: CallRecord['releasedBy'], reason: string): void {
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

  private releaseAgentFromCall(
    call: Call,
    agentId: string,
    releasedBy: CallRecord['releasedBy'],
    reason: string,
  ): void {
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

  /** Calls an external third party (blind transfer or consultation to a number). */
  private dialThird(call: Call, number: string, purpose: 'transfer' | 'consult'): void {
    const legId = this.deps.ids('leg');
    const third = {
      type: 'number' as const,
      number,
      legId,
      kind: 'virtual' as const,
      leg: null as CarrierLeg | null,
      answered: false,
    };
    call.third = third;
    this.joinLeg(call, legId, 'third', number, 'virtual');
    const settings = settingsOf(this.deps.storage.instances.get(call.instanceId));
    // The network may never answer (or never say so): the same no-answer time as an outbound call applies.
    const noAnswer = this.deps.clock.setTimer(() => {
      if (call.third !== third || third.answered || call.phase === 'ended') return;
      third.leg?.hangup();
      failed('no-answer');
    }, settings.outboundNoAnswerSeconds * 1000);
    const failed = (reason: DialFailure) => {
      noAnswer.cancel();
      if (call.third !== third || call.phase === 'ended') return;
      call.third = null;
      this.leaveLeg(call, legId);
      this.note(call, 'third-failed', '', reason);
      if (purpose === 'consult') {
        this.move(call, 'thirdGone');
        if (call.agent) {
          this.agentCommand(call, call.agent.agentId, { type: 'thirdLeft' }, reason);
          this.deps.media?.connect(this.mediaRef(call), call.agent.agentId);
        }
        this.writeRecord(call);
      } else {
        this.end(call, 'failed', 'system', `transfer-${reason}`);
      }
    };
    third.leg = this.deps.carrier.dial(
      { connId: call.connId, to: number, from: call.callerIdUsed || call.dnis },
      {
        ringing: () => {},
        answered: () => {
          noAnswer.cancel();
          if (call.third !== third || call.phase === 'ended') return;
          third.answered = true;
          this.note(call, 'third-answered', '', number);
          if (purpose === 'consult') {
            this.move(call, 'thirdAnswered');
            if (call.agent) this.agentCommand(call, call.agent.agentId, { type: 'thirdAnswered' }, 'consult');
          } else {
            this.move(call, 'remoteAnswered');
            call.customer?.leg?.connected?.();
          }
          this.writeRecord(call);
        },
        failed,
        hungUp: () => {
          noAnswer.cancel();
          if (call.third === third) this.thirdNumberGone(call);
        },
      },
    );
  }

  // ---------------------------------------------------------------- helpers

  private newCall(
    instanceId: string,
    direction: Call['direction'],
    parties: {
      ani: string;
      dnis: string;
      callerIdUsed: string;
      customer: string | null;
      customerKind: 'virtual' | 'sip' | 'webrtc';
      customerLegId?: string;
    },
  ): Call {
    const now = this.deps.clock.now();
    const { ids } = this.deps;
    const customerLegId = parties.customerLegId ?? ids('leg');
    const call: Call = {
      connId: ids('conn'),
      instanceId,
      direction,
      subSessionId: ids('sub'),
      phase: 'queued',
      customer:
        parties.customer === null
          ? null
          : { number: parties.customer, legId: customerLegId, kind: parties.customerKind, leg: null, answered: false },
      ani: parties.ani,
      dnis: parties.dnis,
      callerIdUsed: parties.callerIdUsed,
      skillGroupId: '',
      agent: null,
      ringing: null,
      third: null,
      muted: false,
      excluded: new Set(),
      overflowedFrom: new Set(),
      business: { memberId: '', memberName: '', fromSource: '', taskId: '', channelId: '', caseId: '' },
      location: parties.customer === null ? null : this.deps.locator.locate(parties.customer),
      offeredAt: now,
      queuedAt: null,
      queueOrder: 0,
      ringingAt: null,
      answeredAt: null,
      endedAt: null,
      queueTimer: undefined,
      dialTimer: undefined,
      disposition: 'active',
      releasedBy: '',
      releaseReason: '',
      events: [],
      legs: [],
      agentIds: new Set(),
      lastAgentId: '',
    };
    if (call.customer) this.joinLeg(call, call.customer.legId, 'customer', call.customer.number, parties.customerKind);
    return call;
  }

  private mediaRef(call: Call): MediaCallRef {
    return {
      connId: call.connId,
      instanceId: call.instanceId,
      customerLegId: call.customer?.legId ?? null,
      customerKind: call.customer?.kind ?? 'virtual',
    };
  }

  private newPart(agentId: string): AgentPart {
    return { agentId, legId: this.deps.ids('leg'), jobId: this.deps.ids('job') };
  }

  private register(call: Call): void {
    this.calls.set(call.connId, call);
    if (call.agent) this.index(call, call.agent.agentId);
  }

  private index(call: Call, agentId: string): void {
    const key = agentKey(call.instanceId, agentId);
    let set = this.byAgent.get(key);
    if (!set) {
      set = new Set();
      this.byAgent.set(key, set);
    }
    set.add(call.connId);
  }

  private unindex(call: Call, agentId: string): void {
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

  /** The call, if this agent is on it; another agent's call answers exactly like an unknown id. */
  private callOf(instanceId: string, agentId: string, connId: string): Call {
    const call = this.calls.get(connId);
    const onIt = this.byAgent.get(agentKey(instanceId, agentId))?.has(connId) ?? false;
    if (!call || call.instanceId !== instanceId || !onIt) {
      throw new HotlineError('CallNotFound', `No call "${connId}" for this agent.`);
    }
    return call;
  }

  /** The call, if this agent handles it (not merely rings or is consulted). */
  private handledCall(instanceId: string, agentId: string, connId: string): Call {
    const call = this.callOf(instanceId, agentId, connId);
    if (call.agent?.agentId !== agentId)
      throw this.illegal(call, 'control', 'only the agent handling the call can do this');
    return call;
  }

  private checkIds(call: Call, part: AgentPart, ids: CallIds): void {
    const mismatched =
      (ids.jobId !== undefined && ids.jobId !== '' && ids.jobId !== part.jobId) ||
      (ids.aid !== undefined && ids.aid !== '' && ids.aid !== part.legId) ||
      (ids.acid !== undefined && ids.acid !== '' && ids.acid !== (call.customer?.legId ?? ''));
    if (mismatched) throw new HotlineError('CallIdsMismatch', undefined, { connId: call.connId });
  }

  /**
   * An internal call is two agents talking: the callee holds the third-party place, so there is no room for a
   * transfer or consultation (a colleague can simply call the other one).
   */
  private refuseOnInternal(call: Call, action: string): void {
    if (call.direction === 'internal') throw this.illegal(call, action, 'not possible on an internal call');
  }

  private move(call: Call, event: CallEvent): void {
    const result = callTransition(call.phase, event);
    if (!result.ok) throw this.illegal(call, event);
    call.phase = result.phase;
  }

  private illegal(call: Call, action: string, why?: string): HotlineError {
    return new HotlineError(
      'IllegalCallAction',
      `Cannot ${action} a call that is ${call.phase}${why ? `: ${why}` : ''}.`,
      { connId: call.connId, state: call.phase, action },
    );
  }

  private requireAgentCan(instanceId: string, agentId: string, command: 'dialOut'): void {
    const status = this.deps.agents.state(instanceId, agentId).status;
    const allowed = RULES[command].from;
    if (!allowed.includes(status)) {
      throw new HotlineError('IllegalTransition', `Cannot place a call in status ${status}.`, {
        command,
        from: status,
        allowedFrom: allowed,
      });
    }
  }

  private requireAvailableAgent(instanceId: string, agentId: string): void {
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

  private pickForConsult(call: Call, skillGroupId: string): string {
    if (!this.deps.storage.skillGroups.get(call.instanceId, skillGroupId)) {
      throw new HotlineError('SkillGroupNotFound', `No skill group "${skillGroupId}".`);
    }
    const candidates = this.deps.agents
      .readyAgents(call.instanceId)
      .filter((r) => r.skillGroupIds.includes(skillGroupId));
    const choice = this.acd.pick(candidates, new Set(call.agent ? [call.agent.agentId] : []));
    if (!choice) throw new HotlineError('TargetUnavailable', `No ready agent in skill group "${skillGroupId}".`);
    return choice.agentId;
  }

  private chooseCallerId(instanceId: string, agentId: string, wanted: string | undefined): string {
    const agent = this.deps.storage.agents.get(instanceId, agentId);
    if (!agent) throw new HotlineError('AgentNotFound');
    const numbers = agent.numberGroupIds.flatMap(
      (id) => this.deps.storage.numberGroups.get(instanceId, id)?.numbers ?? [],
    );
    if (wanted !== undefined && wanted !== '') {
      if (!numbers.includes(wanted)) {
        throw new HotlineError('CallerIdNotAllowed', `"${wanted}" is not one of the agent's caller ids.`, {
          calloutNumber: wanted,
        });
      }
      return wanted;
    }
    const first = numbers[0];
    if (!first) throw new HotlineError('NoCallerId');
    return first;
  }

  private agentCommand(call: Call, agentId: string, command: AgentCommand, cmd: string): void {
    if (this.departing === agentKey(call.instanceId, agentId)) return;
    this.deps.agents.execute(call.instanceId, agentId, command, cmd, this.fieldsFor(call, agentId));
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

  private view(call: Call, agentId: string, afterLeaving = false): CallView {
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

  private note(call: Call, type: string, agentId: string, detail: string): void {
    call.events.push({ at: this.deps.clock.now(), type, agentId, detail });
  }

  private joinLeg(
    call: Call,
    legId: string,
    role: 'customer' | 'agent' | 'third',
    party: string,
    kind: 'virtual' | 'webrtc' | 'sip' | 'agent',
  ): void {
    call.legs.push({ legId, role, party, kind, joinedAt: this.deps.clock.now(), leftAt: null });
  }

  private leaveLeg(call: Call, legId: string | undefined): void {
    const leg = call.legs.find((l) => l.legId === legId && l.leftAt === null);
    if (leg) leg.leftAt = this.deps.clock.now();
  }

  private legOf(call: Call, agentId: string): string | undefined {
    if (call.agent?.agentId === agentId) return call.agent.legId;
    if (call.ringing?.agentId === agentId) return call.ringing.legId;
    if (call.third?.type === 'agent' && call.third.agentId === agentId) return call.third.legId;
    return undefined;
  }

  private writeRecord(call: Call): void {
    const record = toRecord(call);
    this.deps.storage.callRecords.put(record);
    for (const listener of this.recordListeners) listener(record);
  }
}
