import { EnumEventName, EnumWSEventType, type HotlineEventData } from '@openhotline/protocol';
import type { CallQuality } from './call-quality';
import type { SDKConfig } from './config';
import type { ActionErrorData, ActionName } from './errors';

/** `data` of actionSuccess: which API succeeded and what the server answered. */
export interface ActionSuccessData {
  readonly action: ActionName;
  readonly result: unknown;
}

/** `data` of onCallWillAnswer / onCallWillHangup: the ids the API was called with, plus what is known of the call. */
export type CallActionData = Partial<HotlineEventData> & {
  readonly connId: string;
  readonly jobId: string;
  readonly acid: string;
  readonly aid: string;
};

/** The payload (`eventData.data`) of every event the SDK emits. */
export interface SoftPhoneEventDataMap {
  [EnumEventName.actionError]: ActionErrorData;
  'actionError.tokenExpired': ActionErrorData;
  [EnumEventName.actionSuccess]: ActionSuccessData;
  [EnumEventName.onAgentCheckedin]: HotlineEventData;
  [EnumEventName.onAgentCheckedout]: HotlineEventData;
  [EnumEventName.onCallComing]: HotlineEventData;
  [EnumEventName.onCallDialOut]: HotlineEventData;
  [EnumEventName.onCallWillAnswer]: CallActionData;
  [EnumEventName.onCallEstablishForCallin]: HotlineEventData;
  [EnumEventName.onCallEstablishForCallout]: HotlineEventData;
  [EnumEventName.onCallWillHangup]: CallActionData;
  [EnumEventName.onCallDidHangup]: HotlineEventData;
  [EnumEventName.onCallOutDidHangup]: HotlineEventData;
  [EnumEventName.onCallTransferOut]: HotlineEventData;
  [EnumEventName.onCallHold]: HotlineEventData;
  [EnumEventName.onCallRecovery]: HotlineEventData;
  /** Beyond the guide: the call's quality, every 500 ms during a call (needs the media session). */
  [CALL_QUALITY_EVENT]: CallQuality;
}

/** The one event beyond the guide's 16; it registers like them. */
export const CALL_QUALITY_EVENT = 'onCallQuality';

/** Any name `register` accepts: the guide's lifecycle events, and the hotline codes its demos register too. */
export type RegistrableEventName =
  | EnumEventName
  | EnumWSEventType
  | `${EnumEventName}`
  | `${EnumWSEventType}`
  | typeof CALL_QUALITY_EVENT;

export type EventDataOf<N> = N extends keyof SoftPhoneEventDataMap
  ? SoftPhoneEventDataMap[N]
  : N extends `${infer K extends keyof SoftPhoneEventDataMap}`
    ? SoftPhoneEventDataMap[K]
    : HotlineEventData;

/** The guide's `eventData`: `{ type, preConfig, data }`. */
export interface EventData<N extends string = string, D = unknown> {
  readonly type: N;
  /** The configuration in force when the event was emitted (a copy). */
  readonly preConfig: Readonly<SDKConfig>;
  readonly data: D;
}

/**
 * A callback gets the guide's `eventData` first, and — as the guide's demo reads them — `preConfig` and `data`
 * again as the second and third arguments, so both `(e) => e.data` and `(e, preConfig, data) => data` work.
 */
export type SoftPhoneListener<N extends string = string, D = EventDataOf<N>> = (
  eventData: EventData<N, D>,
  preConfig: Readonly<SDKConfig>,
  data: D,
) => void;

/** Returned by `register`: calling it removes exactly that registration (again: nothing happens). */
export type Canceler = () => void;

const LIFECYCLE: ReadonlySet<string> = new Set(Object.values(EnumEventName));
const HOTLINE_CODES: ReadonlySet<string> = new Set(Object.values(EnumWSEventType));

export function isLifecycleEvent(name: unknown): name is EnumEventName {
  return typeof name === 'string' && LIFECYCLE.has(name);
}

/** A name `register` accepts as an SDK event: the guide's 16 and onCallQuality. */
export function isSdkEvent(name: unknown): name is EnumEventName | typeof CALL_QUALITY_EVENT {
  return name === CALL_QUALITY_EVENT || isLifecycleEvent(name);
}

export function isHotlineCode(name: unknown): name is EnumWSEventType {
  return typeof name === 'string' && HOTLINE_CODES.has(name);
}

type AnyListener = (eventData: EventData, preConfig: Readonly<SDKConfig>, data: unknown) => void;

/**
 * The event registry. Each registration is its own entry, so registering the same function twice calls it twice
 * and each canceler removes only its own. A callback that throws is reported and does not stop the others.
 */
export class EventBus {
  private readonly listeners = new Map<string, { readonly cb: AnyListener }[]>();

  constructor(private readonly reportCallbackError: (error: unknown, name: string) => void = defaultReport) {}

  on(name: string, cb: AnyListener): Canceler {
    const entry = { cb };
    const list = this.listeners.get(name) ?? [];
    list.push(entry);
    this.listeners.set(name, list);
    return () => {
      const current = this.listeners.get(name);
      if (!current) return;
      const index = current.indexOf(entry);
      if (index >= 0) current.splice(index, 1);
      if (current.length === 0) this.listeners.delete(name);
    };
  }

  /** Calls every callback registered for `name` at the moment of the call, in registration order. */
  emit(name: string, preConfig: Readonly<SDKConfig>, data: unknown): void {
    const list = this.listeners.get(name);
    if (!list || list.length === 0) return;
    const eventData: EventData = { type: name, preConfig, data };
    for (const { cb } of [...list]) {
      try {
        cb(eventData, preConfig, data);
      } catch (error) {
        this.reportCallbackError(error, name);
      }
    }
  }

  count(name: string): number {
    return this.listeners.get(name)?.length ?? 0;
  }
}

function defaultReport(error: unknown, name: string): void {
  // The host's bug, not ours: surface it as an uncaught error where the platform can, without breaking dispatch.
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else console.error(`[SoftPhoneSDK] a "${name}" callback threw`, error);
}
