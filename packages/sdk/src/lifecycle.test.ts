import { EnumEventName as E, AgentBarStatus as S, EnumWSEventType as W } from '@openhotline/protocol';
import { describe, expect, it } from 'vitest';
import { lifecycleEventsFor } from './lifecycle';
import { hotlineData } from './test-support/fakes';

const events = (code: W, status: S, previous: S, extra = {}) =>
  lifecycleEventsFor(hotlineData(code, status, extra), previous);

describe('which lifecycle events a hotline message fires', () => {
  it('maps check-in, check-out, ringing and dial-out one to one', () => {
    expect(events(W.AgentCheckin, S.AgentCheckin, S.AgentCheckout)).toEqual([E.onAgentCheckedin]);
    expect(events(W.AgentCheckout, S.AgentCheckout, S.AgentReady)).toEqual([E.onAgentCheckedout]);
    expect(events(W.AgentRinging, S.AgentRinging, S.AgentReady)).toEqual([E.onCallComing]);
    expect(events(W.AgentCallDialOut, S.AgentCallDialOut, S.AgentReady)).toEqual([E.onCallDialOut]);
  });

  it('fires nothing for statuses the guide has no event for', () => {
    for (const code of [W.AgentReady, W.AgentBreak, W.AgentAcw, W.AgentCallAnswerRequest, W.AgentJoinChannel]) {
      expect(events(code, S.AgentReady, S.AgentCheckin)).toEqual([]);
    }
  });

  it('tells a new call from one that comes back from hold or a consultation', () => {
    expect(events(W.AgentCallInboundEstablish, S.AgentCallInboundEstablish, S.AgentRinging)).toEqual([
      E.onCallEstablishForCallin,
    ]);
    expect(events(W.AgentCallInboundEstablish, S.AgentCallInboundEstablish, S.AgentCallAnswerRequest)).toEqual([
      E.onCallEstablishForCallin,
    ]);
    expect(events(W.AgentCallOutBoundEstablish, S.AgentCallOutBoundEstablish, S.AgentCallDialOut)).toEqual([
      E.onCallEstablishForCallout,
    ]);
    for (const previous of [S.AgentCallHeld, S.AgentCallThirdConsult, S.AgentThirdRetrieveRequest]) {
      expect(events(W.AgentCallInboundEstablish, S.AgentCallInboundEstablish, previous)).toEqual([E.onCallRecovery]);
      expect(events(W.AgentCallOutBoundEstablish, S.AgentCallOutBoundEstablish, previous)).toEqual([E.onCallRecovery]);
    }
  });

  it('treats an internal call as outbound for the caller and inbound for the callee', () => {
    expect(events(W.AgentCallInternalBoundEstablish, S.AgentCallInternalBoundEstablish, S.AgentCallDialOut)).toEqual([
      E.onCallEstablishForCallout,
    ]);
    expect(events(W.AgentCallInternalBoundEstablish, S.AgentCallInternalBoundEstablish, S.AgentRinging)).toEqual([
      E.onCallEstablishForCallin,
    ]);
  });

  it('fires onCallHold once per hold', () => {
    expect(events(W.AgentCallHeld, S.AgentCallHeld, S.AgentCallInboundEstablish)).toEqual([E.onCallHold]);
    expect(events(W.AgentCallHeld, S.AgentCallHeld, S.AgentCallHeld)).toEqual([]);
  });

  it('ends inbound and outbound calls with their own event, whoever hung up first', () => {
    for (const releasedBy of ['agent', 'customer', 'system'] as const) {
      expect(
        events(W.AgentCallRelease, S.AgentCallRelease, S.AgentCallInboundEstablish, {
          callDirection: 'inbound',
          releasedBy,
        }),
      ).toEqual([E.onCallDidHangup]);
      expect(
        events(W.AgentCallRelease, S.AgentCallRelease, S.AgentCallOutBoundEstablish, {
          callDirection: 'outbound',
          releasedBy,
        }),
      ).toEqual([E.onCallOutDidHangup]);
    }
    expect(events(W.AgentCallRelease, S.AgentCallRelease, S.AgentRinging, { callDirection: 'internal' })).toEqual([
      E.onCallDidHangup,
    ]);
    // Without a direction (an older server) the status before decides.
    expect(events(W.AgentCallRelease, S.AgentCallRelease, S.AgentCallDialOut)).toEqual([E.onCallOutDidHangup]);
  });

  it('announces a completed transfer before the hang-up', () => {
    expect(
      events(W.AgentCallRelease, S.AgentCallRelease, S.AgentCallInboundEstablish, {
        callDirection: 'inbound',
        releasedBy: 'agent',
        releaseReason: 'transferred',
      }),
    ).toEqual([E.onCallTransferOut, E.onCallDidHangup]);
  });
});
