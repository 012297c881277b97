import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { AgentBarStatus } from './enums.js';
import { ERROR_CODES } from './errors.js';

/**
 * HTTP request and response schemas. The server validates every route with them and publishes them in its
 * OpenAPI document; the SDK uses the derived types.
 */

export const API_VERSION = 'v1';

const Id = (description: string) =>
  Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', description });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const PhoneNumber = Type.String({ minLength: 3, maxLength: 32, pattern: '^\\+?[0-9]+$' });

export const ErrorResponseSchema = Type.Object({
  code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  requestId: Type.Optional(Type.String()),
});

// ---------- token exchange ----------

export const TokenRequestSchema = Type.Object(
  {
    grant_type: Type.Literal('client_credentials'),
    client_id: Type.String({ minLength: 1, maxLength: 128 }),
    client_secret: Type.String({ minLength: 1, maxLength: 256 }),
    /** The agent the token acts for. Without it the token is a backend token (admin-like, one instance). */
    agent_id: Type.Optional(Id('agent id')),
    /** Lifetime wanted, seconds; capped by the server's `tokenTtlSeconds`. */
    expires_in: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
export type TokenRequest = Static<typeof TokenRequestSchema>;

export const TokenResponseSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
});
export type TokenResponse = Static<typeof TokenResponseSchema>;

// ---------- configuration entities ----------

export const InstanceSettingsSchema = Type.Object(
  {
    /** Default after-call work seconds for agents that do not set their own; 0 = until the agent acts. */
    acwSeconds: Type.Integer({ minimum: 0, maximum: 3600 }),
    /** Check-in leaves the agent ready to take calls (the guide's flow has no separate "ready" step). */
    readyOnCheckin: Type.Boolean(),
    /** Seconds an agent without any live channel stays checked in before the server checks them out. */
    channelGraceSeconds: Type.Integer({ minimum: 0, maximum: 86_400 }),
    /** Seconds an offered call rings at an agent before it moves on and the agent goes on break. */
    ringTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 600 }),
    /** Seconds a caller waits in a queue before the overflow applies. */
    queueTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
    /** Callers a queue holds; one more gets the overflow. */
    maxQueueLength: Type.Integer({ minimum: 0, maximum: 100_000 }),
    /** Seconds an outbound call rings before it ends as no-answer. */
    outboundNoAnswerSeconds: Type.Integer({ minimum: 1, maximum: 600 }),
  },
  { additionalProperties: false },
);
export type InstanceSettings = Static<typeof InstanceSettingsSchema>;

export const InstanceSchema = Type.Object({
  id: Id("instance id (the guide's InstanceId)"),
  name: Name,
  settings: InstanceSettingsSchema,
  createdAt: Type.String(),
});
export type Instance = Static<typeof InstanceSchema>;
export const CreateInstanceSchema = Type.Object(
  { id: Id('instance id'), name: Name, settings: Type.Optional(Type.Partial(InstanceSettingsSchema)) },
  { additionalProperties: false },
);
export type CreateInstance = Static<typeof CreateInstanceSchema>;
export const UpdateInstanceSchema = Type.Object(
  { name: Type.Optional(Name), settings: Type.Optional(Type.Partial(InstanceSettingsSchema)) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateInstance = Static<typeof UpdateInstanceSchema>;

export const AgentSchema = Type.Object({
  instanceId: Type.String(),
  id: Id('agent id'),
  name: Name,
  departmentId: Type.String({ maxLength: 64 }),
  skillGroupIds: Type.Array(Type.String()),
  numberGroupIds: Type.Array(Type.String()),
  /** May see full caller and callee numbers; without it numbers are masked everywhere for this agent. */
  canSeeFullNumbers: Type.Boolean(),
  /** Own after-call work seconds, or null to use the instance default. */
  acwSeconds: Type.Union([Type.Integer({ minimum: 0, maximum: 3600 }), Type.Null()]),
  enabled: Type.Boolean(),
  createdAt: Type.String(),
});
export type Agent = Static<typeof AgentSchema>;
export const CreateAgentSchema = Type.Object(
  {
    id: Id('agent id'),
    name: Name,
    departmentId: Type.Optional(Type.String({ maxLength: 64 })),
    skillGroupIds: Type.Optional(Type.Array(Id('skill group id'), { maxItems: 100, uniqueItems: true })),
    numberGroupIds: Type.Optional(Type.Array(Id('number group id'), { maxItems: 100, uniqueItems: true })),
    canSeeFullNumbers: Type.Optional(Type.Boolean()),
    acwSeconds: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 3600 }), Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateAgent = Static<typeof CreateAgentSchema>;
export const UpdateAgentSchema = Type.Object(
  {
    name: Type.Optional(Name),
    departmentId: Type.Optional(Type.String({ maxLength: 64 })),
    skillGroupIds: Type.Optional(Type.Array(Id('skill group id'), { maxItems: 100, uniqueItems: true })),
    numberGroupIds: Type.Optional(Type.Array(Id('number group id'), { maxItems: 100, uniqueItems: true })),
    canSeeFullNumbers: Type.Optional(Type.Boolean()),
    acwSeconds: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 3600 }), Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAgent = Static<typeof UpdateAgentSchema>;

/** Queue behaviour of a skill group; absent values fall back to the instance settings. */
export const QueueSettingsSchema = Type.Object(
  {
    /** Seconds a caller waits before the overflow applies (instance queueTimeoutSeconds when absent). */
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    /** Callers the queue holds; one more gets the overflow (instance maxQueueLength when absent). */
    maxLength: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    /** What happens on timeout or a full queue: hang up with a reason (default), or move to another group. */
    overflow: Type.Optional(
      Type.Union([
        Type.Object({ action: Type.Literal('hangup') }, { additionalProperties: false }),
        Type.Object(
          { action: Type.Literal('group'), skillGroupId: Type.String({ minLength: 1, maxLength: 64 }) },
          { additionalProperties: false },
        ),
      ]),
    ),
  },
  { additionalProperties: false },
);
export type QueueSettings = Static<typeof QueueSettingsSchema>;

export const SkillGroupSchema = Type.Object({
  instanceId: Type.String(),
  id: Id('skill group id'),
  name: Name,
  queue: QueueSettingsSchema,
  createdAt: Type.String(),
});
export type SkillGroup = Static<typeof SkillGroupSchema>;
export const CreateSkillGroupSchema = Type.Object(
  { id: Id('skill group id'), name: Name, queue: Type.Optional(QueueSettingsSchema) },
  { additionalProperties: false },
);
export type CreateSkillGroup = Static<typeof CreateSkillGroupSchema>;
export const UpdateSkillGroupSchema = Type.Object(
  { name: Type.Optional(Name), queue: Type.Optional(QueueSettingsSchema) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateSkillGroup = Static<typeof UpdateSkillGroupSchema>;

export const HotlineNumberSchema = Type.Object({
  instanceId: Type.String(),
  number: PhoneNumber,
  name: Name,
  /** Calls to this number enter this skill group's queue. */
  skillGroupId: Type.String(),
  createdAt: Type.String(),
});
export type HotlineNumber = Static<typeof HotlineNumberSchema>;
export const CreateHotlineNumberSchema = Type.Object(
  { number: PhoneNumber, name: Name, skillGroupId: Id('skill group id') },
  { additionalProperties: false },
);
export type CreateHotlineNumber = Static<typeof CreateHotlineNumberSchema>;
export const UpdateHotlineNumberSchema = Type.Object(
  { name: Type.Optional(Name), skillGroupId: Type.Optional(Id('skill group id')) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateHotlineNumber = Static<typeof UpdateHotlineNumberSchema>;

export const NumberGroupSchema = Type.Object({
  instanceId: Type.String(),
  id: Id('number group id'),
  name: Name,
  /** Outbound caller-ID numbers, in order; the first is the default. */
  numbers: Type.Array(PhoneNumber),
  createdAt: Type.String(),
});
export type NumberGroup = Static<typeof NumberGroupSchema>;
export const CreateNumberGroupSchema = Type.Object(
  {
    id: Id('number group id'),
    name: Name,
    numbers: Type.Array(PhoneNumber, { minItems: 1, maxItems: 1000, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type CreateNumberGroup = Static<typeof CreateNumberGroupSchema>;
export const UpdateNumberGroupSchema = Type.Object(
  {
    name: Type.Optional(Name),
    numbers: Type.Optional(Type.Array(PhoneNumber, { minItems: 1, maxItems: 1000, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateNumberGroup = Static<typeof UpdateNumberGroupSchema>;

const LocalizedLabel = Type.Object(
  { 'zh-CN': Type.String({ minLength: 1, maxLength: 100 }), en: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export const BreakReasonSchema = Type.Object({
  instanceId: Type.String(),
  code: Id('break reason code'),
  label: LocalizedLabel,
  /** Set by the server itself (for example ringing timeout); agents cannot choose it. */
  system: Type.Boolean(),
  createdAt: Type.String(),
});
export type BreakReason = Static<typeof BreakReasonSchema>;
export const CreateBreakReasonSchema = Type.Object(
  { code: Id('break reason code'), label: LocalizedLabel },
  { additionalProperties: false },
);
export type CreateBreakReason = Static<typeof CreateBreakReasonSchema>;
export const UpdateBreakReasonSchema = Type.Object({ label: LocalizedLabel }, { additionalProperties: false });
export type UpdateBreakReason = Static<typeof UpdateBreakReasonSchema>;

export const ApiClientSchema = Type.Object({
  instanceId: Type.String(),
  clientId: Type.String(),
  name: Name,
  createdAt: Type.String(),
});
export type ApiClient = Static<typeof ApiClientSchema>;
export const CreateApiClientSchema = Type.Object(
  {
    name: Name,
    /** Optional fixed credentials (for seeding and tests); generated when absent. */
    clientId: Type.Optional(Id('client id')),
    clientSecret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type CreateApiClient = Static<typeof CreateApiClientSchema>;
/** Returned once, at creation: the secret is stored hashed and cannot be read back. */
export const CreatedApiClientSchema = Type.Composite([ApiClientSchema, Type.Object({ clientSecret: Type.String() })]);
export type CreatedApiClient = Static<typeof CreatedApiClientSchema>;

export const ListOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });

// ---------- agent actions ----------

export const CheckinRequestSchema = Type.Object(
  {
    /** Skill groups to serve in this check-in; all of the agent's groups when absent. */
    skillGroupIds: Type.Optional(Type.Array(Id('skill group id'), { maxItems: 100, uniqueItems: true })),
    /** The SDK's autoChangeOnLineTime, seconds of after-call work; 0 = until the agent acts. */
    acwSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  },
  { additionalProperties: false },
);
export type CheckinRequest = Static<typeof CheckinRequestSchema>;

export const BreakRequestSchema = Type.Object(
  { reasonCode: Type.Optional(Id('break reason code')) },
  { additionalProperties: false },
);
export type BreakRequest = Static<typeof BreakRequestSchema>;

export const AgentSettingsRequestSchema = Type.Object(
  { acwSeconds: Type.Integer({ minimum: 0, maximum: 3600 }) },
  { additionalProperties: false },
);
export type AgentSettingsRequest = Static<typeof AgentSettingsRequestSchema>;

export const StateHistoryEntrySchema = Type.Object({
  at: Type.Number(),
  from: Type.Enum(AgentBarStatus),
  to: Type.Enum(AgentBarStatus),
  cmd: Type.String(),
  breakReason: Type.String(),
});
export type StateHistoryEntry = Static<typeof StateHistoryEntrySchema>;

export const HistoryQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    before: Type.Optional(Type.Number({ description: 'only entries older than this epoch ms' })),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuerySchema>;

// ---------- transfer targets (GET /v1/agent/transfer-targets) ----------

/** A colleague a call can be handed to: the agent's own instance only, never the agent itself. */
export const TransferTargetAgentSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.Enum(AgentBarStatus),
  /** The status in words, in both locales (the same words as agentBasicDesc). */
  statusDesc: Type.Object({ 'zh-CN': Type.String(), en: Type.String() }),
  /** Ready with a live channel: what a transfer or consultation to this agent needs right now. */
  available: Type.Boolean(),
});
export type TransferTargetAgent = Static<typeof TransferTargetAgentSchema>;

export const TransferTargetSkillGroupSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** Ready agents serving the group now (a transfer queues the caller when there are none). */
  readyAgents: Type.Integer({ minimum: 0 }),
  /** Callers waiting in the group's queue. */
  waiting: Type.Integer({ minimum: 0 }),
});
export type TransferTargetSkillGroup = Static<typeof TransferTargetSkillGroupSchema>;

export const TransferTargetsSchema = Type.Object({
  agents: Type.Array(TransferTargetAgentSchema),
  skillGroups: Type.Array(TransferTargetSkillGroupSchema),
});
export type TransferTargets = Static<typeof TransferTargetsSchema>;
