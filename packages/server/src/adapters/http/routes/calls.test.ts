import type { CallRecord } from '@openhotline/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type CallCenter, S, startCallCenter } from '../../../test-support/call-center.js';

let center: CallCenter | undefined;
afterEach(async () => {
  await center?.close();
  center = undefined;
});

const start = async (options?: Parameters<typeof startCallCenter>[0]) => {
  center = await startCallCenter(options);
  return center;
};
const agent = (c: CallCenter, id: string) => {
  const found = c.agents[id];
  if (!found) throw new Error(`no agent ${id}`);
  return found;
};
const record = async (c: CallCenter, connId: string) =>
  (await c.admin<CallRecord>('GET', `/v1/admin/instances/demo/records/${connId}`)).body;
const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('an inbound call to the hotline', () => {
  it('rings the longest-idle agent, who answers with the ids of the ringing event and hangs up', async () => {
    const c = await start();
    const alice = agent(c, '1001');
    const start0 = alice.messages().length;
    const connId = await c.placeCall('13812345678');

    const ringing = await alice.waitFor('AgentRinging', start0);
    expect(ringing.data).toMatchObject({
      connId,
      ani: '13812345678',
      dnis: '4008001000',
      callDirection: 'inbound',
      status: S.AgentRinging,
      agentBasicCode: 'AgentBusyForCall',
    });
    const { jobId, acid, aid } = ringing.data;
    expect([jobId, acid, aid].every((id) => id.length > 0)).toBe(true);

    const answered = await alice.post(`/v1/agent/calls/${connId}/answer`, { jobId, acid, aid });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ connId, state: 'talking', direction: 'inbound' });
    await alice.waitFor('AgentCallInboundEstablish', start0);

    const hungUp = await alice.post(`/v1/agent/calls/${connId}/hangup`, { jobId, acid, aid });
    expect(hungUp.status).toBe(200);
    const release = await alice.waitFor('AgentCallRelease', start0);
    expect(release.data).toMatchObject({ connId, releasedBy: 'agent', releaseReason: 'agent-hangup' });
    await alice.waitFor('AgentAcw', start0);

    expect(alice.codes().slice(start0)).toEqual([
      'AgentRinging',
      'AgentCallAnswerRequest',
      'AgentCallInboundEstablish',
      'AgentCallRelease',
      'AgentAcw',
    ]);
    expect(alice.statuses().slice(start0)).toEqual([
      S.AgentRinging,
      S.AgentCallAnswerRequest,
      S.AgentCallInboundEstablish,
      S.AgentCallRelease,
      S.AgentAcw,
    ]);
    // The other agent of the group never rang.
    expect(agent(c, '1002').codes()).not.toContain('AgentRinging');

    const cdr = await record(c, connId);
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      releasedBy: 'agent',
      agentId: '1001',
      skillGroupId: 'support',
      ani: '13812345678',
      dnis: '4008001000',
    });
    expect(cdr.answeredAt).not.toBeNull();
    expect(cdr.endedAt).not.toBeNull();
  });

  it('tells the agent explicitly when the caller hangs up first', async () => {
    const c = await start();
    const alice = agent(c, '1001');
    const start0 = alice.messages().length;
    const connId = await c.placeCall('13812345678');
    await alice.waitFor('AgentRinging', start0);
    await alice.post(`/v1/agent/calls/${connId}/answer`);
    await alice.waitFor('AgentCallInboundEstablish', start0);
    expect(await c.callerHangsUp(connId)).toBe(204);
    const release = await alice.waitFor('AgentCallRelease', start0);
    expect(release.data).toMatchObject({ releasedBy: 'customer', releaseReason: 'customer-hangup' });
    expect((await record(c, connId)).releasedBy).toBe('customer');
    expect((await alice.get<{ items: unknown[] }>('/v1/agent/calls')).body.items).toEqual([]);
  });

  it('moves on to the next agent when the first does not answer in time, and puts the first on break', async () => {
    const c = await start({ settings: { ringTimeoutSeconds: 1 } });
    const [alice, bob] = [agent(c, '1001'), agent(c, '1002')];
    const [a0, b0] = [alice.messages().length, bob.messages().length];
    const connId = await c.placeCall('13812345678');
    await alice.waitFor('AgentRinging', a0);
    const onBreak = await alice.waitFor('AgentBreak', a0, 3000);
    expect(onBreak.data).toMatchObject({ status: S.AgentBreak, breakReason: 'ringTimeout', cmd: 'ring-timeout' });
    const bobRings = await bob.waitFor('AgentRinging', b0, 3000);
    expect(bobRings.data.connId).toBe(connId);
    await bob.post(`/v1/agent/calls/${connId}/answer`);
    await bob.waitFor('AgentCallInboundEstablish', b0);
    expect((await record(c, connId)).agentIds).toEqual(['1001', '1002']);
  });

  it('moves on at once when the ringing agent rejects the call (hangs up while ringing)', async () => {
    const c = await start();
    const [alice, bob] = [agent(c, '1001'), agent(c, '1002')];
    const [a0, b0] = [alice.messages().length, bob.messages().length];
    const connId = await c.placeCall('13812345678');
    await alice.waitFor('AgentRinging', a0);
    await alice.post(`/v1/agent/calls/${connId}/hangup`);
    const release = await alice.waitFor('AgentCallRelease', a0);
    expect(release.data.releaseReason).toBe('rejected');
    await bob.waitFor('AgentRinging', b0);
  });

  it('moves on when the ringing agent loses its channel, so the caller is not stranded', async () => {
    const c = await start();
    const [alice, bob] = [agent(c, '1001'), agent(c, '1002')];
    const b0 = bob.messages().length;
    const connId = await c.placeCall('13812345678');
    await alice.waitFor('AgentRinging');
    alice.channel.socket.terminate();
    const bobRings = await bob.waitFor('AgentRinging', b0);
    expect(bobRings.data.connId).toBe(connId);
    const status = await alice.get('/v1/agent/status');
    expect(status.body).toMatchObject({ status: S.AgentBreak, breakReason: 'ringTimeout' });
  });

  it('keeps callers in order while nobody is ready, shows their position, and serves them first come first served', async () => {
    const c = await start({ checkIn: [] });
    const first = await c.placeCall('13800000011');
    const second = await c.placeCall('13800000022');
    const queues = await c.admin<{
      items: { skillGroupId: string; waiting: { connId: string; position: number }[] }[];
    }>('GET', '/v1/admin/instances/demo/queues');
    const support = queues.body.items.find((q) => q.skillGroupId === 'support');
    expect(support?.waiting.map((w) => [w.connId, w.position])).toEqual([
      [first, 1],
      [second, 2],
    ]);
    // An agent's view of the queue masks numbers it may not see.
    const bob = agent(c, '1002');
    const bobView = await bob.get<{ items: { skillGroupId: string; waiting: { ani: string }[] }[] }>(
      '/v1/agent/queues',
    );
    expect(bobView.body.items.find((q) => q.skillGroupId === 'support')?.waiting[0]?.ani).toBe('138****0011');

    const b0 = bob.messages().length;
    await bob.post('/v1/agent/checkin');
    const rings = await bob.waitFor('AgentRinging', b0);
    expect(rings.data.connId).toBe(first);
  });

  it('removes a caller who hangs up while queued, with the disposition abandoned', async () => {
    const c = await start({ checkIn: [] });
    const connId = await c.placeCall('13812345678');
    await c.callerHangsUp(connId);
    const queues = await c.admin<{ items: { waiting: unknown[] }[] }>('GET', '/v1/admin/instances/demo/queues');
    expect(queues.body.items.every((q) => q.waiting.length === 0)).toBe(true);
    expect(await record(c, connId)).toMatchObject({
      disposition: 'abandoned',
      releasedBy: 'customer',
      answeredAt: null,
    });
  });

  it('ends a call that waits past the queue timeout, and refuses callers beyond the queue length', async () => {
    const c = await start({ checkIn: [], settings: { queueTimeoutSeconds: 1, maxQueueLength: 1 } });
    const waiting = await c.placeCall('13800000011');
    const refused = await c.placeCall('13800000022');
    expect(await record(c, refused)).toMatchObject({ disposition: 'queue-full', releasedBy: 'system' });
    await until(async () => (await record(c, waiting)).disposition === 'queue-timeout', 3000);
  });
});

describe('queue overflow per skill group', () => {
  it('moves callers of a full group to its overflow group', async () => {
    const c = await start({ checkIn: ['1003'] });
    const updated = await c.admin('PATCH', '/v1/admin/instances/demo/skill-groups/support', {
      queue: { maxLength: 0, overflow: { action: 'group', skillGroupId: 'sales' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.queue).toEqual({ maxLength: 0, overflow: { action: 'group', skillGroupId: 'sales' } });
    const carol = agent(c, '1003');
    const c0 = carol.messages().length;
    const connId = await c.placeCall('13812345678');
    const rings = await carol.waitFor('AgentRinging', c0);
    expect(rings.data.connId).toBe(connId);
    const events = (await record(c, connId)).events.map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['queue-full', 'overflow']));
  });

  it('overflows on timeout, and never bounces a caller back into a group it left', async () => {
    const c = await start({ checkIn: [] });
    await c.admin('PATCH', '/v1/admin/instances/demo/skill-groups/support', {
      queue: { timeoutSeconds: 1, overflow: { action: 'group', skillGroupId: 'sales' } },
    });
    await c.admin('PATCH', '/v1/admin/instances/demo/skill-groups/sales', {
      queue: { timeoutSeconds: 1, overflow: { action: 'group', skillGroupId: 'support' } },
    });
    const connId = await c.placeCall('13812345678');
    await until(async () => (await record(c, connId)).disposition === 'queue-timeout', 4000);
    const cdr = await record(c, connId);
    expect(cdr.events.filter((e) => e.type === 'overflow')).toHaveLength(1);
    expect(cdr.skillGroupId).toBe('sales');
  });

  it('refuses an overflow into the group itself or into an unknown group', async () => {
    const c = await start({ checkIn: [] });
    const self = await c.admin('PATCH', '/v1/admin/instances/demo/skill-groups/support', {
      queue: { overflow: { action: 'group', skillGroupId: 'support' } },
    });
    expect(self.status).toBe(400);
    const unknown = await c.admin('PATCH', '/v1/admin/instances/demo/skill-groups/support', {
      queue: { overflow: { action: 'group', skillGroupId: 'nowhere' } },
    });
    expect(unknown.body.code).toBe('SkillGroupNotFound');
  });
});

describe('an outbound call (doCallOut)', () => {
  it('dials with the first caller id of the agent, and connects when the callee answers', async () => {
    const c = await start();
    const alice = agent(c, '1001');
    const a0 = alice.messages().length;
    const placed = await alice.post<{ connId: string; state: string }>('/v1/agent/calls/outbound', {
      number: '13912345678',
      memberId: -1,
      memberName: '匿名会员',
      fromSource: 'other_system_out',
      caseId: 'case-9',
    });
    expect(placed.status).toBe(200);
    expect(placed.body.state).toBe('dialing');
    const dialing = await alice.waitFor('AgentCallDialOut', a0);
    expect(dialing.data).toMatchObject({
      connId: placed.body.connId,
      ani: '02160000001',
      dnis: '13912345678',
      callDirection: 'outbound',
      mid: '-1',
      name: '匿名会员',
    });
    await alice.waitFor('AgentCallOutBoundEstablish', a0);
    await alice.post(`/v1/agent/calls/${placed.body.connId}/hangup`);
    await alice.waitFor('AgentCallRelease', a0);
    expect(alice.codes().slice(a0)).toEqual([
      'AgentCallDialOut',
      'AgentCallOutBoundEstablish',
      'AgentCallRelease',
      'AgentAcw',
    ]);
    expect(await record(c, placed.body.connId)).toMatchObject({
      direction: 'outbound',
      disposition: 'answered',
      callerIdUsed: '02160000001',
      memberName: '匿名会员',
      fromSource: 'other_system_out',
      caseId: 'case-9',
    });
  });

  it.each([
    ['13900000001', 'busy'],
    ['13900000003', 'rejected'],
    ['0001234567', 'invalid-number'],
  ])('reports %s as %s', async (number, reason) => {
    const c = await start();
    const alice = agent(c, '1001');
    const a0 = alice.messages().length;
    const placed = await alice.post<{ connId: string }>('/v1/agent/calls/outbound', { number });
    const release = await alice.waitFor('AgentCallRelease', a0);
    expect(release.data.releaseReason).toBe(reason);
    expect((await record(c, placed.body.connId)).disposition).toBe(reason);
  });

  it('ends as no-answer after the outbound ring time', async () => {
    const c = await start({ settings: { outboundNoAnswerSeconds: 1 } });
    const alice = agent(c, '1001');
    const a0 = alice.messages().length;
    const placed = await alice.post<{ connId: string }>('/v1/agent/calls/outbound', { number: '13900000002' });
    await alice.waitFor('AgentCallRelease', a0, 3000);
    expect((await record(c, placed.body.connId)).disposition).toBe('no-answer');
  });

  it('lets the agent cancel before the callee answers', async () => {
    const c = await start();
    const alice = agent(c, '1001');
    const placed = await alice.post<{ connId: string }>('/v1/agent/calls/outbound', { number: '13900000002' });
    await alice.post(`/v1/agent/calls/${placed.body.connId}/hangup`);
    expect((await record(c, placed.body.connId)).disposition).toBe('cancelled');
  });

  it('checks the caller id against the agent number groups', async () => {
    const c = await start();
    const alice = agent(c, '1001');
    const chosen = await alice.post<{ connId: string }>('/v1/agent/calls/outbound', {
      number: '13912345678',
      calloutNumber: '02160000002',
    });
    expect(chosen.status).toBe(200);
    expect((await record(c, chosen.body.connId)).callerIdUsed).toBe('02160000002');
    await alice.post(`/v1/agent/calls/${chosen.body.connId}/hangup`);

    const foreign = await alice.post('/v1/agent/calls/outbound', {
      number: '13912345678',
      calloutNumber: '01099999999',
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('CallerIdNotAllowed');
  });

  it('refuses a call while the agent is already on one, and bad numbers', async () => {
    const c = await start();
    const alice = agent(c, '1001');
    await alice.post('/v1/agent/calls/outbound', { number: '13900000002' });
    const second = await alice.post('/v1/agent/calls/outbound', { number: '13912345678' });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('IllegalTransition');
    const garbage = await alice.post('/v1/agent/calls/outbound', { number: '12-34' });
    expect(garbage.status).toBe(400);
  });

  it("can be placed by the business backend on an agent's behalf, and the agent sees it as its own", async () => {
    const c = await start();
    const alice = agent(c, '1001');
    const a0 = alice.messages().length;
    const placed = await c.admin<{ connId: string }>('POST', '/v1/admin/instances/demo/agents/1001/callout', {
      number: '13912345678',
      fromSource: 'ticket_out',
    });
    expect(placed.status).toBe(200);
    const dialing = await alice.waitFor('AgentCallDialOut', a0);
    expect(dialing.data.connId).toBe(placed.body.connId);
    await alice.waitFor('AgentCallOutBoundEstablish', a0);
    expect((await alice.get<{ items: { connId: string }[] }>('/v1/agent/calls')).body.items[0]?.connId).toBe(
      placed.body.connId,
    );
  });
});

/** Places a call and has agent 1001 answer it; returns the connId and the message count before. */
async function talking(c: CallCenter) {
  const alice = agent(c, '1001');
  const a0 = alice.messages().length;
  const connId = await c.placeCall('13812345678');
  await alice.waitFor('AgentRinging', a0);
  await alice.post(`/v1/agent/calls/${connId}/answer`);
  await alice.waitFor('AgentCallInboundEstablish', a0);
  return { connId, alice, a0 };
}

describe('call control during a conversation', () => {
  it('holds and retrieves the customer', async () => {
    const c = await start();
    const { connId, alice, a0 } = await talking(c);
    expect((await alice.post(`/v1/agent/calls/${connId}/hold`)).body).toMatchObject({
      state: 'held',
      holdConnId: connId,
    });
    const held = await alice.waitFor('AgentCallHeld', a0);
    expect(held.data.holdConnId).toBe(connId);
    expect((await alice.post(`/v1/agent/calls/${connId}/retrieve`)).body).toMatchObject({ state: 'talking' });
    await until(
      () =>
        alice
          .codes()
          .slice(a0)
          .filter((x) => x === 'AgentCallInboundEstablish').length === 2,
    );
    expect(alice.codes().slice(a0).slice(-2)).toEqual(['AgentCallHeld', 'AgentCallInboundEstablish']);
  });

  it('mutes, and sends DTMF to the customer', async () => {
    const c = await start();
    const { connId, alice } = await talking(c);
    expect((await alice.post(`/v1/agent/calls/${connId}/mute`, { muted: true })).body).toMatchObject({ muted: true });
    expect((await alice.post(`/v1/agent/calls/${connId}/dtmf`, { digits: '12#' })).status).toBe(200);
    expect(c.server.hotline.virtualCallers.receivedDtmf(connId)).toEqual(['12#']);
    const bad = await alice.post(`/v1/agent/calls/${connId}/dtmf`, { digits: 'xyz' });
    expect(bad.status).toBe(400);
    const events = (await record(c, connId)).events.map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['muted', 'dtmf-sent']));
  });

  it('refuses actions in the wrong state, with mismatched ids, and on calls of other agents', async () => {
    const c = await start();
    const { connId, alice } = await talking(c);
    const retrieve = await alice.post(`/v1/agent/calls/${connId}/retrieve`);
    expect(retrieve.status).toBe(409);
    expect(retrieve.body).toMatchObject({ code: 'IllegalCallAction', details: { state: 'talking' } });
    const mismatch = await alice.post(`/v1/agent/calls/${connId}/hangup`, { jobId: 'job_other' });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.code).toBe('CallIdsMismatch');
    // Another agent cannot touch the call, and cannot tell it from an unknown one.
    const bob = agent(c, '1002');
    for (const path of ['hangup', 'hold', 'answer']) {
      const response = await bob.post(`/v1/agent/calls/${connId}/${path}`);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('CallNotFound');
    }
    expect((await bob.post('/v1/agent/calls/conn_unknown/hangup')).body.code).toBe('CallNotFound');
    expect((await alice.get<{ items: unknown[] }>('/v1/agent/calls')).body.items).toHaveLength(1);
  });

  it('transfers blind to another agent: the first leaves at once, the second rings and takes over', async () => {
    const c = await start();
    const { connId, alice, a0 } = await talking(c);
    const bob = agent(c, '1002');
    const b0 = bob.messages().length;
    const transferred = await alice.post(`/v1/agent/calls/${connId}/transfer`, {
      target: { type: 'agent', agentId: '1002' },
    });
    expect(transferred.body).toMatchObject({ state: 'ended' });
    const release = await alice.waitFor('AgentCallRelease', a0);
    expect(release.data.releaseReason).toBe('transferred');
    await bob.waitFor('AgentRinging', b0);
    await bob.post(`/v1/agent/calls/${connId}/answer`);
    await bob.waitFor('AgentCallInboundEstablish', b0);
    await c.callerHangsUp(connId);
    await bob.waitFor('AgentCallRelease', b0);
    expect(await record(c, connId)).toMatchObject({
      agentId: '1002',
      agentIds: ['1001', '1002'],
      disposition: 'answered',
    });
  });

  it('transfers blind to a skill group and to an external number', async () => {
    const c = await start();
    const { connId, alice } = await talking(c);
    const carol = agent(c, '1003');
    const c0 = carol.messages().length;
    await alice.post(`/v1/agent/calls/${connId}/transfer`, { target: { type: 'skillGroup', skillGroupId: 'sales' } });
    await carol.waitFor('AgentRinging', c0);
    await carol.post(`/v1/agent/calls/${connId}/answer`);
    await carol.waitFor('AgentCallInboundEstablish', c0);
    await carol.post(`/v1/agent/calls/${connId}/transfer`, { target: { type: 'number', number: '13712345678' } });
    await carol.waitFor('AgentCallRelease', c0);
    // Customer and the external party talk without an agent until the customer hangs up.
    await until(async () => (await record(c, connId)).events.some((e) => e.type === 'third-answered'));
    await c.callerHangsUp(connId);
    await until(async () => (await record(c, connId)).disposition === 'answered');
    expect((await record(c, connId)).releasedBy).toBe('customer');
  });

  it('refuses to transfer to an agent who is not ready', async () => {
    const c = await start({ checkIn: ['1001'] });
    const { connId, alice } = await talking(c);
    const response = await alice.post(`/v1/agent/calls/${connId}/transfer`, {
      target: { type: 'agent', agentId: '1002' },
    });
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('TargetUnavailable');
    expect((await alice.get<{ items: { state: string }[] }>('/v1/agent/calls')).body.items[0]?.state).toBe('talking');
  });
});

describe('attended transfer and conference', () => {
  it('consults another agent, then completes the transfer', async () => {
    const c = await start();
    const { connId, alice, a0 } = await talking(c);
    const bob = agent(c, '1002');
    const b0 = bob.messages().length;
    const consult = await alice.post(`/v1/agent/calls/${connId}/consult`, {
      target: { type: 'agent', agentId: '1002' },
    });
    expect(consult.body).toMatchObject({ state: 'consulting', holdConnId: connId });
    await alice.waitFor('AgentCallConferenceWaitAnswer', a0);
    await bob.waitFor('AgentRinging', b0);
    await bob.post(`/v1/agent/calls/${connId}/answer`);
    await bob.waitFor('AgentCallConsultEstablish', b0);
    await alice.waitFor('AgentCallThirdConsult', a0);
    await alice.post(`/v1/agent/calls/${connId}/consult/complete`);
    await alice.waitFor('AgentCallRelease', a0);
    expect(alice.codes().slice(a0)).toEqual([
      'AgentRinging',
      'AgentCallAnswerRequest',
      'AgentCallInboundEstablish',
      'AgentCallConferenceWaitAnswer',
      'AgentCallThirdConsult',
      'AgentCallRelease',
      'AgentAcw',
    ]);
    // Bob now handles the call and can hold it.
    expect((await bob.post(`/v1/agent/calls/${connId}/hold`)).body).toMatchObject({ state: 'held' });
    await bob.post(`/v1/agent/calls/${connId}/hangup`);
    await bob.waitFor('AgentCallRelease', b0);
    expect(await record(c, connId)).toMatchObject({ agentId: '1002', releasedBy: 'agent' });
  });

  it('consults and cancels: the consulted agent is released and the caller is retrieved', async () => {
    const c = await start();
    const { connId, alice, a0 } = await talking(c);
    const bob = agent(c, '1002');
    const b0 = bob.messages().length;
    await alice.post(`/v1/agent/calls/${connId}/consult`, { target: { type: 'agent', agentId: '1002' } });
    await bob.waitFor('AgentRinging', b0);
    await bob.post(`/v1/agent/calls/${connId}/answer`);
    await alice.waitFor('AgentCallThirdConsult', a0);
    const cancelled = await alice.post(`/v1/agent/calls/${connId}/consult/cancel`);
    expect(cancelled.body).toMatchObject({ state: 'talking' });
    await bob.waitFor('AgentCallRelease', b0);
    await until(() => alice.codes().slice(a0).includes('AgentThirdRetrieveRequest'));
    expect(alice.codes().slice(a0).slice(-3)).toEqual([
      'AgentCallThirdConsult',
      'AgentThirdRetrieveRequest',
      'AgentCallInboundEstablish',
    ]);
  });

  it('joins a three-way conference; the third leaving returns to a two-party call', async () => {
    const c = await start();
    const { connId, alice, a0 } = await talking(c);
    const bob = agent(c, '1002');
    const b0 = bob.messages().length;
    await alice.post(`/v1/agent/calls/${connId}/consult`, { target: { type: 'agent', agentId: '1002' } });
    await bob.waitFor('AgentRinging', b0);
    const early = await alice.post(`/v1/agent/calls/${connId}/conference`);
    expect(early.status).toBe(409);
    await bob.post(`/v1/agent/calls/${connId}/answer`);
    await alice.waitFor('AgentCallThirdConsult', a0);
    expect((await alice.post(`/v1/agent/calls/${connId}/conference`)).body).toMatchObject({ state: 'conference' });
    await alice.waitFor('AgentCallConference', a0);
    await bob.post(`/v1/agent/calls/${connId}/hangup`);
    await bob.waitFor('AgentCallRelease', b0);
    await until(() => alice.codes().slice(a0).at(-1) === 'AgentCallInboundEstablish');
    expect((await alice.get<{ items: { state: string }[] }>('/v1/agent/calls')).body.items[0]?.state).toBe('talking');
  });

  it('consults an external number', async () => {
    const c = await start();
    const { connId, alice, a0 } = await talking(c);
    await alice.post(`/v1/agent/calls/${connId}/consult`, { target: { type: 'number', number: '13712345678' } });
    await alice.waitFor('AgentCallThirdConsult', a0);
    await alice.post(`/v1/agent/calls/${connId}/consult/complete`);
    await alice.waitFor('AgentCallRelease', a0);
    await c.callerHangsUp(connId);
    await until(async () => (await record(c, connId)).endedAt !== null);
  });
});

describe('an internal call between agents', () => {
  it('rings the other agent and connects both as an internal call', async () => {
    const c = await start();
    const [alice, bob] = [agent(c, '1001'), agent(c, '1002')];
    const [a0, b0] = [alice.messages().length, bob.messages().length];
    const placed = await alice.post<{ connId: string }>('/v1/agent/calls/internal', { agentId: '1002' });
    expect(placed.status).toBe(200);
    await alice.waitFor('AgentCallDialOut', a0);
    const rings = await bob.waitFor('AgentRinging', b0);
    expect(rings.data).toMatchObject({ callDirection: 'internal', ani: '1001', dnis: '1002' });
    await bob.post(`/v1/agent/calls/${placed.body.connId}/answer`);
    await alice.waitFor('AgentCallInternalBoundEstablish', a0);
    await bob.waitFor('AgentCallInternalBoundEstablish', b0);
    await bob.post(`/v1/agent/calls/${placed.body.connId}/hangup`);
    await alice.waitFor('AgentCallRelease', a0);
    await bob.waitFor('AgentCallRelease', b0);
    expect(await record(c, placed.body.connId)).toMatchObject({ direction: 'internal', disposition: 'answered' });
  });
});

describe('number masking', () => {
  it('never gives an agent without permission the full customer number: events, calls, queues, records', async () => {
    const c = await start({ checkIn: ['1002'] });
    const bob = agent(c, '1002');
    const b0 = bob.messages().length;
    const connId = await c.placeCall('13812345678');
    const rings = await bob.waitFor('AgentRinging', b0);
    expect(rings.data.ani).toBe('138****5678');
    expect(rings.data.location).not.toBeNull();
    expect(JSON.stringify(bob.channel.frames)).not.toContain('13812345678');
    const calls = await bob.get<{ items: { ani: string }[] }>('/v1/agent/calls');
    expect(calls.body.items[0]?.ani).toBe('138****5678');
    await bob.post(`/v1/agent/calls/${connId}/answer`);
    await bob.post(`/v1/agent/calls/${connId}/hangup`);
    const records = await bob.get<{ items: { ani: string }[] }>('/v1/agent/records');
    expect(JSON.stringify(records.body)).not.toContain('13812345678');
    // The administrator sees the number.
    expect((await record(c, connId)).ani).toBe('13812345678');
  });
});

describe('number location (归属地)', () => {
  it('locates mobile and fixed-line numbers and says so when it does not know', async () => {
    const c = await start({ checkIn: [] });
    const alice = agent(c, '1001');
    const mobile = await alice.get('/v1/agent/number-location?number=13800138000');
    expect(mobile.body).toMatchObject({ province: '北京', city: '北京', carrier: '中国移动', known: true });
    const fixed = await alice.get(`/v1/agent/number-location?number=${encodeURIComponent('0755-12345678')}`);
    expect(fixed.body).toMatchObject({ province: '广东', city: '深圳', known: true });
    const unknown = await alice.get('/v1/agent/number-location?number=12345');
    expect(unknown.body).toEqual({ province: '', city: '', carrier: '', known: false });
    expect((await alice.get('/v1/agent/number-location?number=abc')).status).toBe(400);
  });
});

describe('a server restart during a call', () => {
  it('closes the record as interrupted and leaves no agent in a call state', async () => {
    const c = await start();
    const { connId } = await talking(c);
    const dataDir = c.server.dataDir;
    await c.server.stop();
    const { startTestServer } = await import('../../../test-support/test-server.js');
    const restarted = await startTestServer({ dataDir });
    try {
      const { api } = await import('../../../test-support/api.js');
      const cdr = await api<CallRecord>(restarted, 'GET', `/v1/admin/instances/demo/records/${connId}`, {
        token: restarted.adminKey,
      });
      expect(cdr.body).toMatchObject({ disposition: 'interrupted', releasedBy: 'system' });
      const status = await api(restarted, 'GET', '/v1/admin/instances/demo/agents/1001/status', {
        token: restarted.adminKey,
      });
      expect([S.AgentAcw, S.AgentReady]).toContain(status.body.status);
    } finally {
      await restarted.close();
    }
  });
});
