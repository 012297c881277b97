import { AgentBarStatus, ChannelCloseCode, EnumWSEventType, type ServerFrame } from '@openhotline/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../seed.js';
import { agentToken, api } from '../../test-support/api.js';
import { ChannelClient } from '../../test-support/channel-client.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

let server: TestServer;
let token: string;
const open: ChannelClient[] = [];
const connect = (params: Parameters<typeof ChannelClient.connect>[1]) => {
  const client = ChannelClient.connect(server.wsUrl, params);
  open.push(client);
  return client;
};

beforeAll(async () => {
  server = await startTestServer({ replayBufferSize: 8, heartbeatIntervalMs: 300 });
  seedDemo(server.hotline);
  token = await agentToken(server, '1001');
});
afterEach(async () => {
  for (const client of open.splice(0)) client.close();
  await api(server, 'POST', '/v1/agent/checkout', { token });
});
afterAll(() => server.close());

const hotlineCodes = (frames: ServerFrame[]) =>
  frames.flatMap((f) => (f.type === 'notify' && f.sceneType === 'hotline-message' ? [f.head.agentCallCode] : []));
const seqs = (frames: ServerFrame[]) => frames.flatMap((f) => (f.type === 'notify' ? [f.seq] : []));
const hasSnapshot = (f: ServerFrame[]) => f.some((x) => x.type === 'snapshot');

describe('connecting to the live channel', () => {
  it('says hello and sends a snapshot of the agent', async () => {
    await api(server, 'POST', '/v1/agent/checkin', { token });
    const channel = connect({ token });
    await channel.waitFor(hasSnapshot);
    const [hello, snapshot] = channel.frames;
    expect(hello).toMatchObject({ type: 'hello', epoch: server.hotline.streams.epoch, heartbeatIntervalMs: 300 });
    expect(snapshot).toMatchObject({
      type: 'snapshot',
      agent: { agentId: '1001', status: AgentBarStatus.AgentReady, agentBasicCode: 'AgentReady' },
    });
  });

  it('pushes every status change in order with consecutive sequence numbers', async () => {
    const channel = connect({ token });
    await channel.waitFor(hasSnapshot);
    await api(server, 'POST', '/v1/agent/checkin', { token });
    await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode: 'meal' } });
    await api(server, 'POST', '/v1/agent/ready', { token });
    await channel.waitForNotifies(4);
    expect(hotlineCodes(channel.frames)).toEqual([
      EnumWSEventType.AgentCheckin,
      EnumWSEventType.AgentReady,
      EnumWSEventType.AgentBreak,
      EnumWSEventType.AgentReady,
    ]);
    const numbers = seqs(channel.frames);
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] ?? 0) + i));
    const breakFrame = channel.notifies()[2];
    expect(breakFrame?.sceneType === 'hotline-message' && breakFrame.data.breakReason).toBe('meal');
  });

  it('speaks the locale of the channel and keeps both languages in descriptions', async () => {
    const english = connect({ token, locale: 'en' });
    const chinese = connect({ token });
    await english.waitFor(hasSnapshot);
    await chinese.waitFor(hasSnapshot);
    await api(server, 'POST', '/v1/agent/checkin', { token });
    await english.waitForNotifies(1);
    await chinese.waitForNotifies(1);
    const [en] = english.notifies();
    const [zh] = chinese.notifies();
    expect(en?.sceneType === 'hotline-message' && en.data.agentCallDesc).toBe('Checked in');
    expect(zh?.sceneType === 'hotline-message' && zh.data.agentCallDesc).toBe('签入');
    expect(en?.sceneType === 'hotline-message' && en.data.descriptions['zh-CN'].agentCallDesc).toBe('签入');
  });
});

describe('a channel that drops and reconnects', () => {
  it('gets exactly the messages it missed: none lost, none duplicated', async () => {
    const first = connect({ token });
    await first.waitFor(hasSnapshot);
    await api(server, 'POST', '/v1/agent/checkin', { token });
    await first.waitForNotifies(2);
    const epoch = first.epoch();
    const lastSeq = first.lastSeq();
    first.socket.terminate(); // killed mid-stream, no close handshake

    // The agent keeps changing while the channel is away.
    await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode: 'rest' } });
    await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode: 'meal' } });
    await api(server, 'POST', '/v1/agent/ready', { token });

    const second = connect({ token, epoch, lastSeq });
    await second.waitForNotifies(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(second.frames.some((f) => f.type === 'snapshot')).toBe(false);
    expect(seqs(second.frames)).toEqual([lastSeq + 1, lastSeq + 2, lastSeq + 3]);
    expect(hotlineCodes(second.frames)).toEqual([
      EnumWSEventType.AgentBreak,
      EnumWSEventType.AgentBreak,
      EnumWSEventType.AgentReady,
    ]);
    // And live messages continue the same sequence.
    await api(server, 'POST', '/v1/agent/checkout', { token });
    await second.waitForNotifies(4);
    expect(seqs(second.frames).at(-1)).toBe(lastSeq + 4);
  });

  it('can resume in band with a resume frame', async () => {
    const channel = connect({ token });
    await channel.waitFor(hasSnapshot);
    const epoch = channel.epoch();
    const before = server.hotline.streams.head('demo/1001');
    await api(server, 'POST', '/v1/agent/checkin', { token });
    await channel.waitForNotifies(2);
    channel.send({ type: 'resume', epoch, lastSeq: before });
    await channel.waitForNotifies(4);
    expect(seqs(channel.frames)).toEqual([before + 1, before + 2, before + 1, before + 2]);
  });

  it('gets a snapshot when the gap is older than the replay buffer', async () => {
    const first = connect({ token });
    await first.waitFor(hasSnapshot);
    const epoch = first.epoch();
    const lastSeq = first.lastSeq();
    first.close();
    await api(server, 'POST', '/v1/agent/checkin', { token });
    for (let i = 0; i < 6; i++) {
      await api(server, 'POST', '/v1/agent/break', { token, body: { reasonCode: i % 2 ? 'rest' : 'meal' } });
    }
    await api(server, 'POST', '/v1/agent/ready', { token });
    const second = connect({ token, epoch, lastSeq });
    await second.waitFor(hasSnapshot);
    const snapshot = second.frames.find((f) => f.type === 'snapshot');
    expect(snapshot).toMatchObject({
      seq: server.hotline.streams.head('demo/1001'),
      agent: { status: AgentBarStatus.AgentReady },
    });
    expect(second.notifies()).toHaveLength(0);
  });

  it('gets a snapshot when resuming a stream of another server run', async () => {
    const channel = connect({ token, epoch: 'epoch_of_a_previous_run', lastSeq: 3 });
    await channel.waitFor(hasSnapshot);
    expect(channel.notifies()).toHaveLength(0);
  });
});

describe('the same agent connected twice', () => {
  it('delivers the same stream, with the same sequence numbers, to both tabs', async () => {
    const tabA = connect({ token });
    const tabB = connect({ token, locale: 'en' });
    await tabA.waitFor(hasSnapshot);
    await tabB.waitFor(hasSnapshot);
    expect((await api(server, 'GET', '/v1/agent/status', { token })).body.channels).toBe(2);
    await api(server, 'POST', '/v1/agent/checkin', { token });
    await tabA.waitForNotifies(2);
    await tabB.waitForNotifies(2);
    expect(seqs(tabA.frames)).toEqual(seqs(tabB.frames));
  });

  it('closes the oldest channel with 4009 beyond the per-agent limit', async () => {
    const limited = await startTestServer({ maxChannelsPerAgent: 2 });
    try {
      seedDemo(limited.hotline);
      const limitedToken = await agentToken(limited, '1001');
      const oldest = ChannelClient.connect(limited.wsUrl, { token: limitedToken });
      await oldest.waitFor(hasSnapshot);
      await new Promise((r) => setTimeout(r, 20));
      const middle = ChannelClient.connect(limited.wsUrl, { token: limitedToken });
      await middle.waitFor(hasSnapshot);
      const newest = ChannelClient.connect(limited.wsUrl, { token: limitedToken });
      await newest.waitFor(hasSnapshot);
      expect(await oldest.waitClosed()).toBe(ChannelCloseCode.ConnectionLimit);
      expect(oldest.closeReason).toBe('TooManyConnections');
      expect(oldest.frames.at(-1)).toMatchObject({ type: 'error', code: 'TooManyConnections' });
      expect(middle.closeCode).toBeUndefined();
      expect(newest.closeCode).toBeUndefined();
      expect(limited.hotline.channels.count('demo', '1001')).toBe(2);
      const clients = [oldest, middle, newest];
      for (const c of clients) c.close();
    } finally {
      await limited.close();
    }
  });
});

describe('bad frames and bad tokens', () => {
  it('answers malformed, unknown and invalid frames with error frames and keeps the channel open', async () => {
    const channel = connect({ token });
    await channel.waitFor(hasSnapshot);
    channel.send('{not json');
    channel.send({ type: 'dance' });
    channel.send({ type: 'resume', epoch: 5, lastSeq: 'x' });
    channel.send({ type: 'ping', t: 42 });
    await channel.waitFor((f) => f.some((x) => x.type === 'pong'));
    const errorCodes = channel.frames.flatMap((f) => (f.type === 'error' ? [f.code] : []));
    expect(errorCodes).toEqual(['InvalidJson', 'UnknownMessageType', 'ValidationFailed']);
    expect(channel.frames.find((f) => f.type === 'pong')).toMatchObject({ t: 42 });
    expect(channel.closeCode).toBeUndefined();
  });

  it('closes with 1009 on a frame over the size limit', async () => {
    const channel = connect({ token });
    await channel.waitFor(hasSnapshot);
    channel.send({ type: 'ping', pad: 'x'.repeat(20_000) });
    expect(await channel.waitClosed()).toBe(ChannelCloseCode.MessageTooLarge);
  });

  it.each([
    ['no token', {}, 'Unauthorized'],
    ['a garbage token', { token: 'garbage' }, 'Unauthorized'],
  ])('refuses %s with an error frame and close code 4001', async (_what, params, code) => {
    const channel = connect(params);
    expect(await channel.waitClosed()).toBe(ChannelCloseCode.AuthFailed);
    expect(channel.closeReason).toBe(code);
    expect(channel.frames).toEqual([expect.objectContaining({ type: 'error', code })]);
  });

  it('refuses an expired token with TokenExpired, and ends a live channel when its token expires', async () => {
    // Two seconds, not one: `exp` counts whole seconds from the second the token was issued in, so a one-second
    // token issued late in a second can be expired before the channel opens.
    const shortLived = await agentToken(server, '1001', undefined, 2);
    const live = connect({ token: shortLived });
    await live.waitFor(hasSnapshot);
    expect(await live.waitClosed(4000)).toBe(ChannelCloseCode.AuthFailed);
    expect(live.closeReason).toBe('TokenExpired');
    const late = connect({ token: shortLived });
    expect(await late.waitClosed()).toBe(ChannelCloseCode.AuthFailed);
    expect(late.closeReason).toBe('TokenExpired');
  });

  it('accepts the token in an Authorization header too (Node clients)', async () => {
    const channel = connect({ headers: { authorization: `Bearer ${token}` } });
    await channel.waitFor(hasSnapshot);
  });
});

describe('heartbeats and presence', () => {
  it('closes a peer that stops answering pings', async () => {
    const channel = connect({ token });
    await channel.waitFor(hasSnapshot);
    // Stop reading: the client no longer sees pings, so it cannot answer them.
    const raw = (channel.socket as unknown as { _socket: { pause(): void } })._socket;
    raw.pause();
    const deadline = Date.now() + 3000;
    while (server.hotline.channels.count('demo', '1001') > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(server.hotline.channels.count('demo', '1001')).toBe(0);
  });

  it('checks out an agent whose channels stay gone past the grace period, but not one that reloads in time', async () => {
    await api(server, 'PATCH', '/v1/admin/instances/demo', {
      token: server.adminKey,
      body: { settings: { channelGraceSeconds: 1 } },
    });
    try {
      const reloader = connect({ token });
      await reloader.waitFor(hasSnapshot);
      await api(server, 'POST', '/v1/agent/checkin', { token });
      reloader.close();
      await new Promise((r) => setTimeout(r, 300));
      const reloaded = connect({ token });
      await reloaded.waitFor(hasSnapshot);
      await new Promise((r) => setTimeout(r, 1200));
      expect((await api(server, 'GET', '/v1/agent/status', { token })).body.status).toBe(AgentBarStatus.AgentReady);

      reloaded.close();
      await new Promise((r) => setTimeout(r, 1500));
      const after = await api(server, 'GET', '/v1/agent/status', { token });
      expect(after.body.status).toBe(AgentBarStatus.AgentCheckout);
      const history = await api<{ items: { cmd: string }[] }>(server, 'GET', '/v1/agent/history?limit=1', { token });
      expect(history.body.items[0]?.cmd).toBe('channel-lost');
    } finally {
      await api(server, 'PATCH', '/v1/admin/instances/demo', {
        token: server.adminKey,
        body: { settings: { channelGraceSeconds: 60 } },
      });
    }
  });

  it('closes the channels of an agent that an administrator disables', async () => {
    const channel = connect({ token });
    await channel.waitFor(hasSnapshot);
    await api(server, 'PATCH', '/v1/admin/instances/demo/agents/1001', {
      token: server.adminKey,
      body: { enabled: false },
    });
    try {
      expect(await channel.waitClosed()).toBe(ChannelCloseCode.AgentRemoved);
    } finally {
      await api(server, 'PATCH', '/v1/admin/instances/demo/agents/1001', {
        token: server.adminKey,
        body: { enabled: true },
      });
    }
  });
});

describe('a restart', () => {
  it('loses no configuration, no status and no history, and starts a new stream epoch', async () => {
    const restartable = await startTestServer();
    seedDemo(restartable.hotline);
    const firstToken = await agentToken(restartable, '1002');
    await api(restartable, 'POST', '/v1/agent/checkin', { token: firstToken });
    await api(restartable, 'POST', '/v1/agent/break', { token: firstToken, body: { reasonCode: 'meal' } });
    const oldEpoch = restartable.hotline.streams.epoch;
    await restartable.stop();

    const restarted = await startTestServer({ dataDir: restartable.dataDir });
    try {
      // Same signing secret: the token issued before the restart still works.
      const status = await api(restarted, 'GET', '/v1/agent/status', { token: firstToken });
      expect(status.body).toMatchObject({ status: AgentBarStatus.AgentBreak, breakReason: 'meal' });
      const agents = await api<{ items: unknown[] }>(restarted, 'GET', '/v1/admin/instances/demo/agents', {
        token: restarted.adminKey,
      });
      expect(agents.body.items).toHaveLength(3);
      const history = await api<{ items: { cmd: string }[] }>(restarted, 'GET', '/v1/agent/history', {
        token: firstToken,
      });
      expect(history.body.items.map((h) => h.cmd)).toEqual(['break', 'checkin', 'checkin']);
      expect(restarted.hotline.streams.epoch).not.toBe(oldEpoch);
      const channel = ChannelClient.connect(restarted.wsUrl, { token: firstToken, epoch: oldEpoch, lastSeq: 3 });
      await channel.waitFor(hasSnapshot);
      channel.close();
    } finally {
      await restarted.close();
    }
  });

  it('releases an agent that the server left in a call status, so nobody stays stuck', async () => {
    const crashed = await startTestServer();
    seedDemo(crashed.hotline);
    const t = await agentToken(crashed, '1003');
    await api(crashed, 'POST', '/v1/agent/checkin', { token: t, body: { acwSeconds: 0 } });
    crashed.hotline.agents.execute('demo', '1003', { type: 'offerCall' }, 'test-call');
    crashed.hotline.agents.execute('demo', '1003', { type: 'inboundEstablished' }, 'test-call');
    await crashed.stop();
    const restarted = await startTestServer({ dataDir: crashed.dataDir });
    try {
      const status = await api(restarted, 'GET', '/v1/agent/status', { token: t });
      expect(status.body.status).toBe(AgentBarStatus.AgentAcw);
      const history = await api<{ items: { cmd: string; to: number }[] }>(
        restarted,
        'GET',
        '/v1/agent/history?limit=2',
        {
          token: t,
        },
      );
      expect(history.body.items.map((h) => [h.cmd, h.to])).toEqual([
        ['server-restart', AgentBarStatus.AgentAcw],
        ['server-restart', AgentBarStatus.AgentCallRelease],
      ]);
    } finally {
      await restarted.close();
    }
  });
});
