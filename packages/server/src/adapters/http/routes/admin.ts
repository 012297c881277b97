import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AgentSchema,
  AgentSnapshotSchema,
  ApiClientSchema,
  BreakReasonSchema,
  CreateAgentSchema,
  CreateApiClientSchema,
  CreateBreakReasonSchema,
  CreatedApiClientSchema,
  CreateHotlineNumberSchema,
  CreateInstanceSchema,
  CreateNumberGroupSchema,
  CreateSkillGroupSchema,
  ErrorResponseSchema,
  HistoryQuerySchema,
  HotlineNumberSchema,
  InstanceSchema,
  ListOf,
  NumberGroupSchema,
  SkillGroupSchema,
  StateHistoryEntrySchema,
  UpdateAgentSchema,
  UpdateBreakReasonSchema,
  UpdateHotlineNumberSchema,
  UpdateInstanceSchema,
  UpdateNumberGroupSchema,
  UpdateSkillGroupSchema,
} from '@openhotline/protocol';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Hotline } from '../../../hotline.js';
import { requireInstanceAdmin } from '../auth.js';

const PREFIX = '/v1/admin/instances';
const tags = ['admin'];
const errors = { '4xx': ErrorResponseSchema };
const PathId = Type.String({ minLength: 1, maxLength: 64 });
const InstanceParams = Type.Object({ instanceId: PathId });
const NoContent = Type.Null({ description: 'Removed; the response has no body.' });
const EmptyBody = Type.Object({}, { additionalProperties: false });

/**
 * A configuration resource inside an instance, served as list / create / get / update / remove. The directory
 * service does the checking (instance exists, references resolve, ids are free), so the routes only translate.
 */
interface InstanceResource<E extends TSchema, C extends TSchema, U extends TSchema> {
  /** Path segment under the instance, e.g. `skill-groups`. */
  readonly segment: string;
  /** Path parameter naming one item, e.g. `skillGroupId`. */
  readonly key: string;
  readonly noun: string;
  readonly schema: E;
  readonly createSchema: C;
  readonly updateSchema: U;
  list(instanceId: string): Static<E>[];
  get(instanceId: string, id: string): Static<E>;
  create(instanceId: string, input: Static<C>): Static<E>;
  update(instanceId: string, id: string, patch: Static<U>): Static<E>;
  remove(instanceId: string, id: string): void;
}

/** Route parameters have passed their schema by the time a handler runs, so a missing one is a wiring bug. */
function param(request: FastifyRequest, name: string): string {
  const value = (request.params as Record<string, unknown>)[name];
  if (typeof value !== 'string') throw new Error(`route without path parameter "${name}"`);
  return value;
}

function instanceIdOf(request: FastifyRequest): string | undefined {
  const params = request.params;
  if (typeof params !== 'object' || params === null || !('instanceId' in params)) return undefined;
  return typeof params.instanceId === 'string' ? params.instanceId : undefined;
}

function registerResource<E extends TSchema, C extends TSchema, U extends TSchema>(
  app: FastifyInstance,
  resource: InstanceResource<E, C, U>,
): void {
  const { segment, key, noun } = resource;
  const collection = `${PREFIX}/:instanceId/${segment}`;
  const item = `${collection}/:${key}`;
  const ItemParams = Type.Object({ instanceId: PathId, [key]: PathId });

  app.get(
    collection,
    {
      schema: {
        tags,
        summary: `List the ${noun}s of an instance`,
        params: InstanceParams,
        response: { 200: ListOf(resource.schema), ...errors },
      },
    },
    async (request) => ({ items: resource.list(param(request, 'instanceId')) }),
  );

  app.post(
    collection,
    {
      schema: {
        tags,
        summary: `Create a ${noun}`,
        params: InstanceParams,
        body: resource.createSchema,
        response: { 201: resource.schema, ...errors },
      },
    },
    async (request, reply) => {
      const created = resource.create(param(request, 'instanceId'), request.body as Static<C>);
      return reply.code(201).send(created);
    },
  );

  app.get(
    item,
    {
      schema: {
        tags,
        summary: `Get a ${noun}`,
        params: ItemParams,
        response: { 200: resource.schema, ...errors },
      },
    },
    async (request) => resource.get(param(request, 'instanceId'), param(request, key)),
  );

  app.patch(
    item,
    {
      schema: {
        tags,
        summary: `Change a ${noun}; fields left out keep their value`,
        params: ItemParams,
        body: resource.updateSchema,
        response: { 200: resource.schema, ...errors },
      },
    },
    async (request) => resource.update(param(request, 'instanceId'), param(request, key), request.body as Static<U>),
  );

  app.delete(
    item,
    {
      schema: {
        tags,
        summary: `Remove a ${noun}`,
        params: ItemParams,
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      resource.remove(param(request, 'instanceId'), param(request, key));
      return reply.code(204).send(null);
    },
  );
}

/**
 * The admin API: instances and everything configured inside them. The admin key may do everything; a backend
 * token (client credentials without an agent) may manage its own instance only, so a business system can
 * provision its agents without holding the server-wide key.
 */
export async function adminRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  const { directory, agents } = hotline;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  // onRequest runs before the body is parsed: strangers learn nothing about the routes' schemas.
  app.addHook('onRequest', async (request) => {
    await requireInstanceAdmin(request, hotline.tokens, instanceIdOf(request));
  });

  // ---------- instances ----------
  api.get(
    PREFIX,
    {
      schema: {
        tags,
        summary: 'List instances (admin key only)',
        response: { 200: ListOf(InstanceSchema), ...errors },
      },
    },
    async () => ({ items: directory.listInstances() }),
  );

  api.post(
    PREFIX,
    {
      schema: {
        tags,
        summary: 'Create an instance (admin key only); unset settings take the server defaults',
        body: CreateInstanceSchema,
        response: { 201: InstanceSchema, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(directory.createInstance(request.body)),
  );

  api.get(
    `${PREFIX}/:instanceId`,
    {
      schema: {
        tags,
        summary: 'Get an instance',
        params: InstanceParams,
        response: { 200: InstanceSchema, ...errors },
      },
    },
    async (request) => directory.getInstance(request.params.instanceId),
  );

  api.patch(
    `${PREFIX}/:instanceId`,
    {
      schema: {
        tags,
        summary: 'Change an instance; settings are merged into the current ones',
        params: InstanceParams,
        body: UpdateInstanceSchema,
        response: { 200: InstanceSchema, ...errors },
      },
    },
    async (request) => directory.updateInstance(request.params.instanceId, request.body),
  );

  api.delete(
    `${PREFIX}/:instanceId`,
    {
      schema: {
        tags,
        summary: 'Remove an instance and everything in it; its agents are checked out first',
        params: InstanceParams,
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      directory.removeInstance(request.params.instanceId);
      return reply.code(204).send(null);
    },
  );

  // ---------- agents ----------
  registerResource(app, {
    segment: 'agents',
    key: 'agentId',
    noun: 'agent',
    schema: AgentSchema,
    createSchema: CreateAgentSchema,
    updateSchema: UpdateAgentSchema,
    list: (instanceId) => directory.listAgents(instanceId),
    get: (instanceId, id) => directory.getAgent(instanceId, id),
    create: (instanceId, input) => directory.createAgent(instanceId, input),
    update: (instanceId, id, patch) => directory.updateAgent(instanceId, id, patch),
    remove: (instanceId, id) => directory.removeAgent(instanceId, id),
  });

  const AgentParams = Type.Object({ instanceId: PathId, agentId: PathId });

  api.get(
    `${PREFIX}/:instanceId/agents/:agentId/status`,
    {
      schema: {
        tags,
        summary: "An agent's live status",
        params: AgentParams,
        response: { 200: AgentSnapshotSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = request.params;
      // The directory names a missing instance as such; the agent service would only say "no agent".
      directory.getAgent(instanceId, agentId);
      return agents.snapshot(instanceId, agentId);
    },
  );

  api.get(
    `${PREFIX}/:instanceId/agents/:agentId/history`,
    {
      schema: {
        tags,
        summary: "An agent's status history, newest first",
        params: AgentParams,
        querystring: HistoryQuerySchema,
        response: { 200: ListOf(StateHistoryEntrySchema), ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = request.params;
      directory.getAgent(instanceId, agentId);
      return { items: agents.history(instanceId, agentId, request.query.limit ?? 100, request.query.before) };
    },
  );

  api.post(
    `${PREFIX}/:instanceId/agents/:agentId/force-checkout`,
    {
      schema: {
        tags,
        summary: 'Check an agent out from any status, hanging up its calls',
        params: AgentParams,
        body: EmptyBody,
        response: { 200: AgentSnapshotSchema, ...errors },
      },
      // The action takes no parameters, so a bodiless POST is the normal call.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request) => {
      const { instanceId, agentId } = request.params;
      directory.getAgent(instanceId, agentId);
      return agents.forceCheckout(instanceId, agentId, 'admin');
    },
  );

  // ---------- skill groups, hotline numbers, number groups, break reasons ----------
  registerResource(app, {
    segment: 'skill-groups',
    key: 'skillGroupId',
    noun: 'skill group',
    schema: SkillGroupSchema,
    createSchema: CreateSkillGroupSchema,
    updateSchema: UpdateSkillGroupSchema,
    list: (instanceId) => directory.listSkillGroups(instanceId),
    get: (instanceId, id) => directory.getSkillGroup(instanceId, id),
    create: (instanceId, input) => directory.createSkillGroup(instanceId, input),
    update: (instanceId, id, patch) => directory.updateSkillGroup(instanceId, id, patch),
    remove: (instanceId, id) => directory.removeSkillGroup(instanceId, id),
  });

  registerResource(app, {
    segment: 'hotline-numbers',
    key: 'number',
    noun: 'hotline number',
    schema: HotlineNumberSchema,
    createSchema: CreateHotlineNumberSchema,
    updateSchema: UpdateHotlineNumberSchema,
    list: (instanceId) => directory.listHotlineNumbers(instanceId),
    get: (instanceId, number) => directory.getHotlineNumber(instanceId, number),
    create: (instanceId, input) => directory.createHotlineNumber(instanceId, input),
    update: (instanceId, number, patch) => directory.updateHotlineNumber(instanceId, number, patch),
    remove: (instanceId, number) => directory.removeHotlineNumber(instanceId, number),
  });

  registerResource(app, {
    segment: 'number-groups',
    key: 'numberGroupId',
    noun: 'caller-ID number group',
    schema: NumberGroupSchema,
    createSchema: CreateNumberGroupSchema,
    updateSchema: UpdateNumberGroupSchema,
    list: (instanceId) => directory.listNumberGroups(instanceId),
    get: (instanceId, id) => directory.getNumberGroup(instanceId, id),
    create: (instanceId, input) => directory.createNumberGroup(instanceId, input),
    update: (instanceId, id, patch) => directory.updateNumberGroup(instanceId, id, patch),
    remove: (instanceId, id) => directory.removeNumberGroup(instanceId, id),
  });

  registerResource(app, {
    segment: 'break-reasons',
    key: 'code',
    noun: 'break reason',
    schema: BreakReasonSchema,
    createSchema: CreateBreakReasonSchema,
    updateSchema: UpdateBreakReasonSchema,
    list: (instanceId) => directory.listBreakReasons(instanceId),
    get: (instanceId, code) => directory.getBreakReason(instanceId, code),
    create: (instanceId, input) => directory.createBreakReason(instanceId, input),
    update: (instanceId, code, patch) => directory.updateBreakReason(instanceId, code, patch),
    remove: (instanceId, code) => directory.removeBreakReason(instanceId, code),
  });

  // ---------- API clients ----------
  api.get(
    `${PREFIX}/:instanceId/clients`,
    {
      schema: {
        tags,
        summary: 'List the API clients of an instance (secrets are never returned)',
        params: InstanceParams,
        response: { 200: ListOf(ApiClientSchema), ...errors },
      },
    },
    async (request) => ({ items: directory.listApiClients(request.params.instanceId) }),
  );

  api.post(
    `${PREFIX}/:instanceId/clients`,
    {
      schema: {
        tags,
        summary: 'Create an API client; the response is the only time its secret is shown',
        params: InstanceParams,
        body: CreateApiClientSchema,
        response: { 201: CreatedApiClientSchema, ...errors },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(directory.createApiClient(request.params.instanceId, request.body));
    },
  );

  api.delete(
    `${PREFIX}/:instanceId/clients/:clientId`,
    {
      schema: {
        tags,
        summary: 'Remove an API client; the tokens it issued stop working at once',
        params: Type.Object({ instanceId: PathId, clientId: PathId }),
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      directory.removeApiClient(request.params.instanceId, request.params.clientId);
      return reply.code(204).send(null);
    },
  );
}
