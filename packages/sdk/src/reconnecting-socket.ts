/**
 * A WebSocket that reconnects by itself, with the public surface of the `reconnecting-websocket` package
 * (constructor with a URL or URL provider, `on*` handlers and `addEventListener`, `send`, `close`, `reconnect`,
 * `readyState`, `retryCount`, `url`), so code written for that package's instance works on
 * `takeWebSocketNotify().socket`. The delay before each attempt comes from a pluggable policy (next delay in ms,
 * or null to stop), which lets the live channel stop on authentication failures instead of hammering the server.
 */

export interface SocketLike {
  readonly readyState: number;
  readonly url: string;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  binaryType: BinaryType;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string, protocols?: string | string[]) => SocketLike;

export type UrlProvider = string | (() => string | Promise<string>);

export interface ReconnectContext {
  /** 1 for the first retry after a drop (or a failed first attempt), then 2, 3, ... until a connection opens. */
  readonly attempt: number;
  /** The close code of the connection that just ended (1006 when it never opened). */
  readonly closeCode: number;
  readonly closeReason: string;
}

/** Returns the delay in ms before the next attempt, or null to stop reconnecting. */
export type ReconnectPolicy = (context: ReconnectContext) => number | null;

export interface BackoffOptions {
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly factor?: number;
  /** Give up after this many consecutive failed attempts (default: never). */
  readonly maxRetries?: number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so that many agents dropped by
 * one network blip do not all come back in the same millisecond.
 */
export function exponentialBackoff(options: BackoffOptions = {}, random: () => number = Math.random): ReconnectPolicy {
  const { minDelayMs = 500, maxDelayMs = 10_000, factor = 2, maxRetries = Number.POSITIVE_INFINITY } = options;
  return ({ attempt }) => {
    if (attempt > maxRetries) return null;
    const ceiling = Math.min(maxDelayMs, minDelayMs * factor ** Math.max(0, attempt - 1));
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  };
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ReconnectingSocketOptions {
  /** Creates the underlying socket; default: the platform's `WebSocket`. */
  readonly WebSocket?: WebSocketFactory;
  readonly reconnectPolicy?: ReconnectPolicy;
  /** An attempt that has not opened after this long is abandoned and retried. */
  readonly connectionTimeoutMs?: number;
  /** Do not connect until `reconnect()` is called. */
  readonly startClosed?: boolean;
  readonly timers?: Timers;
}

type Kind = 'open' | 'message' | 'close' | 'error';
type Listener = (event: Event) => void;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

function platformWebSocket(url: string, protocols?: string | string[]): SocketLike {
  const Ctor = (globalThis as { WebSocket?: new (url: string, protocols?: string | string[]) => SocketLike }).WebSocket;
  if (!Ctor) throw new Error('This environment has no WebSocket.');
  return new Ctor(url, protocols);
}

export class ReconnectingSocket {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;

  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  binaryType: BinaryType = 'blob';

  private ws: SocketLike | undefined;
  private readonly listeners: Record<Kind, Listener[]> = { open: [], message: [], close: [], error: [] };
  private readonly create: WebSocketFactory;
  private readonly policy: ReconnectPolicy;
  private readonly timers: Timers;
  private readonly connectionTimeoutMs: number;
  private active: boolean;
  private failures = 0;
  private retryTimer: unknown;
  private connectTimer: unknown;
  /** Bumped on every attempt, so a URL provider that resolves late cannot open a stale socket. */
  private generation = 0;
  private currentUrl = '';

  constructor(
    private readonly urlProvider: UrlProvider,
    private readonly protocols?: string | string[],
    options: ReconnectingSocketOptions = {},
  ) {
    this.create = options.WebSocket ?? platformWebSocket;
    this.policy = options.reconnectPolicy ?? exponentialBackoff();
    this.timers = options.timers ?? defaultTimers;
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? 8000;
    this.active = !options.startClosed;
    if (this.active) void this.connect();
  }

  get readyState(): number {
    if (this.ws) return this.ws.readyState;
    return this.active ? CONNECTING : CLOSED;
  }

  /** False after close(), or once the policy gave up: no attempt will follow until reconnect(). */
  get willReconnect(): boolean {
    return this.active;
  }

  /** Consecutive failed attempts since the last successful open. */
  get retryCount(): number {
    return this.failures;
  }

  get url(): string {
    return this.ws?.url ?? this.currentUrl;
  }

  get protocol(): string {
    return this.ws?.protocol ?? '';
  }

  get extensions(): string {
    return this.ws?.extensions ?? '';
  }

  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  addEventListener(type: Kind, listener: Listener): void {
    const list = this.listeners[type];
    if (list && !list.includes(listener)) list.push(listener);
  }

  removeEventListener(type: Kind, listener: Listener): void {
    const list = this.listeners[type];
    if (!list) return;
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
  }

  /** Sends on the open socket; returns false (and sends nothing) while it is not open. Nothing is queued. */
  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): boolean {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(data);
    return true;
  }

  /** Closes and stays closed until `reconnect()`. */
  close(code = 1000, reason = ''): void {
    this.active = false;
    this.clearTimers();
    this.generation++;
    const ws = this.ws;
    if (ws && ws.readyState !== CLOSED && ws.readyState !== CLOSING) ws.close(code, reason);
    else if (ws) this.detach(ws);
  }

  /**
   * Drops the current connection (if any) and connects again at once. A connection that is merely suspected dead
   * is not waited for: its close event is reported now and a late one is ignored.
   */
  reconnect(code = 4000, reason = 'reconnect'): void {
    this.active = true;
    this.failures = 0;
    this.clearTimers();
    const ws = this.ws;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(code, reason);
      } catch {
        // Closing a socket that is still connecting may throw in some engines; it is abandoned either way.
      }
      this.dispatch('close', makeCloseEvent(code, reason, false));
    }
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (!this.active) return;
    const generation = ++this.generation;
    let url: string;
    try {
      url = typeof this.urlProvider === 'string' ? this.urlProvider : await this.urlProvider();
    } catch (error) {
      if (generation !== this.generation || !this.active) return;
      this.dispatch('error', makeErrorEvent(error));
      this.scheduleRetry(1006, 'url provider failed');
      return;
    }
    if (generation !== this.generation || !this.active) return;
    this.currentUrl = url;
    let ws: SocketLike;
    try {
      ws = this.create(url, this.protocols);
    } catch (error) {
      this.dispatch('error', makeErrorEvent(error));
      this.scheduleRetry(1006, 'socket could not be created');
      return;
    }
    ws.binaryType = this.binaryType;
    this.ws = ws;
    this.connectTimer = this.timers.setTimeout(() => {
      if (this.ws !== ws || ws.readyState !== CONNECTING) return;
      this.detach(ws);
      ws.close(4008, 'connection timeout');
      this.dispatch('close', makeCloseEvent(4008, 'connection timeout', false));
      if (this.active && generation === this.generation) this.scheduleRetry(4008, 'connection timeout');
    }, this.connectionTimeoutMs);
    ws.onopen = (event) => {
      this.timers.clearTimeout(this.connectTimer);
      this.failures = 0;
      this.dispatch('open', event);
    };
    ws.onmessage = (event) => this.dispatch('message', event);
    ws.onerror = (event) => this.dispatch('error', event);
    ws.onclose = (event) => {
      this.detach(ws);
      this.dispatch('close', event);
      // A listener may have called reconnect() or close() meanwhile: then that decision stands.
      if (this.active && generation === this.generation) this.scheduleRetry(event.code, event.reason);
    };
  }

  private scheduleRetry(closeCode: number, closeReason: string): void {
    if (!this.active) return;
    this.failures++;
    const delay = this.policy({ attempt: this.failures, closeCode, closeReason });
    if (delay === null) {
      this.active = false;
      return;
    }
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => void this.connect(), Math.max(0, delay));
  }

  private detach(ws: SocketLike): void {
    ws.onopen = null;
    ws.onmessage = null;
    ws.onerror = null;
    ws.onclose = null;
    this.timers.clearTimeout(this.connectTimer);
    if (this.ws === ws) this.ws = undefined;
  }

  private clearTimers(): void {
    this.timers.clearTimeout(this.retryTimer);
    this.timers.clearTimeout(this.connectTimer);
  }

  private dispatch(kind: Kind, event: Event): void {
    const handler = this[`on${kind}`] as ((event: Event) => void) | null;
    const all = handler ? [handler, ...this.listeners[kind]] : [...this.listeners[kind]];
    for (const listener of all) {
      try {
        listener(event);
      } catch (error) {
        console.error('[SoftPhoneSDK] a socket listener threw', error);
      }
    }
  }
}

/** Plain objects with the fields listeners read: CloseEvent and Event constructors are absent outside browsers. */
function makeCloseEvent(code: number, reason: string, wasClean: boolean): CloseEvent {
  return { type: 'close', code, reason, wasClean } as unknown as CloseEvent;
}

function makeErrorEvent(error: unknown): Event {
  return { type: 'error', error, message: error instanceof Error ? error.message : String(error) } as unknown as Event;
}
