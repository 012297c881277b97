import { AgentBarStatus, AgentBasicCode, EnumLocale, EnumWSEventType } from './enums.js';

/** Human descriptions in both supported locales. Chinese first: it is the guide's default locale. */
export interface Described {
  readonly 'zh-CN': string;
  readonly en: string;
}

export const AGENT_BAR_STATUS_TEXT: Readonly<Record<AgentBarStatus, Described>> = {
  [AgentBarStatus.Unregistered]: { 'zh-CN': '未注册', en: 'Not registered' },
  [AgentBarStatus.AgentCheckout]: { 'zh-CN': '签出', en: 'Checked out' },
  [AgentBarStatus.AgentCheckin]: { 'zh-CN': '签入', en: 'Checked in' },
  [AgentBarStatus.AgentReady]: { 'zh-CN': '空闲', en: 'Ready' },
  [AgentBarStatus.AgentBreak]: { 'zh-CN': '小休', en: 'On break' },
  [AgentBarStatus.AgentCallRelease]: { 'zh-CN': '通话结束', en: 'Call released' },
  [AgentBarStatus.AgentAcw]: { 'zh-CN': '话后处理', en: 'After-call work' },
  [AgentBarStatus.AgentRinging]: { 'zh-CN': '振铃', en: 'Ringing' },
  [AgentBarStatus.AgentCallAnswerRequest]: { 'zh-CN': '接听请求中', en: 'Answering' },
  [AgentBarStatus.AgentCallDialOut]: { 'zh-CN': '拨号请求中', en: 'Dialing out' },
  [AgentBarStatus.AgentCallInboundEstablish]: { 'zh-CN': '呼入通话', en: 'Inbound call' },
  [AgentBarStatus.AgentCallOutBoundEstablish]: { 'zh-CN': '呼出通话', en: 'Outbound call' },
  [AgentBarStatus.AgentCallInternalBoundEstablish]: { 'zh-CN': '内部通话', en: 'Internal call' },
  [AgentBarStatus.AgentCallConsultEstablish]: { 'zh-CN': '被动求助通话建立', en: 'Consultation call' },
  [AgentBarStatus.AgentCallHeld]: { 'zh-CN': '通话保持', en: 'On hold' },
  [AgentBarStatus.AgentCallConferenceWaitAnswer]: { 'zh-CN': '发起三方', en: 'Calling a third party' },
  [AgentBarStatus.AgentCallThirdConsult]: { 'zh-CN': '三方通话中', en: 'Consulting a third party' },
  [AgentBarStatus.AgentThirdRetrieveRequest]: { 'zh-CN': '三方取回中', en: 'Retrieving from the third party' },
  [AgentBarStatus.AgentCallConference]: { 'zh-CN': '会议', en: 'Conference' },
};

export const WS_EVENT_TEXT: Readonly<Record<EnumWSEventType, Described>> = {
  [EnumWSEventType.AgentCheckin]: { 'zh-CN': '签入', en: 'Checked in' },
  [EnumWSEventType.AgentCheckout]: { 'zh-CN': '签出', en: 'Checked out' },
  [EnumWSEventType.AgentReady]: { 'zh-CN': '空闲', en: 'Ready' },
  [EnumWSEventType.AgentBreak]: { 'zh-CN': '小休', en: 'On break' },
  [EnumWSEventType.AgentAcw]: { 'zh-CN': '话后处理', en: 'After-call work' },
  [EnumWSEventType.AgentRinging]: { 'zh-CN': '来电', en: 'Incoming call' },
  [EnumWSEventType.AgentCallInboundEstablish]: { 'zh-CN': '呼入电话建立', en: 'Inbound call established' },
  [EnumWSEventType.AgentCallOutBoundEstablish]: { 'zh-CN': '呼出通话建立', en: 'Outbound call established' },
  [EnumWSEventType.AgentCallDialOut]: { 'zh-CN': '外拨中', en: 'Dialing out' },
  [EnumWSEventType.AgentCallAnswerRequest]: { 'zh-CN': '呼入通话执行接听', en: 'Answering the call' },
  [EnumWSEventType.AgentCallRelease]: { 'zh-CN': '坐席释放', en: 'Call released' },
  [EnumWSEventType.AgentCallHeld]: { 'zh-CN': '通话保持', en: 'Call on hold' },
  [EnumWSEventType.AgentCallConferenceWaitAnswer]: {
    'zh-CN': '三方求助等待应答',
    en: 'Waiting for the third party to answer',
  },
  [EnumWSEventType.AgentCallConference]: { 'zh-CN': '会议中', en: 'In conference' },
  [EnumWSEventType.AgentCallThirdConsult]: { 'zh-CN': '三方求助通话中', en: 'Consulting the third party' },
  [EnumWSEventType.AgentThirdRetrieveRequest]: { 'zh-CN': '三方取回请求中', en: 'Retrieving the caller' },
  [EnumWSEventType.AgentCallConsultThirdRetrieveReq]: {
    'zh-CN': '三方求助三方取回请求中',
    en: 'Retrieving the caller from the consultation',
  },
  [EnumWSEventType.AgentCallConsultEstablish]: { 'zh-CN': '三方求助电话建立', en: 'Consultation established' },
  [EnumWSEventType.AgentCallInternalBoundEstablish]: { 'zh-CN': '内部通话中', en: 'Internal call' },
  [EnumWSEventType.AgentJoinChannel]: { 'zh-CN': '创建 RTC 连接', en: 'Media line opened' },
  [EnumWSEventType.AgentLeaveChannel]: { 'zh-CN': '销毁 RTC 连接', en: 'Media line closed' },
};

export const AGENT_BASIC_CODE_TEXT: Readonly<Record<AgentBasicCode, Described>> = {
  [AgentBasicCode.AgentUnregistered]: { 'zh-CN': '未注册', en: 'Not registered' },
  [AgentBasicCode.AgentCheckout]: { 'zh-CN': '签出', en: 'Checked out' },
  [AgentBasicCode.AgentCheckin]: { 'zh-CN': '签入', en: 'Checked in' },
  [AgentBasicCode.AgentReady]: { 'zh-CN': '空闲', en: 'Ready' },
  [AgentBasicCode.AgentBreak]: { 'zh-CN': '小休', en: 'On break' },
  [AgentBasicCode.AgentAcw]: { 'zh-CN': '话后处理', en: 'After-call work' },
  [AgentBasicCode.AgentBusyForCall]: { 'zh-CN': '坐席通话忙', en: 'Busy on a call' },
};

export function describe(text: Described, locale: EnumLocale | string | undefined): string {
  return locale === EnumLocale.en ? text.en : text['zh-CN'];
}
