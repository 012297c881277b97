import { AgentBarStatus, type HotlineMessage, type ServerFrame } from '@openhotline/protocol';
import type { ServerConfig } from '../config.js';
import { seedDemo } from '../seed.js';
import { agentToken, api } from './api.js';
import { ChannelClient } from './channel-client.js';
import { startTestServer, type TestServer } from './test-server.js';

/** A fast dial plan for tests: same behaviours as the default plan, with short delays. */
export const TEST_DIAL_PLAN = [
  { pattern: '^\\+?000', behavior: 'invalid', description: 'invalid' },
  { pattern: '0001$', behavior: 'busy', answerAfterMs: 50, description: 'busy' },
  { pattern: '0002$', behavior: 'no-answer', description: 'no answer' },
  { pattern: '0003$', behavior: 'reject', answerAfterMs: 50, description: 'rejected' },
  { pattern: '0005$', behavior: 'answer-then-hangup', answerAfterMs: 50, hangupAfterMs: 300, description: 'hangs up' },
  { pattern: '.*', behavior: 'answer', answerAfterMs: 50, description: 'answers' },
] as const;

export interface TestAgent {
  readonly id: string;
  readonly token: string;
  readonly channel: ChannelClient;
  /** The hotline-messages received, in order. */
  messages(): HotlineMessage[];
  codes(): string[];
  statuses(): AgentBarStatus[];
  /** Waits until a hotline-message with this code arrived (after `after` messages) and returns it. */
  waitFor(code: string, after?: number, timeoutMs?: number): Promise<HotlineMessage>;
  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
  get<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }>;
}

export interface CallCenter {
  readonly server: TestServer;
  readonly agents: Record<string, TestAgent>;
  /** A virtual customer calls a hotline number; returns the connId. */
  placeCall(
    from: string,
    to?: string,
    script?: { hangupAfterSeconds?: number; abandonAfterSeconds?: number },
  ): Promise<string>;
  callerHangsUp(connId: string): Promise<number>;
  admin<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/**
 * The demo call center on a real server: agents 1001 (support+sales, may see numbers), 1002 (support, masked)
 * and 1003 (sales, masked), each with a live channel and checked in unless told otherwise.
 */
export async function startCallCenter(
  options: { config?: Partial<ServerConfig>; checkIn?: string[]; settings?: Record<string, unknown> } = {},
): Promise<CallCenter> {
  const server = await startTestServer({
    virtualCarrier: { dialPlan: TEST_DIAL_PLAN.map((r) => ({ ...r })) },
    ...options.config,
  });
  seedDemo(server.hotline);
  const admin = <T>(method: string, path: string, body?: unknown) =>
    api<T>(server, method, path, { token: server.adminKey, ...(body !== undefined ? { body } : {}) });
  await admin('PATCH', '/v1/admin/instances/demo', {
    settings: { acwSeconds: 0, ringTimeoutSeconds: 5, ...options.settings },
  });

  const agents: Record<string, TestAgent> = {};
  for (const id of ['1001', '1002', '1003']) {
    const token = await agentToken(server, id);
    const channel = ChannelClient.connect(server.wsUrl, { token });
    await channel.waitFor((f) => f.some((x) => x.type === 'snapshot'));
    const hotlineMessages = () =>
      channel.frames.flatMap((f: ServerFrame) =>
        f.type === 'notify' && f.sceneType === 'hotline-message' ? [f as HotlineMessage] : [],
      );
    agents[id] = {
      id,
      token,
      channel,
      messages: hotlineMessages,
      codes: () => hotlineMessages().map((m) => m.head.agentCallCode),
      statuses: () => hotlineMessages().map((m) => m.data.status),
      async waitFor(code, after = 0, timeoutMs = 5000) {
        await channel.waitFor(
          () =>
            hotlineMessages()
              .slice(after)
              .some((m) => m.head.agentCallCode === code),
          timeoutMs,
          `${code} at agent ${id}`,
        );
        const found = hotlineMessages()
          .slice(after)
          .find((m) => m.head.agentCallCode === code);
        if (!found) throw new Error('unreachable');
        return found;
      },
      post: (path, body) => api(server, 'POST', path, { token, body: body ?? {} }),
      get: (path) => api(server, 'GET', path, { token }),
    };
  }
  for (const id of options.checkIn ?? ['1001', '1002', '1003']) {
    const agent = agents[id];
    if (!agent) continue;
    const before = agent.messages().length;
    await agent.post('/v1/agent/checkin');
    await agent.waitFor('AgentReady', before);
  }

  return {
    server,
    agents,
    async placeCall(from, to = '4008001000', script = {}) {
      const response = await admin<{ connId: string }>('POST', '/v1/admin/instances/demo/virtual-calls', {
        from,
        to,
        ...script,
      });
      if (response.status !== 201) throw new Error(`placing a call failed: ${JSON.stringify(response.body)}`);
      return response.body.connId;
    },
    async callerHangsUp(connId) {
      return (await admin('POST', `/v1/admin/instances/demo/virtual-calls/${connId}/hangup`, {})).status;
    },
    admin,
    async close() {
      for (const agent of Object.values(agents)) agent.channel.close();
      await server.close();
    },
  };
}

/** Status values pushed, for asserting a whole sequence. */
export const S = AgentBarStatus;
