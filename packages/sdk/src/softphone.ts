import {
  AGENT_BASIC_CODE_TEXT,
  AgentBarStatus,
  type AgentBasicCode,
  type AgentSnapshot,
  basicCodeOf,
  type CallView,
  EnumEventName,
  EnumWSEventType,
  type FromSource,
  type HotlineEventData,
  isCallStatus,
  type NotifyMessage,
  SceneType,
  type TransferTarget,
  type TransferTargets,
  WS_EVENT_TEXT,
} from '@openhotline/protocol';
import { type FetchLike, HttpClient } from './api-client';
import { type ChannelState, LiveChannel } from './channel';
import {
  DEFAULT_CONFIG,
  type Endpoints,
  mergeConfig,
  type PageLocation,
  resolveEndpoints,
  type SDKConfig,
  type SDKConfigKey,
  suggestKey,
} from './config';
import { checkEnvironment } from './environment';
import { type ActionName, isAuthFailure, isSdkErrorCode, SoftPhoneError } from './errors';
import {
  CALL_QUALITY_EVENT,
  type CallActionData,
  type Canceler,
  EventBus,
  type EventDataOf,
  isHotlineCode,
  isSdkEvent,
  type RegistrableEventName,
  type SoftPhoneEventDataMap,
  type SoftPhoneListener,
} from './events';
import { lifecycleEventsFor } from './lifecycle';
import type { AudioDevices, MediaSession, MediaSessionFactory } from './media-session';
import type { ReconnectingSocket, ReconnectPolicy, Timers, WebSocketFactory } from './reconnecting-socket';
import {
  createPlaceholderComponent,
  isElement,
  isMountable,
  type MountedComponent,
  type SoftPhoneUIComponent,
} from './ui';

/** Paths of the server's agent API (the protocol's CHANNEL_PATH and CALLS_PATH; a unit test keeps them equal). */
export const AGENT_API = '/v1/agent';
export const CALLS_API = '/v1/agent/calls';
export const CHANNEL_API = '/v1/agent/channel';

/** What every API call resolves to. It never rejects: failures are also reported as actionError. */
export type ActionResult<T> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly error: SoftPhoneError };

/** The guide's doCallOut `param`. Unknown fields are not sent. */
export interface DoCallOutParam {
  readonly number?: string | number;
  readonly memberId?: string | number;
  readonly memberName?: string;
  readonly calloutNumber?: string | number;
  readonly fromSource?: FromSource;
  readonly taskId?: string | number;
  readonly channelId?: string | number;
  readonly caseId?: string | number;
}

export interface DoCallOutOptions {
  readonly number?: string | number;
  /** Called once, when the callee answers, with the call's event data. */
  readonly onSuccess?: (call: HotlineEventData) => void;
  readonly param?: DoCallOutParam;
}

/** The guide's `msgData`: what the channel pushed, with sceneType, head and data. */
export type NotifyListener = (msgData: NotifyMessage) => void;

/** The guide's PhoneNotify. */
export interface PhoneNotify {
  readonly listenerContainer: Record<string, NotifyListener[]>;
  on(sceneType: string, callback: NotifyListener): void;
  off(sceneType: string, callback: NotifyListener): void;
  /** The live channel's reconnecting WebSocket (reconnecting-websocket's interface). */
  readonly socket: ReconnectingSocket;
}

/** Everything the SoftPhone takes from its surroundings; tests pass fakes, browsers use the defaults. */
export interface SoftPhoneDeps {
  readonly fetch?: FetchLike;
  readonly WebSocket?: WebSocketFactory;
  readonly timers?: Timers;
  /** The page the SDK runs in (for apiHost ''); default: `globalThis.location`. */
  readonly location?: () => PageLocation | undefined;
  /** The environment checks run at registration; default: the browser checks of environment.ts. */
  readonly checkEnvironment?: () => Promise<SoftPhoneError[]>;
  readonly reconnectPolicy?: ReconnectPolicy;
  /** How long an action refused for its token waits for a new one before giving up (default 2 minutes). */
  readonly tokenWaitMs?: number;
  readonly requestTimeoutMs?: number;
  /** Where callback errors go; default: reportError, else console.error. */
  readonly reportCallbackError?: (error: unknown, name: string) => void;
  /** The agent's audio; default: what SoftPhone.registerMediaSession registered (none in the headless core). */
  readonly media?: MediaSessionFactory;
}

/** Registered by the full script-tag build (or an ESM host) so the core does not carry WebRTC code. */
let mediaFactory: MediaSessionFactory | undefined;

interface TokenWaiter {
  readonly tried: ReadonlySet<string>;
  readonly resolve: (token: string | undefined) => void;
  timer: unknown;
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const CHECKED_OUT: ReadonlySet<AgentBarStatus> = new Set([AgentBarStatus.Unregistered, AgentBarStatus.AgentCheckout]);

function freezeConfig(config: SDKConfig): Readonly<SDKConfig> {
  return Object.freeze({
    ...config,
    enableVoiceToText: Object.freeze([...config.enableVoiceToText]) as SDKConfig['enableVoiceToText'],
  });
}

function pageLocation(): PageLocation | undefined {
  const location = (globalThis as { location?: { protocol?: unknown; host?: unknown } }).location;
  if (!location || typeof location.protocol !== 'string' || typeof location.host !== 'string') return undefined;
  return { protocol: location.protocol, host: location.host };
}

const DIGITS = /^\+?[0-9]{1,32}$/;

/** A call id from the guide's arguments: strings kept, numbers stringified, anything else ignored. */
function idOf(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

/**
 * The softphone: one per page (SoftPhone.getInstance()). It owns the configuration, the event registry, the
 * live channel and the agent's status; every API goes through it. State changes happen in one place each
 * (setStatus, the channel's setState, applyConfig) and that place emits the events.
 */
export class SoftPhone {
  private static instance: SoftPhone | undefined;

  /** The page's softphone (the guide: "softphone follow Singleton Pattern"). */
  static getInstance(): SoftPhone {
    SoftPhone.instance ??= new SoftPhone();
    return SoftPhone.instance;
  }

  /**
   * The media seam: call audio, the ring tone, devices and call quality come from a media session registered
   * here — by the full script-tag build at load, or by an ESM host with `@openhotline/sdk/media`'s
   * createMediaSession. Without one the SoftPhone does call control only.
   */
  static registerMediaSession(factory: MediaSessionFactory): void {
    mediaFactory = factory;
    SoftPhone.instance?.syncMedia();
  }

  private config: SDKConfig = { ...DEFAULT_CONFIG, enableVoiceToText: [] };
  private frozen: Readonly<SDKConfig> = freezeConfig(this.config);
  private readonly bus: EventBus;
  private readonly http: HttpClient;
  private readonly channel: LiveChannel;
  private readonly timers: Timers;
  private readonly tokenWaitMs: number;

  private status: AgentBarStatus = AgentBarStatus.Unregistered;
  /** Server time (epoch ms) of the status, to tell a fresher HTTP answer from a stale one. */
  private statusAt = 0;
  private registered = false;
  /** Which of onAgentCheckedin/out was emitted last, so a check-in confirmed twice is announced once. */
  private announced: 'in' | 'out' | undefined;
  private readonly calls = new Map<string, HotlineEventData>();
  private currentConnId = '';
  private readonly tokenWaiters = new Set<TokenWaiter>();
  /** Tokens the channel was refused with since it last opened. */
  private readonly channelTokensTried = new Set<string>();
  private readonly notifyContainer: Record<string, NotifyListener[]> = {};
  private notifyHandle: PhoneNotify | undefined;
  private readonly mounts = new Map<Element, MountedComponent>();
  private readonly calloutSuccess = new Map<string, (call: HotlineEventData) => void>();
  /** Outbound calls whose answer arrived before doCallOut's HTTP answer (the two race). */
  private readonly answeredCallouts = new Map<string, HotlineEventData>();
  private environmentChecked = false;
  private uiComponent: SoftPhoneUIComponent | undefined;
  private mediaSession: MediaSession | undefined;
  /** Checked in with the channel in sync, as of the last syncMedia: a change to true (re)connects the line. */
  private mediaLive = false;

  /** @internal Use SoftPhone.getInstance(); the constructor takes fakes for tests. */
  constructor(private readonly deps: SoftPhoneDeps = {}) {
    this.timers = deps.timers ?? defaultTimers;
    this.tokenWaitMs = deps.tokenWaitMs ?? 120_000;
    this.bus = new EventBus(deps.reportCallbackError);
    this.http = new HttpClient(deps.fetch, this.timers, deps.requestTimeoutMs);
    this.channel = new LiveChannel({
      target: (resume) => {
        const endpoints = this.endpoints();
        if (!endpoints) throw new Error('apiHost cannot be resolved');
        const token = this.config.BearerToken;
        const query = new URLSearchParams({ access_token: token, locale: this.config.locale });
        if (resume) {
          query.set('epoch', resume.epoch);
          query.set('lastSeq', String(resume.lastSeq));
        }
        return { url: `${endpoints.ws}${CHANNEL_API}?${query}`, token };
      },
      handlers: {
        onSnapshot: (agent) => this.onSnapshot(agent),
        onNotify: (message) => this.onNotify(message),
        onStateChange: (state) => this.onChannelState(state),
        onAuthFailure: (code, message, token) => this.onChannelAuthFailure(code, message, token),
        onFrame: (frame) => this.mediaSession?.handle(frame),
        onClosedByServer: (closeCode, code, message) =>
          this.reportError(
            new SoftPhoneError(
              code === 'TooManyConnections' || code === 'AgentDisabled' || code === 'AgentNotFound'
                ? code
                : 'ChannelClosed',
              message || undefined,
              {
                action: 'channel',
                details: { closeCode },
              },
            ),
          ),
      },
      timers: this.timers,
      ...(deps.WebSocket ? { WebSocket: deps.WebSocket } : {}),
      ...(deps.reconnectPolicy ? { reconnectPolicy: deps.reconnectPolicy } : {}),
    });
  }

  // ---------------------------------------------------------------- configuration

  /**
   * Merges options into the configuration. All or nothing: a bad value raises actionError (ConfigInvalid, with
   * every problem listed) and the previous configuration stays in force. Returns whether it was applied.
   */
  setConfig(partial: Partial<SDKConfig> = {}): boolean {
    const result = mergeConfig(this.config, partial);
    if (!result.ok) {
      this.reportError(
        new SoftPhoneError('ConfigInvalid', `setConfig: ${result.problems.join('; ')}.`, {
          action: 'setConfig',
          details: { problems: result.problems },
        }),
      );
      return false;
    }
    for (const key of result.ignored) {
      const hint = suggestKey(key);
      console.warn(
        `[SoftPhoneSDK] setConfig ignored "${key}": not an option${hint ? ` (did you mean "${hint}"?)` : ''}.`,
      );
    }
    this.applyConfig(result.config, result.changed);
    return true;
  }

  /** A copy of the configuration in force. */
  getConfig(): Readonly<SDKConfig> {
    return this.frozen;
  }

  private applyConfig(config: SDKConfig, changed: readonly SDKConfigKey[]): void {
    const wasInstance = this.config.InstanceId;
    const previousAcw = this.config.autoChangeOnLineTime;
    this.config = config;
    this.frozen = freezeConfig(config);
    if (changed.length === 0) return;
    const has = (key: SDKConfigKey) => changed.includes(key);

    if ((has('InstanceId') && wasInstance !== '') || has('apiHost')) this.resetSession();
    this.syncChannel(has('BearerToken'));
    if (has('BearerToken')) queueMicrotask(() => this.wakeTokenWaiters());
    if (this.isConfigured() && !this.environmentChecked) this.runEnvironmentChecks();
    if (has('autoChangeOnLineTime') && previousAcw !== config.autoChangeOnLineTime && this.isCheckedIn()) {
      void this.act('updateSettings', (token) =>
        this.send(token, 'PUT', `${AGENT_API}/settings`, { acwSeconds: config.autoChangeOnLineTime }),
      );
    }
    for (const mounted of this.mounts.values()) mounted.update(this.frozen);
  }

  private endpoints(): Endpoints | undefined {
    return resolveEndpoints(this.config.apiHost, (this.deps.location ?? pageLocation)());
  }

  private isConfigured(): boolean {
    return this.config.InstanceId !== '' && this.config.BearerToken !== '' && this.endpoints() !== undefined;
  }

  private notConfigured(action: ActionName): SoftPhoneError {
    const missing = [
      this.config.InstanceId === '' ? 'InstanceId' : '',
      this.config.BearerToken === '' ? 'BearerToken' : '',
      this.endpoints() === undefined ? 'apiHost (there is no page origin to default to)' : '',
    ].filter(Boolean);
    return new SoftPhoneError('NotConfigured', `${action} needs ${missing.join(', ')}: call setConfig first.`, {
      action,
      details: { missing },
    });
  }

  /** Another instance or server: forget everything that belonged to the old one. */
  private resetSession(): void {
    this.channel.reset();
    this.channelTokensTried.clear();
    this.registered = false;
    this.status = AgentBarStatus.Unregistered;
    this.statusAt = 0;
    this.announced = undefined;
    this.calls.clear();
    this.currentConnId = '';
    this.mediaSession?.close();
    this.mediaLive = false;
  }

  private syncChannel(tokenChanged: boolean): void {
    const state = this.channel.getState();
    if (!this.isConfigured()) {
      if (state !== 'idle') this.channel.stop();
      return;
    }
    if (state === 'idle') this.channel.start();
    else if (tokenChanged && state === 'awaitingToken' && !this.channelTokensTried.has(this.config.BearerToken)) {
      this.channel.start();
    } else if (tokenChanged && state === 'closed') this.channel.start();
  }

  private runEnvironmentChecks(): void {
    this.environmentChecked = true;
    const check = this.deps.checkEnvironment ?? (() => checkEnvironment());
    void check().then(
      (problems) => {
        for (const problem of problems) this.reportError(problem.withAction('environment'));
      },
      () => {},
    );
  }

  /** The environment checks on demand (secure context, WebRTC, microphone): the problems found, no events. */
  checkEnvironment(): Promise<SoftPhoneError[]> {
    return (this.deps.checkEnvironment ?? (() => checkEnvironment()))();
  }

  // ---------------------------------------------------------------- events

  /**
   * Registers a callback for one of the guide's lifecycle events (EnumEventName) or for a hotline code
   * (EnumWSEventType, as the guide's answer and hang-up demos do). Returns the function that unregisters it.
   */
  register<N extends RegistrableEventName>(eventName: N, callback: SoftPhoneListener<N, EventDataOf<N>>): Canceler {
    if (typeof callback !== 'function') {
      this.reportError(
        new SoftPhoneError('InvalidArgument', `register("${String(eventName)}") needs a callback function.`, {
          action: 'register',
        }),
      );
      return () => {};
    }
    if (!isSdkEvent(eventName) && !isHotlineCode(eventName)) {
      const message =
        eventName === undefined
          ? 'register(undefined): the event name is undefined. EnumEventName has no hotline codes; use EnumWSEventType.AgentRinging or the string "AgentRinging".'
          : `register("${String(eventName)}"): not an EnumEventName nor an EnumWSEventType.`;
      this.reportError(new SoftPhoneError('UnknownEvent', message, { action: 'register' }));
      return () => {};
    }
    return this.bus.on(eventName, callback as unknown as Parameters<EventBus['on']>[1]);
  }

  private emit<N extends keyof SoftPhoneEventDataMap | EnumWSEventType>(name: N, data: EventDataOf<N>): void {
    this.bus.emit(name, this.frozen, data);
  }

  private reportError(error: SoftPhoneError): void {
    const data = error.toEventData();
    if (error.code === 'TokenExpired') this.emit('actionError.tokenExpired', data);
    this.emit(EnumEventName.actionError, data);
  }

  // ---------------------------------------------------------------- status

  /** The agent's status: -1 until registered (configured, and the server has told us the status once). */
  async getAgentBarStatus(): Promise<AgentBarStatus> {
    if (!this.isConfigured()) return AgentBarStatus.Unregistered;
    if (this.channel.isLive()) return this.status;
    // Not in sync with the server (connecting, or reconnecting): ask it, so the answer is never stale.
    try {
      const snapshot = await this.send<AgentSnapshot>(this.config.BearerToken, 'GET', `${AGENT_API}/status`);
      if (typeof snapshot?.status === 'number') this.setStatus(snapshot.status, snapshot.since, 'http');
    } catch {
      // Unreachable: the last known status is the best answer, and the channel reports the outage itself.
    }
    return this.registered ? this.status : AgentBarStatus.Unregistered;
  }

  /** The live channel's state, for UIs that show connectivity. */
  getConnectionState(): ChannelState {
    return this.channel.getState();
  }

  /** The call the call APIs act on when no connId is given: the most recent one not yet released. */
  getCurrentCall(): HotlineEventData | undefined {
    return this.calls.get(this.currentConnId);
  }

  /** The one place the status changes. Snapshots and notifies always apply; an HTTP answer only when newer. */
  private setStatus(status: AgentBarStatus, at: number, source: 'notify' | 'snapshot' | 'http'): void {
    if (source === 'http' && this.registered && at <= this.statusAt) return;
    this.registered = true;
    this.status = status;
    this.statusAt = at;
    this.syncMedia();
  }

  private isCheckedIn(): boolean {
    return this.registered && !CHECKED_OUT.has(this.status);
  }

  private onSnapshot(agent: AgentSnapshot): void {
    this.setStatus(agent.status, agent.since, 'snapshot');
    if (!isCallStatus(agent.status)) {
      this.calls.clear();
      this.currentConnId = '';
    } else if (this.calls.size === 0 && agent.status >= AgentBarStatus.AgentRinging) {
      void this.restoreCalls(agent);
    }
    // The agent was checked in or out while we were away: the next confirmation must be announced again.
    const checkedOut = CHECKED_OUT.has(agent.status);
    if ((checkedOut && this.announced === 'in') || (!checkedOut && this.announced === 'out'))
      this.announced = undefined;
  }

  /**
   * The snapshot says the agent rings or talks on a call this SDK has never heard of (the page was reloaded while
   * it rang or mid-call; the server holds a ringing offer for a few seconds for that): the call's notifies are in
   * the past, so the calls come from the server, and the call APIs (answer and hang-up, without ids included) act
   * on them as before the reload.
   */
  private async restoreCalls(agent: AgentSnapshot): Promise<void> {
    let views: readonly CallView[] | undefined;
    try {
      views = (await this.send<{ items?: CallView[] }>(this.config.BearerToken, 'GET', CALLS_API))?.items;
    } catch {
      // The status is right either way; the call APIs still take explicit ids.
      return;
    }
    // A notify about a call came meanwhile: it is newer than this answer.
    if (!Array.isArray(views) || this.calls.size > 0 || !isCallStatus(this.status)) return;
    const code =
      EnumWSEventType[AgentBarStatus[agent.status] as keyof typeof EnumWSEventType] ??
      EnumWSEventType.AgentCallInboundEstablish;
    for (const view of views) {
      if (view.state === 'ended' || view.state === 'queued') continue;
      this.calls.set(view.connId, {
        ...this.eventDataFromSnapshot(agent, code, 'restore'),
        connId: view.connId,
        jobId: view.jobId,
        acid: view.acid,
        aid: view.aid,
        ani: view.ani,
        dnis: view.dnis,
        holdConnId: view.holdConnId,
        subSessionId: view.subSessionId,
        mid: view.memberId,
        name: view.memberName,
        callDirection: view.direction,
        location: view.location,
      });
      this.currentConnId = view.connId;
    }
  }

  private onChannelState(state: ChannelState): void {
    if (state === 'open') this.channelTokensTried.clear();
    this.syncMedia();
  }

  // ---------------------------------------------------------------- media

  private media(): MediaSession | undefined {
    const factory = this.deps.media ?? mediaFactory;
    this.mediaSession ??= factory?.({
      send: (frame) => this.channel.send(frame),
      report: (code, message) => this.reportError(new SoftPhoneError(code, message, { action: 'media' })),
      quality: (quality) => this.emit(CALL_QUALITY_EVENT, quality),
    });
    return this.mediaSession;
  }

  /**
   * The line follows the check-in: opened once checked in with the channel in sync, re-offered (ICE restart) on
   * each new channel connection — the line's owner is the channel of the latest offer — and closed at check-out.
   */
  private syncMedia(): void {
    const media = this.media();
    if (!media) return;
    const checkedIn = this.isCheckedIn();
    const live = checkedIn && this.channel.isLive();
    if (live && !this.mediaLive) media.connect(true);
    this.mediaLive = live;
    if (!checkedIn) media.close();
    media.setCallState(
      this.status === AgentBarStatus.AgentRinging,
      checkedIn && this.status >= AgentBarStatus.AgentCallAnswerRequest,
    );
  }

  /**
   * Whether call audio runs in this page (a media session is registered: the script-tag build, or an ESM host that
   * registered one). Without it there is no line, so no devices to choose and no call quality to show.
   */
  hasMedia(): boolean {
    return (this.deps.media ?? mediaFactory) !== undefined;
  }

  /** The microphones and outputs, and which are in use (labels are empty until the microphone was granted). */
  getAudioDevices(): Promise<ActionResult<AudioDevices>> {
    return this.mediaAction('getAudioDevices', (media) => media.getAudioDevices());
  }

  /** Switches the microphone, mid-call too (no renegotiation); '' is the browser's default. */
  setAudioInput(deviceId: string): Promise<ActionResult<void>> {
    return this.mediaAction('setAudioInput', (media) => media.setAudioInput(deviceId), deviceId);
  }

  /** Plays the call and the ring on this output (setSinkId; Chromium-based browsers). */
  setAudioOutput(deviceId: string): Promise<ActionResult<void>> {
    return this.mediaAction('setAudioOutput', (media) => media.setAudioOutput(deviceId), deviceId);
  }

  private async mediaAction<T>(
    action: ActionName,
    run: (media: MediaSession) => Promise<T>,
    deviceId = '',
  ): Promise<ActionResult<T>> {
    if (typeof deviceId !== 'string') return this.failNow(invalid(action, 'deviceId must be a string.'));
    const media = this.media();
    try {
      if (!media) throw new Error('No media session: use /sdk/sdk.js or SoftPhone.registerMediaSession.');
      const data = await run(media);
      this.emit(EnumEventName.actionSuccess, { action, result: data });
      return { ok: true, data };
    } catch (thrown) {
      const { code = '', message } = thrown as { code?: string; message?: string };
      return this.failNow(new SoftPhoneError(isSdkErrorCode(code) ? code : 'AudioDeviceFailed', message, { action }));
    }
  }

  private onChannelAuthFailure(code: string, message: string, token: string): void {
    this.channelTokensTried.add(token);
    const current = this.config.BearerToken;
    // The host already set a newer token (a refresh before expiry): use it without bothering anyone.
    if (current !== '' && !this.channelTokensTried.has(current)) {
      this.channel.start();
      return;
    }
    this.reportError(
      new SoftPhoneError(isAuthFailure(code) ? (code as 'TokenExpired') : 'Unauthorized', message || undefined, {
        action: 'channel',
        status: 401,
      }),
    );
  }

  // ---------------------------------------------------------------- the live channel's messages

  private onNotify(message: NotifyMessage): void {
    if (message.sceneType === SceneType.HotlineMessage) {
      const data = this.localize(message.data);
      const previous = this.status;
      this.setStatus(message.head.status, Number(data.eventTime) || this.statusAt, 'notify');
      this.trackCall(data);
      this.dispatchNotify({ ...message, data });
      // The guide's events first, then the raw codes: a demo that answers from its AgentRinging callback must not
      // make onCallWillAnswer overtake onCallComing.
      for (const name of lifecycleEventsFor(data, previous)) this.emitLifecycle(name, data);
      this.emit(data.agentCallCode, data);
      return;
    }
    this.dispatchNotify(message);
  }

  private localize(data: HotlineEventData): HotlineEventData {
    const text = data.descriptions?.[this.config.locale];
    return text ? { ...data, agentBasicDesc: text.agentBasicDesc, agentCallDesc: text.agentCallDesc } : data;
  }

  private trackCall(data: HotlineEventData): void {
    if (!data.connId) return;
    // A call stays current while the agent is in it. After-call work (and a ready at its end) still carry the
    // released call's connId: they must not bring it back, or the call APIs without ids would act on it.
    if (data.agentCallCode === EnumWSEventType.AgentCallRelease || !isCallStatus(data.status)) {
      this.calls.delete(data.connId);
      this.calloutSuccess.delete(data.connId);
      if (this.currentConnId === data.connId) this.currentConnId = [...this.calls.keys()].pop() ?? '';
      return;
    }
    this.calls.set(data.connId, data);
    this.currentConnId = data.connId;
  }

  private emitLifecycle(name: EnumEventName, data: HotlineEventData): void {
    if (name === EnumEventName.onAgentCheckedin || name === EnumEventName.onAgentCheckedout) {
      this.announce(name === EnumEventName.onAgentCheckedin ? 'in' : 'out', data);
      return;
    }
    this.emit(name, data);
    if (name === EnumEventName.onCallEstablishForCallout) this.calloutAnswered(data);
  }

  private announce(which: 'in' | 'out', data: HotlineEventData): void {
    if (this.announced === which) return;
    this.announced = which;
    this.emit(which === 'in' ? EnumEventName.onAgentCheckedin : EnumEventName.onAgentCheckedout, data);
  }

  private calloutAnswered(data: HotlineEventData): void {
    const onSuccess = this.calloutSuccess.get(data.connId);
    if (onSuccess) {
      this.calloutSuccess.delete(data.connId);
      this.callHost(() => onSuccess(data), 'doCallOut.onSuccess');
      return;
    }
    this.answeredCallouts.set(data.connId, data);
    // Only the race with doCallOut's own answer needs this; keep it small.
    if (this.answeredCallouts.size > 16) this.answeredCallouts.delete(this.answeredCallouts.keys().next().value ?? '');
  }

  private callHost(fn: () => void, name: string): void {
    try {
      fn();
    } catch (error) {
      (this.deps.reportCallbackError ?? ((e: unknown) => console.error(`[SoftPhoneSDK] ${name} threw`, e)))(
        error,
        name,
      );
    }
  }

  private dispatchNotify(message: NotifyMessage): void {
    for (const listener of [...(this.notifyContainer[message.sceneType] ?? [])]) {
      this.callHost(() => listener(message), `takeWebSocketNotify ${message.sceneType}`);
    }
  }

  /** The guide's takeWebSocketNotify(): subscribe to the channel's scenes, and its reconnecting socket. */
  takeWebSocketNotify(): PhoneNotify {
    if (!this.notifyHandle) {
      const container = this.notifyContainer;
      const socket = this.channel.socket;
      this.notifyHandle = {
        listenerContainer: container,
        on(sceneType, callback) {
          if (typeof callback !== 'function') return;
          const list = container[sceneType] ?? [];
          list.push(callback);
          container[sceneType] = list;
        },
        off(sceneType, callback) {
          const list = container[sceneType];
          if (!list) return;
          const index = list.lastIndexOf(callback);
          if (index >= 0) list.splice(index, 1);
        },
        socket,
      };
    }
    return this.notifyHandle;
  }

  // ---------------------------------------------------------------- actions

  /**
   * Runs one server action: actionSuccess or actionError afterwards. Refused for its token, it is parked until the
   * host sets a token it has not been tried with, then retried — once per new token, so a host that keeps
   * setting the same bad token (the guide's 'newBearerToken' demo) cannot make it loop.
   */
  private async act<T>(
    action: ActionName,
    run: (token: string) => Promise<T>,
    onSuccess?: (result: T) => void,
  ): Promise<ActionResult<T>> {
    if (!this.isConfigured()) return this.failNow(this.notConfigured(action));
    const tried = new Set<string>();
    let token = this.config.BearerToken;
    for (;;) {
      tried.add(token);
      try {
        const result = await run(token);
        if (onSuccess) this.callHost(() => onSuccess(result), action);
        this.emit(EnumEventName.actionSuccess, { action, result });
        return { ok: true, data: result };
      } catch (thrown) {
        const error = (
          thrown instanceof SoftPhoneError ? thrown : new SoftPhoneError('NetworkError', String(thrown))
        ).withAction(action);
        if (!isAuthFailure(error.code)) {
          this.reportError(error);
          return { ok: false, error };
        }
        // Wait first, then report: a host that sets a new token from inside its actionError callback is heard.
        const next = this.waitForNewToken(tried);
        this.reportError(error);
        const fresh = await next;
        if (fresh === undefined) return { ok: false, error };
        token = fresh;
      }
    }
  }

  private failNow<T>(error: SoftPhoneError): Promise<ActionResult<T>> {
    this.reportError(error);
    return Promise.resolve({ ok: false, error });
  }

  private waitForNewToken(tried: ReadonlySet<string>): Promise<string | undefined> {
    return new Promise((resolve) => {
      // Set while the failed request was on its way: use it at once.
      const current = this.config.BearerToken;
      if (current !== '' && !tried.has(current)) {
        resolve(current);
        return;
      }
      const waiter: TokenWaiter = { tried, resolve, timer: undefined };
      waiter.timer = this.timers.setTimeout(() => {
        this.tokenWaiters.delete(waiter);
        resolve(undefined);
      }, this.tokenWaitMs);
      this.tokenWaiters.add(waiter);
    });
  }

  private wakeTokenWaiters(): void {
    const token = this.config.BearerToken;
    if (token === '') return;
    for (const waiter of [...this.tokenWaiters]) {
      if (waiter.tried.has(token)) continue;
      this.tokenWaiters.delete(waiter);
      this.timers.clearTimeout(waiter.timer);
      waiter.resolve(token);
    }
  }

  private send<T>(token: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const endpoints = this.endpoints();
    // The caller (act) relabels the error with its own action name.
    if (!endpoints) return Promise.reject(this.notConfigured('setConfig'));
    return this.http.send<T>({
      base: endpoints.http,
      token,
      instanceId: this.config.InstanceId,
      method,
      path,
      ...(body !== undefined ? { body } : {}),
    });
  }

  /** Check in (the guide: APIs.agentCheckin). Ready to take calls afterwards, with autoChangeOnLineTime as ACW. */
  agentCheckin(options: { readonly skillGroupIds?: readonly string[] } = {}): Promise<ActionResult<AgentSnapshot>> {
    const body = {
      acwSeconds: this.config.autoChangeOnLineTime,
      ...(Array.isArray(options?.skillGroupIds) ? { skillGroupIds: [...options.skillGroupIds] } : {}),
    };
    return this.act(
      'agentCheckin',
      (token) => this.send<AgentSnapshot>(token, 'POST', `${AGENT_API}/checkin`, body),
      (snapshot) => this.confirmAgent(snapshot, 'in'),
    );
  }

  /** Check out (the guide: APIs.agentCheckout). */
  agentCheckout(): Promise<ActionResult<AgentSnapshot>> {
    return this.act(
      'agentCheckout',
      (token) => this.send<AgentSnapshot>(token, 'POST', `${AGENT_API}/checkout`),
      (snapshot) => this.confirmAgent(snapshot, 'out'),
    );
  }

  /** Become ready to be offered calls (beyond the guide: the dial bar's status switch). */
  agentReady(): Promise<ActionResult<AgentSnapshot>> {
    return this.act(
      'agentReady',
      (token) => this.send<AgentSnapshot>(token, 'POST', `${AGENT_API}/ready`),
      (snapshot) => this.setStatus(snapshot.status, snapshot.since, 'http'),
    );
  }

  /** Go on break, with one of the instance's reason codes (the first one when omitted). */
  agentBreak(reasonCode?: string): Promise<ActionResult<AgentSnapshot>> {
    if (reasonCode !== undefined && (typeof reasonCode !== 'string' || reasonCode === '')) {
      return this.failNow(invalid('agentBreak', 'reasonCode must be a non-empty string when given.'));
    }
    return this.act(
      'agentBreak',
      (token) =>
        this.send<AgentSnapshot>(token, 'POST', `${AGENT_API}/break`, reasonCode !== undefined ? { reasonCode } : {}),
      (snapshot) => this.setStatus(snapshot.status, snapshot.since, 'http'),
    );
  }

  /** The agent, its instance, skill groups, caller-ID numbers and break reasons (GET /v1/agent/me). */
  getAgentInfo(): Promise<ActionResult<unknown>> {
    return this.act('getAgentInfo', (token) => this.send(token, 'GET', `${AGENT_API}/me`));
  }

  /**
   * Who a call can be handed to (GET /v1/agent/transfer-targets): the colleagues of the agent's instance with
   * their live status and whether they can take a call now, and the instance's skill groups with their ready
   * agents and waiting callers. Pass an agent's `id` as `{ type: 'agent', agentId }` to callTransfer/callConsult.
   */
  getTransferTargets(): Promise<ActionResult<TransferTargets>> {
    return this.act('getTransferTargets', (token) => this.send(token, 'GET', `${AGENT_API}/transfer-targets`));
  }

  /** The agent's calls as the server sees them. */
  getCalls(): Promise<ActionResult<{ items: CallView[] }>> {
    return this.act('getCalls', (token) => this.send(token, 'GET', CALLS_API));
  }

  /**
   * The HTTP answer confirms a check-in (or out) even when the server had nothing to push (a repeated check-in
   * after a reload): announce it if the channel has not already.
   */
  private confirmAgent(snapshot: AgentSnapshot, which: 'in' | 'out'): void {
    this.setStatus(snapshot.status, snapshot.since, 'http');
    if (this.announced === which) return;
    const code = which === 'in' ? EnumWSEventType.AgentCheckin : EnumWSEventType.AgentCheckout;
    this.announce(which, this.eventDataFromSnapshot(snapshot, code, which === 'in' ? 'checkin' : 'checkout'));
  }

  private eventDataFromSnapshot(snapshot: AgentSnapshot, code: EnumWSEventType, cmd: string): HotlineEventData {
    const basic: AgentBasicCode = snapshot.agentBasicCode ?? basicCodeOf(snapshot.status);
    const descriptions = {
      'zh-CN': { agentBasicDesc: AGENT_BASIC_CODE_TEXT[basic]['zh-CN'], agentCallDesc: WS_EVENT_TEXT[code]['zh-CN'] },
      en: { agentBasicDesc: AGENT_BASIC_CODE_TEXT[basic].en, agentCallDesc: WS_EVENT_TEXT[code].en },
    };
    const text = descriptions[this.config.locale];
    return {
      acid: '',
      agentBasicCode: basic,
      agentBasicDesc: text.agentBasicDesc,
      agentCallCode: code,
      agentCallDesc: text.agentCallDesc,
      aid: '',
      ani: '',
      appName: snapshot.instanceId,
      cmd,
      connId: '',
      departmentId: '',
      dnis: '',
      eventTime: String(snapshot.since),
      holdConnId: '',
      jobId: '',
      mid: '',
      name: '',
      status: snapshot.status,
      subSessionId: '',
      supportNewFunction: '1',
      time: new Date(snapshot.since).toISOString(),
      instanceId: snapshot.instanceId,
      agentId: snapshot.agentId,
      breakReason: snapshot.breakReason,
      callDirection: '',
      releasedBy: '',
      releaseReason: '',
      location: null,
      descriptions,
    };
  }

  // ---------------------------------------------------------------- calls

  /**
   * Places a call (the guide's doCallOut). Resolves when the server has started dialling; `onSuccess` is called
   * later, once, when the callee answers, with the call's event data.
   */
  doCallOut(options: DoCallOutOptions): Promise<ActionResult<CallView>> {
    if (typeof options !== 'object' || options === null) {
      return this.failNow(invalid('doCallOut', 'doCallOut takes { number, onSuccess, param }.'));
    }
    const param: DoCallOutParam = typeof options.param === 'object' && options.param !== null ? options.param : {};
    const number = idOf(options.number ?? param.number);
    if (!DIGITS.test(number)) {
      return this.failNow(
        invalid('doCallOut', `number must be a phone number of digits (got ${JSON.stringify(number)}).`),
      );
    }
    if (options.onSuccess !== undefined && typeof options.onSuccess !== 'function') {
      return this.failNow(invalid('doCallOut', 'onSuccess must be a function when given.'));
    }
    const body: Record<string, unknown> = { number, fromSource: param.fromSource ?? 'other_system_out' };
    const calloutNumber = idOf(param.calloutNumber);
    if (calloutNumber) body.calloutNumber = calloutNumber;
    if (typeof param.memberName === 'string' && param.memberName !== '') body.memberName = param.memberName;
    for (const key of ['memberId', 'taskId', 'channelId', 'caseId'] as const) {
      const value = param[key];
      if ((typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isFinite(value))) {
        body[key] = value;
      }
    }
    const onSuccess = options.onSuccess;
    return this.act(
      'doCallOut',
      (token) => this.send<CallView>(token, 'POST', `${CALLS_API}/outbound`, body),
      (call) => {
        if (!onSuccess || !call?.connId) return;
        const answered = this.answeredCallouts.get(call.connId);
        if (answered) {
          this.answeredCallouts.delete(call.connId);
          onSuccess(answered);
        } else this.calloutSuccess.set(call.connId, onSuccess);
      },
    );
  }

  /** Answers a ringing call (the guide's callAnswer). Without ids: the current call. */
  callAnswer(connId?: string, jobId?: string, acid?: string, aid?: string): Promise<ActionResult<CallView>> {
    if (!this.isConfigured()) return this.failNow(this.notConfigured('callAnswer'));
    const ids = this.callIds('callAnswer', connId, jobId, acid, aid);
    if (ids instanceof SoftPhoneError) return this.failNow(ids);
    this.emit(EnumEventName.onCallWillAnswer, ids.eventData);
    return this.callAction('callAnswer', ids.connId, 'answer', ids.body);
  }

  /** Hangs up, or rejects a ringing call (the guide's callHangup). Without ids: the current call. */
  callHangup(connId?: string, jobId?: string, acid?: string, aid?: string): Promise<ActionResult<CallView>> {
    if (!this.isConfigured()) return this.failNow(this.notConfigured('callHangup'));
    const ids = this.callIds('callHangup', connId, jobId, acid, aid);
    if (ids instanceof SoftPhoneError) return this.failNow(ids);
    this.emit(EnumEventName.onCallWillHangup, ids.eventData);
    return this.callAction('callHangup', ids.connId, 'hangup', ids.body);
  }

  callHold(connId?: string): Promise<ActionResult<CallView>> {
    return this.simpleCallAction('callHold', connId, 'hold');
  }

  callRetrieve(connId?: string): Promise<ActionResult<CallView>> {
    return this.simpleCallAction('callRetrieve', connId, 'retrieve');
  }

  callMute(muted = true, connId?: string): Promise<ActionResult<CallView>> {
    if (typeof muted !== 'boolean') return this.failNow(invalid('callMute', 'muted must be true or false.'));
    return this.simpleCallAction('callMute', connId, 'mute', { muted });
  }

  sendDtmf(digits: string, connId?: string): Promise<ActionResult<CallView>> {
    const text = idOf(digits);
    if (!/^[0-9*#A-Da-d]{1,32}$/.test(text)) {
      return this.failNow(
        invalid('sendDtmf', `digits must be 1 to 32 of 0-9 * # A-D (got ${JSON.stringify(digits)}).`),
      );
    }
    return this.simpleCallAction('sendDtmf', connId, 'dtmf', { digits: text });
  }

  /** Blind transfer to an agent, a skill group or a phone number (a bare number string means a phone number). */
  callTransfer(target: TransferTarget | string, connId?: string): Promise<ActionResult<CallView>> {
    const normalized = transferTarget(target);
    if (!normalized) return this.failNow(invalid('callTransfer', TARGET_HELP));
    return this.simpleCallAction('callTransfer', connId, 'transfer', { target: normalized });
  }

  /** Attended transfer, step 1: consult a third party while the caller waits. */
  callConsult(target: TransferTarget | string, connId?: string): Promise<ActionResult<CallView>> {
    const normalized = transferTarget(target);
    if (!normalized) return this.failNow(invalid('callConsult', TARGET_HELP));
    return this.simpleCallAction('callConsult', connId, 'consult', { target: normalized });
  }

  /** Attended transfer, step 2: hand the caller to the consulted party and leave. */
  consultComplete(connId?: string): Promise<ActionResult<CallView>> {
    return this.simpleCallAction('consultComplete', connId, 'consult/complete');
  }

  /** End the consultation and take the caller back. */
  consultCancel(connId?: string): Promise<ActionResult<CallView>> {
    return this.simpleCallAction('consultCancel', connId, 'consult/cancel');
  }

  /** Join caller, agent and consulted party in one conference. */
  callConference(connId?: string): Promise<ActionResult<CallView>> {
    return this.simpleCallAction('callConference', connId, 'conference');
  }

  /** Call another agent of the instance. */
  callInternal(agentId: string): Promise<ActionResult<CallView>> {
    const id = idOf(agentId);
    if (id === '') return this.failNow(invalid('callInternal', 'agentId must be a non-empty string.'));
    return this.act('callInternal', (token) =>
      this.send<CallView>(token, 'POST', `${CALLS_API}/internal`, { agentId: id }),
    );
  }

  private simpleCallAction(
    action: ActionName,
    connId: string | undefined,
    path: string,
    body?: Record<string, unknown>,
  ): Promise<ActionResult<CallView>> {
    const id = idOf(connId) || this.currentConnId;
    if (id === '') return this.failNow(new SoftPhoneError('NoCurrentCall', undefined, { action }));
    return this.callAction(action, id, path, body ?? {});
  }

  private callAction(
    action: ActionName,
    connId: string,
    path: string,
    body: Record<string, unknown>,
  ): Promise<ActionResult<CallView>> {
    return this.act(action, (token) =>
      this.send<CallView>(token, 'POST', `${CALLS_API}/${encodeURIComponent(connId)}/${path}`, body),
    );
  }

  /** The guide's (connId, jobId, acid, aid): given ones are sent (and must match); a missing connId means the current call. */
  private callIds(
    action: ActionName,
    connId: unknown,
    jobId: unknown,
    acid: unknown,
    aid: unknown,
  ): SoftPhoneError | { connId: string; body: Record<string, string>; eventData: CallActionData } {
    let id = idOf(connId);
    const given = { jobId: idOf(jobId), acid: idOf(acid), aid: idOf(aid) };
    const known = this.calls.get(id || this.currentConnId);
    if (id === '') {
      if (!known) return new SoftPhoneError('NoCurrentCall', undefined, { action });
      id = known.connId;
      given.jobId ||= known.jobId;
      given.acid ||= known.acid;
      given.aid ||= known.aid;
    }
    const body: Record<string, string> = {};
    for (const [key, value] of Object.entries(given)) if (value !== '') body[key] = value;
    return {
      connId: id,
      body,
      eventData: {
        ...(known ?? {}),
        connId: id,
        jobId: given.jobId || known?.jobId || '',
        acid: given.acid || known?.acid || '',
        aid: given.aid || known?.aid || '',
      },
    };
  }

  // ---------------------------------------------------------------- UI

  /** The dial bar component; until the dial bar ships, a placeholder that renders nothing (see docs/sdk.md). */
  getUIComponent(): SoftPhoneUIComponent {
    this.uiComponent ??= createPlaceholderComponent();
    return this.uiComponent;
  }

  /** Mounts a component from getUIComponent() into an element; returns the function that unmounts it. */
  renderComponent(component: unknown, element: unknown): () => void {
    if (!isMountable(component)) {
      this.reportError(new SoftPhoneError('UnsupportedComponent', undefined, { action: 'renderComponent' }));
      return () => {};
    }
    if (!isElement(element)) {
      this.reportError(
        new SoftPhoneError(
          'InvalidArgument',
          `renderComponent needs a DOM element (got ${element === null ? 'null: is the container in the page yet?' : typeof element}).`,
          { action: 'renderComponent' },
        ),
      );
      return () => {};
    }
    // Mounting again into the same element (the guide's demo does it on every config change) replaces the old one.
    this.mounts.get(element)?.unmount();
    const mounted = component.mount(element, { config: this.frozen });
    this.mounts.set(element, mounted);
    return () => {
      mounted.unmount();
      if (this.mounts.get(element) === mounted) this.mounts.delete(element);
    };
  }

  /** Stops the channel and forgets the session (single-page apps that tear the softphone down). */
  destroy(): void {
    this.channel.reset();
    for (const mounted of this.mounts.values()) mounted.unmount();
    this.mounts.clear();
    for (const waiter of this.tokenWaiters) {
      this.timers.clearTimeout(waiter.timer);
      waiter.resolve(undefined);
    }
    this.tokenWaiters.clear();
    this.resetSession();
    if (SoftPhone.instance === this) SoftPhone.instance = undefined;
  }
}

const TARGET_HELP =
  'target must be { type: "agent", agentId }, { type: "skillGroup", skillGroupId }, { type: "number", number } or a phone number.';

function invalid(action: ActionName, message: string): SoftPhoneError {
  return new SoftPhoneError('InvalidArgument', message, { action });
}

function transferTarget(target: unknown): TransferTarget | undefined {
  if (typeof target === 'string' || typeof target === 'number') {
    const number = idOf(target);
    return DIGITS.test(number) ? { type: 'number', number } : undefined;
  }
  if (typeof target !== 'object' || target === null) return undefined;
  const t = target as Record<string, unknown>;
  if (t.type === 'agent' && typeof t.agentId === 'string' && t.agentId !== '')
    return { type: 'agent', agentId: t.agentId };
  if (t.type === 'skillGroup' && typeof t.skillGroupId === 'string' && t.skillGroupId !== '') {
    return { type: 'skillGroup', skillGroupId: t.skillGroupId };
  }
  if (t.type === 'number') {
    const number = idOf(t.number);
    if (DIGITS.test(number)) return { type: 'number', number };
  }
  return undefined;
}
