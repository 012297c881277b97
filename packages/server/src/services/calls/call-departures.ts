import type { CallIds } from '@openhotline/protocol';
import type { CarrierLeg, DialFailure } from '../../adapters/carrier/carrier.js';
import { callTransition } from '../../domain/call-machine.js';
import { settingsOf } from '../directory-service.js';
import type { AcdQueues } from './acd-queues.js';
import type { Call } from './call.js';
import type { CallRegistry, CallServiceDeps } from './call-registry.js';

/**
 * Parties leaving a call that goes on (or not): an agent's hang-up, whose meaning depends on its part in the
 * call; a third party leaving; the handler handing the customer over to the consulted party. External third
 * parties are dialed here too, because what matters about them is how they fail or go away.
 */
export class CallDepartures {
  constructor(
    private readonly calls: CallRegistry,
    private readonly acd: AcdQueues,
    private readonly deps: CallServiceDeps,
  ) {}

  /** What an agent's hang-up means depends on its part in the call. */
  agentLeaves(call: Call, agentId: string, ids: CallIds, reason = 'agent-hangup'): void {
    if (call.ringing?.agentId === agentId) {
      this.calls.checkIds(call, call.ringing, ids);
      this.acd.ringEnded(call, agentId, 'rejected');
      return;
    }
    if (call.third?.type === 'agent' && call.third.agentId === agentId) {
      this.thirdLeaves(call, 'third', reason);
      return;
    }
    if (call.agent?.agentId !== agentId) throw this.calls.illegal(call, 'hangup');
    this.calls.checkIds(call, call.agent, ids);
    switch (call.phase) {
      case 'dialing':
        this.calls.end(call, 'cancelled', 'agent', reason);
        return;
      case 'consulting':
        // Hanging up while the consulted party is on the line hands the customer over (attended transfer).
        if (call.third?.answered) this.completeConsult(call);
        else this.calls.end(call, 'answered', 'agent', reason);
        return;
      case 'conference': {
        this.calls.move(call, 'agentLeaves');
        this.calls.note(call, 'agent-left', agentId, '');
        this.calls.releaseHandler(call, 'agent', reason);
        this.promoteThird(call);
        this.calls.writeRecord(call);
        return;
      }
      default:
        this.calls.end(call, 'answered', 'agent', reason);
    }
  }

  /** The third party (consulted agent or number) leaves; the agent and the customer talk again. */
  private thirdLeaves(call: Call, by: 'third' | 'agent', reason: string): void {
    if (!call.third) return;
    this.calls.dropThird(call, by, reason);
    if (call.phase === 'consulting' || call.phase === 'conference') {
      this.calls.move(call, 'thirdGone');
      this.calls.note(call, 'third-left', '', reason);
      if (call.agent) {
        this.calls.agentCommand(call, call.agent.agentId, { type: 'thirdLeft' }, reason);
        this.deps.media?.connect(this.calls.mediaRef(call), call.agent.agentId);
      }
    } else if (call.direction === 'internal') {
      this.calls.end(call, 'answered', by, reason);
      return;
    }
    this.calls.writeRecord(call);
  }

  /** An external third party (consulted number or transfer target) hung up. */
  private thirdNumberGone(call: Call): void {
    const third = call.third;
    if (third?.type !== 'number' || call.phase === 'ended') return;
    third.leg = null;
    if (!call.agent) {
      // Customer and external party were alone after a transfer: the call is over.
      this.calls.end(call, 'answered', 'third', 'third-hangup');
      return;
    }
    this.thirdLeaves(call, 'third', 'third-hangup');
  }

  completeConsult(call: Call): void {
    if (!callTransition(call.phase, 'consultComplete').ok) throw this.calls.illegal(call, 'consultComplete');
    if (!call.third?.answered) throw this.calls.illegal(call, 'consultComplete', 'the third party has not answered');
    const leaving = call.agent?.agentId ?? '';
    this.calls.move(call, 'consultComplete');
    this.calls.note(call, 'transferred', leaving, 'attended');
    this.calls.releaseHandler(call, 'agent', 'transferred');
    this.promoteThird(call);
    this.calls.writeRecord(call);
  }

  /** After the handling agent left, a third agent becomes the handler; an external third stays as such. */
  private promoteThird(call: Call): void {
    const third = call.third;
    if (third?.type === 'agent') {
      call.agent = { agentId: third.agentId, legId: third.legId, jobId: third.jobId };
      call.lastAgentId = third.agentId;
      call.third = null;
      this.deps.media?.connect(this.calls.mediaRef(call), third.agentId);
    } else {
      // An external party takes over: no media endpoint for it yet, the customer stops waiting on hold.
      this.deps.media?.hold(this.calls.mediaRef(call), false);
    }
  }

  /** Calls an external third party (blind transfer or consultation to a number). */
  dialThird(call: Call, number: string, purpose: 'transfer' | 'consult'): void {
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
    this.calls.joinLeg(call, legId, 'third', number, 'virtual');
    const settings = settingsOf(this.deps.storage.instances.get(call.instanceId));
    // The network may never answer (or never say so): the same no-answer time as an outbound call applies.
    const noAnswer = this.deps.clock.setTimer(() => {
      if (call.third !== third || third.answered || call.phase === 'ended') return;
      third.leg?.hangup();
      failed('no-answer');
    }, settings.outboundNoAnswerSeconds * 1000);
    // Kept on the call (its own dial timer is done by now), so the call's end and the service's close cancel it.
    call.dialTimer?.cancel();
    call.dialTimer = noAnswer;
    const failed = (reason: DialFailure) => {
      noAnswer.cancel();
      if (call.third !== third || call.phase === 'ended') return;
      call.third = null;
      this.calls.leaveLeg(call, legId);
      this.calls.note(call, 'third-failed', '', reason);
      if (purpose === 'consult') {
        this.calls.move(call, 'thirdGone');
        if (call.agent) {
          this.calls.agentCommand(call, call.agent.agentId, { type: 'thirdLeft' }, reason);
          this.deps.media?.connect(this.calls.mediaRef(call), call.agent.agentId);
        }
        this.calls.writeRecord(call);
      } else {
        this.calls.end(call, 'failed', 'system', `transfer-${reason}`);
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
          this.calls.note(call, 'third-answered', '', number);
          if (purpose === 'consult') {
            this.calls.move(call, 'thirdAnswered');
            if (call.agent) this.calls.agentCommand(call, call.agent.agentId, { type: 'thirdAnswered' }, 'consult');
          } else {
            this.calls.move(call, 'remoteAnswered');
            call.customer?.leg?.connected?.();
          }
          this.calls.writeRecord(call);
        },
        failed,
        hungUp: () => {
          noAnswer.cancel();
          if (call.third === third) this.thirdNumberGone(call);
        },
      },
    );
  }
}
