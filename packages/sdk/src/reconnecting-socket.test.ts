import { afterEach, describe, expect, it, vi } from 'vitest';
import { exponentialBackoff, ReconnectingSocket } from './reconnecting-socket';
import { FakeSocket } from './test-support/fakes';

afterEach(() => {
  vi.useRealTimers();
  FakeSocket.reset();
});

describe('the reconnect policy', () => {
  it('grows exponentially with jitter, within bounds, and can give up', () => {
    const low = exponentialBackoff({ minDelayMs: 500, maxDelayMs: 8000, maxRetries: 5 }, () => 0);
    const high = exponentialBackoff({ minDelayMs: 500, maxDelayMs: 8000, maxRetries: 5 }, () => 1);
    const at = (policy: typeof low, attempt: number) => policy({ attempt, closeCode: 1006, closeReason: '' });
    expect([1, 2, 3, 4, 5].map((n) => at(low, n))).toEqual([250, 500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4, 5].map((n) => at(high, n))).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(at(low, 6)).toBeNull();
  });
});

describe('a reconnecting socket', () => {
  it('reconnects after a drop with the delay the policy gives, asking the URL provider again', async () => {
    vi.useFakeTimers();
    let n = 0;
    const delays: number[] = [];
    const socket = new ReconnectingSocket(() => `ws://h/${++n}`, undefined, {
      WebSocket: (url) => new FakeSocket(url),
      reconnectPolicy: ({ attempt }) => {
        delays.push(attempt);
        return 100 * attempt;
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.latest().url).toBe('ws://h/1');
    FakeSocket.latest().open();
    expect(socket.readyState).toBe(1);
    FakeSocket.latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(99);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.latest().url).toBe('ws://h/2');
    FakeSocket.latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(200);
    expect(FakeSocket.latest().url).toBe('ws://h/3');
    expect(delays).toEqual([1, 2]);
    socket.close();
  });

  it('stops when the policy says null, and stays stopped after close()', async () => {
    vi.useFakeTimers();
    const socket = new ReconnectingSocket('ws://h', undefined, {
      WebSocket: (url) => new FakeSocket(url),
      reconnectPolicy: ({ closeCode }) => (closeCode === 4001 ? null : 10),
    });
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.latest().open();
    FakeSocket.latest().serverClose(4001, 'TokenExpired');
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(socket.readyState).toBe(3);
    socket.reconnect();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(2);
    socket.close();
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('sends nothing while not open, and forwards listeners like reconnecting-websocket', async () => {
    vi.useFakeTimers();
    const socket = new ReconnectingSocket('ws://h', undefined, { WebSocket: (url) => new FakeSocket(url) });
    expect(socket.send('x')).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    const messages: unknown[] = [];
    socket.addEventListener('message', (e) => messages.push((e as MessageEvent).data));
    socket.onmessage = (e) => messages.push(`on:${e.data}`);
    FakeSocket.latest().open();
    FakeSocket.latest().receive({ type: 'pong' });
    expect(messages).toEqual(['on:{"type":"pong"}', '{"type":"pong"}']);
    expect(socket.send('{"type":"ping"}')).toBe(true);
    expect(FakeSocket.latest().sent).toEqual([{ type: 'ping' }]);
    socket.close();
  });

  it('gives up on an attempt that does not open in time and tries again', async () => {
    vi.useFakeTimers();
    const socket = new ReconnectingSocket('ws://h', undefined, {
      WebSocket: (url) => new FakeSocket(url),
      connectionTimeoutMs: 1000,
      reconnectPolicy: () => 0,
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[0]?.closedByClient?.code).toBe(4008);
    socket.close();
  });
});
