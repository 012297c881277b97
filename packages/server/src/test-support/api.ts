import type { TestServer } from './test-server.js';

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** A thin real-HTTP client for tests: JSON in, `{ status, body }` out. */
export async function api<T = Record<string, unknown>>(
  server: Pick<TestServer, 'url'>,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Exchanges the demo (or given) client credentials for an agent token over real HTTP. */
export async function agentToken(
  server: Pick<TestServer, 'url'>,
  agentId: string,
  client = { clientId: 'demo-client', clientSecret: 'demo-secret-change-me' },
  expiresIn?: number,
): Promise<string> {
  const { status, body } = await api<{ access_token: string }>(server, 'POST', '/oauth2/token', {
    body: {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      agent_id: agentId,
      ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}),
    },
  });
  if (status !== 200) throw new Error(`token exchange failed: ${status} ${JSON.stringify(body)}`);
  return body.access_token;
}
