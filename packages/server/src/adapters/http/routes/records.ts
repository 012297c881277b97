import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  type CallRecord,
  CallRecordPageSchema,
  CallRecordQuerySchema,
  CallRecordSchema,
  ErrorResponseSchema,
} from '@openhotline/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HotlineError } from '../../../errors.js';
import type { Hotline } from '../../../hotline.js';
import { maskCallRecord } from '../../../services/masking.js';
import { BAD_CURSOR, type CallRecordFilter } from '../../storage/storage.js';
import { type AgentPrincipal, requireAgent, requireInstanceAdmin } from '../auth.js';

const tags = ['records'];
const errors = { '4xx': ErrorResponseSchema };
const PathId = Type.String({ minLength: 1, maxLength: 64 });
const ConnId = Type.String({ minLength: 1, maxLength: 128 });
/** An agent lists only its own calls, so the agent filter is not offered (and refused if sent). */
const AgentRecordQuerySchema = Type.Omit(CallRecordQuerySchema, ['agentId']);
const DEFAULT_LIMIT = 50;

type Query = Omit<CallRecordFilter, 'limit'> & { limit?: number };

/** Lists one page, turning a cursor the storage did not make into the client's mistake it is. */
function listPage(hotline: Hotline, instanceId: string, query: Query) {
  try {
    return hotline.storage.callRecords.list(instanceId, { ...query, limit: query.limit ?? DEFAULT_LIMIT });
  } catch (error) {
    if (error instanceof RangeError && error.message === BAD_CURSOR) {
      throw new HotlineError('ValidationFailed', 'cursor is not valid', {
        errors: [{ path: 'querystring/cursor', message: 'is not valid' }],
      });
    }
    throw error;
  }
}

function recordNotFound(connId: string): HotlineError {
  return new HotlineError('CallRecordNotFound', `No call record "${connId}".`);
}

/**
 * Call detail records. An agent reads the calls it was on (offered or handled), with numbers masked unless it
 * may see full numbers; the admin key, or a backend token of the instance, reads all of an instance's records
 * unmasked.
 */
export async function recordsRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  await app.register(async (scope) => {
    const api = scope.withTypeProvider<TypeBoxTypeProvider>();
    scope.addHook('onRequest', async (request) => {
      request.agentPrincipal = await requireAgent(request, hotline.tokens);
    });
    const who = (request: FastifyRequest): AgentPrincipal => {
      const principal = request.agentPrincipal;
      if (!principal) throw new Error('records route without agent principal');
      return principal;
    };
    // Read per request rather than from the token, so a changed permission applies at once.
    const view = (request: FastifyRequest, record: CallRecord): CallRecord => {
      const { instanceId, agentId } = who(request);
      const canSee = hotline.storage.agents.get(instanceId, agentId)?.canSeeFullNumbers ?? false;
      return maskCallRecord(record, canSee);
    };

    api.get(
      '/v1/agent/records',
      {
        schema: {
          tags,
          summary: 'The calls this agent was offered or handled, newest first',
          querystring: AgentRecordQuerySchema,
          response: { 200: CallRecordPageSchema, ...errors },
        },
      },
      async (request) => {
        const { instanceId, agentId } = who(request);
        const page = listPage(hotline, instanceId, { ...request.query, agentId });
        return { items: page.items.map((record) => view(request, record)), nextCursor: page.nextCursor };
      },
    );

    api.get(
      '/v1/agent/records/:connId',
      {
        schema: {
          tags,
          summary: 'One call this agent was on',
          params: Type.Object({ connId: ConnId }),
          response: { 200: CallRecordSchema, ...errors },
        },
      },
      async (request) => {
        const { instanceId, agentId } = who(request);
        const { connId } = request.params;
        const record = hotline.storage.callRecords.get(instanceId, connId);
        // Another agent's call is answered like an unknown one, so connIds cannot be probed.
        if (!record?.agentIds.includes(agentId)) throw recordNotFound(connId);
        return view(request, record);
      },
    );
  });

  await app.register(async (scope) => {
    const api = scope.withTypeProvider<TypeBoxTypeProvider>();
    // onRequest: strangers learn nothing about the routes' schemas; the path parameters are parsed by then.
    scope.addHook('onRequest', async (request) => {
      const params = request.params as { instanceId?: unknown };
      const instanceId = typeof params.instanceId === 'string' ? params.instanceId : undefined;
      await requireInstanceAdmin(request, hotline.tokens, instanceId);
    });
    const PREFIX = '/v1/admin/instances/:instanceId/records';

    api.get(
      PREFIX,
      {
        schema: {
          tags,
          summary: "An instance's call records, newest first",
          params: Type.Object({ instanceId: PathId }),
          querystring: CallRecordQuerySchema,
          response: { 200: CallRecordPageSchema, ...errors },
        },
      },
      async (request) => {
        const { instanceId } = request.params;
        hotline.directory.getInstance(instanceId);
        return listPage(hotline, instanceId, request.query);
      },
    );

    api.get(
      `${PREFIX}/:connId`,
      {
        schema: {
          tags,
          summary: 'One call record',
          params: Type.Object({ instanceId: PathId, connId: ConnId }),
          response: { 200: CallRecordSchema, ...errors },
        },
      },
      async (request) => {
        const { instanceId, connId } = request.params;
        hotline.directory.getInstance(instanceId);
        const record = hotline.storage.callRecords.get(instanceId, connId);
        if (!record) throw recordNotFound(connId);
        return record;
      },
    );
  });
}
