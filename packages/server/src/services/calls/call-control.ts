import type { CallIds, CallView, TransferTarget } from '@openhotline/protocol';
import { callTransition } from '../../domain/call-machine.js';
import { HotlineError } from '../../errors.js';
import type { AcdQueues } from './acd-queues.js';
import type { AgentPart, Call } from './call.js';
import type { CallDepartures } from './call-departures.js';
import { type CallRegistry, type CallServiceDeps, DIALABLE } from './call-registry.js';

/**
 * What an agent does to a call it is on: answer, hang up, hold, mute, send digits, transfer, consult, conference.
 * Each action finds the call for this agent, checks the phase through the call machine, then drives the agents,
 * the audio and the record in that order, and answers with the call as this agent now sees it.
 */
export class CallControl {
  constructor(
    private readonly calls: CallRegistry,
    private readonly acd: AcdQueues,
    private readonly departures: CallDepartures,
    private readonly deps: CallServiceDeps,
  ) {}

  answer(instanceId: string, agentId: string, connId: string, ids: CallIds): CallView {
    const call = this.calls.callOf(instanceId, agentId, connId);
    const offer = call.ringing;
    if (!offer || offer.agentId !== agentId) {
      // Answering twice is harmless; answering a call that does not ring for this agent is not.
      if (call.agent?.agentId === agentId && call.phase !== 'dialing') return this.calls.view(call, agentId);
      throw this.calls.illegal(call, 'answer');
    }
    this.calls.checkIds(call, offer, ids);
    offer.timer?.cancel();
    call.ringing = null;
    const part: AgentPart = { agentId, legId: offer.legId, jobId: offer.jobId };
    this.calls.joinLeg(call, part.legId, offer.purpose === 'consult' ? 'third' : 'agent', agentId, 'agent');
    switch (offer.purpose) {
      case 'queue':
      case 'transfer': {
        this.calls.move(call, 'answer');
        call.queueTimer?.cancel();
        call.queueTimer = undefined;
        call.agent = part;
        call.lastAgentId = agentId;
        call.answeredAt ??= this.deps.clock.now();
        this.calls.note(call, 'answered', agentId, '');
        this.calls.agentCommand(call, agentId, { type: 'answerRequest' }, 'answer');
        this.calls.agentCommand(call, agentId, { type: 'inboundEstablished' }, 'answer');
        call.customer?.leg?.connected?.();
        this.deps.media?.connect(this.calls.mediaRef(call), agentId);
        break;
      }
      case 'consult': {
        this.calls.move(call, 'thirdAnswered');
        call.third = { type: 'agent', ...part, answered: true };
        this.calls.note(call, 'consult-answered', agentId, '');
        this.calls.agentCommand(call, agentId, { type: 'consultEstablished' }, 'answer');
        if (call.agent) {
          this.calls.agentCommand(call, call.agent.agentId, { type: 'thirdAnswered' }, 'consult');
          this.deps.media?.consult(this.calls.mediaRef(call), call.agent.agentId, agentId);
        }
        break;
      }
      case 'internal': {
        this.calls.move(call, 'remoteAnswered');
        call.third = { type: 'agent', ...part, answered: true };
        call.answeredAt = this.deps.clock.now();
        this.calls.note(call, 'answered', agentId, '');
        this.calls.agentCommand(call, agentId, { type: 'internalEstablished' }, 'answer');
        if (call.agent) {
          this.calls.agentCommand(call, call.agent.agentId, { type: 'internalEstablished' }, 'internal-call');
          this.deps.media?.consult(this.calls.mediaRef(call), call.agent.agentId, agentId);
        }
        break;
      }
    }
    this.calls.writeRecord(call);
    return this.calls.view(call, agentId);
  }

  hangup(instanceId: string, agentId: string, connId: string, ids: CallIds): CallView {
    const call = this.calls.callOf(instanceId, agentId, connId);
    this.departures.agentLeaves(call, agentId, ids);
    return this.calls.view(call, agentId);
  }

  /** Hold and retrieve are one action in two directions: call phase, record, agent status and audio follow. */
  setHeld(instanceId: string, agentId: string, connId: string, held: boolean): CallView {
    const call = this.calls.handledCall(instanceId, agentId, connId);
    this.calls.move(call, held ? 'hold' : 'retrieve');
    this.calls.note(call, held ? 'held' : 'retrieved', agentId, '');
    this.calls.agentCommand(call, agentId, { type: held ? 'hold' : 'retrieve' }, held ? 'hold' : 'retrieve');
    this.deps.media?.hold(this.calls.mediaRef(call), held);
    this.calls.writeRecord(call);
    return this.calls.view(call, agentId);
  }

  mute(instanceId: string, agentId: string, connId: string, muted: boolean): CallView {
    const call = this.calls.handledCall(instanceId, agentId, connId);
    this.calls.move(call, 'mute');
    if (call.muted !== muted) {
      call.muted = muted;
      this.deps.media?.mute(this.calls.mediaRef(call), agentId, muted);
      this.calls.note(call, muted ? 'muted' : 'unmuted', agentId, '');
      this.calls.writeRecord(call);
    }
    return this.calls.view(call, agentId);
  }

  dtmf(instanceId: string, agentId: string, connId: string, digits: string): CallView {
    const call = this.calls.handledCall(instanceId, agentId, connId);
    this.calls.move(call, 'dtmf');
    const far = call.third?.type === 'number' && call.phase !== 'conference' ? call.third.leg : call.customer?.leg;
    far?.sendDtmf(digits);
    if (far === call.customer?.leg) this.deps.media?.dtmf(this.calls.mediaRef(call), digits);
    this.calls.note(call, 'dtmf-sent', agentId, digits);
    this.calls.writeRecord(call);
    return this.calls.view(call, agentId);
  }

  /** Blind transfer: the agent leaves at once; the target gets the call. */
  transfer(instanceId: string, agentId: string, connId: string, target: TransferTarget): CallView {
    const call = this.calls.handledCall(instanceId, agentId, connId);
    this.refuseOnInternal(call, 'transfer');
    switch (target.type) {
      case 'agent': {
        if (target.agentId === agentId)
          throw new HotlineError('TargetUnavailable', 'Cannot transfer a call to yourself.');
        this.calls.requireAvailableAgent(instanceId, target.agentId);
        this.calls.move(call, 'blindTransferToAgent');
        this.calls.note(call, 'transferred', agentId, `agent ${target.agentId}`);
        this.calls.releaseHandler(call, 'agent', 'transferred');
        this.acd.offer(call, target.agentId, 'transfer');
        break;
      }
      case 'skillGroup': {
        if (!this.deps.storage.skillGroups.get(instanceId, target.skillGroupId)) {
          throw new HotlineError('SkillGroupNotFound', `No skill group "${target.skillGroupId}".`);
        }
        this.calls.move(call, 'blindTransferToQueue');
        this.calls.note(call, 'transferred', agentId, `skill group ${target.skillGroupId}`);
        this.calls.releaseHandler(call, 'agent', 'transferred');
        call.excluded.add(agentId);
        this.acd.enqueue(call, target.skillGroupId, false);
        break;
      }
      case 'number': {
        if (!DIALABLE.test(target.number))
          throw new HotlineError('InvalidNumber', `"${target.number}" is not dialable.`);
        this.calls.move(call, 'blindTransferToNumber');
        this.calls.note(call, 'transferred', agentId, `number ${target.number}`);
        this.calls.releaseHandler(call, 'agent', 'transferred');
        this.departures.dialThird(call, target.number, 'transfer');
        break;
      }
    }
    this.calls.writeRecord(call);
    return this.calls.view(call, agentId, true);
  }

  /** Attended transfer, step 1: the customer waits on hold while the agent calls the target. */
  consult(instanceId: string, agentId: string, connId: string, target: TransferTarget): CallView {
    const call = this.calls.handledCall(instanceId, agentId, connId);
    this.refuseOnInternal(call, 'consult');
    if (!callTransition(call.phase, 'consultStart').ok) throw this.calls.illegal(call, 'consultStart');
    switch (target.type) {
      case 'agent':
      case 'skillGroup': {
        const targetAgentId =
          target.type === 'agent' ? target.agentId : this.acd.pickForConsult(call, target.skillGroupId);
        if (targetAgentId === agentId) throw new HotlineError('TargetUnavailable', 'Cannot consult yourself.');
        this.calls.requireAvailableAgent(instanceId, targetAgentId);
        this.calls.move(call, 'consultStart');
        this.calls.note(call, 'consult-started', agentId, `agent ${targetAgentId}`);
        this.calls.agentCommand(call, agentId, { type: 'consultStart' }, 'consult');
        this.deps.media?.hold(this.calls.mediaRef(call), true);
        this.acd.offer(call, targetAgentId, 'consult');
        break;
      }
      case 'number': {
        if (!DIALABLE.test(target.number))
          throw new HotlineError('InvalidNumber', `"${target.number}" is not dialable.`);
        this.calls.move(call, 'consultStart');
        this.calls.note(call, 'consult-started', agentId, `number ${target.number}`);
        this.calls.agentCommand(call, agentId, { type: 'consultStart' }, 'consult');
        this.deps.media?.hold(this.calls.mediaRef(call), true);
        this.departures.dialThird(call, target.number, 'consult');
        break;
      }
    }
    this.calls.writeRecord(call);
    return this.calls.view(call, agentId);
  }

  consultCancel(instanceId: string, agentId: string, connId: string): CallView {
    const call = this.calls.handledCall(instanceId, agentId, connId);
    if (!callTransition(call.phase, 'consultCancel').ok) throw this.calls.illegal(call, 'consultCancel');
    this.calls.agentCommand(call, agentId, { type: 'thirdRetrieveRequest' }, 'consult-cancel');
    this.calls.dropThird(call, 'agent', 'consult-cancelled');
    // Cancelled before the consulted agent answered: its phone stops ringing.
    const ringing = call.ringing;
    if (ringing?.purpose === 'consult') {
      ringing.timer?.cancel();
      call.ringing = null;
      this.calls.releaseAgentFromCall(call, ringing.agentId, 'agent', 'consult-cancelled');
      this.calls.unindex(call, ringing.agentId);
    }
    this.calls.move(call, 'consultCancel');
    this.calls.note(call, 'consult-cancelled', agentId, '');
    this.calls.agentCommand(call, agentId, { type: 'thirdLeft' }, 'consult-cancel');
    this.deps.media?.connect(this.calls.mediaRef(call), agentId);
    this.calls.writeRecord(call);
    return this.calls.view(call, agentId);
  }

  /** Attended transfer, step 2: the agent leaves, the customer talks with the consulted party. */
  consultComplete(instanceId: string, agentId: string, connId: string): CallView {
    const call = this.calls.handledCall(instanceId, agentId, connId);
    this.departures.completeConsult(call);
    return this.calls.view(call, agentId, true);
  }

  conference(instanceId: string, agentId: string, connId: string): CallView {
    const call = this.calls.handledCall(instanceId, agentId, connId);
    if (!call.third?.answered) throw this.calls.illegal(call, 'conference', 'the third party has not answered');
    this.calls.move(call, 'conference');
    this.calls.note(call, 'conference', agentId, '');
    this.calls.agentCommand(call, agentId, { type: 'conference' }, 'conference');
    if (call.third?.type === 'agent')
      this.deps.media?.conference(this.calls.mediaRef(call), [agentId, call.third.agentId]);
    else this.deps.media?.hold(this.calls.mediaRef(call), false);
    this.calls.writeRecord(call);
    return this.calls.view(call, agentId);
  }

  /**
   * An internal call is two agents talking: the callee holds the third-party place, so there is no room for a
   * transfer or consultation (a colleague can simply call the other one).
   */
  private refuseOnInternal(call: Call, action: string): void {
    if (call.direction === 'internal') throw this.calls.illegal(call, action, 'not possible on an internal call');
  }
}
