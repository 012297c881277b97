/**
 * Fakes for the SDK's unit tests, which run in Node without a DOM: a scripted WebSocket and a recording fetch.
 * They test the SDK's own logic (what it sends, how it reacts); the e2e tests run it against the real server.
 */
import {
  type AgentBarStatus,
  AgentBasicCode,
  type AgentSnapshot,
  type EnumWSEventType,
  type HotlineEventData,
  SceneType,
  type ServerFrame,
} from '@openhotline/protocol';
import type { SocketLike } from '../reconnecting-socket';
import { SoftPhone, type SoftPhoneDeps } from '../softphone';

export class FakeSocket implements SocketLike {
  static readonly all: FakeSocket[] = [];
  readyState = 0;
  readonly protocol = '';
  readonly extensions = '';
  readonly bufferedAmount = 0;
  binaryType: BinaryType = 'blob';
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: unknown[] = [];
  closedByClient: { code?: number; reason?: string } | undefined;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static latest(): FakeSocket {
    const socket = FakeSocket.all.at(-1);
    if (!socket) throw new Error('no socket was created');
    return socket;
  }

  static reset(): void {
    FakeSocket.all.length = 0;
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    this.sent.push(typeof data === 'string' ? JSON.parse(data) : data);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { ...(code !== undefined ? { code } : {}), ...(reason !== undefined ? { reason } : {}) };
    this.serverClose(code ?? 1000, reason ?? '');
  }

  // ---- the server's side
  open(): void {
    this.readyState = 1;
    this.onopen?.({ type: 'open' } as Event);
  }

  receive(frame: ServerFrame | Record<string, unknown>): void {
    this.onmessage?.({ type: 'message', data: JSON.stringify(frame) } as MessageEvent);
  }

  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ type: 'close', code, reason, wasClean: code !== 1006 } as CloseEvent);
  }

  /** Open, hello, and a snapshot at `seq`: a first connection. */
  handshake(status: AgentBarStatus, seq = 0, epoch = 'ep1', since = 1000): void {
    this.open();
    this.receive({ type: 'hello', epoch, seq, connectionId: 'c1', serverTime: since, heartbeatIntervalMs: 15_000 });
    this.receive({ type: 'snapshot', epoch, seq, agent: snapshot(status, since) });
  }
}

export function snapshot(status: AgentBarStatus, since = 1000): AgentSnapshot {
  return {
    instanceId: 'demo',
    agentId: '1001',
    name: 'Zhang Wei',
    status,
    agentBasicCode: AgentBasicCode.AgentReady,
    since,
    breakReason: '',
    activeSkillGroupIds: [],
    acwSeconds: 1,
    acwEndsAt: null,
    channels: 1,
  };
}

export function hotlineData(
  code: EnumWSEventType,
  status: AgentBarStatus,
  extra: Partial<HotlineEventData> = {},
): HotlineEventData {
  return {
    acid: '',
    agentBasicCode: AgentBasicCode.AgentBusyForCall,
    agentBasicDesc: '坐席通话忙',
    agentCallCode: code,
    agentCallDesc: '来电',
    aid: '',
    ani: '',
    appName: 'demo',
    cmd: 'test',
    connId: '',
    departmentId: '',
    dnis: '',
    eventTime: '2000',
    holdConnId: '',
    jobId: '',
    mid: '',
    name: '',
    status,
    subSessionId: '',
    supportNewFunction: '1',
    time: new Date(2000).toISOString(),
    instanceId: 'demo',
    agentId: '1001',
    breakReason: '',
    callDirection: '',
    releasedBy: '',
    releaseReason: '',
    location: null,
    descriptions: {
      'zh-CN': { agentBasicDesc: '坐席通话忙', agentCallDesc: '来电' },
      en: { agentBasicDesc: 'Busy on a call', agentCallDesc: 'Incoming call' },
    },
    ...extra,
  };
}

export function notify(
  seq: number,
  code: EnumWSEventType,
  status: AgentBarStatus,
  extra: Partial<HotlineEventData> = {},
): ServerFrame {
  const data = hotlineData(code, status, extra);
  return {
    type: 'notify',
    seq,
    sceneType: SceneType.HotlineMessage,
    head: { agentCallCode: code, agentBasicCode: data.agentBasicCode, status, eventTime: data.eventTime },
    data,
  };
}

export interface RecordedRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export type Responder = (
  request: RecordedRequest,
) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>;

/** A fetch that records each request and answers with `respond` (200 and an empty object by default). */
export function recordingFetch(respond: Responder = () => ({ status: 200, body: {} })) {
  const requests: RecordedRequest[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const request: RecordedRequest = {
      url,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(request);
    const { status, body } = await respond(request);
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, requests };
}

export const PAGE = { protocol: 'https:', host: 'crm.example.com' };

/** A SoftPhone wired to fakes: no network, no real sockets, no browser checks. */
export function makePhone(deps: Partial<SoftPhoneDeps> = {}, respond?: Responder) {
  const http = recordingFetch(respond);
  const callbackErrors: unknown[] = [];
  const phone = new SoftPhone({
    fetch: http.fetch,
    WebSocket: (url) => new FakeSocket(url),
    location: () => PAGE,
    checkEnvironment: async () => [],
    // Reconnect at once: the tests script the server's side and need no real backoff.
    reconnectPolicy: () => 0,
    reportCallbackError: (error) => callbackErrors.push(error),
    ...deps,
  });
  return { phone, http, callbackErrors };
}

/** Collects every event of the given names as [name, data] pairs. */
export function collect(phone: SoftPhone, names: readonly string[]) {
  const seen: [string, unknown][] = [];
  for (const name of names) {
    phone.register(name as EnumWSEventType, (eventData) => {
      seen.push([eventData.type, eventData.data]);
    });
  }
  return seen;
}

/** Lets pending promises and microtasks run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}
