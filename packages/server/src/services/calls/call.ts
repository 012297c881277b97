import type {
  CallDisposition,
  CallLegRecord,
  CallRecord,
  CallRecordEvent,
  CallView,
  NumberLocation,
} from '@openhotline/protocol';
import type { CarrierLeg } from '../../adapters/carrier/carrier.js';
import type { CallPhase } from '../../domain/call-machine.js';
import type { Timer } from '../clock.js';

/** Why an agent's phone rings for a call: it decides what answering means. */
export type OfferPurpose = 'queue' | 'transfer' | 'consult' | 'internal';

/** An agent's part in a call: its leg (the guide's aid) and the distribution job that brought it (jobId). */
export interface AgentPart {
  readonly agentId: string;
  readonly legId: string;
  readonly jobId: string;
}

export interface RingingOffer extends AgentPart {
  readonly purpose: OfferPurpose;
  timer: Timer | undefined;
}

/** A party reached through the network (the customer, or an external transfer/consult target). */
export interface ExternalParty {
  readonly number: string;
  readonly legId: string;
  readonly kind: 'virtual' | 'sip' | 'webrtc';
  leg: CarrierLeg | null;
  answered: boolean;
}

export type ThirdParty =
  | ({ readonly type: 'agent'; answered: boolean } & AgentPart)
  | ({ readonly type: 'number' } & ExternalParty);

export interface BusinessFields {
  memberId: string;
  memberName: string;
  fromSource: string;
  taskId: string;
  channelId: string;
  caseId: string;
}

/**
 * One call, as the call service holds it while it lives. Mutated only by the call service, and only after the
 * call machine accepted the event.
 */
export interface Call {
  readonly connId: string;
  readonly instanceId: string;
  readonly direction: 'inbound' | 'outbound' | 'internal';
  readonly subSessionId: string;
  phase: CallPhase;
  /** The customer; null on an internal call. */
  customer: ExternalParty | null;
  /** Caller and callee as the network sees them (unmasked). */
  readonly ani: string;
  readonly dnis: string;
  readonly callerIdUsed: string;
  /** The queue the call belongs to ('' when it never had one). */
  skillGroupId: string;
  /** The agent who handles the call (talking, holding, consulting), or null. */
  agent: AgentPart | null;
  /** The agent whose phone rings for this call, or null. */
  ringing: RingingOffer | null;
  third: ThirdParty | null;
  muted: boolean;
  /** Agents who already rang for this call and must not ring again for it. */
  readonly excluded: Set<string>;
  /** Groups this call already overflowed from (it never overflows back into them). */
  readonly overflowedFrom: Set<string>;
  readonly business: BusinessFields;
  location: NumberLocation | null;
  // timestamps (epoch ms)
  readonly offeredAt: number;
  queuedAt: number | null;
  /** Place in line: lower is served first (requeued calls keep their original place). */
  queueOrder: number;
  ringingAt: number | null;
  answeredAt: number | null;
  endedAt: number | null;
  queueTimer: Timer | undefined;
  dialTimer: Timer | undefined;
  disposition: CallDisposition | 'active';
  releasedBy: CallRecord['releasedBy'];
  releaseReason: string;
  readonly events: CallRecordEvent[];
  readonly legs: CallLegRecord[];
  readonly agentIds: Set<string>;
  /** The last agent who handled it. */
  lastAgentId: string;
}

export function callStateOf(call: Call): CallView['state'] {
  switch (call.phase) {
    case 'queued':
    case 'ringing':
    case 'talking':
    case 'held':
    case 'consulting':
    case 'conference':
    case 'ended':
      return call.phase;
    case 'dialing':
      return 'dialing';
  }
}

export function toRecord(call: Call): CallRecord {
  return {
    connId: call.connId,
    instanceId: call.instanceId,
    direction: call.direction,
    ani: call.ani,
    dnis: call.dnis,
    callerIdUsed: call.callerIdUsed,
    skillGroupId: call.skillGroupId,
    agentId: call.lastAgentId,
    agentIds: [...call.agentIds],
    disposition: call.disposition,
    releasedBy: call.releasedBy,
    releaseReason: call.releaseReason,
    offeredAt: call.offeredAt,
    queuedAt: call.queuedAt,
    ringingAt: call.ringingAt,
    answeredAt: call.answeredAt,
    endedAt: call.endedAt,
    ...call.business,
    legs: call.legs.map((leg) => ({ ...leg })),
    events: call.events.map((event) => ({ ...event })),
    recordingUrl: null,
  };
}
