import { AgentBarStatus as S, EnumWSEventType as W } from '@openhotline/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ChannelState, LiveChannel } from './channel';
import { FakeSocket, notify } from './test-support/fakes';

// The live channel's protocol on a scripted socket (see test-support/fakes.ts), with fake timers for the heartbeat.

afterEach(() => {
  vi.useRealTimers();
  FakeSocket.reset();
});

function channel() {
  const states: ChannelState[] = [];
  const seqs: number[] = [];
  const live = new LiveChannel({
    target: (resume) => ({
      url: `ws://h/v1/agent/channel?access_token=t${resume ? `&epoch=${resume.epoch}&lastSeq=${resume.lastSeq}` : ''}`,
      token: 't',
    }),
    handlers: {
      onSnapshot: () => {},
      onNotify: (m) => seqs.push(m.seq),
      onStateChange: (s) => states.push(s),
      onAuthFailure: () => {},
      onClosedByServer: () => {},
    },
    WebSocket: (url) => new FakeSocket(url),
    reconnectPolicy: () => 0,
  });
  return { live, states, seqs };
}

describe('the heartbeat', () => {
  it('pings every heartbeatIntervalMs and reconnects when a ping gets no answer at all', async () => {
    vi.useFakeTimers();
    const { live, states } = channel();
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = FakeSocket.latest();
    first.open();
    first.receive({ type: 'hello', epoch: 'e', seq: 0, connectionId: 'c', serverTime: 0, heartbeatIntervalMs: 1000 });
    first.receive({ type: 'snapshot', epoch: 'e', seq: 0, agent: {} });
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.sent).toEqual([{ type: 'ping', t: expect.any(Number) }]);
    first.receive({ type: 'pong', serverTime: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.sent).toHaveLength(2);
    // Silence: the next tick finds the ping unanswered and does not wait for the browser to notice.
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.latest().url).toContain('epoch=e&lastSeq=0');
    expect(states).toEqual(['connecting', 'open', 'reconnecting']);
    live.stop();
  });
});

describe('ordering', () => {
  it('ignores notifies before the snapshot of a new stream, then delivers in order', async () => {
    vi.useFakeTimers();
    const { live, seqs } = channel();
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    const socket = FakeSocket.latest();
    socket.open();
    socket.receive({ type: 'hello', epoch: 'e', seq: 5, connectionId: 'c', serverTime: 0, heartbeatIntervalMs: 1000 });
    socket.receive(notify(5, W.AgentReady, S.AgentReady));
    socket.receive({ type: 'snapshot', epoch: 'e', seq: 5, agent: {} });
    socket.receive(notify(6, W.AgentBreak, S.AgentBreak));
    socket.receive(notify(6, W.AgentBreak, S.AgentBreak));
    socket.receive('not json' as never);
    socket.receive(notify(7, W.AgentReady, S.AgentReady));
    expect(seqs).toEqual([6, 7]);
    expect(live.isLive()).toBe(true);
    live.stop();
    expect(live.isLive()).toBe(false);
  });
});
