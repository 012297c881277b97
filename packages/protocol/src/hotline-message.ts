import { type Static, Type } from '@sinclair/typebox';
import { NumberLocationSchema } from './calls.js';
import { AgentBarStatus, AgentBasicCode, EnumWSEventType, type SceneType } from './enums.js';

/**
 * `eventData.data` of the guide: the fields of a `hotline-message`, kept with the guide's names and types.
 * Fields that do not apply to an event (call ids on a check-in, say) are empty strings, as the guide's sample
 * shows for `holdConnId`. Fields after `time` are OpenHotline's additions; a guide-only reader can ignore them.
 */
export const HotlineEventDataSchema = Type.Object({
  /** Call id (the guide's "channelId"): the customer leg of the call. */
  acid: Type.String(),
  agentBasicCode: Type.Enum(AgentBasicCode),
  agentBasicDesc: Type.String(),
  agentCallCode: Type.Enum(EnumWSEventType),
  agentCallDesc: Type.String(),
  /** The agent's leg of the call ("online id"). */
  aid: Type.String(),
  /** Caller number (masked when the reader may not see it). */
  ani: Type.String(),
  appName: Type.String(),
  /** The command that caused this event (checkin, checkout, ready, break, acw-timeout, ...). */
  cmd: Type.String(),
  /** The call (话务) id. */
  connId: Type.String(),
  departmentId: Type.String(),
  /** Called number (masked when the reader may not see it). */
  dnis: Type.String(),
  /** Epoch milliseconds of the event, as a string. */
  eventTime: Type.String(),
  holdConnId: Type.String(),
  /** The distribution job of the call for this agent. */
  jobId: Type.String(),
  /** Member (customer) id, from the business system. */
  mid: Type.String(),
  /** Member (customer) name. */
  name: Type.String(),
  status: Type.Enum(AgentBarStatus),
  subSessionId: Type.String(),
  /** "1" when the server supports hold, transfer, consult and conference. */
  supportNewFunction: Type.String(),
  /** ISO-8601 time of the event. */
  time: Type.String(),
  // ---- additions (not in the guide) ----
  instanceId: Type.String(),
  agentId: Type.String(),
  /** The break reason code when status is AgentBreak, else "". */
  breakReason: Type.String(),
  /** 'inbound', 'outbound' or 'internal' on call events, else ''. */
  callDirection: Type.Union([
    Type.Literal(''),
    Type.Literal('inbound'),
    Type.Literal('outbound'),
    Type.Literal('internal'),
  ]),
  /** On AgentCallRelease: who ended the call ('agent', 'customer', 'third', 'system'), else ''. */
  releasedBy: Type.Union([
    Type.Literal(''),
    Type.Literal('agent'),
    Type.Literal('customer'),
    Type.Literal('third'),
    Type.Literal('system'),
  ]),
  /** On AgentCallRelease: why (hangup, busy, no-answer, rejected, invalid-number, transferred, ...), else ''. */
  releaseReason: Type.String(),
  /** 归属地 of the customer's number on call events (also when the number itself is masked), else null. */
  location: Type.Union([NumberLocationSchema, Type.Null()]),
  /** Both locales' descriptions; agentBasicDesc/agentCallDesc are in the channel's locale. */
  descriptions: Type.Object({
    'zh-CN': Type.Object({ agentBasicDesc: Type.String(), agentCallDesc: Type.String() }),
    en: Type.Object({ agentBasicDesc: Type.String(), agentCallDesc: Type.String() }),
  }),
});
export type HotlineEventData = Static<typeof HotlineEventDataSchema>;

export const HotlineHeadSchema = Type.Object({
  agentCallCode: Type.Enum(EnumWSEventType),
  agentBasicCode: Type.Enum(AgentBasicCode),
  status: Type.Enum(AgentBarStatus),
  eventTime: Type.String(),
});
export type HotlineHead = Static<typeof HotlineHeadSchema>;

/** What a `takeWebSocketNotify().on('hotline-message', cb)` subscriber receives as `msgData`. */
export interface HotlineMessage {
  readonly sceneType: SceneType.HotlineMessage;
  readonly seq: number;
  readonly head: HotlineHead;
  readonly data: HotlineEventData;
}

/** What a `voice-to-text` subscriber receives (filled by the voice-to-text issue). */
export interface VoiceToTextMessage {
  readonly sceneType: SceneType.VoiceToText;
  readonly seq: number;
  readonly head: { readonly connId: string; readonly eventTime: string };
  readonly data: {
    readonly connId: string;
    readonly speaker: 'agent' | 'customer';
    readonly text: string;
    readonly final: boolean;
    readonly beginTime: number;
    readonly endTime: number;
  };
}

export type NotifyMessage = HotlineMessage | VoiceToTextMessage;
