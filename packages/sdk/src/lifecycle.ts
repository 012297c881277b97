import { AgentBarStatus, EnumEventName, EnumWSEventType, type HotlineEventData } from '@openhotline/protocol';

/** Statuses from which an "established" code means the call came back rather than began. */
const SUSPENDED: ReadonlySet<AgentBarStatus> = new Set([
  AgentBarStatus.AgentCallHeld,
  AgentBarStatus.AgentCallConferenceWaitAnswer,
  AgentBarStatus.AgentCallThirdConsult,
  AgentBarStatus.AgentThirdRetrieveRequest,
  AgentBarStatus.AgentCallConference,
]);

const OUTBOUND_SETUP: ReadonlySet<AgentBarStatus> = new Set([
  AgentBarStatus.AgentCallDialOut,
  AgentBarStatus.AgentCallOutBoundEstablish,
]);

/** Release reasons the server gives the transferring agent's leg. */
const TRANSFER_REASONS: ReadonlySet<string> = new Set(['transferred', 'transfer', 'consult-complete']);

/**
 * Which of the guide's lifecycle events one `hotline-message` fires, given the agent's status before it. Pure:
 * the SoftPhone applies it to every message of the live channel, in order. onAgentCheckedin/out are deduplicated
 * by the caller (a check-in may be confirmed by the HTTP answer before its message arrives).
 */
export function lifecycleEventsFor(data: HotlineEventData, previous: AgentBarStatus): EnumEventName[] {
  switch (data.agentCallCode) {
    case EnumWSEventType.AgentCheckin:
      return [EnumEventName.onAgentCheckedin];
    case EnumWSEventType.AgentCheckout:
      return [EnumEventName.onAgentCheckedout];
    case EnumWSEventType.AgentRinging:
      return [EnumEventName.onCallComing];
    case EnumWSEventType.AgentCallDialOut:
      return [EnumEventName.onCallDialOut];
    case EnumWSEventType.AgentCallHeld:
      return previous === AgentBarStatus.AgentCallHeld ? [] : [EnumEventName.onCallHold];
    case EnumWSEventType.AgentCallInboundEstablish:
    case EnumWSEventType.AgentCallConsultEstablish:
      return [SUSPENDED.has(previous) ? EnumEventName.onCallRecovery : EnumEventName.onCallEstablishForCallin];
    case EnumWSEventType.AgentCallOutBoundEstablish:
      return [SUSPENDED.has(previous) ? EnumEventName.onCallRecovery : EnumEventName.onCallEstablishForCallout];
    case EnumWSEventType.AgentCallInternalBoundEstablish:
      if (SUSPENDED.has(previous)) return [EnumEventName.onCallRecovery];
      // An internal call is "out" for the agent who dialled it and "in" for the one who answered.
      return [
        previous === AgentBarStatus.AgentCallDialOut
          ? EnumEventName.onCallEstablishForCallout
          : EnumEventName.onCallEstablishForCallin,
      ];
    case EnumWSEventType.AgentCallRelease: {
      const events: EnumEventName[] = [];
      if (TRANSFER_REASONS.has(data.releaseReason)) events.push(EnumEventName.onCallTransferOut);
      events.push(isOutbound(data, previous) ? EnumEventName.onCallOutDidHangup : EnumEventName.onCallDidHangup);
      return events;
    }
    default:
      return [];
  }
}

function isOutbound(data: HotlineEventData, previous: AgentBarStatus): boolean {
  if (data.callDirection === 'outbound') return true;
  if (data.callDirection === 'inbound' || data.callDirection === 'internal') return false;
  return OUTBOUND_SETUP.has(previous);
}

/** An established code that starts (or resumes) an outbound call: doCallOut's onSuccess waits for it. */
export function isOutboundEstablish(events: readonly EnumEventName[]): boolean {
  return events.includes(EnumEventName.onCallEstablishForCallout);
}
