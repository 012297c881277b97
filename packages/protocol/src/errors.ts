/**
 * The one catalogue of error codes. Every HTTP error body and every WS `error` frame carries one of these codes.
 * Codes are stable: once published a code is never renamed or reused for another meaning. A retired code stays
 * here with `retired: true`. `docs/errors.md` is generated from this table and a test keeps the two in sync.
 */
export interface ErrorSpec {
  /** HTTP status of a response carrying this code (WS frames carry the code alone). */
  readonly status: number;
  /** What happened, in plain English; the server may append specifics. */
  readonly message: string;
  /** What the caller can do about it. */
  readonly remedy: string;
  readonly retired?: true;
}

export const ERROR_CATALOGUE = {
  // 400 — the request itself is wrong
  InvalidJson: {
    status: 400,
    message: 'The body is not valid JSON.',
    remedy: 'Send a well-formed JSON document with Content-Type: application/json.',
  },
  ValidationFailed: {
    status: 400,
    message: 'The request does not match the schema of this route or message.',
    remedy: 'Read `details` for the offending field and fix its type or value.',
  },
  UnsupportedMediaType: {
    status: 415,
    message: 'The body has a content type this route does not accept.',
    remedy: 'Send application/json (or application/x-www-form-urlencoded for /oauth2/token).',
  },
  PayloadTooLarge: {
    status: 413,
    message: 'The body or message is larger than the server accepts.',
    remedy: 'Send a smaller body; the limit is in the server configuration (`maxBodyBytes`).',
  },
  MalformedRequest: {
    status: 400,
    message: 'The HTTP request could not be parsed (bad URL encoding, unknown method or broken framing).',
    remedy: 'Send a well-formed HTTP/1.1 request with a standard method and a correctly percent-encoded URL.',
  },
  HeadersTooLarge: {
    status: 431,
    message: 'The request headers are larger than the server accepts.',
    remedy: 'Send fewer or smaller headers (the limit is 16 KiB).',
  },
  RangeNotSatisfiable: {
    status: 416,
    message: 'The Range header asks for bytes the file does not have.',
    remedy: 'Ask for a range that starts before the end of the file (its size is in `Content-Range: bytes */SIZE`).',
  },
  UpgradeRequired: {
    status: 426,
    message: 'This path is a WebSocket endpoint.',
    remedy: 'Open it with a WebSocket client (Upgrade: websocket).',
  },
  UnsupportedGrantType: {
    status: 400,
    message: 'Only the client_credentials grant is supported.',
    remedy: 'Send grant_type=client_credentials.',
  },
  UnknownBreakReason: {
    status: 400,
    message: 'The break reason code is not configured for this instance.',
    remedy: 'Use one of the codes listed by GET /v1/agent/me (breakReasons).',
  },
  UnknownSkillGroup: {
    status: 400,
    message: 'A skill group named in the request does not exist or the agent is not a member.',
    remedy: 'Check in with the ids of skill groups the agent belongs to, or with none to serve all of them.',
  },
  UnknownMessageType: {
    status: 400,
    message: 'The WebSocket message type is not one this channel understands.',
    remedy: 'Send one of the client message types of the protocol (ping, resume).',
  },
  // 401 — who are you?
  Unauthorized: {
    status: 401,
    message: 'The request carries no valid credentials.',
    remedy: 'Send `Authorization: Bearer <access_token>` obtained from POST /oauth2/token.',
  },
  TokenExpired: {
    status: 401,
    message: 'The access token has expired.',
    remedy: 'Exchange a new token with POST /oauth2/token and retry (the SDK: setConfig({ BearerToken })).',
  },
  InvalidClient: {
    status: 401,
    message: 'The client id or client secret is wrong.',
    remedy: 'Check the API client credentials of the instance (openhotline client list).',
  },
  // 403 — you may not
  Forbidden: {
    status: 403,
    message: 'These credentials do not allow this action.',
    remedy: 'Use an agent token for agent routes and the admin key for admin routes.',
  },
  InstanceMismatch: {
    status: 403,
    message: 'The InstanceId of the request is not the instance the token was issued for.',
    remedy: 'Configure the SDK with the InstanceId the token belongs to.',
  },
  AgentDisabled: {
    status: 403,
    message: 'The agent is disabled.',
    remedy: 'Enable the agent (openhotline agent update --enabled true) or use another one.',
  },
  // 404 — no such thing
  RouteNotFound: {
    status: 404,
    message: 'There is no route for this method and path.',
    remedy: 'See /openapi.json for the routes of this server.',
  },
  InstanceNotFound: {
    status: 404,
    message: 'No such instance.',
    remedy: 'List instances with GET /v1/admin/instances.',
  },
  AgentNotFound: {
    status: 404,
    message: 'No such agent in this instance.',
    remedy: 'List the agents of the instance.',
  },
  SkillGroupNotFound: {
    status: 404,
    message: 'No such skill group in this instance.',
    remedy: 'List the skill groups of the instance.',
  },
  HotlineNumberNotFound: {
    status: 404,
    message: 'No such hotline number in this instance.',
    remedy: 'List the hotline numbers of the instance.',
  },
  NumberGroupNotFound: {
    status: 404,
    message: 'No such caller-ID number group in this instance.',
    remedy: 'List the number groups of the instance.',
  },
  BreakReasonNotFound: {
    status: 404,
    message: 'No such break reason in this instance.',
    remedy: 'List the break reasons of the instance.',
  },
  CallNotFound: {
    status: 404,
    message: 'No such call, or not one this agent is on.',
    remedy: 'Use the connId of a call delivered to this agent (AgentRinging, AgentCallDialOut, GET /v1/agent/calls).',
  },
  CallRecordNotFound: {
    status: 404,
    message: 'No such call record.',
    remedy: 'List the records with GET /v1/admin/instances/{instanceId}/records.',
  },
  RecordingNotFound: {
    status: 404,
    message: 'No such finished recording of this call, or not one this reader may download.',
    remedy:
      'Use a `recordings[].url` of the call record as read with the same credentials; a recording is listed once the call (or its segment) ended.',
  },
  ApiClientNotFound: {
    status: 404,
    message: 'No such API client in this instance.',
    remedy: 'List the API clients of the instance.',
  },
  // 405 / 409 — not now, not like this
  MethodNotAllowed: {
    status: 405,
    message: 'This method is not allowed on this path.',
    remedy: 'See /openapi.json for the methods of this path.',
  },
  AlreadyExists: {
    status: 409,
    message: 'Something with this id already exists.',
    remedy: 'Pick another id, or update the existing one.',
  },
  InUse: {
    status: 409,
    message: 'It is still referenced and cannot be removed.',
    remedy: 'Remove the references first (the message names them).',
  },
  IllegalTransition: {
    status: 409,
    message: 'The agent cannot do this in its current status.',
    remedy: 'Read `details.from` (the current status) and `details.allowedFrom`; see docs/agent-states.md.',
  },
  IllegalCallAction: {
    status: 409,
    message: 'The call cannot do this in its current state.',
    remedy: 'Read `details.state` (the call state) and `details.action`; for example retrieve only a held call.',
  },
  CallIdsMismatch: {
    status: 409,
    message: 'jobId, acid or aid do not belong to this call.',
    remedy: 'Pass the ids of the AgentRinging or AgentCallDialOut event of this call, or only the connId.',
  },
  TargetUnavailable: {
    status: 409,
    message: 'The transfer, consultation or internal-call target cannot take a call now.',
    remedy: 'Pick a ready agent or a skill group with ready agents, or try again later.',
  },
  InvalidNumber: {
    status: 400,
    message: 'The number is not a dialable phone number.',
    remedy: 'Send digits only, optionally with a leading +, 3 to 32 characters.',
  },
  CallerIdNotAllowed: {
    status: 403,
    message: "The caller id is not in the agent's outbound number groups.",
    remedy: 'Use a number listed in numberGroups of GET /v1/agent/me, or leave calloutNumber out.',
  },
  NoCallerId: {
    status: 409,
    message: 'The agent has no outbound caller-ID number group.',
    remedy: 'Give the agent a number group (openhotline agent update --number-groups ...).',
  },
  // 429 / 5xx
  TooManyConnections: {
    status: 429,
    message: 'This agent already has the maximum number of live channels open.',
    remedy: 'Close another tab, or raise `maxChannelsPerAgent`.',
  },
  WebCallLimit: {
    status: 429,
    message: 'The server takes no more web calls right now (too many in progress, overall or from this address).',
    remedy: 'Try again when a call has ended; operators raise `webcall.maxConcurrent` or `webcall.maxPerAddress`.',
  },
  InternalError: {
    status: 500,
    message: 'The server failed unexpectedly; nothing was changed.',
    remedy: 'Retry; if it persists, report it with the request id from the response.',
  },
  ServiceUnavailable: {
    status: 503,
    message: 'The server is starting or shutting down.',
    remedy: 'Retry in a few seconds.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** The body of every HTTP error response and the payload of every WS `error` frame. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  /** Machine-readable specifics, for example the failing field or the agent's current status. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The request id, to find the server's log line. */
  readonly requestId?: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

/** WebSocket close codes of the live channel (4000–4999 is the application range of RFC 6455). */
export enum ChannelCloseCode {
  /** Authentication failed; the reason text is an ErrorCode (Unauthorized, TokenExpired, ...). */
  AuthFailed = 4001,
  /** The agent has more channels than allowed; this one, the oldest, was closed. */
  ConnectionLimit = 4009,
  /** The peer missed its heartbeats. */
  HeartbeatTimeout = 4010,
  /** The agent was removed or disabled by an administrator. */
  AgentRemoved = 4011,
  /** The server is shutting down; reconnect later. */
  ServerShutdown = 4012,
  /** The client sent a frame larger than `maxFrameBytes`. */
  MessageTooLarge = 1009,
}
