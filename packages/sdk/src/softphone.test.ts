import { AgentBarStatus as S, EnumWSEventType as W } from '@openhotline/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnumEventName as E } from './index';
import type { SoftPhone } from './softphone';
import {
  collect,
  FakeSocket,
  flush,
  makePhone,
  notify,
  type RecordedRequest,
  type Responder,
  snapshot,
} from './test-support/fakes';

// Unit tests of the SoftPhone's logic with a scripted socket and a recording fetch (see test-support/fakes.ts).
// The same flows run against the real server in headless Chromium under e2e/.

const CONFIG = { InstanceId: 'demo', BearerToken: 'token-1', apiHost: 'hotline.example.com:8443' };
const ALL = [...Object.values(E), 'AgentRinging', 'AgentCallRelease'];
let phones: SoftPhone[] = [];

function setup(respond?: Responder, deps = {}) {
  const made = makePhone(deps, respond);
  phones.push(made.phone);
  const events = collect(made.phone, ALL);
  return { ...made, events, names: () => events.map(([name]) => name) };
}

async function connected(status = S.AgentReady, respond?: Responder) {
  const made = setup(respond);
  made.phone.setConfig(CONFIG);
  await flush();
  const socket = FakeSocket.latest();
  socket.handshake(status, 10);
  return { ...made, socket };
}

beforeEach(() => FakeSocket.reset());
afterEach(() => {
  for (const phone of phones) phone.destroy();
  phones = [];
});

describe('configuration', () => {
  it('refuses a bad value with actionError ConfigInvalid and keeps the previous config', async () => {
    const { phone, events } = setup();
    phone.setConfig({ InstanceId: 'demo', locale: 'en' as never });
    expect(phone.setConfig({ InstanceId: 'other', autoChangeOnLineTime: -5 })).toBe(false);
    expect(phone.getConfig().InstanceId).toBe('demo');
    expect(events).toHaveLength(1);
    const [name, data] = events[0] ?? [];
    expect(name).toBe('actionError');
    expect(data).toMatchObject({ action: 'setConfig', code: 'ConfigInvalid' });
    expect((data as { message: string }).message).toMatch(/autoChangeOnLineTime must be a whole number/);
  });

  it('passes the configuration in force as preConfig', async () => {
    const { phone } = setup();
    phone.setConfig({ InstanceId: 'demo', locale: 'en' as never });
    const seen: unknown[] = [];
    phone.register(E.actionError, (eventData, preConfig) =>
      seen.push(eventData.preConfig === preConfig, preConfig.locale),
    );
    phone.setConfig({ env: 'nowhere' as never });
    expect(seen).toEqual([true, 'en']);
  });

  it('connects the live channel once InstanceId and BearerToken are set, with token and locale', async () => {
    const { phone } = setup();
    phone.setConfig({ InstanceId: 'demo' });
    await flush();
    expect(FakeSocket.all).toHaveLength(0);
    phone.setConfig({ BearerToken: 'token-1', apiHost: 'hotline.example.com:8443' });
    await flush();
    const url = new URL(FakeSocket.latest().url);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe('wss://hotline.example.com:8443/v1/agent/channel');
    expect(url.searchParams.get('access_token')).toBe('token-1');
    expect(url.searchParams.get('locale')).toBe('zh-CN');
    expect(url.searchParams.has('lastSeq')).toBe(false);
  });

  it('sends a live change of autoChangeOnLineTime to the server while checked in', async () => {
    const { phone, http } = await connected(S.AgentReady);
    phone.setConfig({ autoChangeOnLineTime: 30 });
    await flush();
    expect(http.requests.map((r) => [r.method, new URL(r.url).pathname, r.body])).toEqual([
      ['PUT', '/v1/agent/settings', { acwSeconds: 30 }],
    ]);
  });

  it('reports the environment problems once, at registration', async () => {
    const { SoftPhoneError } = await import('./errors');
    const made = setup(undefined, {
      checkEnvironment: async () => [new SoftPhoneError('MicrophoneBlockedByPermissionsPolicy')],
    });
    made.phone.setConfig(CONFIG);
    await flush();
    made.phone.setConfig({ BearerToken: 'token-2' });
    await flush();
    expect(made.events.filter(([n]) => n === 'actionError').map(([, d]) => d)).toEqual([
      expect.objectContaining({ code: 'MicrophoneBlockedByPermissionsPolicy', action: 'environment' }),
    ]);
  });
});

describe('another instance', () => {
  it('starts a fresh session: status -1 until the new snapshot, no resume of the old stream', async () => {
    const { phone } = await connected(S.AgentReady);
    expect(await phone.getAgentBarStatus()).toBe(S.AgentReady);
    phone.setConfig({ InstanceId: 'other', BearerToken: 'token-other' });
    await flush();
    const fresh = FakeSocket.latest();
    expect(fresh.query.get('access_token')).toBe('token-other');
    expect(fresh.query.has('epoch')).toBe(false);
    fresh.open();
    expect(phone.getConnectionState()).toBe('connecting');
    fresh.handshake(S.AgentCheckout, 0, 'ep9');
    expect(await phone.getAgentBarStatus()).toBe(S.AgentCheckout);
  });
});

describe('registering callbacks', () => {
  it('returns the unregister function', async () => {
    const { phone, socket } = await connected();
    const seen: string[] = [];
    const off = phone.register(E.onCallComing, (e) => seen.push(e.data.connId));
    socket.receive(notify(11, W.AgentRinging, S.AgentRinging, { connId: 'call-1' }));
    off();
    socket.receive(notify(12, W.AgentCallRelease, S.AgentCallRelease, { connId: 'call-1' }));
    socket.receive(notify(13, W.AgentRinging, S.AgentRinging, { connId: 'call-2' }));
    expect(seen).toEqual(['call-1']);
  });

  it('accepts hotline codes, as the guide answer demo registers AgentRinging', async () => {
    const { phone, socket } = await connected();
    const seen: unknown[] = [];
    phone.register('AgentRinging', (eventData, _preConfig, data) => seen.push(eventData.type, data.connId));
    phone.register((E as unknown as Record<string, W>).AgentRinging as W, (eventData) =>
      seen.push(`alias:${eventData.data.connId}`),
    );
    socket.receive(notify(11, W.AgentRinging, S.AgentRinging, { connId: 'call-1' }));
    expect(seen).toEqual(['AgentRinging', 'call-1', 'alias:call-1']);
    expect(Object.keys(E)).toHaveLength(16);
  });

  it('refuses an unknown name or a missing callback with actionError, and returns a harmless canceler', () => {
    const { phone, events } = setup();
    phone.register(undefined as never, () => {})();
    phone.register(E.onCallComing, 'nope' as never)();
    expect(events.map(([, d]) => (d as { code: string }).code)).toEqual(['UnknownEvent', 'InvalidArgument']);
    expect(events[0]?.[1]).toMatchObject({ message: expect.stringMatching(/EnumWSEventType.AgentRinging/) });
  });
});

describe('the agent status', () => {
  it('is -1 before registration, then what the server says', async () => {
    const { phone } = setup(() => ({ status: 503, body: { code: 'ServiceUnavailable', message: 'starting' } }));
    expect(await phone.getAgentBarStatus()).toBe(-1);
    phone.setConfig(CONFIG);
    expect(await phone.getAgentBarStatus()).toBe(-1);
    await flush();
    FakeSocket.latest().handshake(S.AgentCheckout);
    expect(await phone.getAgentBarStatus()).toBe(S.AgentCheckout);
    FakeSocket.latest().receive(notify(1, W.AgentCheckin, S.AgentCheckin));
    FakeSocket.latest().receive(notify(2, W.AgentReady, S.AgentReady));
    expect(await phone.getAgentBarStatus()).toBe(S.AgentReady);
  });

  it('asks the server while the channel is down, so it is never stale', async () => {
    const { phone, socket } = await connected(S.AgentReady, (r) =>
      new URL(r.url).pathname === '/v1/agent/status'
        ? { status: 200, body: snapshot(S.AgentBreak, 5000) }
        : { status: 200 },
    );
    socket.serverClose(1006);
    expect(phone.getConnectionState()).toBe('reconnecting');
    expect(await phone.getAgentBarStatus()).toBe(S.AgentBreak);
  });
});

describe('the live channel across drops', () => {
  it('resumes from the last sequence number and never delivers a message twice', async () => {
    const { socket, names } = await connected();
    socket.receive(notify(11, W.AgentRinging, S.AgentRinging, { connId: 'c1', callDirection: 'inbound' }));
    socket.serverClose(1006);
    await flush();
    const again = FakeSocket.latest();
    expect(again).not.toBe(socket);
    expect(again.query.get('epoch')).toBe('ep1');
    expect(again.query.get('lastSeq')).toBe('11');
    again.open();
    again.receive({
      type: 'hello',
      epoch: 'ep1',
      seq: 13,
      connectionId: 'c2',
      serverTime: 1,
      heartbeatIntervalMs: 15000,
    });
    // The server replays 12 and 13; a stray duplicate of 11 and of 12 must be dropped.
    again.receive(notify(11, W.AgentRinging, S.AgentRinging, { connId: 'c1' }));
    again.receive(
      notify(12, W.AgentCallInboundEstablish, S.AgentCallInboundEstablish, { connId: 'c1', callDirection: 'inbound' }),
    );
    again.receive(notify(12, W.AgentCallInboundEstablish, S.AgentCallInboundEstablish, { connId: 'c1' }));
    again.receive(
      notify(13, W.AgentCallRelease, S.AgentCallRelease, {
        connId: 'c1',
        callDirection: 'inbound',
        releasedBy: 'customer',
      }),
    );
    expect(names()).toEqual([
      'onCallComing',
      'AgentRinging',
      'onCallEstablishForCallin',
      'onCallDidHangup',
      'AgentCallRelease',
    ]);
  });

  it('re-derives the status from a snapshot after a server restart', async () => {
    const { phone, socket } = await connected(S.AgentReady);
    socket.serverClose(4012, 'ServiceUnavailable');
    await flush();
    const again = FakeSocket.latest();
    again.handshake(S.AgentCheckout, 0, 'ep2');
    expect(await phone.getAgentBarStatus()).toBe(S.AgentCheckout);
    again.serverClose(1006);
    await flush();
    expect(FakeSocket.latest().query.get('epoch')).toBe('ep2');
  });

  it('asks for a replay instead of skipping a gap', async () => {
    const { socket, names } = await connected();
    socket.receive(notify(12, W.AgentRinging, S.AgentRinging, { connId: 'c1' }));
    expect(names()).toEqual([]);
    expect(socket.sent).toContainEqual({ type: 'resume', epoch: 'ep1', lastSeq: 10 });
    socket.receive(notify(11, W.AgentBreak, S.AgentBreak));
    socket.receive(notify(12, W.AgentRinging, S.AgentRinging, { connId: 'c1' }));
    expect(names()).toEqual(['onCallComing', 'AgentRinging']);
  });

  it('stays closed after takeWebSocketNotify().socket.close() until reconnect() or a new token', async () => {
    const { phone, socket } = await connected();
    phone.takeWebSocketNotify().socket.close();
    await flush();
    expect(phone.getConnectionState()).toBe('closed');
    expect(FakeSocket.all).toHaveLength(1);
    phone.setConfig({ BearerToken: 'token-2' });
    await flush();
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.latest().query.get('lastSeq')).toBe('10');
    void socket;
  });

  it('stops on a closed-for-good channel (too many tabs) and says why', async () => {
    const { socket, events } = await connected();
    socket.receive({ type: 'error', code: 'TooManyConnections', message: 'oldest closed' });
    socket.serverClose(4009, 'TooManyConnections');
    await flush();
    expect(FakeSocket.all).toHaveLength(1);
    expect(events.at(-1)?.[1]).toMatchObject({ action: 'channel', code: 'TooManyConnections' });
  });
});

describe('token expiry', () => {
  const expired = { status: 401, body: { code: 'TokenExpired', message: 'The access token has expired.' } };
  const unauthorized = { status: 401, body: { code: 'Unauthorized', message: 'bad token' } };
  const byToken =
    (good: string): Responder =>
    (r) =>
      r.headers.authorization === `Bearer ${good}` ? { status: 200, body: snapshot(S.AgentReady, 9000) } : expired;

  it('emits tokenExpired then actionError, and retries the action with the new token', async () => {
    const { phone, http, names } = await connected(S.AgentCheckout, byToken('token-2'));
    const result = phone.agentCheckin();
    await flush();
    expect(names()).toEqual(['actionError.tokenExpired', 'actionError']);
    phone.setConfig({ BearerToken: 'token-2' });
    expect(await result).toMatchObject({ ok: true });
    expect(http.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(names()).toEqual(['actionError.tokenExpired', 'actionError', 'onAgentCheckedin', 'actionSuccess']);
  });

  it("does not loop on the guide demo that sets the literal 'newBearerToken' on every error", async () => {
    const made = await connected(S.AgentCheckout, (r) =>
      r.headers.authorization === 'Bearer newBearerToken' ? unauthorized : expired,
    );
    made.phone.register(E.actionError, () => made.phone.setConfig({ BearerToken: 'newBearerToken' }));
    const result = made.phone.agentCheckin();
    await flush(20);
    expect(made.http.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer newBearerToken']);
    expect(made.names()).toEqual(['actionError.tokenExpired', 'actionError', 'actionError']);
    // A really new token still gets the parked action through.
    made.http.requests.length = 0;
    made.phone.setConfig({ BearerToken: 'token-3' });
    await flush();
    expect(made.http.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-3']);
    void result;
  });

  it('uses a token set while the request was on its way without asking again', async () => {
    let first = true;
    const made = await connected(S.AgentCheckout, async (r) => {
      if (first) {
        first = false;
        made.phone.setConfig({ BearerToken: 'token-2' });
        return expired;
      }
      return r.headers.authorization === 'Bearer token-2'
        ? { status: 200, body: snapshot(S.AgentReady, 9000) }
        : expired;
    });
    expect(await made.phone.agentCheckin()).toMatchObject({ ok: true });
  });

  it('resumes the channel after it was closed for an expired token, once a new token is set', async () => {
    const { phone, socket, names } = await connected();
    socket.receive({ type: 'error', code: 'TokenExpired', message: 'The access token has expired.' });
    socket.serverClose(4001, 'TokenExpired');
    await flush();
    expect(FakeSocket.all).toHaveLength(1);
    expect(phone.getConnectionState()).toBe('awaitingToken');
    expect(names()).toEqual(['actionError.tokenExpired', 'actionError']);
    phone.setConfig({ BearerToken: 'token-2' });
    await flush();
    const again = FakeSocket.latest();
    expect(again).not.toBe(socket);
    expect(again.query.get('access_token')).toBe('token-2');
    expect(again.query.get('lastSeq')).toBe('10');
  });

  it('reconnects quietly when the host had already refreshed the token', async () => {
    const { phone, socket, names } = await connected();
    phone.setConfig({ BearerToken: 'token-2' });
    await flush();
    socket.serverClose(4001, 'TokenExpired');
    await flush();
    expect(names()).toEqual([]);
    expect(FakeSocket.latest().query.get('access_token')).toBe('token-2');
  });
});

describe('check-in and check-out', () => {
  const checkin =
    (status: S): Responder =>
    () => ({ status: 200, body: snapshot(status, 9000) });

  it('sends autoChangeOnLineTime as acwSeconds, with bearer and X-Instance-Id', async () => {
    const { phone, http } = await connected(S.AgentCheckout, checkin(S.AgentReady));
    phone.setConfig({ autoChangeOnLineTime: 0 });
    await phone.agentCheckin();
    const request = http.requests.at(-1) as RecordedRequest;
    expect(request.url).toBe('https://hotline.example.com:8443/v1/agent/checkin');
    expect(request.headers).toMatchObject({ authorization: 'Bearer token-1', 'x-instance-id': 'demo' });
    expect(request.body).toEqual({ acwSeconds: 0 });
  });

  it('announces a check-in once, whether the message or the HTTP answer comes first', async () => {
    const { phone, socket, names } = await connected(S.AgentCheckout, checkin(S.AgentReady));
    socket.receive(notify(11, W.AgentCheckin, S.AgentCheckin));
    await phone.agentCheckin();
    socket.receive(notify(12, W.AgentReady, S.AgentReady));
    expect(names()).toEqual(['onAgentCheckedin', 'actionSuccess']);
  });

  it('announces a repeated check-in (after a reload) that the server does not push', async () => {
    const { phone, names, events } = await connected(S.AgentReady, checkin(S.AgentReady));
    await phone.agentCheckin();
    expect(names()).toEqual(['onAgentCheckedin', 'actionSuccess']);
    expect(events[0]?.[1]).toMatchObject({ agentCallCode: 'AgentCheckin', status: 3, agentBasicDesc: '空闲' });
  });

  it('startWork and agentCheckin are the same API', async () => {
    const { APIs } = await import('./apis');
    expect(typeof APIs.startWork).toBe('function');
    expect(Object.keys(APIs).slice(0, 9)).toEqual([
      'renderComponent',
      'doCallOut',
      'startWork',
      'agentCheckin',
      'agentCheckout',
      'getAgentBarStatus',
      'callAnswer',
      'callHangup',
      'takeWebSocketNotify',
    ]);
  });
});

describe('calls', () => {
  const callView = (connId: string) => ({ status: 200, body: { connId, jobId: 'j', acid: 'a', aid: 'b' } });
  const paths = (requests: RecordedRequest[]) =>
    requests.map((r) => [r.method, new URL(r.url).pathname, r.body] as const);

  it('places a call with the guide param, and calls onSuccess once when the callee answers', async () => {
    const { phone, http, socket, names } = await connected(S.AgentReady, () => callView('out-1'));
    const answered: unknown[] = [];
    const result = await phone.doCallOut({
      number: '13800138000',
      onSuccess: (call) => answered.push(call.connId),
      param: {
        number: '13800138000',
        memberId: -1,
        memberName: '匿名会员',
        fromSource: 'other_system_out',
        taskId: undefined,
        channelId: 'ch-9',
        caseId: '',
      },
    });
    expect(result.ok).toBe(true);
    expect(paths(http.requests)).toEqual([
      [
        'POST',
        '/v1/agent/calls/outbound',
        {
          number: '13800138000',
          fromSource: 'other_system_out',
          memberName: '匿名会员',
          memberId: -1,
          channelId: 'ch-9',
        },
      ],
    ]);
    socket.receive(notify(11, W.AgentCallDialOut, S.AgentCallDialOut, { connId: 'out-1', callDirection: 'outbound' }));
    socket.receive(
      notify(12, W.AgentCallOutBoundEstablish, S.AgentCallOutBoundEstablish, {
        connId: 'out-1',
        callDirection: 'outbound',
      }),
    );
    socket.receive(notify(13, W.AgentCallHeld, S.AgentCallHeld, { connId: 'out-1', callDirection: 'outbound' }));
    socket.receive(
      notify(14, W.AgentCallOutBoundEstablish, S.AgentCallOutBoundEstablish, {
        connId: 'out-1',
        callDirection: 'outbound',
      }),
    );
    socket.receive(
      notify(15, W.AgentCallRelease, S.AgentCallRelease, {
        connId: 'out-1',
        callDirection: 'outbound',
        releasedBy: 'customer',
      }),
    );
    expect(answered).toEqual(['out-1']);
    expect(names().filter((n) => n.startsWith('on'))).toEqual([
      'onCallDialOut',
      'onCallEstablishForCallout',
      'onCallHold',
      'onCallRecovery',
      'onCallOutDidHangup',
    ]);
  });

  it('calls onSuccess even when the answer arrives before the HTTP reply', async () => {
    let socketRef: FakeSocket | undefined;
    const { phone, socket } = await connected(S.AgentReady, () => {
      socketRef?.receive(
        notify(11, W.AgentCallOutBoundEstablish, S.AgentCallOutBoundEstablish, {
          connId: 'out-2',
          callDirection: 'outbound',
        }),
      );
      return callView('out-2');
    });
    socketRef = socket;
    const answered: string[] = [];
    await phone.doCallOut({ number: 13800138000, onSuccess: (call) => answered.push(call.connId) });
    expect(answered).toEqual(['out-2']);
  });

  it('refuses a number that is not a phone number before calling the server', async () => {
    const { phone, http, events } = await connected();
    const result = await phone.doCallOut({ number: 'abc' });
    expect(result.ok).toBe(false);
    expect(http.requests).toHaveLength(0);
    expect(events.at(-1)?.[1]).toMatchObject({ code: 'InvalidArgument', action: 'doCallOut' });
  });

  it('answers and hangs up with the guide four ids, announcing each first', async () => {
    const { phone, http, names } = await connected(S.AgentRinging, () => callView('c1'));
    await phone.callAnswer('c1', 'job-1', 'acid-1', 'aid-1');
    await phone.callHangup('c1', 'job-1', undefined, '');
    expect(paths(http.requests)).toEqual([
      // The snapshot says ringing on a call this page has not heard of (a reload while it rang): it asks first.
      ['GET', '/v1/agent/calls', undefined],
      ['POST', '/v1/agent/calls/c1/answer', { jobId: 'job-1', acid: 'acid-1', aid: 'aid-1' }],
      ['POST', '/v1/agent/calls/c1/hangup', { jobId: 'job-1' }],
    ]);
    expect(names()).toEqual(['onCallWillAnswer', 'actionSuccess', 'onCallWillHangup', 'actionSuccess']);
  });

  it('acts on the current call when no id is given', async () => {
    const { phone, http, socket } = await connected(S.AgentReady, () => callView('c7'));
    socket.receive(notify(11, W.AgentRinging, S.AgentRinging, { connId: 'c7', jobId: 'j7', acid: 'a7', aid: 'b7' }));
    await phone.callAnswer();
    await phone.callHold();
    await phone.callRetrieve();
    await phone.callMute(true);
    await phone.sendDtmf('12#');
    await phone.callTransfer({ type: 'agent', agentId: '1002' });
    await phone.callConsult('13900000000');
    await phone.consultComplete();
    await phone.consultCancel();
    await phone.callConference();
    await phone.callInternal('1003');
    await phone.callHangup();
    expect(paths(http.requests)).toEqual([
      ['POST', '/v1/agent/calls/c7/answer', { jobId: 'j7', acid: 'a7', aid: 'b7' }],
      ['POST', '/v1/agent/calls/c7/hold', {}],
      ['POST', '/v1/agent/calls/c7/retrieve', {}],
      ['POST', '/v1/agent/calls/c7/mute', { muted: true }],
      ['POST', '/v1/agent/calls/c7/dtmf', { digits: '12#' }],
      ['POST', '/v1/agent/calls/c7/transfer', { target: { type: 'agent', agentId: '1002' } }],
      ['POST', '/v1/agent/calls/c7/consult', { target: { type: 'number', number: '13900000000' } }],
      ['POST', '/v1/agent/calls/c7/consult/complete', {}],
      ['POST', '/v1/agent/calls/c7/consult/cancel', {}],
      ['POST', '/v1/agent/calls/c7/conference', {}],
      ['POST', '/v1/agent/calls/internal', { agentId: '1003' }],
      ['POST', '/v1/agent/calls/c7/hangup', { jobId: 'j7', acid: 'a7', aid: 'b7' }],
    ]);
  });

  describe('after a page reload mid-call (a snapshot of a call the SDK never saw)', () => {
    const talking = { connId: 'c9', jobId: 'j9', acid: 'a9', aid: 'b9', state: 'talking', direction: 'inbound' };

    it('takes the call from the server, so the call APIs act on it without ids', async () => {
      const { phone, http } = await connected(S.AgentCallInboundEstablish, (request) =>
        request.method === 'GET' ? { status: 200, body: { items: [talking] } } : callView('c9'),
      );
      await flush();
      expect(phone.getCurrentCall()).toMatchObject({
        connId: 'c9',
        jobId: 'j9',
        acid: 'a9',
        aid: 'b9',
        status: S.AgentCallInboundEstablish,
        agentCallCode: W.AgentCallInboundEstablish,
        callDirection: 'inbound',
      });
      expect((await phone.callHangup()).ok).toBe(true);
      expect(paths(http.requests)).toEqual([
        ['GET', '/v1/agent/calls', undefined],
        ['POST', '/v1/agent/calls/c9/hangup', { jobId: 'j9', acid: 'a9', aid: 'b9' }],
      ]);
    });

    it('asks nothing when the agent is not on a call, and lets a newer release win over a late answer', async () => {
      const idle = await connected(S.AgentReady);
      await flush();
      expect(idle.http.requests).toEqual([]);

      let answer: (calls: unknown) => void = () => {};
      const late = new Promise<{ status: number; body: unknown }>((resolve) => {
        answer = (calls) => resolve({ status: 200, body: { items: calls } });
      });
      const { phone, socket } = await connected(S.AgentCallInboundEstablish, () => late);
      socket.receive(notify(11, W.AgentCallRelease, S.AgentReady, { connId: 'c9' }));
      answer([talking]);
      await flush();
      expect(phone.getCurrentCall()).toBeUndefined();
    });
  });

  it('lets a call go with its release: after-call work that names it does not make it current again', async () => {
    const { phone, socket, events } = await connected(S.AgentReady);
    socket.receive(notify(11, W.AgentRinging, S.AgentRinging, { connId: 'c5' }));
    socket.receive(notify(12, W.AgentCallInboundEstablish, S.AgentCallInboundEstablish, { connId: 'c5' }));
    expect(phone.getCurrentCall()?.connId).toBe('c5');
    socket.receive(notify(13, W.AgentCallRelease, S.AgentCallRelease, { connId: 'c5' }));
    socket.receive(notify(14, W.AgentAcw, S.AgentAcw, { connId: 'c5' }));
    expect(phone.getCurrentCall()).toBeUndefined();
    expect((await phone.callHangup()).ok).toBe(false);
    expect(events.at(-1)?.[1]).toMatchObject({ code: 'NoCurrentCall', action: 'callHangup' });
  });

  it('says NoCurrentCall instead of guessing, and passes server errors through with their code', async () => {
    const { phone, events } = await connected(S.AgentReady, () => ({
      status: 409,
      body: {
        code: 'IllegalTransition',
        message: 'Cannot hold while ready.',
        details: { from: 3 },
        requestId: 'req_1',
      },
    }));
    expect((await phone.callHold()).ok).toBe(false);
    expect(events.at(-1)?.[1]).toMatchObject({ code: 'NoCurrentCall', action: 'callHold' });
    await phone.callHold('c1');
    expect(events.at(-1)?.[1]).toEqual({
      action: 'callHold',
      code: 'IllegalTransition',
      message: 'Cannot hold while ready.',
      remedy: '',
      status: 409,
      details: { from: 3 },
      requestId: 'req_1',
    });
  });

  it('reports a network failure as NetworkError', async () => {
    const { phone, events } = await connected(S.AgentReady, () => Promise.reject(new TypeError('Failed to fetch')));
    await phone.agentReady();
    expect(events.at(-1)?.[1]).toMatchObject({ code: 'NetworkError', action: 'agentReady' });
  });
});

describe('transfer targets', () => {
  const TARGETS = {
    agents: [
      { id: '1002', name: 'Li Na', status: 3, statusDesc: { 'zh-CN': '空闲', en: 'Ready' }, available: true },
      { id: '1003', name: 'Wang Fang', status: 4, statusDesc: { 'zh-CN': '小休', en: 'On break' }, available: false },
    ],
    skillGroups: [{ id: 'support', name: 'Support', readyAgents: 1, waiting: 2 }],
  };

  it('asks the server with the bearer and X-Instance-Id, and resolves with its list (actionSuccess too)', async () => {
    const { phone, http, events } = await connected(S.AgentReady, () => ({ status: 200, body: TARGETS }));
    const result = await phone.getTransferTargets();
    expect(result).toEqual({ ok: true, data: TARGETS });
    const [request] = http.requests;
    expect([request?.method, new URL(request?.url ?? '').pathname]).toEqual(['GET', '/v1/agent/transfer-targets']);
    expect(request?.headers).toMatchObject({ authorization: 'Bearer token-1', 'x-instance-id': 'demo' });
    expect(events.at(-1)).toEqual(['actionSuccess', { action: 'getTransferTargets', result: TARGETS }]);
  });

  it('reports a refusal as actionError with the server code, and NotConfigured before setConfig', async () => {
    const { phone, events } = await connected(S.AgentReady, () => ({
      status: 403,
      body: { code: 'InstanceMismatch', message: 'Wrong instance.' },
    }));
    const refused = await phone.getTransferTargets();
    expect(refused.ok).toBe(false);
    expect(events.at(-1)?.[1]).toMatchObject({ action: 'getTransferTargets', code: 'InstanceMismatch', status: 403 });

    const fresh = setup();
    const early = await fresh.phone.getTransferTargets();
    expect(early.ok ? '' : early.error.code).toBe('NotConfigured');
    expect(fresh.http.requests).toHaveLength(0);
  });
});

describe('takeWebSocketNotify', () => {
  it('subscribes by sceneType, exposes the socket, and works on the function itself', async () => {
    const { phone, socket } = await connected();
    const notifyHandle = phone.takeWebSocketNotify();
    const seen: unknown[] = [];
    const listener = (msg: { head: { agentCallCode?: string } }) => seen.push(msg.head.agentCallCode);
    notifyHandle.on('hotline-message', listener as never);
    socket.receive(notify(11, W.AgentBreak, S.AgentBreak));
    notifyHandle.off('hotline-message', listener as never);
    socket.receive(notify(12, W.AgentReady, S.AgentReady));
    expect(seen).toEqual(['AgentBreak']);
    expect(notifyHandle.listenerContainer).toEqual({ 'hotline-message': [] });
    expect(typeof notifyHandle.socket.reconnect).toBe('function');
    expect(phone.takeWebSocketNotify()).toBe(notifyHandle);
  });
});

describe('the UI placeholder', () => {
  it('mounts through renderComponent, re-renders on a locale change, and refuses what it cannot mount', () => {
    const { phone, events } = setup();
    const rendered: string[] = [];
    const element = {
      nodeType: 1,
      ownerDocument: {
        createComment: (text: string) => ({ text, parentNode: null, replaceWith: () => {}, remove: () => {} }),
      },
      appendChild: (node: { text: string }) => rendered.push(node.text),
    };
    const Component = phone.getUIComponent();
    expect(Component()).toBeNull();
    expect(Component.isPlaceholder).toBe(true);
    phone.renderComponent(Component, element);
    phone.setConfig({ locale: 'en' as never });
    expect(rendered).toHaveLength(2);
    expect(rendered[1]).toMatch(/locale=en/);
    phone.renderComponent(() => null, element);
    phone.renderComponent(Component, null);
    expect(events.map(([, d]) => (d as { code: string }).code)).toEqual(['UnsupportedComponent', 'InvalidArgument']);
  });
});
