import {
  type ActionErrorData,
  type ActionResult,
  type ActionSuccessData,
  AgentBarStatus,
  type AudioDevices,
  type CallQuality,
  type ChannelState,
  EnumEventName,
  EnumWSEventType,
  type HotlineEventData,
  type HotlineMessage,
  type NotifyMessage,
  type OneWayAudio,
  SceneType,
  type SDKConfig,
  type SoftPhone,
  type TransferTargets,
} from '@openhotline/sdk';
import {
  canChooseOutput,
  type DeviceKind,
  devicesToRestore,
  loadDevice,
  pageStorage,
  type StorageLike,
  saveDevice,
} from './devices';
import type { TextKey } from './i18n';
import { isOnCall, type Phase, phaseOf, type QualityLevel, qualityLevel, qualityNews } from './model';

/**
 * The dial bar's view of the softphone, fed only by the SDK's public API: the live channel's hotline messages
 * (through takeWebSocketNotify), actionSuccess/actionError, and the status and current call the SDK keeps. It
 * adds what the SDK does not track for a UI — local timers, the mute state, the last ended call, the agent's
 * choices from GET /v1/agent/me — and the announcements for the aria-live region.
 */

/** The SoftPhone methods the dial bar uses (a test passes a fake with the same shape). */
export type PhonePort = Pick<
  SoftPhone,
  | 'getConfig'
  | 'getConnectionState'
  | 'getAgentBarStatus'
  | 'getCurrentCall'
  | 'register'
  | 'takeWebSocketNotify'
  | 'getAgentInfo'
  | 'agentCheckin'
  | 'agentCheckout'
  | 'agentReady'
  | 'agentBreak'
  | 'doCallOut'
  | 'callAnswer'
  | 'callHangup'
  | 'callHold'
  | 'callRetrieve'
  | 'callMute'
  | 'sendDtmf'
  | 'callTransfer'
  | 'callConsult'
  | 'consultComplete'
  | 'consultCancel'
  | 'callConference'
  | 'getTransferTargets'
  | 'hasMedia'
  | 'getAudioDevices'
  | 'setAudioInput'
  | 'setAudioOutput'
>;

/** What the store needs of the browser beyond the SDK (a test passes its own). */
export interface BrowserFacts {
  readonly storage: StorageLike | undefined;
  readonly canChooseOutput: boolean;
}

export interface Clock {
  now(): number;
  every(ms: number, fn: () => void): () => void;
}

const realClock: Clock = {
  now: () => Date.now(),
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    return () => clearInterval(handle);
  },
};

export interface LocalizedLabel {
  readonly 'zh-CN': string;
  readonly en: string;
}

/** What the bar needs of GET /v1/agent/me (validated: the bar must not break on an older server). */
export interface AgentInfo {
  readonly agentId: string;
  readonly name: string;
  readonly skillGroups: readonly { readonly id: string; readonly name: string }[];
  readonly numberGroups: readonly { readonly id: string; readonly name: string; readonly numbers: readonly string[] }[];
  readonly breakReasons: readonly { readonly code: string; readonly label: LocalizedLabel }[];
  readonly systemBreakReasons: Readonly<Record<string, LocalizedLabel>>;
  /** The status when the server answered, the server epoch ms the agent entered it, and when a running
   * after-call work ends. */
  readonly status: number | undefined;
  readonly breakReason: string;
  readonly since: number | undefined;
  readonly acwEndsAt: number | undefined;
}

/** Something to say in the aria-live region; the view puts it into words in the current locale. */
export interface Announcement {
  readonly seq: number;
  readonly key: TextKey;
  readonly status?: AgentBarStatus;
  readonly call?: HotlineEventData;
  /** A second text key said after the first (why a call ended). */
  readonly detail?: TextKey | undefined;
  readonly digits?: string;
  /** Call quality announcements: the new level, and whether audio flows one way. */
  readonly level?: QualityLevel;
  readonly oneWay?: OneWayAudio;
}

export interface BarError {
  readonly action: string;
  readonly code: string;
  readonly message: string;
}

export interface DialBarState {
  readonly config: Readonly<SDKConfig>;
  readonly connection: ChannelState;
  readonly status: AgentBarStatus;
  readonly phase: Phase;
  /** Local epoch ms when the agent entered the status shown. */
  readonly statusSince: number;
  readonly breakReason: string;
  /** The call the bar is showing (the SDK's current call), or undefined. */
  readonly call: HotlineEventData | undefined;
  /** Local epoch ms the call timer counts from: ringing/dialing start, then the moment of the answer. */
  readonly callSince: number;
  /** The last call that ended and how (after-call work shows it). */
  readonly lastCall: HotlineEventData | undefined;
  readonly muted: boolean;
  /** Local epoch ms when after-call work ends by itself; undefined when it waits for the agent (0 s) or is over. */
  readonly acwEndsAt: number | undefined;
  readonly info: AgentInfo | undefined;
  /** Actions the bar started and that have not answered yet (their buttons are disabled). */
  readonly pending: ReadonlySet<string>;
  readonly error: BarError | undefined;
  readonly announcement: Announcement | undefined;
  readonly now: number;
  /** Call audio runs in this page (a media session is registered): devices and call quality exist. */
  readonly media: boolean;
  /** The latest onCallQuality reading of the call on screen. */
  readonly quality: CallQuality | undefined;
  /** The browser can play on a chosen output (setSinkId): without it the speaker picker is hidden. */
  readonly canChooseOutput: boolean;
  /** The microphones and outputs, as of the last time the picker asked. */
  readonly devices: AudioDevices | undefined;
  /** Why the last device switch (or listing) failed; the picker says it in words. */
  readonly deviceError: BarError | undefined;
  /** Colleagues and skill groups to transfer to, as of the last time the transfer panel asked. */
  readonly targets: TransferTargets | undefined;
  readonly targetsError: BarError | undefined;
}

type Listener = () => void;
type Mutable<T> = { -readonly [K in keyof T]?: T[K] };

const AGENT_ACTIONS: ReadonlySet<string> = new Set(['agentCheckin', 'agentCheckout', 'agentReady', 'agentBreak']);

export class DialBarStore {
  private state: DialBarState;
  private readonly listeners = new Set<Listener>();
  private readonly stops: (() => void)[] = [];
  private seq = 0;
  private infoFor = '';
  private infoLoading = false;

  constructor(
    private readonly phone: PhonePort,
    config: Readonly<SDKConfig>,
    private readonly clock: Clock = realClock,
    private readonly browser: BrowserFacts = { storage: pageStorage(), canChooseOutput: canChooseOutput() },
  ) {
    const now = clock.now();
    this.state = {
      config,
      connection: phone.getConnectionState(),
      status: AgentBarStatus.Unregistered,
      phase: 'checkedOut',
      statusSince: now,
      breakReason: '',
      call: undefined,
      callSince: now,
      lastCall: undefined,
      muted: false,
      acwEndsAt: undefined,
      info: undefined,
      pending: new Set(),
      error: undefined,
      announcement: undefined,
      now,
      media: phone.hasMedia(),
      canChooseOutput: browser.canChooseOutput,
      quality: undefined,
      devices: undefined,
      deviceError: undefined,
      targets: undefined,
      targetsError: undefined,
    };
  }

  getState(): DialBarState {
    return this.state;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts listening to the softphone; returns when the first status is known. */
  start(): Promise<void> {
    const notify = this.phone.takeWebSocketNotify();
    const onMessage = (message: NotifyMessage) => {
      if (message.sceneType === SceneType.HotlineMessage) this.onHotlineMessage(message);
    };
    notify.on(SceneType.HotlineMessage, onMessage);
    this.stops.push(() => notify.off(SceneType.HotlineMessage, onMessage));
    this.stops.push(this.phone.register(EnumEventName.actionSuccess, (e) => this.onActionSuccess(e.data)));
    this.stops.push(this.phone.register(EnumEventName.actionError, (e) => this.onActionError(e.data)));
    this.stops.push(this.phone.register('onCallQuality', (e) => this.onCallQuality(e.data)));
    // Four times a second, so timers and the after-call-work countdown turn over close to the real second;
    // catching up with the SDK once a second is plenty.
    let ticks = 0;
    this.stops.push(
      this.clock.every(250, () => {
        ticks = (ticks + 1) % 4;
        if (ticks === 0) this.tick();
        else this.update({ now: this.clock.now(), connection: this.phone.getConnectionState() });
      }),
    );
    return this.reconcile();
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.listeners.clear();
  }

  setConfig(config: Readonly<SDKConfig>): void {
    const before = this.state.config;
    this.update({ config });
    // Another agent or instance: its choices (number groups, break reasons) must be fetched again.
    if (before.InstanceId !== config.InstanceId || before.BearerToken !== config.BearerToken) this.loadInfo();
  }

  dismissError(): void {
    this.update({ error: undefined });
  }

  // ------------------------------------------------------------------ actions

  /**
   * Runs one SDK action for a control of the bar. A second press while the first is on its way does nothing;
   * a failure is shown in the bar (the SDK also reports it to the host as actionError).
   */
  async run<T>(action: string, call: () => Promise<ActionResult<T>>): Promise<ActionResult<T> | undefined> {
    if (this.state.pending.has(action)) return undefined;
    this.update({ pending: new Set([...this.state.pending, action]), error: undefined });
    let result: ActionResult<T>;
    try {
      result = await call();
    } finally {
      const pending = new Set(this.state.pending);
      pending.delete(action);
      this.update({ pending });
    }
    if (!result.ok) {
      this.update({ error: { action, code: result.error.code, message: result.error.message } });
    }
    return result;
  }

  /** The bar's actions: one object for the store's life, so a view can depend on it without re-running effects. */
  get actions() {
    this.actionsOnce ??= this.makeActions();
    return this.actionsOnce;
  }

  private actionsOnce: ReturnType<DialBarStore['makeActions']> | undefined;

  private makeActions() {
    const p = this.phone;
    return {
      checkIn: () => this.run('agentCheckin', () => p.agentCheckin()),
      checkOut: () => this.run('agentCheckout', () => p.agentCheckout()),
      ready: () => this.run('agentReady', () => p.agentReady()),
      takeBreak: (reason: string) => this.run('agentBreak', () => p.agentBreak(reason || undefined)),
      callOut: (number: string, calloutNumber: string) =>
        this.run('doCallOut', () =>
          p.doCallOut({ number, param: { number, ...(calloutNumber ? { calloutNumber } : {}) } }),
        ),
      answer: () => this.withCall('callAnswer', (c) => p.callAnswer(c.connId, c.jobId, c.acid, c.aid)),
      hangUp: () => this.withCall('callHangup', (c) => p.callHangup(c.connId, c.jobId, c.acid, c.aid)),
      hold: () => this.withCall('callHold', (c) => p.callHold(c.connId)),
      retrieve: () => this.withCall('callRetrieve', (c) => p.callRetrieve(c.connId)),
      toggleMute: () => {
        const muted = !this.state.muted;
        return this.withCall('callMute', async (c) => {
          const result = await p.callMute(muted, c.connId);
          if (result.ok) {
            this.update({
              muted: result.data.muted,
              announcement: this.announce(muted ? 'announceMuted' : 'announceUnmuted'),
            });
          }
          return result;
        });
      },
      sendDtmf: (digits: string) =>
        this.withCall('sendDtmf', async (c) => {
          const result = await p.sendDtmf(digits, c.connId);
          if (result.ok) this.update({ announcement: this.announce('dtmfSent', { digits }) });
          return result;
        }),
      transfer: (target: Parameters<PhonePort['callTransfer']>[0]) =>
        this.withCall('callTransfer', (c) => p.callTransfer(target, c.connId)),
      consult: (target: Parameters<PhonePort['callConsult']>[0]) =>
        this.withCall('callConsult', (c) => p.callConsult(target, c.connId)),
      consultComplete: () => this.withCall('consultComplete', (c) => p.consultComplete(c.connId)),
      consultCancel: () => this.withCall('consultCancel', (c) => p.consultCancel(c.connId)),
      conference: () => this.withCall('callConference', (c) => p.callConference(c.connId)),
      loadTransferTargets: () => this.loadTransferTargets(),
      loadDevices: () => this.loadDevices(),
      setDevice: (kind: DeviceKind, deviceId: string) => this.setDevice(kind, deviceId),
    };
  }

  // ------------------------------------------------------------------ transfer targets and audio devices

  /** Asks for the colleagues and groups to transfer to; a failure is said in the transfer panel, not the bar. */
  private async loadTransferTargets(): Promise<void> {
    const result = await this.phone.getTransferTargets();
    if (result.ok) this.update({ targets: result.data, targetsError: undefined });
    else this.update({ targetsError: barError('getTransferTargets', result.error) });
  }

  private async loadDevices(): Promise<void> {
    if (!this.state.media) return;
    const result = await this.phone.getAudioDevices();
    if (result.ok) this.update({ devices: result.data });
    else this.update({ deviceError: barError('getAudioDevices', result.error) });
  }

  /** Switches the microphone or the speaker (mid-call too), and remembers the choice for the next check-in. */
  private async setDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    const action = kind === 'input' ? 'setAudioInput' : 'setAudioOutput';
    if (this.state.pending.has(action)) return;
    this.update({ pending: new Set([...this.state.pending, action]), deviceError: undefined });
    const result = await (kind === 'input' ? this.phone.setAudioInput(deviceId) : this.phone.setAudioOutput(deviceId));
    const pending = new Set(this.state.pending);
    pending.delete(action);
    this.update({ pending, ...(result.ok ? {} : { deviceError: barError(action, result.error) }) });
    if (result.ok) saveDevice(this.browser.storage, kind, deviceId);
    await this.loadDevices();
  }

  /** At check-in: back to the microphone and speaker chosen last time, if they are plugged in. */
  private async restoreDevices(): Promise<void> {
    const storage = this.browser.storage;
    const saved = {
      input: loadDevice(storage, 'input'),
      output: this.browser.canChooseOutput ? loadDevice(storage, 'output') : '',
    };
    if (!this.state.media || (!saved.input && !saved.output)) return;
    const listed = await this.phone.getAudioDevices();
    if (!listed.ok) return;
    const restore = devicesToRestore(listed.data, saved);
    if (restore.input !== undefined) await this.setDevice('input', restore.input);
    if (restore.output !== undefined) await this.setDevice('output', restore.output);
  }

  private onCallQuality(quality: CallQuality): void {
    // Readings after the call ended (the last interval) belong to no call on screen.
    if (!isOnCall(this.state.phase)) return;
    const before = this.state.quality;
    const patch: Mutable<DialBarState> = { quality };
    if (qualityNews(before, quality)) {
      patch.announcement = this.announce('announceQuality', {
        level: qualityLevel(quality),
        oneWay: quality.oneWayAudio,
      });
    }
    this.update(patch);
  }

  /** Call actions act on the call on screen, by its ids (what the agent sees is what the action hits). */
  private withCall<T>(action: string, call: (c: HotlineEventData) => Promise<ActionResult<T>>) {
    const current = this.state.call ?? this.phone.getCurrentCall();
    if (!current) return Promise.resolve(undefined);
    return this.run(action, () => call(current));
  }

  // ------------------------------------------------------------------ sources

  private onHotlineMessage(message: HotlineMessage): void {
    const data = message.data;
    const released = data.agentCallCode === EnumWSEventType.AgentCallRelease;
    // The SDK has already applied the message: its current call is the one to show next.
    const call = released
      ? this.phone.getCurrentCall()
      : (this.phone.getCurrentCall() ?? (data.connId ? data : undefined));
    this.applyStatus(message.head.status, call, {
      breakReason: data.breakReason,
      released: released ? data : undefined,
    });
  }

  private onActionSuccess(data: ActionSuccessData): void {
    if (data.action === 'getAgentInfo') {
      const info = parseAgentInfo(data.result);
      if (info) this.update({ info });
      return;
    }
    // A repeated check-in (a reload) pushes nothing: the HTTP answer is the only news.
    if (AGENT_ACTIONS.has(data.action)) void this.reconcile();
  }

  private onActionError(data: ActionErrorData): void {
    // The bar shows failures of its own controls (from run); of the rest, only what stops the channel for good
    // concerns the agent. Token problems are the host's to solve (it gets actionError.tokenExpired).
    if (data.action !== 'channel' || data.code === 'TokenExpired' || data.code === 'Unauthorized') return;
    this.update({ error: { action: data.action, code: data.code, message: data.message } });
  }

  private tick(): void {
    const connection = this.phone.getConnectionState();
    const opened = connection === 'open' && this.state.connection !== 'open';
    this.update({ now: this.clock.now(), connection });
    // A snapshot after a reconnect changes the status without any message: catch up with the SDK.
    if (connection === 'open') void this.reconcile();
    if (opened || (connection === 'open' && !this.state.info)) this.loadInfo();
  }

  /** Takes the SDK's status and current call when they differ from what the bar shows. */
  private async reconcile(): Promise<void> {
    const connection = this.phone.getConnectionState();
    if (connection !== 'open') {
      this.update({ connection });
      return;
    }
    const status = await this.phone.getAgentBarStatus();
    const call = this.phone.getCurrentCall();
    if (status !== this.state.status || call?.connId !== this.state.call?.connId) {
      this.applyStatus(status, call, {});
    }
    if (!this.state.info) this.loadInfo();
  }

  private loadInfo(): void {
    const config = this.state.config;
    const key = `${config.InstanceId}\n${config.BearerToken}`;
    if (this.infoLoading || config.InstanceId === '' || config.BearerToken === '') return;
    if (this.phone.getConnectionState() !== 'open') return;
    if (this.infoFor === key && this.state.info) return;
    this.infoLoading = true;
    this.infoFor = key;
    void this.phone.getAgentInfo().then((result) => {
      this.infoLoading = false;
      if (!result.ok) return;
      const info = parseAgentInfo(result.data);
      if (!info) return;
      const patch: Mutable<DialBarState> = { info };
      // Reloaded mid-status: time the status (and a running after-call work) from the server's clock.
      const same = info.status === this.state.status;
      if (same && info.since !== undefined && this.state.statusSince > info.since) {
        patch.statusSince = Math.min(this.clock.now(), info.since);
      }
      if (same && this.state.phase === 'acw' && info.acwEndsAt !== undefined) patch.acwEndsAt = info.acwEndsAt;
      if (same && this.state.breakReason === '') patch.breakReason = info.breakReason;
      this.update(patch);
    });
  }

  // ------------------------------------------------------------------ the one place the shown status changes

  private applyStatus(
    status: AgentBarStatus,
    call: HotlineEventData | undefined,
    extra: { breakReason?: string; released?: HotlineEventData | undefined },
  ): void {
    const before = this.state;
    const now = this.clock.now();
    const phase = phaseOf(status);
    const patch: Mutable<DialBarState> = {
      status,
      phase,
      now,
      call: isOnCall(phase) ? call : undefined,
    };
    if (extra.breakReason !== undefined) patch.breakReason = extra.breakReason;
    if (status !== before.status) patch.statusSince = now;

    const newCall = call && call.connId !== before.call?.connId;
    const answered = phase === 'talking' && isRinging(before.phase);
    if (newCall) {
      patch.callSince = now;
      patch.muted = false;
      patch.quality = undefined;
    } else if (answered) patch.callSince = now;
    if (!isOnCall(phase)) patch.quality = undefined;
    if (before.phase === 'checkedOut' && phase !== 'checkedOut') void this.restoreDevices();

    if (extra.released) patch.lastCall = extra.released;
    else if (before.call && isOnCall(before.phase) && !isOnCall(phase)) patch.lastCall ??= before.call;

    if (phase === 'acw' && before.phase !== 'acw') {
      const seconds = before.config.autoChangeOnLineTime;
      patch.acwEndsAt = seconds > 0 ? now + seconds * 1000 : undefined;
    } else if (phase !== 'acw') patch.acwEndsAt = undefined;

    if (!isOnCall(phase)) patch.muted = false;
    const announcement = this.announcementFor(before, status, phase, call, extra.released);
    if (announcement) patch.announcement = announcement;
    this.update(patch);
  }

  private announcementFor(
    before: DialBarState,
    status: AgentBarStatus,
    phase: Phase,
    call: HotlineEventData | undefined,
    released: HotlineEventData | undefined,
  ): Announcement | undefined {
    const from = before.phase;
    if (released) {
      if (released.releaseReason === 'transferred') return this.announce('announceTransferred');
      const detail = releaseDetail(released);
      return this.announce('announceEnded', detail ? { detail } : {});
    }
    if (status === before.status) return undefined;
    if (phase === 'ringing' && call) return this.announce('announceIncoming', { call });
    if (phase === 'talking' && isRinging(from) && call) return this.announce('announceConnected', { call });
    if (phase === 'held') return this.announce('announceHeld');
    if (phase === 'talking' && from === 'held') return this.announce('announceRetrieved');
    // Inside after-call work (released → ACW) nothing new happened for the agent.
    if (phase === from && phase === 'acw') return undefined;
    return this.announce('announceStatus', { status });
  }

  private announce(
    key: TextKey,
    extra: {
      call?: HotlineEventData;
      status?: AgentBarStatus;
      detail?: TextKey;
      digits?: string;
      level?: QualityLevel;
      oneWay?: OneWayAudio;
    } = {},
  ): Announcement {
    this.seq += 1;
    return { seq: this.seq, key, ...extra };
  }

  private update(patch: Partial<DialBarState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener();
  }
}

function barError(action: string, error: { code: string; message: string }): BarError {
  return { action, code: error.code, message: error.message };
}

function isRinging(phase: Phase): boolean {
  return phase === 'ringing' || phase === 'answering' || phase === 'dialing';
}

const RELEASE_DETAIL: Readonly<Record<string, TextKey>> = {
  busy: 'release_busy',
  'no-answer': 'release_no-answer',
  rejected: 'release_rejected',
  'invalid-number': 'release_invalid-number',
  cancelled: 'release_cancelled',
};
const RELEASED_BY: Readonly<Record<string, TextKey>> = {
  customer: 'releasedBy_customer',
  third: 'releasedBy_third',
  system: 'releasedBy_system',
};

/** Why a call ended, when that is news to the agent (the agent knows when it hung up itself). */
export function releaseDetail(data: Pick<HotlineEventData, 'releasedBy' | 'releaseReason'>): TextKey | undefined {
  return RELEASE_DETAIL[data.releaseReason] ?? RELEASED_BY[data.releasedBy];
}

// ------------------------------------------------------------------ GET /v1/agent/me, validated

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const label = (v: unknown, fallback: string): LocalizedLabel =>
  isRecord(v)
    ? { 'zh-CN': str(v['zh-CN']) || fallback, en: str(v.en) || fallback }
    : { 'zh-CN': fallback, en: fallback };

export function parseAgentInfo(value: unknown): AgentInfo | undefined {
  if (!isRecord(value) || !isRecord(value.agent)) return undefined;
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);
  const status = isRecord(value.status) ? value.status : {};
  const system: Record<string, LocalizedLabel> = {};
  if (isRecord(value.systemBreakReasons)) {
    for (const [code, text] of Object.entries(value.systemBreakReasons)) system[code] = label(text, code);
  }
  return {
    agentId: str(value.agent.id),
    name: str(value.agent.name),
    skillGroups: list(value.skillGroups).map((g) => ({ id: str(g.id), name: str(g.name) || str(g.id) })),
    numberGroups: list(value.numberGroups).map((g) => ({
      id: str(g.id),
      name: str(g.name) || str(g.id),
      numbers: Array.isArray(g.numbers) ? g.numbers.filter((n): n is string => typeof n === 'string') : [],
    })),
    breakReasons: list(value.breakReasons).map((r) => ({ code: str(r.code), label: label(r.label, str(r.code)) })),
    systemBreakReasons: system,
    status: typeof status.status === 'number' ? status.status : undefined,
    breakReason: str(status.breakReason),
    since: typeof status.since === 'number' ? status.since : undefined,
    acwEndsAt: typeof status.acwEndsAt === 'number' ? status.acwEndsAt : undefined,
  };
}
