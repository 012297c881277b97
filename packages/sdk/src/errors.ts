import type { ErrorCode } from '@openhotline/protocol';

/**
 * The SDK's own error catalogue: failures found in the browser before (or instead of) a server round trip.
 * Server failures keep the server's code (the protocol's catalogue) and message, so an integrator sees one flat
 * set of stable codes in `actionError`, whichever side found the problem.
 */
export const SDK_ERRORS = {
  ConfigInvalid: {
    message: 'The configuration is invalid.',
    remedy: 'Read `details.problems`; fix the named options. The previous configuration stays in force.',
  },
  NotConfigured: {
    message: 'InstanceId and BearerToken must be set before this action.',
    remedy: 'Call softPhone.setConfig({ InstanceId, BearerToken }) first.',
  },
  InvalidArgument: {
    message: 'An argument of this API call is missing or has the wrong type.',
    remedy: 'Read `details` for the argument and what it must be.',
  },
  NoCurrentCall: {
    message: 'No call id was given and the agent has no current call.',
    remedy: 'Pass the connId from the call event (eventData.data.connId).',
  },
  UnknownEvent: {
    message: 'This event name is neither an EnumEventName nor an EnumWSEventType.',
    remedy: 'Register one of the names of EnumEventName or EnumWSEventType.',
  },
  UnsupportedComponent: {
    message: 'renderComponent can only mount the component returned by softPhone.getUIComponent().',
    remedy: 'Pass softPhone.getUIComponent() and a DOM element; in a React tree, render the component directly.',
  },
  NetworkError: {
    message: 'The OpenHotline server could not be reached.',
    remedy: 'Check apiHost, the network and the server; for another origin the server must allow it (CORS).',
  },
  UnexpectedResponse: {
    message: 'The server answered with something that is not an OpenHotline response.',
    remedy: 'Check that apiHost points at an OpenHotline server and its API version.',
  },
  ChannelClosed: {
    message: 'The live channel was closed by the server and will not reconnect by itself.',
    remedy: 'Read `details.closeCode`; close another tab (4009) or ask an administrator (4011), then setConfig again.',
  },
  InsecureContext: {
    message: 'The page is not a secure context, so the browser will not give it the microphone.',
    remedy: 'Serve the business system over HTTPS (http://localhost also counts as secure).',
  },
  WebRTCUnsupported: {
    message: 'This browser has no WebRTC (RTCPeerConnection), so calls cannot carry audio.',
    remedy: 'Use a current Chrome or Chromium (58 or later), or another browser with WebRTC.',
  },
  MicrophoneUnavailable: {
    message: 'No microphone is available to this page.',
    remedy: 'Connect a microphone and check that the operating system lets the browser use it.',
  },
  MicrophonePermissionDenied: {
    message: 'The user or the browser settings denied this site the microphone.',
    remedy: 'Allow the microphone for this site in the browser (the icon in the address bar).',
  },
  MicrophoneBlockedByPermissionsPolicy: {
    message: 'The page may not use the microphone: its permissions policy does not allow it.',
    remedy: 'Add allow="microphone" to the <iframe> that embeds the softphone (and to every iframe around it).',
  },
  AudioPlaybackBlocked: {
    message: 'The browser blocks the call audio until a user gesture (autoplay policy).',
    remedy: 'A click or key press in the page starts it: check in from a button.',
  },
  AudioLineFailed: {
    message: 'The audio line to the server failed.',
    remedy: 'Allow UDP to the media ports of the server; the message says more.',
  },
  AudioDeviceFailed: {
    message: 'The audio device could not be used.',
    remedy: 'Pick one from APIs.getAudioDevices(); the message says more.',
  },
} as const;

export type SdkErrorCode = keyof typeof SDK_ERRORS;

/** Every code an `actionError` can carry: the SDK's own and the server's. */
export type SoftPhoneErrorCode = SdkErrorCode | ErrorCode;

/** What the SDK was doing when something failed: an API name, or one of the SDK's own activities. */
export type ActionName =
  | 'setConfig'
  | 'register'
  | 'renderComponent'
  | 'environment'
  | 'channel'
  | 'updateSettings'
  | 'getAgentBarStatus'
  | 'getAgentInfo'
  | 'getCalls'
  | 'getTransferTargets'
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
  | 'callInternal'
  | 'media'
  | 'getAudioDevices'
  | 'setAudioInput'
  | 'setAudioOutput';

export interface SoftPhoneErrorInit {
  readonly action?: ActionName | undefined;
  readonly status?: number | undefined;
  readonly details?: Readonly<Record<string, unknown>> | undefined;
  readonly requestId?: string | undefined;
  readonly remedy?: string | undefined;
}

/** One error type for everything the SDK reports: a stable code, a message, and what to do about it. */
export class SoftPhoneError extends Error {
  override readonly name = 'SoftPhoneError';
  readonly code: SoftPhoneErrorCode;
  readonly remedy: string;
  readonly action: ActionName | undefined;
  /** HTTP status of a server error; undefined for the SDK's own. */
  readonly status: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly requestId: string | undefined;

  constructor(code: SoftPhoneErrorCode, message?: string, init: SoftPhoneErrorInit = {}) {
    const known = isSdkErrorCode(code) ? SDK_ERRORS[code] : undefined;
    super(message ?? known?.message ?? code);
    this.code = code;
    this.remedy = init.remedy ?? known?.remedy ?? '';
    this.action = init.action;
    this.status = init.status;
    this.details = init.details;
    this.requestId = init.requestId;
  }

  /** The `data` of an actionError event: plain, serialisable fields. */
  toEventData(): ActionErrorData {
    return {
      action: this.action ?? 'unknown',
      code: this.code,
      message: this.message,
      remedy: this.remedy,
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.details !== undefined ? { details: this.details } : {}),
      ...(this.requestId !== undefined ? { requestId: this.requestId } : {}),
    };
  }

  withAction(action: ActionName): SoftPhoneError {
    if (this.action === action) return this;
    return new SoftPhoneError(this.code, this.message, {
      action,
      status: this.status,
      details: this.details,
      requestId: this.requestId,
      remedy: this.remedy,
    });
  }
}

/** `eventData.data` of `actionError` and `actionError.tokenExpired`. */
export interface ActionErrorData {
  readonly action: ActionName | 'unknown';
  readonly code: SoftPhoneErrorCode;
  readonly message: string;
  readonly remedy: string;
  readonly status?: number;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly requestId?: string;
}

export function isSdkErrorCode(code: string): code is SdkErrorCode {
  return Object.hasOwn(SDK_ERRORS, code);
}

/** Server codes after which the same request may succeed with another token. */
export function isAuthFailure(code: string): boolean {
  return code === 'TokenExpired' || code === 'Unauthorized';
}
