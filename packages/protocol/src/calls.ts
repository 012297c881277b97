import { type Static, Type } from '@sinclair/typebox';

/**
 * Call control over HTTP. Every route acts for the agent of the bearer token, on a call that agent is on; a
 * call id of another agent's call is answered exactly like an unknown one (CallNotFound), so ids cannot be probed.
 * The ids are the guide's: `connId` names the call; `jobId`, `acid` and `aid` (as delivered in the AgentRinging
 * event) may be sent along and must then match.
 */
export const CALLS_PATH = '/v1/agent/calls';

export const FromSourceSchema = Type.Union([
  Type.Literal('hotlinebs_out'),
  Type.Literal('ticket_out'),
  Type.Literal('other_system_out'),
]);
export type FromSource = Static<typeof FromSourceSchema>;

const Digits = Type.String({ minLength: 1, maxLength: 32, pattern: '^\\+?[0-9]+$' });

/** The guide's doCallOut `param`, plus the number. */
export const OutboundCallRequestSchema = Type.Object(
  {
    number: Digits,
    /** Caller id: must be in one of the agent's number groups; the first number of the first group when absent. */
    calloutNumber: Type.Optional(Digits),
    memberId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Number()])),
    memberName: Type.Optional(Type.String({ maxLength: 200 })),
    fromSource: Type.Optional(FromSourceSchema),
    taskId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Number()])),
    channelId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Number()])),
    caseId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Number()])),
  },
  { additionalProperties: false },
);
export type OutboundCallRequest = Static<typeof OutboundCallRequestSchema>;

/** The guide's (connId, jobId, acid, aid) quadruple; connId travels in the path. */
export const CallIdsSchema = Type.Object(
  {
    jobId: Type.Optional(Type.String({ maxLength: 128 })),
    acid: Type.Optional(Type.String({ maxLength: 128 })),
    aid: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type CallIds = Static<typeof CallIdsSchema>;

export const TransferTargetSchema = Type.Union([
  Type.Object(
    { type: Type.Literal('agent'), agentId: Type.String({ minLength: 1, maxLength: 64 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('skillGroup'), skillGroupId: Type.String({ minLength: 1, maxLength: 64 }) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('number'), number: Digits }, { additionalProperties: false }),
]);
export type TransferTarget = Static<typeof TransferTargetSchema>;

export const MuteRequestSchema = Type.Object({ muted: Type.Boolean() }, { additionalProperties: false });
export const DtmfRequestSchema = Type.Object(
  { digits: Type.String({ minLength: 1, maxLength: 32, pattern: '^[0-9*#A-Da-d]+$' }) },
  { additionalProperties: false },
);
export const TransferRequestSchema = Type.Object({ target: TransferTargetSchema }, { additionalProperties: false });

export const NumberLocationSchema = Type.Object({
  /** '' when unknown: unknown segments say so, they do not guess. */
  province: Type.String(),
  city: Type.String(),
  carrier: Type.String(),
  known: Type.Boolean(),
});
export type NumberLocation = Static<typeof NumberLocationSchema>;

export const CallViewSchema = Type.Object({
  connId: Type.String(),
  jobId: Type.String(),
  acid: Type.String(),
  aid: Type.String(),
  holdConnId: Type.String(),
  subSessionId: Type.String(),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('internal')]),
  state: Type.Union([
    Type.Literal('queued'),
    Type.Literal('ringing'),
    Type.Literal('dialing'),
    Type.Literal('talking'),
    Type.Literal('held'),
    Type.Literal('consulting'),
    Type.Literal('conference'),
    Type.Literal('ended'),
  ]),
  /** Caller and callee numbers, masked unless the agent may see them. */
  ani: Type.String(),
  dnis: Type.String(),
  muted: Type.Boolean(),
  startedAt: Type.Number(),
  answeredAt: Type.Union([Type.Number(), Type.Null()]),
  endedAt: Type.Union([Type.Number(), Type.Null()]),
  location: Type.Union([NumberLocationSchema, Type.Null()]),
  memberId: Type.String(),
  memberName: Type.String(),
  fromSource: Type.String(),
  taskId: Type.String(),
  channelId: Type.String(),
  caseId: Type.String(),
});
export type CallView = Static<typeof CallViewSchema>;

/**
 * The routes, relative to CALLS_PATH:
 * - `POST /outbound` (OutboundCallRequest) → CallView                       the guide's doCallOut
 * - `GET /` → { items: CallView[] }                                         the agent's current calls
 * - `POST /{connId}/answer` (CallIds) → CallView                             the guide's callAnswer
 * - `POST /{connId}/hangup` (CallIds) → CallView                             the guide's callHangup
 * - `POST /{connId}/hold`, `/retrieve` → CallView
 * - `POST /{connId}/mute` (MuteRequest) → CallView
 * - `POST /{connId}/dtmf` (DtmfRequest) → CallView
 * - `POST /{connId}/transfer` (TransferRequest) → CallView                   blind transfer
 * - `POST /{connId}/consult` (TransferRequest) → CallView                    attended transfer, step 1
 * - `POST /{connId}/consult/complete`, `/consult/cancel`, `/conference` → CallView
 * - `POST /internal` ({ agentId }) → CallView                                 call another agent
 */
export const CALL_ACTIONS = [
  'answer',
  'hangup',
  'hold',
  'retrieve',
  'mute',
  'dtmf',
  'transfer',
  'consult',
  'consult/complete',
  'consult/cancel',
  'conference',
] as const;
export type CallAction = (typeof CALL_ACTIONS)[number];

// ---------- call records (CDR) ----------

export const CallDispositionSchema = Type.Union([
  /** Talked with an agent (or the callee answered). */
  Type.Literal('answered'),
  /** The caller hung up while queued or ringing. */
  Type.Literal('abandoned'),
  /** Queue timeout or full queue with hang-up overflow. */
  Type.Literal('queue-timeout'),
  Type.Literal('queue-full'),
  /** Outbound outcomes. */
  Type.Literal('busy'),
  Type.Literal('no-answer'),
  Type.Literal('rejected'),
  Type.Literal('invalid-number'),
  /** The agent hung up an outbound call before the callee answered. */
  Type.Literal('cancelled'),
  /** Ended by a blind transfer to an external number that did not answer, etc. */
  Type.Literal('failed'),
  /** The server stopped while the call was up; closed at the next start. */
  Type.Literal('interrupted'),
]);
export type CallDisposition = Static<typeof CallDispositionSchema>;

export const CallLegRecordSchema = Type.Object({
  legId: Type.String(),
  role: Type.Union([Type.Literal('customer'), Type.Literal('agent'), Type.Literal('third')]),
  /** Agent id for agent legs, the number for others (masked per reader). */
  party: Type.String(),
  kind: Type.Union([Type.Literal('virtual'), Type.Literal('webrtc'), Type.Literal('sip'), Type.Literal('agent')]),
  joinedAt: Type.Number(),
  leftAt: Type.Union([Type.Number(), Type.Null()]),
});
export type CallLegRecord = Static<typeof CallLegRecordSchema>;

export const CallRecordEventSchema = Type.Object({
  at: Type.Number(),
  /** offered, queued, ringing, ring-timeout, answered, held, retrieved, muted, unmuted, dtmf, transferred,
   * consult-started, consult-answered, consult-cancelled, conference, overflow, ended, ... */
  type: Type.String(),
  agentId: Type.String(),
  detail: Type.String(),
});
export type CallRecordEvent = Static<typeof CallRecordEventSchema>;

/**
 * One recorded segment of a call: a stretch in which the customer talked with an agent (docs/media.md,
 * "Recording"). A 2-channel WAV: left = that agent, right = the customer.
 */
export const CallRecordingSchema = Type.Object({
  id: Type.String(),
  /** The download route of this recording for the reader who got the record (same credentials). */
  url: Type.String(),
  /** 1, 2, ... in the order the segments started. */
  segment: Type.Integer({ minimum: 1 }),
  /** The agent on the left channel. */
  agentId: Type.String(),
  startedAt: Type.Number(),
  durationMs: Type.Number(),
  /** Size of the WAV file. */
  bytes: Type.Number(),
  /** The server stopped while this segment was written: the file ends where the server stopped. */
  interrupted: Type.Boolean(),
});
export type CallRecording = Static<typeof CallRecordingSchema>;

export const CallRecordSchema = Type.Object({
  connId: Type.String(),
  instanceId: Type.String(),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('internal')]),
  /** Caller and callee (masked per reader). */
  ani: Type.String(),
  dnis: Type.String(),
  /** Caller id used on an outbound call. */
  callerIdUsed: Type.String(),
  skillGroupId: Type.String(),
  /** The agent who handled the call last ('' if none answered). */
  agentId: Type.String(),
  /** Every agent who was offered or handled the call. */
  agentIds: Type.Array(Type.String()),
  disposition: Type.Union([CallDispositionSchema, Type.Literal('active')]),
  releasedBy: Type.Union([
    Type.Literal(''),
    Type.Literal('agent'),
    Type.Literal('customer'),
    Type.Literal('third'),
    Type.Literal('system'),
  ]),
  releaseReason: Type.String(),
  offeredAt: Type.Number(),
  queuedAt: Type.Union([Type.Number(), Type.Null()]),
  ringingAt: Type.Union([Type.Number(), Type.Null()]),
  answeredAt: Type.Union([Type.Number(), Type.Null()]),
  endedAt: Type.Union([Type.Number(), Type.Null()]),
  /** Business fields of doCallOut. */
  memberId: Type.String(),
  memberName: Type.String(),
  fromSource: Type.String(),
  taskId: Type.String(),
  channelId: Type.String(),
  caseId: Type.String(),
  legs: Type.Array(CallLegRecordSchema),
  events: Type.Array(CallRecordEventSchema),
  /** Download route of the call's first recording (`recordings[0].url`), or null when nothing was recorded. */
  recordingUrl: Type.Union([Type.String(), Type.Null()]),
  /** The finished recordings of the call this reader may download, in segment order; absent when there is none. */
  recordings: Type.Optional(Type.Array(CallRecordingSchema)),
});
export type CallRecord = Static<typeof CallRecordSchema>;

export const CallRecordQuerySchema = Type.Object(
  {
    agentId: Type.Optional(Type.String({ maxLength: 64 })),
    skillGroupId: Type.Optional(Type.String({ maxLength: 64 })),
    direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('internal')])),
    disposition: Type.Optional(Type.Union([CallDispositionSchema, Type.Literal('active')])),
    /** Epoch ms, inclusive, on offeredAt. */
    from: Type.Optional(Type.Number({ minimum: 0 })),
    /** Epoch ms, exclusive, on offeredAt. */
    to: Type.Optional(Type.Number({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    /** Opaque cursor from the previous page's `nextCursor`. */
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type CallRecordQuery = Static<typeof CallRecordQuerySchema>;

export const CallRecordPageSchema = Type.Object({
  items: Type.Array(CallRecordSchema),
  /** Pass as `cursor` for the next page; null on the last page. Newest first. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type CallRecordPage = Static<typeof CallRecordPageSchema>;
