import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../../seed.js';
import { agentToken, api } from '../../../test-support/api.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  seedDemo(server.hotline);
});
afterAll(() => server.close());

const credentials = {
  grant_type: 'client_credentials',
  client_id: 'demo-client',
  client_secret: 'demo-secret-change-me',
};

describe('a business backend exchanges client credentials for an agent token', () => {
  it('returns a short-lived bearer token that the agent routes accept', async () => {
    const { status, body } = await api(server, 'POST', '/oauth2/token', { body: { ...credentials, agent_id: '1001' } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'agent' });
    const me = await api(server, 'GET', '/v1/agent/status', { token: String(body.access_token) });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ instanceId: 'demo', agentId: '1001', status: -1 });
  });

  it('accepts a form-encoded body and HTTP Basic client authentication, as OAuth 2 clients send them', async () => {
    const form = await fetch(`${server.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...credentials, agent_id: '1002', expires_in: '60' }),
    });
    expect(form.status).toBe(200);
    expect(await form.json()).toMatchObject({ expires_in: 60 });

    const basic = await fetch(`${server.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('demo-client:demo-secret-change-me').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', agent_id: '1003' }),
    });
    expect(basic.status).toBe(200);
  });

  it('caps the lifetime at the configured maximum', async () => {
    const { body } = await api(server, 'POST', '/oauth2/token', {
      body: { ...credentials, agent_id: '1001', expires_in: 86_400 },
    });
    expect(body.expires_in).toBe(900);
  });

  it('issues a backend token without an agent, which agent routes refuse', async () => {
    const { status, body } = await api(server, 'POST', '/oauth2/token', { body: credentials });
    expect(status).toBe(200);
    expect(body.scope).toBe('backend');
    const refused = await api(server, 'POST', '/v1/agent/checkin', { token: String(body.access_token) });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('Forbidden');
  });
});

describe('bad credentials get a stable code and no token', () => {
  it.each([
    ['a wrong secret', { ...credentials, client_secret: 'wrong-secret', agent_id: '1001' }, 401, 'InvalidClient'],
    ['an unknown client', { ...credentials, client_id: 'nobody', agent_id: '1001' }, 401, 'InvalidClient'],
    ['an unknown agent', { ...credentials, agent_id: '9999' }, 404, 'AgentNotFound'],
    ['another grant type', { ...credentials, grant_type: 'password' }, 400, 'UnsupportedGrantType'],
    ['a missing secret', { grant_type: 'client_credentials', client_id: 'demo-client' }, 400, 'ValidationFailed'],
    ['an unknown field', { ...credentials, agent_id: '1001', extra: 1 }, 400, 'ValidationFailed'],
  ])('%s', async (_what, body, status, code) => {
    const response = await api(server, 'POST', '/oauth2/token', { body });
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ code });
    expect(response.body).not.toHaveProperty('access_token');
  });

  it('refuses a token for a disabled agent', async () => {
    await api(server, 'PATCH', '/v1/admin/instances/demo/agents/1003', {
      token: server.adminKey,
      body: { enabled: false },
    });
    const response = await api(server, 'POST', '/oauth2/token', { body: { ...credentials, agent_id: '1003' } });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('AgentDisabled');
    await api(server, 'PATCH', '/v1/admin/instances/demo/agents/1003', {
      token: server.adminKey,
      body: { enabled: true },
    });
  });
});

describe('an agent route checks the bearer token', () => {
  it('answers TokenExpired (401, with WWW-Authenticate) once the token has expired', async () => {
    // Two seconds, not one: `exp` counts whole seconds from the second the token was issued in, so a one-second
    // token issued late in a second can be expired before its first use.
    const token = await agentToken(server, '1001', undefined, 2);
    expect((await api(server, 'GET', '/v1/agent/status', { token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3100));
    const response = await fetch(`${server.url}/v1/agent/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('TokenExpired');
    expect(await response.json()).toMatchObject({ code: 'TokenExpired' });
  });

  it.each([
    ['no Authorization header', undefined],
    ['a garbage token', 'not-a-jwt'],
    ['a token signed with another key', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMDAxIn0.c2lnbmF0dXJl'],
  ])('answers Unauthorized for %s', async (_what, token) => {
    const response = await api(server, 'GET', '/v1/agent/status', token ? { token } : {});
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('Unauthorized');
  });

  it('refuses a request whose X-Instance-Id is not the instance of the token', async () => {
    const token = await agentToken(server, '1001');
    const response = await api(server, 'GET', '/v1/agent/status', { token, headers: { 'x-instance-id': 'other' } });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'InstanceMismatch', details: { tokenInstanceId: 'demo' } });
    const same = await api(server, 'GET', '/v1/agent/status', { token, headers: { 'x-instance-id': 'demo' } });
    expect(same.status).toBe(200);
  });

  it('stops accepting tokens of an API client that was removed', async () => {
    const created = await api(server, 'POST', '/v1/admin/instances/demo/clients', {
      token: server.adminKey,
      body: { name: 'temporary', clientId: 'temp-client', clientSecret: 'temp-secret-0123456789' },
    });
    expect(created.status).toBe(201);
    const token = await agentToken(server, '1001', { clientId: 'temp-client', clientSecret: 'temp-secret-0123456789' });
    expect((await api(server, 'GET', '/v1/agent/status', { token })).status).toBe(200);
    await api(server, 'DELETE', '/v1/admin/instances/demo/clients/temp-client', { token: server.adminKey });
    const after = await api(server, 'GET', '/v1/agent/status', { token });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('Unauthorized');
  });

  it('answers CORS preflights for bearer requests from another origin, without cookies', async () => {
    const response = await fetch(`${server.url}/v1/agent/checkin`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://crm.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-instance-id',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://crm.example.com');
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});
