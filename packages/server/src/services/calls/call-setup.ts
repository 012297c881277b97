import type { CallView, OutboundCallRequest } from '@openhotline/protocol';
import type { CarrierLeg, CarrierLegEvents, DialFailure } from '../../adapters/carrier/carrier.js';
import { RULES } from '../../domain/agent-machine.js';
import { HotlineError } from '../../errors.js';
import { settingsOf } from '../directory-service.js';
import type { AcdQueues } from './acd-queues.js';
import type { Call } from './call.js';
import { type CallRegistry, type CallServiceDeps, DIALABLE } from './call-registry.js';

export interface InboundRequest {
  readonly from: string;
  readonly to: string;
  readonly kind: 'virtual' | 'sip' | 'webrtc';
  readonly leg: CarrierLeg;
  /** The customer leg's id when the network already named it: a web caller's media endpoint has this id. */
  readonly legId?: string;
}

/**
 * How calls begin: a customer calls a hotline number and joins its queue, an agent calls a customer through the
 * carrier, or an agent calls a colleague. The carrier's events about the customer leg (answered, failed, hung
 * up) come back here, since they finish what setting up the call started.
 */
export class CallSetup {
  constructor(
    private readonly calls: CallRegistry,
    private readonly acd: AcdQueues,
    private readonly deps: CallServiceDeps,
  ) {}

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
    this.calls.register(call);
    this.calls.note(call, 'offered', '', `${request.from} → ${request.to}`);
    this.acd.enqueue(call, hotline.skillGroupId, false);
    return {
      connId: call.connId,
      events: {
        ringing: () => {},
        answered: () => {},
        failed: () => this.customerGone(call),
        hungUp: () => this.customerGone(call),
        dtmf: (digits) => this.calls.note(call, 'dtmf-received', '', digits),
      },
    };
  }

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
    call.agent = this.calls.newPart(agentId);
    call.lastAgentId = agentId;
    call.agentIds.add(agentId);
    this.calls.register(call);
    this.calls.joinLeg(call, call.agent.legId, 'agent', agentId, 'agent');
    this.calls.note(call, 'dialing', agentId, `${callerId} → ${number}`);
    this.calls.agentCommand(call, agentId, { type: 'dialOut' }, 'callout');
    this.deps.media?.ringback(this.calls.mediaRef(call), agentId);
    this.calls.writeRecord(call);

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
          ringing: () => this.calls.note(call, 'remote-ringing', '', ''),
          answered: () => this.remoteAnswered(call),
          failed: (reason) => this.remoteFailed(call, reason),
          hungUp: () => this.customerGone(call),
          dtmf: (digits) => this.calls.note(call, 'dtmf-received', '', digits),
        },
      );
    }
    return this.calls.view(call, agentId);
  }

  callAgent(instanceId: string, agentId: string, targetAgentId: string): CallView {
    if (targetAgentId === agentId) throw new HotlineError('TargetUnavailable', 'An agent cannot call itself.');
    this.requireAgentCan(instanceId, agentId, 'dialOut');
    this.calls.requireAvailableAgent(instanceId, targetAgentId);
    const call = this.newCall(instanceId, 'internal', {
      ani: agentId,
      dnis: targetAgentId,
      callerIdUsed: '',
      customer: null,
      customerKind: 'virtual',
    });
    call.phase = 'dialing';
    call.agent = this.calls.newPart(agentId);
    call.lastAgentId = agentId;
    call.agentIds.add(agentId);
    this.calls.register(call);
    this.calls.joinLeg(call, call.agent.legId, 'agent', agentId, 'agent');
    this.calls.note(call, 'dialing', agentId, `agent ${targetAgentId}`);
    this.calls.agentCommand(call, agentId, { type: 'dialOut' }, 'internal-call');
    this.deps.media?.ringback(this.calls.mediaRef(call), agentId);
    this.acd.offer(call, targetAgentId, 'internal');
    this.calls.writeRecord(call);
    return this.calls.view(call, agentId);
  }

  // ---------------------------------------------------------------- the customer leg's network events

  private remoteAnswered(call: Call): void {
    if (call.phase !== 'dialing' || !call.agent) return;
    call.dialTimer?.cancel();
    this.calls.move(call, 'remoteAnswered');
    if (call.customer) call.customer.answered = true;
    call.answeredAt = this.deps.clock.now();
    this.calls.note(call, 'answered', '', 'callee answered');
    this.calls.agentCommand(call, call.agent.agentId, { type: 'outboundEstablished' }, 'callee-answered');
    this.deps.media?.connect(this.calls.mediaRef(call), call.agent.agentId);
    this.calls.writeRecord(call);
  }

  private remoteFailed(call: Call, reason: DialFailure): void {
    if (call.phase !== 'dialing') return;
    call.customer?.leg?.hangup();
    const releasedBy = reason === 'busy' || reason === 'rejected' ? 'customer' : 'system';
    this.calls.end(call, reason, releasedBy, reason);
  }

  /** The customer hung up (first, or after the agent). */
  private customerGone(call: Call): void {
    if (call.phase === 'ended') return;
    if (call.customer) call.customer.leg = null;
    const disposition = call.answeredAt === null ? 'abandoned' : 'answered';
    this.calls.end(call, disposition, 'customer', 'customer-hangup');
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
    if (call.customer)
      this.calls.joinLeg(call, call.customer.legId, 'customer', call.customer.number, parties.customerKind);
    return call;
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
}
