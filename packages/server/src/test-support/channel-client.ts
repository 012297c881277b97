import { CHANNEL_PATH, type ServerFrame } from '@openhotline/protocol';
import WebSocket from 'ws';

/**
 * A real WebSocket client of the live channel for tests: it records every frame and waits for conditions.
 */
export class ChannelClient {
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as ServerFrame);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
      this.wake();
    });
    socket.on('error', () => this.wake());
  }

  static connect(
    wsUrl: string,
    params: { token?: string; locale?: string; epoch?: string; lastSeq?: number; headers?: Record<string, string> },
  ): ChannelClient {
    const query = new URLSearchParams();
    if (params.token !== undefined) query.set('access_token', params.token);
    if (params.locale) query.set('locale', params.locale);
    if (params.epoch !== undefined) query.set('epoch', params.epoch);
    if (params.lastSeq !== undefined) query.set('lastSeq', String(params.lastSeq));
    return new ChannelClient(
      new WebSocket(`${wsUrl}${CHANNEL_PATH}?${query}`, params.headers ? { headers: params.headers } : {}),
    );
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  notifies() {
    return this.frames.flatMap((f) => (f.type === 'notify' ? [f] : []));
  }

  lastSeq(): number {
    let seq = 0;
    for (const f of this.frames) if (f.type === 'notify' || f.type === 'snapshot') seq = Math.max(seq, f.seq);
    return seq;
  }

  epoch(): string {
    const hello = this.frames.find((f) => f.type === 'hello');
    if (hello?.type !== 'hello') throw new Error('no hello yet');
    return hello.epoch;
  }

  /** Resolves when predicate holds over the frames received so far; rejects after timeoutMs. */
  async waitFor(predicate: (frames: ServerFrame[]) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.map(brief))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitForNotifies(count: number, timeoutMs = 5000): Promise<void> {
    await this.waitFor(
      (frames) => frames.filter((f) => f.type === 'notify').length >= count,
      timeoutMs,
      `${count} notifies`,
    );
  }

  async waitClosed(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error('timed out waiting for close');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closeCode;
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function brief(frame: ServerFrame): string {
  if (frame.type === 'notify' && frame.sceneType === 'hotline-message')
    return `notify#${frame.seq}:${frame.head.agentCallCode}`;
  if (frame.type === 'snapshot') return `snapshot@${frame.seq}:${frame.agent.status}`;
  if (frame.type === 'error') return `error:${frame.code}`;
  return frame.type;
}
