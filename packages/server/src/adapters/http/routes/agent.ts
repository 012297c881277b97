import {
  AGENT_BAR_STATUS_TEXT,
  AgentBarStatus,
  AgentSettingsRequestSchema,
  AgentSnapshotSchema,
  BreakReasonSchema,
  BreakRequestSchema,
  CheckinRequestSchema,
  ErrorResponseSchema,
  HistoryQuerySchema,
  ListOf,
  NumberGroupSchema,
  SkillGroupSchema,
  StateHistoryEntrySchema,
  TransferTargetsSchema,
} from '@openhotline/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Hotline } from '../../../hotline.js';
import { SYSTEM_BREAK_REASONS } from '../../../services/agent-service.js';
import { type AgentPrincipal, requireAgent } from '../auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the agent routes' auth hook: the agent the token speaks for. */
    agentPrincipal?: AgentPrincipal;
  }
}

const errors = { '4xx': ErrorResponseSchema };

export const AgentMeSchema = Type.Object({
  instance: Type.Object({ id: Type.String(), name: Type.String() }),
  agent: Type.Object({
    id: Type.String(),
    name: Type.String(),
    departmentId: Type.String(),
    skillGroupIds: Type.Array(Type.String()),
    canSeeFullNumbers: Type.Boolean(),
  }),
  status: AgentSnapshotSchema,
  skillGroups: Type.Array(SkillGroupSchema),
  numberGroups: Type.Array(NumberGroupSchema),
  /** Reasons the agent may choose for a break. */
  breakReasons: Type.Array(BreakReasonSchema),
  /** Reasons only the server sets, so a UI can name them when it sees them. */
  systemBreakReasons: Type.Record(Type.String(), Type.Object({ 'zh-CN': Type.String(), en: Type.String() })),
});

/**
 * The agent's own actions. Each route acts on the agent of the bearer token only: there is no agent id in any
 * path, so one agent cannot address another.
 */
export async function agentRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  const { agents, storage } = hotline;
  app.addHook('onRequest', async (request) => {
    request.agentPrincipal = await requireAgent(request, hotline.tokens);
  });
  // Actions without parameters may be posted without a body, as the guide's APIs take none.
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body === undefined) request.body = {};
  });
  const who = (request: FastifyRequest) => {
    const principal = request.agentPrincipal;
    if (!principal) throw new Error('agent route without principal');
    return principal;
  };
  const tags = ['agent'];

  app.get(
    '/v1/agent/me',
    {
      schema: {
        tags,
        summary: 'The agent, its status and what it may choose',
        response: { 200: AgentMeSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      const instance = hotline.directory.getInstance(instanceId);
      const agent = hotline.directory.getAgent(instanceId, agentId);
      return {
        instance: { id: instance.id, name: instance.name },
        agent: {
          id: agent.id,
          name: agent.name,
          departmentId: agent.departmentId,
          skillGroupIds: agent.skillGroupIds,
          canSeeFullNumbers: agent.canSeeFullNumbers,
        },
        status: agents.snapshot(instanceId, agentId),
        skillGroups: storage.skillGroups.list(instanceId).filter((g) => agent.skillGroupIds.includes(g.id)),
        numberGroups: storage.numberGroups.list(instanceId).filter((g) => agent.numberGroupIds.includes(g.id)),
        breakReasons: storage.breakReasons.list(instanceId).filter((r) => !r.system),
        systemBreakReasons: SYSTEM_BREAK_REASONS,
      };
    },
  );

  app.get(
    '/v1/agent/status',
    { schema: { tags, summary: "The agent's current status", response: { 200: AgentSnapshotSchema, ...errors } } },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return agents.snapshot(instanceId, agentId);
    },
  );

  app.post(
    '/v1/agent/checkin',
    {
      schema: {
        tags,
        summary: 'Check in (the guide: APIs.agentCheckin); ready to take calls unless the instance says otherwise',
        body: CheckinRequestSchema,
        response: { 200: AgentSnapshotSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return agents.checkin(instanceId, agentId, request.body as { skillGroupIds?: string[]; acwSeconds?: number });
    },
  );

  app.post(
    '/v1/agent/checkout',
    {
      schema: {
        tags,
        summary: 'Check out (the guide: APIs.agentCheckout)',
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: AgentSnapshotSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return agents.checkout(instanceId, agentId);
    },
  );

  app.post(
    '/v1/agent/ready',
    {
      schema: {
        tags,
        summary: 'Become ready to be offered calls',
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: AgentSnapshotSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return agents.ready(instanceId, agentId);
    },
  );

  app.post(
    '/v1/agent/break',
    {
      schema: {
        tags,
        summary: 'Go on break with a reason code (the first configured reason when absent)',
        body: BreakRequestSchema,
        response: { 200: AgentSnapshotSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return agents.startBreak(instanceId, agentId, (request.body as { reasonCode?: string }).reasonCode);
    },
  );

  app.put(
    '/v1/agent/settings',
    {
      schema: {
        tags,
        summary: 'Change the after-call work time of this check-in (autoChangeOnLineTime)',
        body: AgentSettingsRequestSchema,
        response: { 200: AgentSnapshotSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      return agents.setAcwSeconds(instanceId, agentId, (request.body as { acwSeconds: number }).acwSeconds);
    },
  );

  app.get(
    '/v1/agent/transfer-targets',
    {
      schema: {
        tags,
        summary: 'Colleagues and skill groups of the agent’s instance to transfer or consult to, with live states',
        response: { 200: TransferTargetsSchema, ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      const queues = new Map(
        hotline.calls.queues(instanceId, { canSeeFullNumbers: false }).map((q) => [q.skillGroupId, q]),
      );
      return {
        // Disabled agents cannot check in, so they are nobody to hand a call to.
        agents: hotline.directory
          .listAgents(instanceId)
          .filter((agent) => agent.id !== agentId && agent.enabled)
          .map((agent) => {
            const { status } = agents.state(instanceId, agent.id);
            return {
              id: agent.id,
              name: agent.name,
              status,
              statusDesc: AGENT_BAR_STATUS_TEXT[status],
              // The same test the call service applies to a transfer or consultation to this agent.
              available: status === AgentBarStatus.AgentReady && agents.isOnline(instanceId, agent.id),
            };
          }),
        skillGroups: hotline.directory.listSkillGroups(instanceId).map((group) => ({
          id: group.id,
          name: group.name,
          readyAgents: queues.get(group.id)?.readyAgents ?? 0,
          waiting: queues.get(group.id)?.waiting.length ?? 0,
        })),
      };
    },
  );

  app.get(
    '/v1/agent/history',
    {
      schema: {
        tags,
        summary: "The agent's status history, newest first",
        querystring: HistoryQuerySchema,
        response: { 200: ListOf(StateHistoryEntrySchema), ...errors },
      },
    },
    async (request) => {
      const { instanceId, agentId } = who(request);
      const query = request.query as { limit?: number; before?: number };
      return { items: agents.history(instanceId, agentId, query.limit ?? 100, query.before) };
    },
  );
}
