import { type Static, Type } from '@sinclair/typebox';
import type { ErrorCode } from './errors.js';

/**
 * The customer web call: a public WebSocket where a browser calls a hotline number like a phone would, with a
 * real WebRTC audio leg into the hotline's queue. No token: anyone may call a hotline number. The server caps
 * concurrent web calls (per server and per client address), the frame size and the number of frames.
 *
 * The conversation: the client sends `call`, the server answers `state: connecting`; the client sends its SDP
 * `offer` (PCMU, telephone-event) and trickles `candidate`s; the server sends `answer` and its candidates. Once the
 * audio transport is up the call enters the hotline number's queue and `state` frames follow (queued with a
 * position, ringing, connected, held), then `state: ended` with a reason, and the server closes the socket.
 * Closing the socket, or sending `hangup`, hangs the call up.
 */
export const WEBCALL_PATH = '/v1/webcall';
/** Public list of an instance's hotline numbers, for the web-call page's picker: `?instance=<instanceId>`. */
export const WEBCALL_NUMBERS_PATH = '/v1/webcall/numbers';

const WebCallIceCandidateSchema = Type.Object(
  {
    candidate: Type.String({ maxLength: 1024 }),
    sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 64 }), Type.Null()])),
    usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  },
  { additionalProperties: false },
);

/** Client → server frames. */
export const WebCallClientFrameSchema = Type.Union([
  /** Start a call to a hotline number. Only one call per socket. */
  Type.Object(
    { type: Type.Literal('call'), to: Type.String({ minLength: 3, maxLength: 32, pattern: '^\\+?[0-9]+$' }) },
    { additionalProperties: false },
  ),
  /** The browser's SDP offer for the call's audio (after `call`). */
  Type.Object(
    { type: Type.Literal('offer'), sdp: Type.String({ minLength: 1, maxLength: 15_000 }) },
    { additionalProperties: false },
  ),
  /** A trickled ICE candidate of the browser; null = end of candidates. */
  Type.Object(
    { type: Type.Literal('candidate'), candidate: Type.Union([WebCallIceCandidateSchema, Type.Null()]) },
    { additionalProperties: false },
  ),
  /**
   * Keys pressed, for clients that cannot send RFC 4733 in the audio (the page uses its RTCDTMFSender when it can:
   * then the agent hears the keys too). Either way the keys are written to the call record.
   */
  Type.Object(
    { type: Type.Literal('dtmf'), digits: Type.String({ minLength: 1, maxLength: 32, pattern: '^[0-9*#A-D]+$' }) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('hangup') }, { additionalProperties: false }),
]);
export type WebCallClientFrame = Static<typeof WebCallClientFrameSchema>;
export const WEBCALL_CLIENT_FRAME_TYPES: readonly WebCallClientFrame['type'][] = [
  'call',
  'offer',
  'candidate',
  'dtmf',
  'hangup',
];

/** Where the web call stands, as its caller sees it. */
export type WebCallState = 'connecting' | 'queued' | 'ringing' | 'connected' | 'held' | 'ended';

/**
 * Why a web call ended: the caller hung up (or closed the page), the agent hung up, no agent took it (the queue
 * timed out or was full), the audio could not be set up or failed, the call reached the server's longest allowed
 * web call, the server shut down, or the call failed otherwise (a transfer that went nowhere, for example).
 */
export type WebCallEndReason =
  | 'caller-hangup'
  | 'agent-hangup'
  | 'no-agent'
  | 'media-failed'
  | 'too-long'
  | 'server-shutdown'
  | 'failed';

/** Server → client frames. */
export type WebCallServerFrame =
  /** The server's SDP answer. */
  | { readonly type: 'answer'; readonly sdp: string }
  /** A server ICE candidate (null = end of candidates). */
  | { readonly type: 'candidate'; readonly candidate: Static<typeof WebCallIceCandidateSchema> | null }
  | {
      readonly type: 'state';
      readonly state: Exclude<WebCallState, 'ended'>;
      /** How the agent sees this caller (`web:` and eight letters): quote it to the agent. */
      readonly caller: string;
      /** Place in the queue, 1 = next; only with `queued`. */
      readonly position?: number;
    }
  | { readonly type: 'state'; readonly state: 'ended'; readonly caller: string; readonly reason: WebCallEndReason }
  | {
      readonly type: 'error';
      readonly code: ErrorCode;
      readonly message: string;
      readonly details?: Readonly<Record<string, unknown>>;
    };

/** A hotline number as the public may see it. */
export const WebCallNumberSchema = Type.Object({ number: Type.String(), name: Type.String() });
export type WebCallNumber = Static<typeof WebCallNumberSchema>;
export const WebCallNumbersQuerySchema = Type.Object(
  { instance: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }) },
  { additionalProperties: false },
);
export const WebCallNumbersResponseSchema = Type.Object({
  instanceId: Type.String(),
  numbers: Type.Array(WebCallNumberSchema),
});
export type WebCallNumbersResponse = Static<typeof WebCallNumbersResponseSchema>;

/** Close codes of the web-call socket (4000–4999 is the application range of RFC 6455). */
export enum WebCallCloseCode {
  /** The call ended normally (see the last `state` frame for why). */
  Ended = 1000,
  /** The call was refused before it started (the reason text is an ErrorCode). */
  Refused = 4003,
  /** The client broke the protocol too often (too many frames or errors). */
  Abuse = 4008,
  /** The server is shutting down. */
  ServerShutdown = 4012,
}
