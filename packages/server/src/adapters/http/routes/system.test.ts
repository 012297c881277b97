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

describe('operating the server', () => {
  it('answers /healthz with the database checked', async () => {
    const { status, body } = await api(server, 'GET', '/healthz');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', epoch: server.hotline.streams.epoch });
  });

  it('exposes Prometheus metrics, including agents by status and HTTP requests', async () => {
    const token = await agentToken(server, '1001');
    await api(server, 'POST', '/v1/agent/checkin', { token });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/openhotline_agents\{status="AgentReady"\} 1/);
    expect(text).toMatch(
      /openhotline_http_requests_total\{method="POST",route="\/v1\/agent\/checkin",status="200"\} 1/,
    );
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('publishes an OpenAPI 3 document of every route and a browsable /docs', async () => {
    const { body } = await api<{ openapi: string; paths: Record<string, unknown> }>(server, 'GET', '/openapi.json');
    expect(body.openapi).toMatch(/^3\./);
    for (const path of [
      '/oauth2/token',
      '/v1/agent/checkin',
      '/v1/agent/calls/{connId}/answer',
      '/v1/admin/instances',
    ]) {
      expect(Object.keys(body.paths)).toContain(path);
    }
    const docs = await fetch(`${server.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('answers a plain HTTP request to the live channel with UpgradeRequired', async () => {
    const { status, body } = await api(server, 'GET', '/v1/agent/channel');
    expect(status).toBe(426);
    expect(body.code).toBe('UpgradeRequired');
  });
});
