import { AgentBarStatus, type WallboardFrame, type WallboardSnapshot, wallboardPath } from '@openhotline/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api } from '../../../test-support/api.js';
import { type CallCenter, startCallCenter } from '../../../test-support/call-center.js';

/** A live wallboard socket: every frame it got, and its close code. */
class WallboardSocket {
  readonly frames: WallboardFrame[] = [];
  closeCode: number | undefined;
  private readonly socket: WebSocket;

  constructor(wsUrl: string, instanceId: string, query: Record<string, string>) {
    this.socket = new WebSocket(`${wsUrl}${wallboardPath(instanceId)}/live?${new URLSearchParams(query)}`);
    this.socket.on('message', (data) => this.frames.push(JSON.parse(String(data)) as WallboardFrame));
    this.socket.on('close', (code) => {
      this.closeCode = code;
    });
  }

  snapshots(): WallboardSnapshot[] {
    return this.frames.flatMap((frame) => (frame.type === 'snapshot' ? [frame.wallboard] : []));
  }

  async until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.frames)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.socket.close();
  }
}

let center: CallCenter;
let backendToken: string;
let otherBackendToken: string;

const snapshot = (token: string | undefined, instanceId = 'demo', query = '') =>
  api<WallboardSnapshot & { code?: string }>(center.server, 'GET', `${wallboardPath(instanceId)}${query}`, {
    ...(token !== undefined ? { token } : {}),
  });

async function backendTokenOf(clientId: string, clientSecret: string): Promise<string> {
  const reply = await api<{ access_token: string }>(center.server, 'POST', '/oauth2/token', {
    body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
  });
  if (reply.status !== 200) throw new Error(`token exchange gave ${reply.status}`);
  return reply.body.access_token;
}

beforeAll(async () => {
  // 1003 (sales) alone is ready: a call to the support hotline waits.
  center = await startCallCenter({ checkIn: ['1003'] });
  backendToken = await backendTokenOf('demo-client', 'demo-secret-change-me');
  await center.admin('POST', '/v1/admin/instances', { id: 'other', name: 'Other' });
  await center.admin('POST', '/v1/admin/instances/other/clients', {
    name: 'Other system',
    clientId: 'other-client',
    clientSecret: 'other-secret-0123456789',
  });
  otherBackendToken = await backendTokenOf('other-client', 'other-secret-0123456789');
});

afterAll(async () => {
  await center?.close();
});

describe('the wallboard snapshot', () => {
  it('shows the agents, a waiting caller with a masked number, then the answered call in the statistics', async () => {
    let board = (await snapshot(center.server.adminKey)).body;
    expect(board.instanceId).toBe('demo');
    expect(board.serviceLevelSeconds).toBe(20);
    expect(board.agents.map((a) => [a.agentId, a.status, a.online])).toEqual([
      ['1001', AgentBarStatus.Unregistered, true],
      ['1002', AgentBarStatus.Unregistered, true],
      ['1003', AgentBarStatus.AgentReady, true],
    ]);
    expect(board.agentCounts).toMatchObject({ AgentReady: 1, AgentUnregistered: 2 });

    const connId = await center.placeCall('13812345678');
    board = (await snapshot(backendToken)).body;
    expect(board.queues.find((q) => q.skillGroupId === 'support')).toMatchObject({
      name: '客服 Support',
      waiting: 1,
      readyAgents: 0,
    });
    expect(board.calls).toEqual([
      expect.objectContaining({ connId, direction: 'inbound', state: 'queued', number: '138****5678' }),
    ]);
    expect(JSON.stringify(board)).not.toContain('13812345678');

    const lina = center.agents['1002'];
    if (!lina) throw new Error('no agent 1002');
    const seen = lina.messages().length;
    await lina.post('/v1/agent/checkin');
    await lina.waitFor('AgentRinging', seen);
    expect((await lina.post(`/v1/agent/calls/${connId}/answer`)).status).toBe(200);
    board = (await snapshot(center.server.adminKey)).body;
    expect(board.calls).toEqual([
      expect.objectContaining({ connId, state: 'talking', agentId: '1002', number: '138****5678' }),
    ]);
    expect(board.agents.find((a) => a.agentId === '1002')?.status).toBe(AgentBarStatus.AgentCallInboundEstablish);
    expect((await lina.post(`/v1/agent/calls/${connId}/hangup`)).status).toBe(200);

    board = (await snapshot(center.server.adminKey, 'demo', '?serviceLevelSeconds=30')).body;
    expect(board.calls).toEqual([]);
    expect(board.serviceLevelSeconds).toBe(30);
    expect(board.summary.last30Minutes).toMatchObject({
      offered: 1,
      answered: 1,
      abandoned: 0,
      serviceLevelPercent: 100,
    });
    expect(board.charts.perMinute).toHaveLength(30);
    expect(board.charts.perFiveMinutes).toHaveLength(24);
    await lina.post('/v1/agent/checkout');
  });

  it('refuses missing or wrong credentials with 401, and another instance’s backend token with 403', async () => {
    for (const token of [undefined, 'not-the-key']) {
      const reply = await snapshot(token);
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('Unauthorized');
    }
    const agentToken = center.agents['1001']?.token ?? '';
    for (const token of [otherBackendToken, agentToken]) {
      const reply = await snapshot(token);
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('Forbidden');
    }
    expect((await snapshot(otherBackendToken, 'other')).status).toBe(200);
  });

  it('answers an unknown instance and a bad target with catalogue errors', async () => {
    const unknown = await snapshot(center.server.adminKey, 'nope');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'InstanceNotFound']);
    for (const query of ['?serviceLevelSeconds=0', '?serviceLevelSeconds=abc', '?other=1']) {
      const bad = await snapshot(center.server.adminKey, 'demo', query);
      expect([bad.status, bad.body.code]).toEqual([400, 'ValidationFailed']);
    }
    const plain = await api<{ code: string }>(center.server, 'GET', `${wallboardPath('demo')}/live`);
    expect([plain.status, plain.body.code]).toEqual([426, 'UpgradeRequired']);
  });
});

describe('the wallboard page', () => {
  it('is served at /wallboard with its script and style, and nothing else of the folder or beyond', async () => {
    const page = await fetch(`${center.server.url}/wallboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/wallboard/wallboard.js');
    // Every body is read: a response left unread keeps its connection busy, and the server's close would wait for it.
    for (const file of ['wallboard.js', 'wallboard.css']) {
      const reply = await fetch(`${center.server.url}/wallboard/${file}`);
      expect(reply.status).toBe(200);
      await reply.text();
    }
    // Revalidation: the same file again with its ETag is a 304 without a body; / is the sandbox's page.
    const index = await fetch(`${center.server.url}/wallboard/`);
    const etag = index.headers.get('etag') ?? '';
    await index.text();
    expect(etag).not.toBe('');
    expect((await fetch(`${center.server.url}/wallboard`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const home = await fetch(`${center.server.url}/`);
    expect(home.headers.get('content-type')).toContain('text/html');
    await home.text();
    for (const path of ['/wallboard/.hidden.js', '/wallboard/..%2Fsandbox%2Findex.html', '/wallboard/missing.js']) {
      const reply = await api<{ code: string }>(center.server, 'GET', path);
      expect([path, reply.status, reply.body.code]).toEqual([path, 404, 'RouteNotFound']);
    }
  });
});

describe('the live wallboard', () => {
  it('pushes a snapshot at once, then a new one when an agent changes state', async () => {
    const screen = new WallboardSocket(center.server.wsUrl, 'demo', { access_token: center.server.adminKey });
    await screen.until(() => screen.snapshots().length >= 1, 'the first snapshot');
    const agentStatus = (board: WallboardSnapshot | undefined, id: string) =>
      board?.agents.find((a) => a.agentId === id)?.status;
    expect(agentStatus(screen.snapshots()[0], '1003')).toBe(AgentBarStatus.AgentReady);

    const wang = center.agents['1003'];
    expect((await wang?.post('/v1/agent/break', { reasonCode: 'meal' }))?.status).toBe(200);
    await screen.until(
      () => agentStatus(screen.snapshots().at(-1), '1003') === AgentBarStatus.AgentBreak,
      'the break on the wallboard',
    );
    const onBreak = screen
      .snapshots()
      .at(-1)
      ?.agents.find((a) => a.agentId === '1003');
    expect(onBreak?.breakReasonText).toEqual({ 'zh-CN': '用餐', en: 'Meal' });
    await wang?.post('/v1/agent/ready');
    screen.close();
  });

  it('takes a backend token of the instance and the service-level target from the query', async () => {
    const screen = new WallboardSocket(center.server.wsUrl, 'demo', {
      access_token: backendToken,
      serviceLevelSeconds: '45',
    });
    await screen.until(() => screen.snapshots().length >= 1, 'the first snapshot');
    expect(screen.snapshots()[0]?.serviceLevelSeconds).toBe(45);
    screen.close();
  });

  it('sends an error frame and closes with 4001 on missing, wrong or foreign credentials', async () => {
    for (const [query, code] of [
      [{}, 'Unauthorized'],
      [{ access_token: 'not-the-key' }, 'Unauthorized'],
      [{ access_token: otherBackendToken }, 'Forbidden'],
    ] as const) {
      const screen = new WallboardSocket(center.server.wsUrl, 'demo', query);
      await screen.until(() => screen.closeCode !== undefined, `the close for ${JSON.stringify(query)}`);
      expect(screen.closeCode).toBe(4001);
      expect(screen.frames).toEqual([expect.objectContaining({ type: 'error', code })]);
    }
  });

  it('closes with 4004 for an unknown instance or a bad query, since retrying cannot help', async () => {
    for (const [instanceId, query, code] of [
      ['nope', { access_token: center.server.adminKey }, 'InstanceNotFound'],
      ['demo', { access_token: center.server.adminKey, serviceLevelSeconds: '0' }, 'ValidationFailed'],
    ] as const) {
      const screen = new WallboardSocket(center.server.wsUrl, instanceId, query);
      await screen.until(() => screen.closeCode !== undefined, `the close for ${instanceId}`);
      expect(screen.closeCode).toBe(4004);
      expect(screen.frames).toEqual([expect.objectContaining({ type: 'error', code })]);
    }
  });
});

describe('a live wallboard that stops answering', () => {
  let quick: CallCenter;
  beforeAll(async () => {
    quick = await startCallCenter({ config: { heartbeatIntervalMs: 200 } });
  });
  afterAll(async () => {
    await quick.close();
  });

  it('is cut off once it misses a ping, while a screen that answers stays', async () => {
    const url = (key: string) => `${quick.server.wsUrl}${wallboardPath('demo')}/live?access_token=${key}`;
    // A peer that never answers pings (autoPong off), as a vanished screen behind a dead network would not.
    const silent = new WebSocket(url(quick.server.adminKey), { autoPong: false });
    const healthy = new WebSocket(url(quick.server.adminKey));
    const closed = { silent: false, healthy: false };
    silent.on('close', () => {
      closed.silent = true;
    });
    healthy.on('close', () => {
      closed.healthy = true;
    });
    const deadline = Date.now() + 5000;
    while (!closed.silent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed.silent).toBe(true);
    // Several intervals later the answering screen is still open.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect([closed.healthy, healthy.readyState]).toEqual([false, WebSocket.OPEN]);
    healthy.close();
  });
});
