import {
  type ActionResult,
  AgentBarStatus,
  type CallQuality,
  type ChannelState,
  DEFAULT_CONFIG,
  EnumEventName,
  EnumWSEventType,
  type HotlineEventData,
  type HotlineMessage,
  type NotifyMessage,
  SceneType,
  type SDKConfig,
} from '@openhotline/sdk';
import { describe, expect, it } from 'vitest';
import { type Clock, DialBarStore, type PhonePort, parseAgentInfo } from './store';

// The store against a scripted softphone: hotline messages in, what the bar shows (and says) out. The browser
// tests (e2e/dialbar.test.ts) run the same store against the real SDK and server.

type Handler = (e: { data: unknown }) => void;

class FakePhone {
  status: AgentBarStatus = AgentBarStatus.Unregistered;
  connection: ChannelState = 'open';
  current: HotlineEventData | undefined;
  readonly calls: string[] = [];
  media = true;
  devices = {
    inputs: [
      { deviceId: 'mic-a', groupId: 'g', label: 'Desk microphone' },
      { deviceId: 'mic-b', groupId: 'g', label: 'Headset' },
    ],
    outputs: [{ deviceId: 'spk-a', groupId: 'g', label: 'Speakers' }],
    input: 'mic-a',
    output: '',
  };
  /** Device ids the fake refuses, as a browser refuses an unplugged device. */
  readonly broken = new Set<string>();
  targets: ActionResult<unknown> = { ok: true, data: TARGETS };
  private readonly notify: ((m: NotifyMessage) => void)[] = [];
  private readonly handlers = new Map<string, Handler[]>();
  private seq = 0;

  port(): PhonePort {
    const ok = <T>(name: string, data: T) => {
      this.calls.push(name);
      return Promise.resolve({ ok: true, data } as ActionResult<T>);
    };
    const fake = {
      getConfig: () => DEFAULT_CONFIG,
      getConnectionState: () => this.connection,
      getAgentBarStatus: () => Promise.resolve(this.status),
      getCurrentCall: () => this.current,
      register: (name: string, cb: Handler) => {
        this.handlers.set(name, [...(this.handlers.get(name) ?? []), cb]);
        return () =>
          this.handlers.set(
            name,
            (this.handlers.get(name) ?? []).filter((h) => h !== cb),
          );
      },
      takeWebSocketNotify: () => ({
        on: (_scene: string, cb: (m: NotifyMessage) => void) => this.notify.push(cb),
        off: (_scene: string, cb: (m: NotifyMessage) => void) => this.notify.splice(this.notify.indexOf(cb), 1),
      }),
      getAgentInfo: () => ok('getAgentInfo', INFO),
      agentReady: () => ok('agentReady', {}),
      callMute: (muted: boolean) => ok(`callMute(${muted})`, { muted }),
      callHangup: (connId: string) => ok(`callHangup(${connId})`, {}),
      callHold: (connId: string) => ok(`callHold(${connId})`, {}),
      hasMedia: () => this.media,
      getAudioDevices: () => ok('getAudioDevices', this.devices),
      setAudioInput: (id: string) => this.setDevice('input', id),
      setAudioOutput: (id: string) => this.setDevice('output', id),
      getTransferTargets: () => {
        this.calls.push('getTransferTargets');
        return Promise.resolve(this.targets);
      },
    };
    return fake as unknown as PhonePort;
  }

  private setDevice(kind: 'input' | 'output', id: string): Promise<ActionResult<void>> {
    this.calls.push(`${kind}(${id})`);
    if (this.broken.has(id)) {
      const error = { code: 'AudioDeviceFailed', message: 'NotReadableError' };
      return Promise.resolve({ ok: false, error } as unknown as ActionResult<void>);
    }
    this.devices = { ...this.devices, [kind]: id };
    return Promise.resolve({ ok: true, data: undefined });
  }

  /** The server pushes a hotline message: the SDK updates its status and current call, then tells subscribers. */
  push(code: EnumWSEventType, status: AgentBarStatus, data: Partial<HotlineEventData> = {}): void {
    this.status = status;
    const full = { ...BASE, ...data, agentCallCode: code, status } as HotlineEventData;
    if (full.connId) this.current = code === EnumWSEventType.AgentCallRelease ? undefined : full;
    this.seq += 1;
    const message = {
      sceneType: SceneType.HotlineMessage,
      seq: this.seq,
      head: { agentCallCode: code, agentBasicCode: full.agentBasicCode, status, eventTime: '0' },
      data: full,
    } as HotlineMessage;
    for (const cb of [...this.notify]) cb(message);
  }

  emit(name: EnumEventName, data: unknown): void {
    for (const cb of this.handlers.get(name) ?? []) cb({ data });
  }
}

const BASE: Partial<HotlineEventData> = {
  connId: '',
  jobId: '',
  acid: '',
  aid: '',
  ani: '',
  dnis: '',
  callDirection: '',
  releasedBy: '',
  releaseReason: '',
  breakReason: '',
  location: null,
};

const INFO = {
  agent: { id: '1001', name: 'Zhang Wei' },
  status: { status: 3, since: 1000, breakReason: '', acwEndsAt: null },
  skillGroups: [{ id: 'support', name: 'Support' }],
  numberGroups: [{ id: 'outbound', name: 'Outbound', numbers: ['02160000001', '02160000002'] }],
  breakReasons: [{ code: 'rest', label: { 'zh-CN': '小休', en: 'Rest' } }],
  systemBreakReasons: { ringTimeout: { 'zh-CN': '未接超时', en: 'Ring timeout' } },
};

const TARGETS = {
  agents: [
    { id: '1002', name: 'Li Na', status: 3, statusDesc: { 'zh-CN': '空闲', en: 'Ready' }, available: true },
    { id: '1003', name: 'Wang Fang', status: 4, statusDesc: { 'zh-CN': '小休', en: 'On break' }, available: false },
  ],
  skillGroups: [{ id: 'support', name: 'Support', readyAgents: 1, waiting: 0 }],
};

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem = (key: string) => this.items.get(key) ?? null;
  setItem = (key: string, value: string) => void this.items.set(key, value);
  removeItem = (key: string) => void this.items.delete(key);
}

class ManualClock implements Clock {
  t = 100_000;
  private readonly timers: { ms: number; fn: () => void; next: number }[] = [];
  now = () => this.t;
  every(ms: number, fn: () => void) {
    this.timers.push({ ms, fn, next: this.t + ms });
    return () => {};
  }
  /** Moves time on, running each interval as often as it would have run. */
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.t = end;
  }
}

async function started(
  config: Partial<SDKConfig> = {},
  options: { media?: boolean; storage?: MemoryStorage; canChooseOutput?: boolean } = {},
) {
  const phone = new FakePhone();
  phone.media = options.media ?? true;
  const clock = new ManualClock();
  const storage = options.storage ?? new MemoryStorage();
  const store = new DialBarStore(
    phone.port(),
    { ...DEFAULT_CONFIG, InstanceId: 'demo', BearerToken: 't', ...config },
    clock,
    { storage, canChooseOutput: options.canChooseOutput ?? true },
  );
  await store.start();
  await Promise.resolve();
  return { phone, clock, store, storage, state: () => store.getState() };
}

/** Lets the store's chained SDK promises settle. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const inbound = {
  connId: 'c1',
  jobId: 'j1',
  acid: 'a1',
  aid: 'g1',
  ani: '13900001111',
  dnis: '4008001000',
  callDirection: 'inbound' as const,
};

describe('an inbound call, as the bar follows it', () => {
  it('rings, connects, is held and retrieved, ends, counts after-call work down and is ready again', async () => {
    const { phone, clock, state } = await started({ autoChangeOnLineTime: 3 });
    phone.push(EnumWSEventType.AgentReady, AgentBarStatus.AgentReady);
    expect(state()).toMatchObject({ phase: 'idle', announcement: { key: 'announceStatus', status: 3 } });

    phone.push(EnumWSEventType.AgentRinging, AgentBarStatus.AgentRinging, inbound);
    expect(state()).toMatchObject({
      phase: 'ringing',
      call: { connId: 'c1' },
      announcement: { key: 'announceIncoming' },
    });

    clock.advance(4000);
    phone.push(EnumWSEventType.AgentCallInboundEstablish, AgentBarStatus.AgentCallInboundEstablish, inbound);
    expect(state()).toMatchObject({ phase: 'talking', callSince: clock.t, announcement: { key: 'announceConnected' } });

    phone.push(EnumWSEventType.AgentCallHeld, AgentBarStatus.AgentCallHeld, inbound);
    expect(state().announcement?.key).toBe('announceHeld');
    phone.push(EnumWSEventType.AgentCallInboundEstablish, AgentBarStatus.AgentCallInboundEstablish, inbound);
    expect(state().announcement?.key).toBe('announceRetrieved');
    // Hold does not restart the call timer.
    expect(state().callSince).toBe(100_000 + 4000);

    phone.push(EnumWSEventType.AgentCallRelease, AgentBarStatus.AgentCallRelease, {
      ...inbound,
      releasedBy: 'customer',
      releaseReason: 'customer-hangup',
    });
    expect(state()).toMatchObject({
      phase: 'acw',
      call: undefined,
      lastCall: { connId: 'c1' },
      acwEndsAt: clock.t + 3000,
      announcement: { key: 'announceEnded', detail: 'releasedBy_customer' },
    });
    const ended = state().announcement?.seq;
    phone.push(EnumWSEventType.AgentAcw, AgentBarStatus.AgentAcw);
    // Released → ACW is one moment for the agent: nothing new is said.
    expect(state().announcement?.seq).toBe(ended);
    expect(state().acwEndsAt).toBe(clock.t + 3000);

    phone.push(EnumWSEventType.AgentReady, AgentBarStatus.AgentReady);
    expect(state()).toMatchObject({ phase: 'idle', acwEndsAt: undefined, announcement: { key: 'announceStatus' } });
  });

  it('acts on the call on screen, by its ids, and tracks mute from the server’s answer', async () => {
    const { phone, store, state } = await started();
    phone.push(EnumWSEventType.AgentCallInboundEstablish, AgentBarStatus.AgentCallInboundEstablish, inbound);
    await store.actions.toggleMute();
    expect(state()).toMatchObject({ muted: true, announcement: { key: 'announceMuted' } });
    await store.actions.hold();
    await store.actions.hangUp();
    expect(phone.calls).toEqual(expect.arrayContaining(['callMute(true)', 'callHold(c1)', 'callHangup(c1)']));
    // A new call starts unmuted.
    phone.push(EnumWSEventType.AgentRinging, AgentBarStatus.AgentRinging, { ...inbound, connId: 'c2' });
    expect(state().muted).toBe(false);
  });

  it('waits for the agent when after-call work has no end of its own (autoChangeOnLineTime 0)', async () => {
    const { phone, state } = await started({ autoChangeOnLineTime: 0 });
    phone.push(EnumWSEventType.AgentCallInboundEstablish, AgentBarStatus.AgentCallInboundEstablish, inbound);
    phone.push(EnumWSEventType.AgentCallRelease, AgentBarStatus.AgentCallRelease, { ...inbound, releasedBy: 'agent' });
    expect(state()).toMatchObject({ phase: 'acw', acwEndsAt: undefined });
    expect(state().announcement?.key).toBe('announceEnded');
    expect(state().announcement?.detail).toBeUndefined();
  });
});

describe('keeping up with the softphone', () => {
  it('catches up with a status that changed without a message (a snapshot after a reconnect)', async () => {
    const { phone, clock, state } = await started();
    phone.status = AgentBarStatus.AgentBreak;
    clock.advance(1000);
    await Promise.resolve();
    expect(state()).toMatchObject({ status: AgentBarStatus.AgentBreak, phase: 'idle' });
  });

  it('loads the agent’s caller ids and break reasons once the channel is open', async () => {
    const { state } = await started();
    await Promise.resolve();
    expect(state().info?.numberGroups[0]?.numbers).toEqual(['02160000001', '02160000002']);
    expect(state().info?.breakReasons.map((r) => r.code)).toEqual(['rest']);
  });

  it('shows a channel closed for good, but leaves token problems to the host', async () => {
    const { phone, state } = await started();
    phone.emit(EnumEventName.actionError, { action: 'channel', code: 'TokenExpired', message: 'expired' });
    expect(state().error).toBeUndefined();
    phone.emit(EnumEventName.actionError, { action: 'channel', code: 'TooManyConnections', message: 'too many tabs' });
    expect(state().error).toMatchObject({ code: 'TooManyConnections' });
  });

  it('ignores a second press while the first is on its way', async () => {
    const { phone, store } = await started();
    phone.push(EnumWSEventType.AgentCallInboundEstablish, AgentBarStatus.AgentCallInboundEstablish, inbound);
    await Promise.all([store.actions.hold(), store.actions.hold()]);
    expect(phone.calls.filter((c) => c.startsWith('callHold'))).toHaveLength(1);
  });
});

describe('reading GET /v1/agent/me', () => {
  it('takes what the bar needs and survives a server that sends less', () => {
    expect(parseAgentInfo(INFO)).toMatchObject({ agentId: '1001', status: 3, since: 1000, acwEndsAt: undefined });
    expect(parseAgentInfo({ agent: {} })).toMatchObject({ numberGroups: [], breakReasons: [], skillGroups: [] });
    expect(parseAgentInfo(null)).toBeUndefined();
  });
});

describe('call quality', () => {
  const reading = (mos: number, oneWayAudio: CallQuality['oneWayAudio'] = 'none'): CallQuality => ({
    rttMs: 20,
    jitterMs: 2,
    packetLossPct: 0,
    mos,
    oneWayAudio,
  });

  it('shows each reading, but announces only a change of level (a good start says nothing)', async () => {
    const { phone, state } = await started();
    phone.push(EnumWSEventType.AgentCallInboundEstablish, AgentBarStatus.AgentCallInboundEstablish, inbound);
    const connected = state().announcement?.seq;
    phone.emit('onCallQuality' as EnumEventName, reading(4.4));
    phone.emit('onCallQuality' as EnumEventName, reading(4.3));
    expect(state().quality?.mos).toBe(4.3);
    expect(state().announcement?.seq).toBe(connected);

    phone.emit('onCallQuality' as EnumEventName, reading(3.8));
    expect(state().announcement).toMatchObject({ key: 'announceQuality', level: 'fair', oneWay: 'none' });
    const fair = state().announcement?.seq;
    phone.emit('onCallQuality' as EnumEventName, reading(3.7));
    expect(state().announcement?.seq).toBe(fair);

    phone.emit('onCallQuality' as EnumEventName, reading(3.7, 'inbound-missing'));
    expect(state().announcement).toMatchObject({ level: 'poor', oneWay: 'inbound-missing' });
  });

  it('forgets the reading when the call ends, and ignores readings that come after it', async () => {
    const { phone, state } = await started();
    phone.push(EnumWSEventType.AgentCallInboundEstablish, AgentBarStatus.AgentCallInboundEstablish, inbound);
    phone.emit('onCallQuality' as EnumEventName, reading(2.5));
    expect(state().announcement).toMatchObject({ key: 'announceQuality', level: 'poor' });
    phone.push(EnumWSEventType.AgentCallRelease, AgentBarStatus.AgentCallRelease, inbound);
    expect(state().quality).toBeUndefined();
    phone.emit('onCallQuality' as EnumEventName, reading(4.4));
    expect(state().quality).toBeUndefined();
  });
});

describe('audio devices', () => {
  it('switches the microphone, remembers it, and says in the picker why a switch failed', async () => {
    const { phone, store, storage, state } = await started();
    await store.actions.loadDevices();
    expect(state().devices?.inputs.map((d) => d.deviceId)).toEqual(['mic-a', 'mic-b']);

    await store.actions.setDevice('input', 'mic-b');
    expect(phone.calls).toContain('input(mic-b)');
    expect(storage.items.get('openhotline.dialbar.audioInput')).toBe('mic-b');
    expect(state()).toMatchObject({ deviceError: undefined, devices: { input: 'mic-b' } });

    phone.broken.add('spk-a');
    await store.actions.setDevice('output', 'spk-a');
    expect(state().deviceError).toMatchObject({ action: 'setAudioOutput', code: 'AudioDeviceFailed' });
    expect(storage.items.has('openhotline.dialbar.audioOutput')).toBe(false);
    // A failed device is not the bar's general error: the call controls stay clear.
    expect(state().error).toBeUndefined();
  });

  it('re-applies the remembered devices at check-in, skipping one that is not plugged in', async () => {
    const storage = new MemoryStorage();
    storage.setItem('openhotline.dialbar.audioInput', 'mic-b');
    storage.setItem('openhotline.dialbar.audioOutput', 'gone');
    const { phone } = await started({}, { storage });
    expect(phone.calls.filter((c) => /^(input|output)\(/.test(c))).toEqual([]);
    phone.push(EnumWSEventType.AgentCheckin, AgentBarStatus.AgentCheckin);
    await settle();
    expect(phone.calls.filter((c) => /^(input|output)\(/.test(c))).toEqual(['input(mic-b)']);
    // Once: a status change inside the check-in applies nothing again.
    phone.push(EnumWSEventType.AgentReady, AgentBarStatus.AgentReady);
    await settle();
    expect(phone.calls.filter((c) => c.startsWith('input('))).toHaveLength(1);
  });

  it('leaves the speaker alone where the browser cannot choose one', async () => {
    const storage = new MemoryStorage();
    storage.setItem('openhotline.dialbar.audioOutput', 'spk-a');
    const { phone } = await started({}, { storage, canChooseOutput: false });
    phone.push(EnumWSEventType.AgentCheckin, AgentBarStatus.AgentCheckin);
    await settle();
    expect(phone.calls.filter((c) => c.startsWith('output('))).toEqual([]);
  });

  it('offers nothing without a media session (a headless integration)', async () => {
    const { phone, store, state } = await started({}, { media: false });
    expect(state().media).toBe(false);
    await store.actions.loadDevices();
    expect(phone.calls).not.toContain('getAudioDevices');
  });
});

describe('transfer targets', () => {
  it('loads the colleagues and groups, and keeps a failure to the transfer panel', async () => {
    const { phone, store, state } = await started();
    await store.actions.loadTransferTargets();
    expect(state().targets?.agents.map((a) => [a.id, a.available])).toEqual([
      ['1002', true],
      ['1003', false],
    ]);
    phone.targets = { ok: false, error: { code: 'NetworkError', message: 'offline' } } as ActionResult<unknown>;
    await store.actions.loadTransferTargets();
    expect(state()).toMatchObject({ targetsError: { code: 'NetworkError' }, error: undefined });
    // The last list stays on screen: better a minute-old list than none.
    expect(state().targets?.agents).toHaveLength(2);
  });
});
