import {
  CALLS_PATH,
  type CallIds,
  CallIdsSchema,
  CallRecordSchema,
  CallViewSchema,
  DtmfRequestSchema,
  ErrorResponseSchema,
  ListOf,
  MuteRequestSchema,
  NumberLocationSchema,
  type OutboundCallRequest,
  OutboundCallRequestSchema,
  TransferRequestSchema,
  type TransferTarget,
} from '@openhotline/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HotlineError } from '../../../errors.js';
import type { Hotline } from '../../../hotline.js';
import { type AgentPrincipal, requireAgent, requireInstanceAdmin } from '../auth.js';

const errors = { '4xx': ErrorResponseSchema };
const ConnIdParams = Type.Object({ connId: Type.String({ minLength: 1, maxLength: 128 }) });
const Empty = Type.Object({}, { additionalProperties: false });

const QueueViewSchema = Type.Object({
  skillGroupId: Type.String(),
  waiting: Type.Array(
    Type.Object({
      connId: Type.String(),
      position: Type.Integer(),
      ani: Type.String(),
      queuedAt: Type.Number(),
      waitingMs: Type.Number(),
    }),
  ),
  longestWaitMs: Type.Number(),
  readyAgents: Type.Integer(),
});

/**
 * Call control for agents (each action on a call the agent is on, and only that), plus the business backend's
 * and the operator's side: placing a call on an agent's behalf, virtual callers for demos and tests, queues.
 */
export async function callRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  await app.register(async (scope) => agentCallRoutes(scope, hotline));
  await app.register(async (scope) => adminCallRoutes(scope, hotline));
}

async function agentCallRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  const { calls } = hotline;
  const principals = new WeakMap<FastifyRequest, AgentPrincipal>();
  app.addHook('onRequest', async (request) => {
    principals.set(request, await requireAgent(request, hotline.tokens));
  });
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body === undefined) request.body = {};
  });
  const who = (request: FastifyRequest) => {
    const principal = principals.get(request);
    if (!principal) throw new HotlineError('Unauthorized');
    return principal;
  };
  const tags = ['calls'];
  const single = { 200: CallViewSchema, ...errors };

  app.get(
    CALLS_PATH,
    { schema: { tags, summary: "The agent's current calls", response: { 200: ListOf(CallViewSchema), ...errors } } },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return { items: calls.callsOf(instanceId, agentId) };
    },
  );

  app.post(
    `${CALLS_PATH}/outbound`,
    {
      schema: {
        tags,
        summary: "Call a number (the guide's doCallOut); the caller id comes from the agent's number groups",
        body: OutboundCallRequestSchema,
        response: single,
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return calls.dialOut(instanceId, agentId, request.body as OutboundCallRequest);
    },
  );

  app.post(
    `${CALLS_PATH}/internal`,
    {
      schema: {
        tags,
        summary: 'Call another agent of the instance',
        body: Type.Object({ agentId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: single,
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return calls.callAgent(instanceId, agentId, (request.body as { agentId: string }).agentId);
    },
  );

  type Handler = (instanceId: string, agentId: string, connId: string, body: unknown) => unknown;
  const action = (path: string, summary: string, body: object, handler: Handler) =>
    app.post(
      `${CALLS_PATH}/:connId/${path}`,
      { schema: { tags, summary, params: ConnIdParams, body, response: single } },
      async (request) => {
        const { instanceId, agentId } = who(request);
        return handler(instanceId, agentId, (request.params as { connId: string }).connId, request.body);
      },
    );

  action('answer', "Answer a ringing call (the guide's callAnswer)", CallIdsSchema, (i, a, c, body) =>
    calls.answer(i, a, c, body as CallIds),
  );
  action(
    'hangup',
    "Hang up, reject a ringing call, or cancel a dial-out (the guide's callHangup)",
    CallIdsSchema,
    (i, a, c, body) => calls.hangup(i, a, c, body as CallIds),
  );
  action('hold', 'Put the customer on hold', Empty, (i, a, c) => calls.hold(i, a, c));
  action('retrieve', 'Take the customer back from hold', Empty, (i, a, c) => calls.retrieve(i, a, c));
  action('mute', "Mute or unmute the agent's audio", MuteRequestSchema, (i, a, c, body) =>
    calls.mute(i, a, c, (body as { muted: boolean }).muted),
  );
  action('dtmf', 'Send DTMF digits to the far end', DtmfRequestSchema, (i, a, c, body) =>
    calls.dtmf(i, a, c, (body as { digits: string }).digits),
  );
  action('transfer', 'Blind transfer to an agent, a skill group or a number', TransferRequestSchema, (i, a, c, body) =>
    calls.transfer(i, a, c, (body as { target: TransferTarget }).target),
  );
  action(
    'consult',
    'Attended transfer, step 1: consult an agent, a skill group or a number',
    TransferRequestSchema,
    (i, a, c, body) => calls.consult(i, a, c, (body as { target: TransferTarget }).target),
  );
  action('consult/complete', 'Attended transfer, step 2: hand the customer to the consulted party', Empty, (i, a, c) =>
    calls.consultComplete(i, a, c),
  );
  action('consult/cancel', 'Drop the consulted party and take the customer back', Empty, (i, a, c) =>
    calls.consultCancel(i, a, c),
  );
  action('conference', 'Join customer, agent and consulted party in a three-way conference', Empty, (i, a, c) =>
    calls.conference(i, a, c),
  );

  app.get(
    '/v1/agent/number-location',
    {
      schema: {
        tags,
        summary:
          'Where a phone number is from (归属地): province, city, carrier; known: false when the data has no entry',
        querystring: Type.Object(
          { number: Type.String({ minLength: 3, maxLength: 32, pattern: '^[0-9+()\\-. ]+$' }) },
          { additionalProperties: false },
        ),
        response: { 200: NumberLocationSchema, ...errors },
      },
    },
    async (request) => hotline.locator.locate((request.query as { number: string }).number),
  );

  app.get(
    '/v1/agent/queues',
    {
      schema: {
        tags,
        summary: "The queues of the agent's skill groups: waiting callers and how long they wait",
        response: { 200: ListOf(QueueViewSchema), ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      const agent = hotline.directory.getAgent(instanceId, agentId);
      return {
        items: calls.queues(instanceId, {
          canSeeFullNumbers: agent.canSeeFullNumbers,
          skillGroupIds: agent.skillGroupIds,
        }),
      };
    },
  );
}

const VirtualCallSchema = Type.Object(
  {
    from: Type.String({ minLength: 3, maxLength: 32, pattern: '^\\+?[0-9]+$' }),
    to: Type.String({ minLength: 3, maxLength: 32, pattern: '^\\+?[0-9]+$' }),
    /** The caller hangs up this long after being answered. */
    hangupAfterSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
    /** The caller gives up this long after calling if nobody answered. */
    abandonAfterSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
  },
  { additionalProperties: false },
);

const GeneratorSchema = Type.Object(
  {
    to: Type.String({ minLength: 3, maxLength: 32, pattern: '^\\+?[0-9]+$' }),
    /** New callers per minute. */
    ratePerMinute: Type.Number({ minimum: 0.1, maximum: 60_000 }),
    /** Stop after this many callers (default: until stopped). */
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    hangupAfterSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
    abandonAfterSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
  },
  { additionalProperties: false },
);

async function adminCallRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  const { calls, virtualCallers } = hotline;
  app.addHook('onRequest', async (request) => {
    const { instanceId } = (request.params ?? {}) as { instanceId?: string };
    await requireInstanceAdmin(request, hotline.tokens, instanceId);
  });
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body === undefined) request.body = {};
  });
  const tags = ['calls-admin'];
  const InstanceParams = Type.Object({ instanceId: Type.String({ minLength: 1, maxLength: 64 }) });
  const base = '/v1/admin/instances/:instanceId';

  app.post(
    `${base}/agents/:agentId/callout`,
    {
      schema: {
        tags,
        summary: "Place an outbound call on an agent's behalf (the agent's channel shows it as if the agent dialed)",
        params: Type.Object({ instanceId: Type.String({ maxLength: 64 }), agentId: Type.String({ maxLength: 64 }) }),
        body: OutboundCallRequestSchema,
        response: { 200: CallViewSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = request.params as { instanceId: string; agentId: string };
      hotline.directory.getAgent(instanceId, agentId);
      return calls.dialOut(instanceId, agentId, request.body as OutboundCallRequest);
    },
  );

  app.post(
    `${base}/virtual-calls`,
    {
      schema: {
        tags,
        summary: 'A virtual customer calls a hotline number (the virtual carrier, for demos and tests)',
        params: InstanceParams,
        body: VirtualCallSchema,
        response: { 201: Type.Object({ connId: Type.String() }), ...errors },
      },
    },
    async (request, reply) => {
      const { instanceId } = request.params as { instanceId: string };
      hotline.directory.getHotlineNumber(instanceId, (request.body as { to: string }).to);
      const connId = virtualCallers.place(request.body as Parameters<typeof virtualCallers.place>[0]);
      return reply.status(201).send({ connId });
    },
  );

  app.post(
    `${base}/virtual-calls/:connId/hangup`,
    {
      schema: {
        tags,
        summary: 'The virtual customer of a call hangs up',
        params: Type.Object({ instanceId: Type.String({ maxLength: 64 }), connId: Type.String({ maxLength: 128 }) }),
        body: Empty,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { instanceId, connId } = request.params as { instanceId: string; connId: string };
      if (!virtualCallers.hangUp(instanceId, connId))
        throw new HotlineError('CallNotFound', `No virtual call "${connId}".`);
      return reply.status(204).send();
    },
  );

  app.post(
    `${base}/virtual-calls/:connId/dtmf`,
    {
      schema: {
        tags,
        summary: 'The virtual customer presses digits',
        params: Type.Object({ instanceId: Type.String({ maxLength: 64 }), connId: Type.String({ maxLength: 128 }) }),
        body: DtmfRequestSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { instanceId, connId } = request.params as { instanceId: string; connId: string };
      if (!virtualCallers.press(instanceId, connId, (request.body as { digits: string }).digits)) {
        throw new HotlineError('CallNotFound', `No virtual call "${connId}".`);
      }
      return reply.status(204).send();
    },
  );

  app.put(
    `${base}/virtual-calls/generator`,
    {
      schema: {
        tags,
        summary: 'Keep placing virtual callers at a rate (demos and load tests); replaces a running generator',
        params: InstanceParams,
        body: GeneratorSchema,
        response: { 200: Type.Object({ running: Type.Boolean(), placed: Type.Integer() }), ...errors },
      },
    },
    async (request) => {
      const { instanceId } = request.params as { instanceId: string };
      const body = request.body as Parameters<typeof virtualCallers.startGenerator>[1];
      hotline.directory.getHotlineNumber(instanceId, body.to);
      return virtualCallers.startGenerator(instanceId, body);
    },
  );

  app.delete(
    `${base}/virtual-calls/generator`,
    {
      schema: {
        tags,
        summary: 'Stop the virtual caller generator',
        params: InstanceParams,
        response: { 200: Type.Object({ running: Type.Boolean(), placed: Type.Integer() }), ...errors },
      },
    },
    async (request) => virtualCallers.stopGenerator((request.params as { instanceId: string }).instanceId),
  );

  app.get(
    `${base}/queues`,
    {
      schema: {
        tags,
        summary: 'Queues: waiting callers in order, their waiting time, ready agents',
        params: InstanceParams,
        response: { 200: ListOf(QueueViewSchema), ...errors },
      },
    },
    async (request) => {
      const { instanceId } = request.params as { instanceId: string };
      hotline.directory.getInstance(instanceId);
      return { items: calls.queues(instanceId, { canSeeFullNumbers: true }) };
    },
  );

  app.get(
    `${base}/calls`,
    {
      schema: {
        tags,
        summary: 'Calls in progress',
        params: InstanceParams,
        response: { 200: ListOf(CallRecordSchema), ...errors },
      },
    },
    async (request) => {
      const { instanceId } = request.params as { instanceId: string };
      hotline.directory.getInstance(instanceId);
      return { items: calls.liveCalls(instanceId) };
    },
  );
}
