/**
 * The enums of the softphone SDK integration guide (version 0.5.1), value for value.
 *
 * They are real TypeScript enums, not `as const` objects, because the guide declares them as enums and
 * integrators may rely on their runtime shape (for example the reverse mapping `AgentBarStatus[3]`).
 */

/** The dial bar status. 15 is absent in the guide and stays absent; -1 means "not registered yet". */
export enum AgentBarStatus {
  Unregistered = -1,
  AgentCheckout = 1,
  AgentCheckin = 2,
  AgentReady = 3,
  AgentBreak = 4,
  AgentCallRelease = 5,
  AgentAcw = 6,
  AgentRinging = 7,
  AgentCallAnswerRequest = 8,
  AgentCallDialOut = 9,
  AgentCallInboundEstablish = 10,
  AgentCallOutBoundEstablish = 11,
  AgentCallInternalBoundEstablish = 12,
  AgentCallConsultEstablish = 13,
  AgentCallHeld = 14,
  AgentCallConferenceWaitAnswer = 16,
  AgentCallThirdConsult = 17,
  AgentThirdRetrieveRequest = 18,
  AgentCallConference = 19,
}

/** The SDK's lifecycle events (16). */
export enum EnumEventName {
  actionError = 'actionError',
  actionSuccess = 'actionSuccess',
  onAgentCheckedin = 'onAgentCheckedin',
  onAgentCheckedout = 'onAgentCheckedout',
  onCallComing = 'onCallComing',
  onCallDialOut = 'onCallDialOut',
  onCallWillAnswer = 'onCallWillAnswer',
  onCallEstablishForCallin = 'onCallEstablishForCallin',
  onCallEstablishForCallout = 'onCallEstablishForCallout',
  onCallWillHangup = 'onCallWillHangup',
  onCallDidHangup = 'onCallDidHangup',
  onCallOutDidHangup = 'onCallOutDidHangup',
  onCallTransferOut = 'onCallTransferOut',
  onCallHold = 'onCallHold',
  onCallRecovery = 'onCallRecovery',
  'actionError.tokenExpired' = 'actionError.tokenExpired',
}

/** The codes carried in `head.agentCallCode` of every `hotline-message` (21). */
export enum EnumWSEventType {
  AgentCheckin = 'AgentCheckin',
  AgentCheckout = 'AgentCheckout',
  AgentReady = 'AgentReady',
  AgentBreak = 'AgentBreak',
  AgentAcw = 'AgentAcw',
  AgentRinging = 'AgentRinging',
  AgentCallInboundEstablish = 'AgentCallInboundEstablish',
  AgentCallOutBoundEstablish = 'AgentCallOutBoundEstablish',
  AgentCallDialOut = 'AgentCallDialOut',
  AgentCallAnswerRequest = 'AgentCallAnswerRequest',
  AgentCallRelease = 'AgentCallRelease',
  AgentCallHeld = 'AgentCallHeld',
  AgentCallConferenceWaitAnswer = 'AgentCallConferenceWaitAnswer',
  AgentCallConference = 'AgentCallConference',
  AgentCallThirdConsult = 'AgentCallThirdConsult',
  AgentThirdRetrieveRequest = 'AgentThirdRetrieveRequest',
  AgentCallConsultThirdRetrieveReq = 'AgentCallConsultThirdRetrieveReq',
  AgentCallConsultEstablish = 'AgentCallConsultEstablish',
  AgentCallInternalBoundEstablish = 'AgentCallInternalBoundEstablish',
  AgentJoinChannel = 'AgentJoinChannel',
  AgentLeaveChannel = 'AgentLeaveChannel',
}

export enum EnumLocale {
  en = 'en',
  'zh-CN' = 'zh-CN',
}

/** The scenes of the notify channel (`takeWebSocketNotify().on(sceneType, cb)`). */
export enum SceneType {
  HotlineMessage = 'hotline-message',
  VoiceToText = 'voice-to-text',
}

/**
 * The coarse agent state carried in `data.agentBasicCode`. The guide shows `AgentBusyForCall` for a call state;
 * the others reuse the names of the non-call statuses.
 */
export enum AgentBasicCode {
  AgentUnregistered = 'AgentUnregistered',
  AgentCheckout = 'AgentCheckout',
  AgentCheckin = 'AgentCheckin',
  AgentReady = 'AgentReady',
  AgentBreak = 'AgentBreak',
  AgentAcw = 'AgentAcw',
  AgentBusyForCall = 'AgentBusyForCall',
}

/** Every `AgentBarStatus` value, in order: the guide's list, used by tables, tests and docs. */
export const ALL_AGENT_BAR_STATUSES: readonly AgentBarStatus[] = Object.values(AgentBarStatus).filter(
  (v): v is AgentBarStatus => typeof v === 'number',
);

/** Statuses in which the agent is on (or setting up, or finishing) a call. */
export const CALL_STATUSES: readonly AgentBarStatus[] = ALL_AGENT_BAR_STATUSES.filter((s) => s >= 5 && s !== 6);

export function isCallStatus(status: AgentBarStatus): boolean {
  return status === AgentBarStatus.AgentCallRelease || status >= AgentBarStatus.AgentRinging;
}

export function basicCodeOf(status: AgentBarStatus): AgentBasicCode {
  switch (status) {
    case AgentBarStatus.Unregistered:
      return AgentBasicCode.AgentUnregistered;
    case AgentBarStatus.AgentCheckout:
      return AgentBasicCode.AgentCheckout;
    case AgentBarStatus.AgentCheckin:
      return AgentBasicCode.AgentCheckin;
    case AgentBarStatus.AgentReady:
      return AgentBasicCode.AgentReady;
    case AgentBarStatus.AgentBreak:
      return AgentBasicCode.AgentBreak;
    case AgentBarStatus.AgentAcw:
      return AgentBasicCode.AgentAcw;
    default:
      return AgentBasicCode.AgentBusyForCall;
  }
}
