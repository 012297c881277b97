import { AgentBarStatus, EnumWSEventType } from '@openhotline/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedDemo } from '../../../seed.js';
import { agentToken, api } from '../../../test-support/api.js';
import { ChannelClient } from '../../../test-support/channel-client.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startTestServer();
  seedDemo(server.hotline);
  token = await agentToken(server, '1001');
});
afterAll(() => server.close());
beforeEach(async () => {
  await api(server, 'POST', '/v1/agent/checkout', { token });
});

const codes = (client: ChannelClient) =>
  client.notifies().flatMap((n) => (n.sceneType === 'hotline-message' ? [n.head.agentCallCode] : []));

describe('the guide flow: check in leaves the agent ready, check out ends the day', () => {
  it('pushes AgentCheckin then AgentReady, and AgentCheckout at the end', async () => {
    const channel = ChannelClient.connect(server.wsUrl, { token });
    await channel.waitFor((f) => f.some((x) => x.type === 'snapshot'));

    const checkin = await api(server, 'POST', '/v1/agent/checkin', { token });
    expect(checkin.status).toBe(200);
    expect(checkin.body).toMatchObject({
      status: AgentBarStatus.AgentReady,
      activeSkillGroupIds: ['support', 'sales'],
    });
    const checkout = await api(server, 'POST', '/v1/agent/checkout', { token });
    expect(checkout.body).toMatchObject({ status: AgentBarStatus.AgentCheckout, activeSkillGroupIds: [] });

    await channel.waitForNotifies(3);
    expect(codes(channel)).toEqual([
      EnumWSEventType.AgentCheckin,
      EnumWSEventType.AgentReady,
      EnumWSEventType.AgentCheckout,
    ]);
    const [first] = channel.notifies();
    expect(first?.sceneType).toBe('hotline-message');
    if (first?.sceneType === 'hotline-message') {
      // The guide's eventData.data fields, all present.
      for (const field of [
        'acid',
        'agentBasicCode',
        'agentBasicDesc',
        'agentCallCode',
        'agentCallDesc',
        'aid',
        'ani',
        'appName',
        'cmd',
        'connId',
        'departmentId',
        'dnis',
        'eventTime',
        'holdConnId',
        'jobId',
        'mid',
        'name',
        'status',
        'subSessionId',
        'supportNewFunction',
        'time',
      ]) {
        expect(first.data, field).toHaveProperty(field);
      }
      expect(first.data).toMatchObject({
        agentBasicCode: 'AgentCheckin',
        agentBasicDesc: '签入',
        status: AgentBarStatus.AgentCheckin,
        cmd: 'checkin',
        departmentId: 'dept-demo',
      });
    }
    channel.close();
  });

  it('serves only the chosen skill groups, and refuses groups the agent is not in', async () => {
    const chosen = await api(server, 'POST', '/v1/agent/checkin', { token, body: { skillGroupIds: ['sales'] } });
    expect(chosen.body).toMatchObject({ activeSkillGroupIds: ['sales'] });
    await api(server, 'POST', '/v1/agent/checkout', { token });
    const refused = await api(server, 'POST', '/v1/agent/checkin', { token, body: { skillGroupIds: ['vip'] } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'UnknownSkillGroup', details: { skillGroupIds: ['vip'] } });
  });

  it('treats a repeated check-in as a no-op that keeps the status (the guide checks in on every config change)', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token });
    await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode: 'meal' } });
    const again = await api(server, 'POST', '/v1/agent/checkin', { token });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: AgentBarStatus.AgentBreak, breakReason: 'meal' });
  });
});

describe('ready and break', () => {
  it('switches between ready and break with reason codes', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token });
    const onBreak = await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode: 'training' } });
    expect(onBreak.body).toMatchObject({ status: AgentBarStatus.AgentBreak, breakReason: 'training' });
    const byDefault = await api(server, 'POST', '/v1/agent/break', { token });
    expect(byDefault.body).toMatchObject({ status: AgentBarStatus.AgentBreak, breakReason: 'rest' });
    const ready = await api(server, 'POST', '/v1/agent/ready', { token });
    expect(ready.body).toMatchObject({ status: AgentBarStatus.AgentReady, breakReason: '' });
  });

  it('refuses an unknown or system break reason', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token });
    for (const reasonCode of ['nap', 'ringTimeout']) {
      const response = await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode } });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('UnknownBreakReason');
    }
  });

  it('refuses illegal transitions with the current status and leaves the agent as it was', async () => {
    const response = await api(server, 'POST', '/v1/agent/ready', { token });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({
      code: 'IllegalTransition',
      details: { command: 'ready', from: AgentBarStatus.AgentCheckout },
    });
    expect((await api(server, 'GET', '/v1/agent/status', { token })).body.status).toBe(AgentBarStatus.AgentCheckout);
  });

  it('lists what the agent may choose in /v1/agent/me', async () => {
    const me = await api<{ breakReasons: { code: string }[]; numberGroups: { numbers: string[] }[] }>(
      server,
      'GET',
      '/v1/agent/me',
      { token },
    );
    expect(me.body.breakReasons.map((r) => r.code)).toEqual(['rest', 'meal', 'meeting', 'training']);
    expect(me.body.numberGroups[0]?.numbers).toEqual(['02160000001', '02160000002']);
  });

  it('keeps the status history, newest first', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token });
    await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode: 'meal' } });
    const history = await api<{ items: { from: number; to: number; cmd: string; breakReason: string }[] }>(
      server,
      'GET',
      '/v1/agent/history?limit=3',
      { token },
    );
    expect(history.body.items).toEqual([
      expect.objectContaining({
        from: AgentBarStatus.AgentReady,
        to: AgentBarStatus.AgentBreak,
        cmd: 'break',
        breakReason: 'meal',
      }),
      expect.objectContaining({ from: AgentBarStatus.AgentCheckin, to: AgentBarStatus.AgentReady, cmd: 'checkin' }),
      expect.objectContaining({ from: AgentBarStatus.AgentCheckout, to: AgentBarStatus.AgentCheckin, cmd: 'checkin' }),
    ]);
  });
});

describe('transfer targets: the colleagues and skill groups a call can be handed to', () => {
  interface Targets {
    agents: { id: string; name: string; status: number; statusDesc: { en: string }; available: boolean }[];
    skillGroups: { id: string; name: string; readyAgents: number; waiting: number }[];
  }
  const targets = async (as = token) => {
    const response = await api<Targets>(server, 'GET', '/v1/agent/transfer-targets', { token: as });
    expect(response.status).toBe(200);
    return response.body;
  };

  it('lists the colleagues of the same instance only, with their live statuses, and never the agent itself', async () => {
    // Another instance with agents of the same ids and one of its own: none of them is a colleague.
    server.hotline.directory.createInstance({ id: 'elsewhere', name: 'Elsewhere' });
    server.hotline.directory.createSkillGroup('elsewhere', { id: 'other-desk', name: 'Other desk' });
    for (const id of ['1002', '2001']) {
      server.hotline.directory.createAgent('elsewhere', { id, name: `Elsewhere ${id}`, skillGroupIds: ['other-desk'] });
    }
    const colleagueToken = await agentToken(server, '1002');
    const colleague = ChannelClient.connect(server.wsUrl, { token: colleagueToken });
    await colleague.waitFor((f) => f.some((x) => x.type === 'snapshot'));
    try {
      await api(server, 'POST', '/v1/agent/checkin', { token: colleagueToken, body: { skillGroupIds: ['support'] } });

      const listed = await targets();
      expect(listed.agents.map((a) => a.id)).toEqual(['1002', '1003']);
      expect(listed.agents).toEqual([
        {
          id: '1002',
          name: '李娜 Li Na',
          status: AgentBarStatus.AgentReady,
          statusDesc: { 'zh-CN': '空闲', en: 'Ready' },
          available: true,
        },
        expect.objectContaining({ id: '1003', status: AgentBarStatus.Unregistered, available: false }),
      ]);
      expect(listed.skillGroups).toEqual([
        { id: 'support', name: '客服 Support', readyAgents: 1, waiting: 0 },
        { id: 'sales', name: '销售 Sales', readyAgents: 0, waiting: 0 },
      ]);

      // Live: a break makes the colleague unavailable at once, and its group has nobody ready.
      await api(server, 'POST', '/v1/agent/break', { token: colleagueToken, body: { reasonCode: 'meal' } });
      const onBreak = await targets();
      expect(onBreak.agents[0]).toMatchObject({ id: '1002', status: AgentBarStatus.AgentBreak, available: false });
      expect(onBreak.agents[0]?.statusDesc.en).toBe('On break');
      expect(onBreak.skillGroups.find((g) => g.id === 'support')?.readyAgents).toBe(0);

      // Ready but without a live channel, an agent cannot be offered a call: not available.
      await api(server, 'POST', '/v1/agent/ready', { token: colleagueToken });
      colleague.close();
      await expect.poll(async () => (await targets()).agents[0]?.available, { timeout: 3000 }).toBe(false);

      // The colleague's own list has 1001 and not itself.
      expect((await targets(colleagueToken)).agents.map((a) => a.id)).toEqual(['1001', '1003']);
    } finally {
      colleague.close();
      await api(server, 'POST', '/v1/agent/checkout', { token: colleagueToken });
    }
  });

  it('needs an agent token: 401 without or with a bad one, 403 for the admin key or another instance', async () => {
    const none = await api(server, 'GET', '/v1/agent/transfer-targets');
    expect([none.status, none.body.code]).toEqual([401, 'Unauthorized']);
    const forged = await api(server, 'GET', '/v1/agent/transfer-targets', { token: 'not-a-token' });
    expect(forged.status).toBe(401);
    const admin = await api(server, 'GET', '/v1/agent/transfer-targets', { token: server.adminKey });
    expect([admin.status, admin.body.code]).toEqual([403, 'Forbidden']);
    const mismatch = await api(server, 'GET', '/v1/agent/transfer-targets', {
      token,
      headers: { 'x-instance-id': 'elsewhere' },
    });
    expect([mismatch.status, mismatch.body.code]).toEqual([403, 'InstanceMismatch']);
  });
});

describe('after-call work (autoChangeOnLineTime)', () => {
  // Calls arrive with the calls issue; until then the test plays the call service's part in-process.
  const endACall = () => {
    const { agents } = server.hotline;
    agents.execute('demo', '1001', { type: 'offerCall' }, 'test-call');
    agents.execute('demo', '1001', { type: 'inboundEstablished' }, 'test-call');
    agents.releaseFromCall('demo', '1001', 'test-call');
  };

  it('returns to ready by itself after the configured seconds', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token, body: { acwSeconds: 1 } });
    const channel = ChannelClient.connect(server.wsUrl, { token });
    await channel.waitFor((f) => f.some((x) => x.type === 'snapshot'));
    const released = Date.now();
    endACall();
    const status = await api(server, 'GET', '/v1/agent/status', { token });
    expect(status.body).toMatchObject({ status: AgentBarStatus.AgentAcw, acwSeconds: 1 });
    expect(Number(status.body.acwEndsAt)).toBeGreaterThan(released);

    await channel.waitFor((f) => f.filter((x) => x.type === 'notify').length >= 5, 3000, 'ACW to end');
    expect(Date.now() - released).toBeGreaterThanOrEqual(900);
    expect(codes(channel)).toEqual([
      EnumWSEventType.AgentRinging,
      EnumWSEventType.AgentCallInboundEstablish,
      EnumWSEventType.AgentCallRelease,
      EnumWSEventType.AgentAcw,
      EnumWSEventType.AgentReady,
    ]);
    const acwEvent = channel.notifies()[4];
    expect(acwEvent?.sceneType === 'hotline-message' && acwEvent.data.cmd).toBe('acw-timeout');
    channel.close();
  });

  it('stays in after-call work until the agent acts when the time is 0', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token, body: { acwSeconds: 0 } });
    endACall();
    await new Promise((r) => setTimeout(r, 1300));
    expect((await api(server, 'GET', '/v1/agent/status', { token })).body).toMatchObject({
      status: AgentBarStatus.AgentAcw,
      acwEndsAt: null,
    });
    expect((await api(server, 'POST', '/v1/agent/ready', { token })).body.status).toBe(AgentBarStatus.AgentReady);
  });

  it('ends after-call work early when the agent goes ready, and the timer does not fire later', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token, body: { acwSeconds: 1 } });
    endACall();
    await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode: 'rest' } });
    await new Promise((r) => setTimeout(r, 1300));
    expect((await api(server, 'GET', '/v1/agent/status', { token })).body.status).toBe(AgentBarStatus.AgentBreak);
  });

  it('changes the time of the current check-in through settings', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token });
    const changed = await api(server, 'PUT', '/v1/agent/settings', { token, body: { acwSeconds: 30 } });
    expect(changed.body).toMatchObject({ acwSeconds: 30 });
    const invalid = await api(server, 'PUT', '/v1/agent/settings', { token, body: { acwSeconds: -1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('ValidationFailed');
  });
});

describe('bad input on agent routes', () => {
  it.each([
    ['malformed JSON', '{"skillGroupIds": [', 400, 'InvalidJson'],
    ['a wrong type', { skillGroupIds: 'support' }, 400, 'ValidationFailed'],
    ['an unknown field', { ready: true }, 400, 'ValidationFailed'],
    ['a negative ACW time', { acwSeconds: -5 }, 400, 'ValidationFailed'],
  ])('answers %s with a stable code', async (_what, body, status, code) => {
    const response = await api(server, 'POST', '/v1/agent/checkin', { token, body });
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ code, requestId: expect.any(String) });
  });

  it('answers an oversized body with PayloadTooLarge', async () => {
    const response = await api(server, 'POST', '/v1/agent/checkin', {
      token,
      body: { skillGroupIds: ['x'.repeat(70_000)] },
    });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('PayloadTooLarge');
  });

  it('answers a wrong content type with UnsupportedMediaType', async () => {
    const response = await api(server, 'POST', '/v1/agent/checkin', {
      token,
      body: '<checkin/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(response.status).toBe(415);
    expect(response.body.code).toBe('UnsupportedMediaType');
  });
});
