/**
 * @openhotline/sdk — the softphone SDK of the call-center SDK integration guide (0.5.1), against an OpenHotline
 * server. The one entry: everything public is exported here; other modules are internal.
 */
import { EnumWSEventType, EnumEventName as GuideEventName } from '@openhotline/protocol';

export type {
  AgentSnapshot,
  CallView,
  FromSource,
  HotlineEventData,
  HotlineHead,
  HotlineMessage,
  NotifyMessage,
  TransferTarget,
  TransferTargetAgent,
  TransferTargetSkillGroup,
  TransferTargets,
  VoiceToTextMessage,
} from '@openhotline/protocol';
export { AgentBarStatus, EnumLocale, EnumWSEventType, SceneType } from '@openhotline/protocol';
export { APIs, type TakeWebSocketNotify, takeWebSocketNotify } from './apis';
export type { ChannelState } from './channel';
export { DEFAULT_CONFIG, type SDKConfig } from './config';
export {
  type ActionErrorData,
  type ActionName,
  SDK_ERRORS,
  type SdkErrorCode,
  SoftPhoneError,
  type SoftPhoneErrorCode,
} from './errors';
export type {
  ActionSuccessData,
  CallActionData,
  Canceler,
  EventData,
  RegistrableEventName,
  SoftPhoneEventDataMap,
  SoftPhoneListener,
} from './events';
export type {
  AudioDevice,
  AudioDevices,
  CallQuality,
  MediaHost,
  MediaSession,
  MediaSessionFactory,
  OneWayAudio,
} from './media-session';
export {
  type BackoffOptions,
  exponentialBackoff,
  type ReconnectContext,
  ReconnectingSocket,
  type ReconnectPolicy,
} from './reconnecting-socket';
export {
  type ActionResult,
  type DoCallOutOptions,
  type DoCallOutParam,
  type NotifyListener,
  type PhoneNotify,
  SoftPhone,
} from './softphone';
// The UI seam: the full script-tag build registers the dial bar with it (getUIComponent() then returns the bar).
export { type MountedComponent, registerUIComponent, type SoftPhoneUIComponent } from './ui';

export const VERSION = '0.1.0';

/**
 * The guide's EnumEventName, value for value (16 members). Its answer and hang-up demos register
 * `EnumEventName.AgentRinging` / `.AgentCallDialOut`, which are hotline codes: in plain JavaScript those would be
 * undefined, so this object also answers every EnumWSEventType name with that code — as hidden properties, so
 * Object.keys/values still list the 16. (TypeScript rejects them: use EnumWSEventType there.)
 */
export const EnumEventName: typeof GuideEventName = /* @__PURE__ */ withHotlineAliases(GuideEventName);
export type EnumEventName = GuideEventName;

function withHotlineAliases(names: typeof GuideEventName): typeof GuideEventName {
  const copy = { ...names };
  for (const code of Object.values(EnumWSEventType)) {
    if (!Object.hasOwn(copy, code)) Object.defineProperty(copy, code, { value: code, enumerable: false });
  }
  // Our event beyond the guide's 16, reachable the guide's way (EnumEventName.onCallQuality) without a 17th key.
  Object.defineProperty(copy, 'onCallQuality', { value: 'onCallQuality', enumerable: false });
  return Object.freeze(copy);
}
