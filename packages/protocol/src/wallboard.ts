import { type Static, Type } from '@sinclair/typebox';
import { AgentBarStatus, AgentBasicCode } from './enums.js';
import type { ErrorCode } from './errors.js';

/**
 * The wallboard: the live state of one instance for a screen on the wall — agents and their states, queues,
 * calls in progress and rolling call statistics. Caller numbers are always masked on it, whoever looks.
 *
 * - `GET  /v1/admin/instances/{instanceId}/wallboard` → WallboardSnapshot (admin key or backend token)
 * - `GET  /v1/admin/instances/{instanceId}/wallboard/live` (WebSocket; `?access_token=` since browsers cannot
 *   set headers) → a `snapshot` frame at once, then one whenever something changed (at most 2 per second) and
 *   at least every 15 seconds. Refused credentials: an `error` frame, then close 4001.
 * Both take `?serviceLevelSeconds=` (default 20): the answer-time target of the service level.
 */
export const wallboardPath = (instanceId: string) => `/v1/admin/instances/${encodeURIComponent(instanceId)}/wallboard`;

export const DEFAULT_SERVICE_LEVEL_SECONDS = 20;

/** Close codes of the live wallboard socket. */
export enum WallboardCloseCode {
  /** The credentials were refused (Unauthorized, TokenExpired, Forbidden); ask for them again. */
  AuthFailed = 4001,
  /** The request cannot succeed as made (unknown instance, bad query): reconnecting will not help. */
  Refused = 4004,
  /** The server is shutting down; reconnect later. */
  ServerShutdown = 4012,
}

const ServiceLevelSeconds = Type.Integer({
  minimum: 1,
  maximum: 3600,
  description: `Calls answered within this many seconds count toward the service level (default ${DEFAULT_SERVICE_LEVEL_SECONDS}).`,
});

export const WallboardQuerySchema = Type.Object(
  { serviceLevelSeconds: Type.Optional(ServiceLevelSeconds) },
  { additionalProperties: false },
);
export type WallboardQuery = Static<typeof WallboardQuerySchema>;

export const WallboardLiveQuerySchema = Type.Object(
  {
    serviceLevelSeconds: Type.Optional(ServiceLevelSeconds),
    /** The admin key or a backend token of the instance (browsers cannot set headers on a WebSocket). */
    access_token: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type WallboardLiveQuery = Static<typeof WallboardLiveQuerySchema>;

const Described = Type.Object({ 'zh-CN': Type.String(), en: Type.String() });

export const WallboardAgentSchema = Type.Object({
  agentId: Type.String(),
  name: Type.String(),
  /** The groups the agent serves in this check-in; its configured groups when checked out. */
  skillGroupIds: Type.Array(Type.String()),
  status: Type.Enum(AgentBarStatus),
  /** The coarse state that colours the tile: ready, on a call, after-call work, break... */
  basicCode: Type.Enum(AgentBasicCode),
  statusText: Described,
  /** The break reason's label, when on break. */
  breakReasonText: Type.Union([Described, Type.Null()]),
  /** Epoch ms when the agent entered the current status. */
  since: Type.Number(),
  /** A live channel (dial bar) is open. */
  online: Type.Boolean(),
});
export type WallboardAgent = Static<typeof WallboardAgentSchema>;

export const WallboardQueueSchema = Type.Object({
  skillGroupId: Type.String(),
  name: Type.String(),
  waiting: Type.Integer(),
  longestWaitMs: Type.Number(),
  /** Epoch ms the longest waiting caller joined the queue, or null: lets a screen tick the wait by itself. */
  oldestQueuedAt: Type.Union([Type.Number(), Type.Null()]),
  /** Ready agents with a live channel in this group. */
  readyAgents: Type.Integer(),
});
export type WallboardQueue = Static<typeof WallboardQueueSchema>;

export const WallboardCallSchema = Type.Object({
  connId: Type.String(),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('internal')]),
  state: Type.Union([
    Type.Literal('queued'),
    Type.Literal('ringing'),
    Type.Literal('dialing'),
    Type.Literal('talking'),
    Type.Literal('held'),
    Type.Literal('consulting'),
    Type.Literal('conference'),
  ]),
  /** The agent handling (or ringing for) the call, '' while queued. */
  agentId: Type.String(),
  agentName: Type.String(),
  skillGroupId: Type.String(),
  /** The customer's number, always masked (an internal call shows the other agent's id). */
  number: Type.String(),
  startedAt: Type.Number(),
  answeredAt: Type.Union([Type.Number(), Type.Null()]),
  durationMs: Type.Number(),
});
export type WallboardCall = Static<typeof WallboardCallSchema>;

/** Inbound calls of one interval, each counted in the interval where it happened (offer, answer, end). */
export const WallboardIntervalSchema = Type.Object({
  /** Epoch ms of the interval's start. */
  start: Type.Number(),
  offered: Type.Integer(),
  answered: Type.Integer(),
  abandoned: Type.Integer(),
  /** Answered within the service-level target ÷ calls that stopped waiting in the interval; null when none did. */
  serviceLevelPercent: Type.Union([Type.Number(), Type.Null()]),
});
export type WallboardInterval = Static<typeof WallboardIntervalSchema>;

export const WallboardSummarySchema = Type.Object({
  windowMinutes: Type.Integer(),
  offered: Type.Integer(),
  answered: Type.Integer(),
  /** The caller hung up before an agent answered. */
  abandoned: Type.Integer(),
  /** Ended unanswered by the system: queue timeout, full queue. */
  unanswered: Type.Integer(),
  serviceLevelPercent: Type.Union([Type.Number(), Type.Null()]),
  /** Mean time from arrival to answer of the calls answered. */
  averageSpeedOfAnswerMs: Type.Union([Type.Number(), Type.Null()]),
  /** Mean time from answer to hang-up of the calls that ended (talk and hold; after-call work not included). */
  averageHandleTimeMs: Type.Union([Type.Number(), Type.Null()]),
});
export type WallboardSummary = Static<typeof WallboardSummarySchema>;

export const WallboardSnapshotSchema = Type.Object({
  instanceId: Type.String(),
  instanceName: Type.String(),
  /** The server's clock when the snapshot was made: screens tick durations from it, not from their own clock. */
  serverTime: Type.Number(),
  serviceLevelSeconds: Type.Integer(),
  agents: Type.Array(WallboardAgentSchema),
  /** Agents per coarse state (every AgentBasicCode, zeros included). */
  agentCounts: Type.Record(Type.String(), Type.Integer()),
  queues: Type.Array(WallboardQueueSchema),
  calls: Type.Array(WallboardCallSchema),
  charts: Type.Object({
    /** The last 30 one-minute intervals, oldest first (the current, partial minute last). */
    perMinute: Type.Array(WallboardIntervalSchema),
    /** The last 24 five-minute intervals (two hours), oldest first. */
    perFiveMinutes: Type.Array(WallboardIntervalSchema),
  }),
  summary: Type.Object({ last30Minutes: WallboardSummarySchema, last24Hours: WallboardSummarySchema }),
});
export type WallboardSnapshot = Static<typeof WallboardSnapshotSchema>;

/** Frames of the live wallboard socket (server → client only; the server ignores what the client sends). */
export type WallboardFrame =
  | { readonly type: 'snapshot'; readonly wallboard: WallboardSnapshot }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly message: string };
