import { type AcdPolicy, longestIdlePolicy } from '../../domain/acd.js';
import { HotlineError } from '../../errors.js';
import { settingsOf } from '../directory-service.js';
import { maskNumber } from '../masking.js';
import type { Call, OfferPurpose } from './call.js';
import type { CallRegistry, CallServiceDeps } from './call-registry.js';

export interface QueueView {
  readonly skillGroupId: string;
  readonly waiting: { connId: string; position: number; ani: string; queuedAt: number; waitingMs: number }[];
  readonly longestWaitMs: number;
  readonly readyAgents: number;
}

/**
 * The ACD: skill group queues with their rules (length, timeout, overflow), the distribution of waiting calls to
 * ready agents, and the offer that rings an agent until it answers, rejects or times out. Answering an offer is
 * call control; an offer that ends unanswered comes back here and the call moves on.
 */
export class AcdQueues {
  private readonly policy: AcdPolicy;
  private queueSeq = 0;
  private distributionScheduled = false;
  private closed = false;

  constructor(
    private readonly calls: CallRegistry,
    private readonly deps: CallServiceDeps,
  ) {
    this.policy = deps.acd ?? longestIdlePolicy;
  }

  /** No distribution from now on (the timers of the calls are the registry owner's to cancel). */
  close(): void {
    this.closed = true;
  }

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

  enqueue(call: Call, skillGroupId: string, front: boolean): void {
    const rules = this.queueRules(call.instanceId, skillGroupId);
    const now = this.deps.clock.now();
    if (!front) {
      if (this.calls.waiting.count(call.instanceId, skillGroupId) >= rules.maxLength) {
        call.skillGroupId = skillGroupId;
        this.calls.note(call, 'queue-full', '', skillGroupId);
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
    this.calls.waiting.add(call);
    this.calls.note(call, 'queued', '', skillGroupId);
    this.calls.writeRecord(call);
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
    this.calls.note(call, 'queue-timeout', '', call.skillGroupId);
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
      if (call.phase === 'queued') this.calls.move(call, 'overflow');
      this.calls.waiting.remove(call);
      this.calls.note(call, 'overflow', '', `${from} → ${overflow.skillGroupId} (${reason})`);
      this.enqueue(call, overflow.skillGroupId, false);
      return;
    }
    this.calls.end(call, reason, 'system', reason);
  }

  scheduleDistribution(): void {
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
    if (this.closed || this.calls.waiting.size === 0) return;
    for (const instanceId of this.calls.waiting.instanceIds()) {
      const ready = this.deps.agents.readyAgents(instanceId);
      if (ready.length === 0) continue;
      const taken = new Set<string>();
      // A copy: offering takes calls out of the line while we walk it.
      for (const call of [...this.calls.waiting.line(instanceId)]) {
        if (taken.size === ready.length) break;
        const candidates = ready.filter((r) => !taken.has(r.agentId) && r.skillGroupIds.includes(call.skillGroupId));
        let choice = this.policy.pick(candidates, call.excluded);
        if (!choice && candidates.length > 0) {
          // Everyone ready has already rung for this call: start a new round rather than let it wait it out.
          call.excluded.clear();
          choice = this.policy.pick(candidates, call.excluded);
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

  /** Rings an agent for the call: a queue offer, or the target of a transfer, consultation or internal call. */
  offer(call: Call, agentId: string, purpose: OfferPurpose): void {
    if (purpose === 'queue') this.calls.move(call, 'offer');
    this.calls.waiting.remove(call);
    const settings = settingsOf(this.deps.storage.instances.get(call.instanceId));
    const part = this.calls.newPart(agentId);
    call.ringing = { ...part, purpose, timer: undefined };
    call.ringingAt ??= this.deps.clock.now();
    call.agentIds.add(agentId);
    call.excluded.add(agentId);
    this.calls.index(call, agentId);
    this.calls.note(call, 'ringing', agentId, purpose);
    this.calls.agentCommand(call, agentId, { type: 'offerCall' }, purpose === 'queue' ? 'call-offer' : purpose);
    call.ringing.timer = this.deps.clock.setTimer(
      () => this.ringEnded(call, agentId, 'ring-timeout'),
      settings.ringTimeoutSeconds * 1000,
    );
    this.calls.writeRecord(call);
  }

  /**
   * The offer to a ringing agent ends without an answer: timeout, lost channel, or the agent rejected it.
   * The agent goes on break (timeout, lost channel) or to after-call work (reject), and the call moves on.
   */
  ringEnded(call: Call, agentId: string, why: 'ring-timeout' | 'channel-lost' | 'rejected'): void {
    const offer = call.ringing;
    if (!offer || offer.agentId !== agentId || call.phase === 'ended') return;
    offer.timer?.cancel();
    call.ringing = null;
    this.calls.unindex(call, agentId);
    this.calls.note(call, why, agentId, '');
    if (why === 'rejected') {
      this.calls.releaseAgentFromCall(call, agentId, 'agent', 'rejected');
    } else {
      this.calls.agentCommand(call, agentId, { type: 'ringTimeout', reasonCode: 'ringTimeout' }, why);
    }
    switch (offer.purpose) {
      case 'queue':
      case 'transfer':
        this.calls.move(call, why === 'rejected' ? 'reject' : 'ringTimeout');
        if (call.skillGroupId) this.enqueue(call, call.skillGroupId, offer.purpose === 'queue');
        else this.calls.end(call, 'failed', 'system', 'transfer-not-answered');
        break;
      case 'consult':
        // The consultation may already be over (cancelled while this agent was still ringing).
        if (call.phase === 'consulting') {
          this.calls.move(call, 'thirdGone');
          if (call.agent) {
            this.calls.agentCommand(call, call.agent.agentId, { type: 'thirdLeft' }, why);
            this.deps.media?.connect(this.calls.mediaRef(call), call.agent.agentId);
          }
        }
        this.calls.writeRecord(call);
        break;
      case 'internal':
        this.calls.end(
          call,
          why === 'rejected' ? 'rejected' : 'no-answer',
          why === 'rejected' ? 'third' : 'system',
          why,
        );
        break;
    }
  }

  /** The longest-idle ready agent of a group to consult, other than the agent handling the call. */
  pickForConsult(call: Call, skillGroupId: string): string {
    if (!this.deps.storage.skillGroups.get(call.instanceId, skillGroupId)) {
      throw new HotlineError('SkillGroupNotFound', `No skill group "${skillGroupId}".`);
    }
    const candidates = this.deps.agents
      .readyAgents(call.instanceId)
      .filter((r) => r.skillGroupIds.includes(skillGroupId));
    const choice = this.policy.pick(candidates, new Set(call.agent ? [call.agent.agentId] : []));
    if (!choice) throw new HotlineError('TargetUnavailable', `No ready agent in skill group "${skillGroupId}".`);
    return choice.agentId;
  }

  /** Queues of an instance: waiting callers in order and how long they wait. */
  queues(instanceId: string, options: { canSeeFullNumbers: boolean; skillGroupIds?: readonly string[] }): QueueView[] {
    const now = this.deps.clock.now();
    const ready = this.deps.agents.readyAgents(instanceId);
    const groups = this.deps.storage.skillGroups
      .list(instanceId)
      .filter((g) => !options.skillGroupIds || options.skillGroupIds.includes(g.id));
    return groups.map((group) => {
      const waiting = this.calls.waiting
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

  /** A caller's place in its group's line (0 when it does not wait). */
  positionOf(call: Call): number {
    const line = this.calls.waiting.line(call.instanceId).filter((c) => c.skillGroupId === call.skillGroupId);
    return line.indexOf(call) + 1;
  }
}
