import {
  type CallIds,
  type CallRecord,
  type CallView,
  type OutboundCallRequest,
  AgentBarStatus as Status,
  type TransferTarget,
} from '@openhotline/protocol';
import type { CarrierLegEvents } from '../../adapters/carrier/carrier.js';
import type { Timer } from '../clock.js';
import { AcdQueues, type QueueView } from './acd-queues.js';
import { type Call, toRecord } from './call.js';
import { CallControl } from './call-control.js';
import { CallDepartures } from './call-departures.js';
import { CallRegistry, type CallServiceDeps } from './call-registry.js';
import { CallSetup, type InboundRequest } from './call-setup.js';

export type { CallServiceDeps, InboundRequest, QueueView };

/**
 * How long a ringing offer waits for its agent's live channel to come back before it moves on: a page reload
 * reconnects in a second or two; a vanished agent costs the caller no more than this.
 */
export const RINGING_RECONNECT_MS = 4_000;

/**
 * Runs every call: inbound calls into skill group queues and out to agents (ACD), outbound calls through the
 * carrier, and the agents' call control. Each change of a call is checked against the call machine, and each
 * change of an agent goes through the agent service (so through the agent machine) with the call's ids in the
 * pushed hotline-message. Records are written at each milestone, so a crash leaves an `active` record that the
 * next start closes as `interrupted`, never a half-written one.
 *
 * This class is the facade; the work is done by parts that share one registry of live calls and depend one way:
 * the registry (state, bookkeeping, ending) ← the ACD queues ← departures (parties leaving) ← call control, with
 * call setup beside control on the registry and the ACD.
 */
export class CallService {
  private readonly calls: CallRegistry;
  private readonly acd: AcdQueues;
  private readonly departures: CallDepartures;
  private readonly control: CallControl;
  private readonly setup: CallSetup;

  /** Offers waiting for their agent's channel to come back (see agentOffline). */
  private readonly reconnectTimers = new Set<Timer>();

  constructor(private readonly deps: CallServiceDeps) {
    this.calls = new CallRegistry(deps);
    this.acd = new AcdQueues(this.calls, deps);
    this.departures = new CallDepartures(this.calls, this.acd, deps);
    this.control = new CallControl(this.calls, this.acd, this.departures, deps);
    this.setup = new CallSetup(this.calls, this.acd, deps);
    deps.agents.onStatusChange((_instanceId, _agentId, state) => {
      if (state.status === Status.AgentReady) this.acd.scheduleDistribution();
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
    this.acd.close();
    for (const timer of this.reconnectTimers) timer.cancel();
    this.reconnectTimers.clear();
    for (const call of this.calls.all()) {
      call.queueTimer?.cancel();
      call.dialTimer?.cancel();
      call.ringing?.timer?.cancel();
    }
    this.deps.carrier.close();
  }

  // ---------------------------------------------------------------- entry points

  /** A call arrives at a hotline number from the network (the virtual carrier, SIP or a web caller). */
  acceptInbound(request: InboundRequest): { connId: string; events: CarrierLegEvents } {
    return this.setup.acceptInbound(request);
  }

  /** The guide's doCallOut: the agent calls a customer through the carrier. */
  dialOut(instanceId: string, agentId: string, request: OutboundCallRequest): CallView {
    return this.setup.dialOut(instanceId, agentId, request);
  }

  /** An internal call from one agent to another. */
  callAgent(instanceId: string, agentId: string, targetAgentId: string): CallView {
    return this.setup.callAgent(instanceId, agentId, targetAgentId);
  }

  // ---------------------------------------------------------------- agent call control

  answer(instanceId: string, agentId: string, connId: string, ids: CallIds): CallView {
    return this.control.answer(instanceId, agentId, connId, ids);
  }

  hangup(instanceId: string, agentId: string, connId: string, ids: CallIds): CallView {
    return this.control.hangup(instanceId, agentId, connId, ids);
  }

  hold(instanceId: string, agentId: string, connId: string): CallView {
    return this.control.setHeld(instanceId, agentId, connId, true);
  }

  retrieve(instanceId: string, agentId: string, connId: string): CallView {
    return this.control.setHeld(instanceId, agentId, connId, false);
  }

  mute(instanceId: string, agentId: string, connId: string, muted: boolean): CallView {
    return this.control.mute(instanceId, agentId, connId, muted);
  }

  dtmf(instanceId: string, agentId: string, connId: string, digits: string): CallView {
    return this.control.dtmf(instanceId, agentId, connId, digits);
  }

  /** Blind transfer: the agent leaves at once; the target gets the call. */
  transfer(instanceId: string, agentId: string, connId: string, target: TransferTarget): CallView {
    return this.control.transfer(instanceId, agentId, connId, target);
  }

  /** Attended transfer, step 1: the customer waits on hold while the agent calls the target. */
  consult(instanceId: string, agentId: string, connId: string, target: TransferTarget): CallView {
    return this.control.consult(instanceId, agentId, connId, target);
  }

  consultCancel(instanceId: string, agentId: string, connId: string): CallView {
    return this.control.consultCancel(instanceId, agentId, connId);
  }

  /** Attended transfer, step 2: the agent leaves, the customer talks with the consulted party. */
  consultComplete(instanceId: string, agentId: string, connId: string): CallView {
    return this.control.consultComplete(instanceId, agentId, connId);
  }

  conference(instanceId: string, agentId: string, connId: string): CallView {
    return this.control.conference(instanceId, agentId, connId);
  }

  // ---------------------------------------------------------------- queries

  /** The calls an agent is on (ringing, talking, consulted...). */
  callsOf(instanceId: string, agentId: string): CallView[] {
    return this.calls.connIdsOf(instanceId, agentId).flatMap((connId) => {
      const call = this.calls.get(connId);
      return call ? [this.calls.view(call, agentId)] : [];
    });
  }

  /** Queues of an instance: waiting callers in order and how long they wait. */
  queues(instanceId: string, options: { canSeeFullNumbers: boolean; skillGroupIds?: readonly string[] }): QueueView[] {
    return this.acd.queues(instanceId, options);
  }

  /** Where a live call stands for its own customer (the web-call page): its phase and its place in the queue. */
  customerState(connId: string): { phase: Call['phase']; position: number } | undefined {
    const call = this.calls.get(connId);
    if (!call) return undefined;
    return { phase: call.phase, position: this.acd.positionOf(call) };
  }

  /** The instance of a live call (undefined once it ended). */
  instanceOf(connId: string): string | undefined {
    return this.calls.get(connId)?.instanceId;
  }

  /** Live calls of an instance (for the wallboard and the admin API). */
  liveCalls(instanceId: string): CallRecord[] {
    return [...this.calls.all()].filter((c) => c.instanceId === instanceId).map(toRecord);
  }

  onRecord(listener: (record: CallRecord) => void): void {
    this.calls.onRecord(listener);
  }

  /**
   * Told, with the call's instance, whenever a live call changes phase: queued, ringing, connected, held… and so
   * whenever a queue's callers move up. It is called in the middle of the change: a listener that wants to read
   * the calls (customerState) should do so once the change is over (on a later turn). Returns the unsubscribe.
   */
  onPhaseChange(listener: (instanceId: string, connId: string) => void): () => void {
    return this.calls.onPhase((call) => listener(call.instanceId, call.connId));
  }

  // ---------------------------------------------------------------- the agent service's events

  private agentOffline(instanceId: string, agentId: string): void {
    for (const connId of this.calls.connIdsOf(instanceId, agentId)) {
      const call = this.calls.get(connId);
      const offer = call?.ringing;
      // Calls in talk survive a reload. An unanswered offer waits RINGING_RECONNECT_MS for the agent's channel to
      // come back (a page reload: the SDK restores the ringing call and the agent can answer it), then moves on so
      // that the caller is not left ringing a vanished agent. The ring timeout still applies meanwhile.
      if (!call || offer?.agentId !== agentId) continue;
      const timer = this.deps.clock.setTimer(() => {
        this.reconnectTimers.delete(timer);
        if (call.ringing === offer && !this.deps.agents.isOnline(instanceId, agentId)) {
          this.acd.ringEnded(call, agentId, 'channel-lost');
        }
      }, RINGING_RECONNECT_MS);
      this.reconnectTimers.add(timer);
    }
  }

  /** The agent is forced out (checked out by an administrator or the server): its calls go on without it. */
  private releaseAgent(instanceId: string, agentId: string, reason: string): void {
    this.calls.asDeparting(instanceId, agentId, () => {
      for (const connId of this.calls.connIdsOf(instanceId, agentId)) {
        const call = this.calls.get(connId);
        if (call) this.departures.agentLeaves(call, agentId, {}, reason);
      }
    });
  }
}
