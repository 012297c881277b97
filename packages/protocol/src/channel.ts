import { type Static, Type } from '@sinclair/typebox';
import { AgentBarStatus, AgentBasicCode } from './enums.js';
import type { ErrorCode } from './errors.js';
import type { NotifyMessage } from './hotline-message.js';

/**
 * The live channel: one WebSocket per agent session at CHANNEL_PATH.
 *
 * Connect with `?access_token=<jwt>` (browsers cannot set headers on a WebSocket; Node clients may send
 * `Authorization: Bearer` instead), optional `locale=en|zh-CN`, and to resume `epoch=<epoch>&lastSeq=<n>`.
 * The server answers `hello`, then either the missed `notify` frames in order or a `snapshot`, then live frames.
 */
export const CHANNEL_PATH = '/v1/agent/channel';

/** Client → server frames. */
const IceCandidateSchema = Type.Object({
  candidate: Type.String({ maxLength: 1024 }),
  sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 64 }), Type.Null()])),
  usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
});

export const ClientFrameSchema = Type.Union([
  Type.Object({ type: Type.Literal('ping'), t: Type.Optional(Type.Number()) }, { additionalProperties: false }),
  /** The agent's media line: the browser's SDP offer (at check-in, after a reload, or an ICE restart). */
  Type.Object(
    {
      type: Type.Literal('media.offer'),
      sdp: Type.String({ minLength: 1, maxLength: 15_000 }),
      iceRestart: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  /** A trickled ICE candidate of the browser; null = end of candidates. */
  Type.Object(
    { type: Type.Literal('media.candidate'), candidate: Type.Union([IceCandidateSchema, Type.Null()]) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('resume'),
      epoch: Type.String({ maxLength: 64 }),
      lastSeq: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false },
  ),
]);
export type ClientFrame = Static<typeof ClientFrameSchema>;

export const AgentSnapshotSchema = Type.Object({
  instanceId: Type.String(),
  agentId: Type.String(),
  name: Type.String(),
  status: Type.Enum(AgentBarStatus),
  agentBasicCode: Type.Enum(AgentBasicCode),
  /** Epoch ms when the agent entered the current status. */
  since: Type.Number(),
  breakReason: Type.String(),
  /** Skill groups the agent serves in this check-in ([] when checked out). */
  activeSkillGroupIds: Type.Array(Type.String()),
  /** After-call work, seconds; 0 = stay in ACW until the agent acts. */
  acwSeconds: Type.Integer(),
  /** Epoch ms when the running ACW ends by itself, or null. */
  acwEndsAt: Type.Union([Type.Number(), Type.Null()]),
  /** Live channels the agent has open (tabs). */
  channels: Type.Integer(),
});
export type AgentSnapshot = Static<typeof AgentSnapshotSchema>;

/** Server → client frames. */
export type ServerFrame =
  | {
      readonly type: 'hello';
      /** Identifies this server's event stream; a resume with another epoch gets a snapshot. */
      readonly epoch: string;
      /** The sequence number of the newest message in the agent's stream. */
      readonly seq: number;
      readonly connectionId: string;
      readonly serverTime: number;
      /** The client should send `ping` at least this often; the server closes a silent peer after 2 periods. */
      readonly heartbeatIntervalMs: number;
    }
  | ({ readonly type: 'notify' } & NotifyMessage)
  | {
      readonly type: 'snapshot';
      readonly epoch: string;
      /** The stream position this snapshot is valid at: the next notify has seq + 1. */
      readonly seq: number;
      readonly agent: AgentSnapshot;
    }
  | { readonly type: 'pong'; readonly t?: number; readonly serverTime: number }
  /** The server's SDP answer for the agent's media line. */
  | { readonly type: 'media.answer'; readonly sdp: string }
  /** A server ICE candidate (null = end of candidates). */
  | { readonly type: 'media.candidate'; readonly candidate: Static<typeof IceCandidateSchema> | null }
  /** The media line's transport state. */
  | { readonly type: 'media.state'; readonly state: 'connected' | 'disconnected' | 'failed' | 'closed' }
  | {
      readonly type: 'error';
      readonly code: ErrorCode;
      readonly message: string;
      readonly details?: Readonly<Record<string, unknown>>;
    };
