import {
  type AgentSnapshot,
  ChannelCloseCode,
  type ClientFrame,
  type NotifyMessage,
  type ServerFrame,
} from '@openhotline/protocol';
import {
  exponentialBackoff,
  ReconnectingSocket,
  type ReconnectPolicy,
  type Timers,
  type WebSocketFactory,
} from './reconnecting-socket';

/**
 * The live channel: one reconnecting WebSocket to `/v1/agent/channel`, with the protocol on top — hello,
 * snapshot, ordered notifies deduplicated by sequence number, resume after a drop, ping/pong liveness.
 */

export type ChannelState =
  /** Not started (no InstanceId/BearerToken yet), or stopped by the SDK. */
  | 'idle'
  | 'connecting'
  /** Connected and in sync with the server's stream: status and events are current. */
  | 'open'
  /** Dropped; trying again with backoff, and will resume from the last sequence number. */
  | 'reconnecting'
  /** Refused for its token (expired or invalid): waits for setConfig({ BearerToken }) with a new one. */
  | 'awaitingToken'
  /** Closed by the server for good (agent removed or disabled, too many tabs): waits for setConfig. */
  | 'closed';

export interface ResumePoint {
  readonly epoch: string;
  readonly lastSeq: number;
}

export interface ChannelTarget {
  /** The full WebSocket URL, with access_token (and the resume point, when given). */
  readonly url: string;
  /** The token in that URL, so an authentication failure can be blamed on the right one. */
  readonly token: string;
}

export interface ChannelHandlers {
  /** The server's full state at `seq` (first connect, or a gap it could not replay). */
  onSnapshot(agent: AgentSnapshot, seq: number): void;
  /** One notify, in stream order, never twice. */
  onNotify(message: NotifyMessage): void;
  onStateChange(state: ChannelState): void;
  /** Closed with 4001: `code` is the server's error code (TokenExpired, Unauthorized, ...). */
  onAuthFailure(code: string, message: string, token: string): void;
  /** Closed for good by the server (4009, 4011). */
  onClosedByServer(closeCode: number, code: string, message: string): void;
  /** Every other frame (media.answer, media.candidate, media.state, error, pong): the media session's signaling. */
  onFrame?(frame: ServerFrame): void;
}

export interface ChannelOptions {
  readonly target: (resume: ResumePoint | undefined) => ChannelTarget;
  readonly handlers: ChannelHandlers;
  readonly WebSocket?: WebSocketFactory;
  readonly timers?: Timers;
  readonly reconnectPolicy?: ReconnectPolicy;
  readonly now?: () => number;
}

/** Close codes after which reconnecting with the same credentials would be refused again. */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  ChannelCloseCode.AuthFailed,
  ChannelCloseCode.ConnectionLimit,
  ChannelCloseCode.AgentRemoved,
]);

const DEFAULT_HEARTBEAT_MS = 15_000;

export class LiveChannel {
  readonly socket: ReconnectingSocket;
  private state: ChannelState = 'idle';
  private epoch: string | undefined;
  private lastSeq = 0;
  /** The hello said another epoch (or we had none): everything before the snapshot is ignored. */
  private awaitingSnapshot = true;
  private helloReceived = false;
  /** A gap was seen and a resume sent; further gapped frames wait for the replay. */
  private resyncing = false;
  private connectionToken = '';
  private lastError: { code: string; message: string } | undefined;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private heartbeatTimer: unknown;
  private pingOutstanding = false;
  private readonly timers: Timers;
  private readonly now: () => number;

  constructor(private readonly options: ChannelOptions) {
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    };
    this.now = options.now ?? Date.now;
    const base = options.reconnectPolicy ?? exponentialBackoff();
    this.socket = new ReconnectingSocket(() => this.nextUrl(), undefined, {
      startClosed: true,
      timers: this.timers,
      reconnectPolicy: (context) => (FINAL_CLOSE_CODES.has(context.closeCode) ? null : base(context)),
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    });
    this.socket.addEventListener('open', () => this.onOpen());
    this.socket.addEventListener('message', (event) => this.onMessage((event as MessageEvent).data));
    this.socket.addEventListener('close', (event) => this.onClose(event as CloseEvent));
  }

  getState(): ChannelState {
    return this.state;
  }

  /** In sync with the server: the status derived from this channel is current. */
  isLive(): boolean {
    return this.state === 'open' && this.helloReceived && !this.awaitingSnapshot;
  }

  resumePoint(): ResumePoint | undefined {
    return this.epoch === undefined ? undefined : { epoch: this.epoch, lastSeq: this.lastSeq };
  }

  /** Sends a frame if the channel is open and in sync; false otherwise (the frame is dropped, not queued). */
  send(frame: ClientFrame): boolean {
    return this.isLive() && this.socket.send(JSON.stringify(frame));
  }

  /** Connects (or reconnects now), resuming from the last sequence number when there is one. */
  start(): void {
    this.setState(this.epoch === undefined ? 'connecting' : 'reconnecting');
    this.socket.reconnect(4000, 'restart');
  }

  /** Stops and forgets the stream position: the next start is a fresh connection with a snapshot. */
  reset(): void {
    this.stop();
    this.epoch = undefined;
    this.lastSeq = 0;
  }

  stop(): void {
    this.stopHeartbeat();
    // Idle first: the close event this causes must not be taken for a drop.
    this.setState('idle');
    this.socket.close(1000, 'stopped');
  }

  private nextUrl(): string {
    const target = this.options.target(this.resumePoint());
    this.connectionToken = target.token;
    return target.url;
  }

  private setState(state: ChannelState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.handlers.onStateChange(state);
  }

  private onOpen(): void {
    this.helloReceived = false;
    this.awaitingSnapshot = true;
    this.resyncing = false;
    this.lastError = undefined;
  }

  private onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(raw) as ServerFrame;
    } catch {
      return;
    }
    this.pingOutstanding = false;
    switch (frame.type) {
      case 'hello':
        this.helloReceived = true;
        // Same run of the server: it replays what we missed. Another run (or none yet): a snapshot follows.
        this.awaitingSnapshot = frame.epoch !== this.epoch;
        this.startHeartbeat(frame.heartbeatIntervalMs);
        if (!this.awaitingSnapshot) this.setState('open');
        return;
      case 'snapshot':
        this.epoch = frame.epoch;
        this.lastSeq = frame.seq;
        this.awaitingSnapshot = false;
        this.resyncing = false;
        this.options.handlers.onSnapshot(frame.agent, frame.seq);
        this.setState('open');
        return;
      case 'notify':
        this.onNotify(frame);
        return;
      case 'error':
        this.lastError = { code: frame.code, message: frame.message };
        this.options.handlers.onFrame?.(frame);
        return;
      default:
        this.options.handlers.onFrame?.(frame);
        return;
    }
  }

  private onNotify(frame: Extract<ServerFrame, { type: 'notify' }>): void {
    if (this.awaitingSnapshot || frame.seq <= this.lastSeq) return;
    if (frame.seq > this.lastSeq + 1) {
      // Never expected from this server; if it happens, ask for the missing part instead of skipping it.
      if (!this.resyncing && this.epoch !== undefined) {
        this.resyncing = true;
        this.socket.send(JSON.stringify({ type: 'resume', epoch: this.epoch, lastSeq: this.lastSeq }));
      }
      return;
    }
    this.resyncing = false;
    this.lastSeq = frame.seq;
    const { type: _type, ...message } = frame;
    this.options.handlers.onNotify(message as NotifyMessage);
  }

  private onClose(event: CloseEvent): void {
    this.stopHeartbeat();
    this.helloReceived = false;
    const reason = event.reason || this.lastError?.code || '';
    const message = this.lastError?.message ?? reason;
    this.lastError = undefined;
    if (this.state === 'idle') return;
    if (event.code === ChannelCloseCode.AuthFailed) {
      this.setState('awaitingToken');
      this.options.handlers.onAuthFailure(reason || 'Unauthorized', message, this.connectionToken);
      return;
    }
    if (event.code === ChannelCloseCode.ConnectionLimit || event.code === ChannelCloseCode.AgentRemoved) {
      this.setState('closed');
      this.options.handlers.onClosedByServer(event.code, reason, message);
      return;
    }
    // Closed through takeWebSocketNotify().socket.close(): closed until reconnect() or a new setConfig.
    this.setState(this.socket.willReconnect ? 'reconnecting' : 'closed');
  }

  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    this.heartbeatMs = intervalMs > 0 ? intervalMs : DEFAULT_HEARTBEAT_MS;
    this.pingOutstanding = false;
    const tick = () => {
      // No frame at all since the last ping: the connection is dead even if the browser has not noticed.
      if (this.pingOutstanding) {
        this.setState('reconnecting');
        this.socket.reconnect(4010, 'heartbeat timeout');
        return;
      }
      this.pingOutstanding = this.socket.send(JSON.stringify({ type: 'ping', t: this.now() }));
      this.heartbeatTimer = this.timers.setTimeout(tick, this.heartbeatMs);
    };
    this.heartbeatTimer = this.timers.setTimeout(tick, this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    this.timers.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.pingOutstanding = false;
  }
}
