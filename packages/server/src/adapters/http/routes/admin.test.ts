import { AgentBarStatus } from '@openhotline/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_KEY, type TestServer } from '../../../test-support/test-server.js';

type Json = Record<string, unknown>;

interface Reply {
  readonly status: number;
  readonly text: string;
  readonly body: Json;
  readonly headers: Headers;
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

interface CallOptions {
  readonly token?: string | null;
  readonly body?: unknown;
  /** Sent as is with Content-Type: application/json (to send broken JSON). */
  readonly rawBody?: string;
}

/** One real HTTP request; the admin key unless `token` says otherwise (null: no Authorization header). */
async function call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const token = options.token === undefined ? TEST_ADMIN_KEY : options.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (options.rawBody !== undefined) payload = options.rawBody;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, body: payload });
  const text = await response.text();
  const parsed: unknown = text === '' ? {} : JSON.parse(text);
  return { status: response.status, text, body: parsed as Json, headers: response.headers };
}

function itemsOf(reply: Reply): Json[] {
  const items = reply.body.items;
  if (!Array.isArray(items)) throw new Error(`no items in ${reply.text}`);
  return items as Json[];
}

function expectError(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body.code }).toEqual({ status, code });
  expect(typeof reply.body.message).toBe('string');
}

const base = (instanceId: string) => `/v1/admin/instances/${instanceId}`;

async function createOk(path: string, body: unknown, token?: string): Promise<Json> {
  const reply = await call('POST', path, token === undefined ? { body } : { body, token });
  if (reply.status !== 201) throw new Error(`POST ${path} gave ${reply.status}: ${reply.text}`);
  return reply.body;
}

/** An instance with a skill group, an agent and an API client of known credentials. */
async function seedInstance(instanceId: string): Promise<{ clientId: string; clientSecret: string }> {
  await createOk('/v1/admin/instances', { id: instanceId, name: `Instance ${instanceId}` });
  await createOk(`${base(instanceId)}/skill-groups`, { id: 'sales', name: 'Sales' });
  await createOk(`${base(instanceId)}/agents`, { id: '1001', name: 'Alice', skillGroupIds: ['sales'] });
  const clientId = `${instanceId}-client`;
  const clientSecret = `${instanceId}-secret-0123456789`;
  await createOk(`${base(instanceId)}/clients`, { name: 'Backend', clientId, clientSecret });
  return { clientId, clientSecret };
}

async function tokenFor(clientId: string, clientSecret: string, agentId?: string): Promise<string> {
  const reply = await call('POST', '/oauth2/token', {
    token: null,
    body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, agent_id: agentId },
  });
  if (reply.status !== 200) throw new Error(`token exchange gave ${reply.status}: ${reply.text}`);
  const token = reply.body.access_token;
  if (typeof token !== 'string') throw new Error('no access_token');
  return token;
}

describe('an administrator manages instances', () => {
  it('creates, reads, lists, changes and removes an instance', async () => {
    const created = await call('POST', '/v1/admin/instances', {
      body: { id: 'crud-inst', name: 'Crud', settings: { acwSeconds: 5 } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'crud-inst',
      name: 'Crud',
      // Settings left out take the server defaults.
      settings: { acwSeconds: 5, readyOnCheckin: true, channelGraceSeconds: 60 },
    });
    expect(typeof created.body.createdAt).toBe('string');

    const got = await call('GET', base('crud-inst'));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const list = await call('GET', '/v1/admin/instances');
    expect(list.status).toBe(200);
    expect(itemsOf(list).map((i) => i.id)).toContain('crud-inst');

    const patched = await call('PATCH', base('crud-inst'), {
      body: { name: 'Crud renamed', settings: { readyOnCheckin: false } },
    });
    expect(patched.status).toBe(200);
    // A settings patch is merged: acwSeconds keeps its value.
    expect(patched.body).toMatchObject({
      name: 'Crud renamed',
      settings: { acwSeconds: 5, readyOnCheckin: false, channelGraceSeconds: 60 },
    });

    const removed = await call('DELETE', base('crud-inst'));
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expectError(await call('GET', base('crud-inst')), 404, 'InstanceNotFound');
    expect(itemsOf(await call('GET', '/v1/admin/instances')).map((i) => i.id)).not.toContain('crud-inst');
  });

  it('removing an instance removes everything in it, so its id can be used again', async () => {
    const { clientId, clientSecret } = await seedInstance('reuse-inst');
    expect((await call('DELETE', base('reuse-inst'))).status).toBe(204);
    expectError(await call('GET', `${base('reuse-inst')}/agents/1001`), 404, 'InstanceNotFound');
    const exchange = await call('POST', '/oauth2/token', {
      token: null,
      body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
    });
    expectError(exchange, 401, 'InvalidClient');
    expect((await call('POST', '/v1/admin/instances', { body: { id: 'reuse-inst', name: 'Again' } })).status).toBe(201);
    expect(itemsOf(await call('GET', `${base('reuse-inst')}/agents`))).toEqual([]);
  });
});

describe('an administrator configures the inside of an instance', () => {
  const inst = 'cfg';
  beforeAll(async () => {
    await createOk('/v1/admin/instances', { id: inst, name: 'Config' });
  });

  it('manages skill groups', async () => {
    const path = `${base(inst)}/skill-groups`;
    const created = await call('POST', path, { body: { id: 'support', name: 'Support' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ instanceId: inst, id: 'support', name: 'Support' });
    expect(itemsOf(await call('GET', path)).map((g) => g.id)).toEqual(['support']);
    expect((await call('GET', `${path}/support`)).body).toEqual(created.body);
    const patched = await call('PATCH', `${path}/support`, { body: { name: 'Customer support' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: 'support', name: 'Customer support' });
    const removed = await call('DELETE', `${path}/support`);
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expectError(await call('GET', `${path}/support`), 404, 'SkillGroupNotFound');
    expect(itemsOf(await call('GET', path))).toEqual([]);
  });

  it('manages hotline numbers, which route to a skill group', async () => {
    await createOk(`${base(inst)}/skill-groups`, { id: 'hn-a', name: 'A' });
    await createOk(`${base(inst)}/skill-groups`, { id: 'hn-b', name: 'B' });
    const path = `${base(inst)}/hotline-numbers`;
    const created = await call('POST', path, {
      body: { number: '4008001000', name: 'Main line', skillGroupId: 'hn-a' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      instanceId: inst,
      number: '4008001000',
      name: 'Main line',
      skillGroupId: 'hn-a',
    });
    expect(itemsOf(await call('GET', path)).map((n) => n.number)).toEqual(['4008001000']);
    expect((await call('GET', `${path}/4008001000`)).body).toEqual(created.body);
    const patched = await call('PATCH', `${path}/4008001000`, { body: { skillGroupId: 'hn-b' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Main line', skillGroupId: 'hn-b' });
    expectError(
      await call('PATCH', `${path}/4008001000`, { body: { skillGroupId: 'nope' } }),
      404,
      'SkillGroupNotFound',
    );
    expect((await call('DELETE', `${path}/4008001000`)).status).toBe(204);
    expectError(await call('GET', `${path}/4008001000`), 404, 'HotlineNumberNotFound');
  });

  it('accepts a hotline number with a leading plus in the path', async () => {
    await createOk(`${base(inst)}/skill-groups`, { id: 'intl', name: 'International' });
    const path = `${base(inst)}/hotline-numbers`;
    await createOk(path, { number: '+862160001234', name: 'Shanghai', skillGroupId: 'intl' });
    const got = await call('GET', `${path}/${encodeURIComponent('+862160001234')}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ number: '+862160001234' });
    expect((await call('DELETE', `${path}/${encodeURIComponent('+862160001234')}`)).status).toBe(204);
  });

  it('manages caller-ID number groups', async () => {
    const path = `${base(inst)}/number-groups`;
    const created = await call('POST', path, {
      body: { id: 'sh', name: 'Shanghai', numbers: ['02160000001', '02160000002'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'sh', numbers: ['02160000001', '02160000002'] });
    expect(itemsOf(await call('GET', path)).map((g) => g.id)).toEqual(['sh']);
    expect((await call('GET', `${path}/sh`)).body).toEqual(created.body);
    const patched = await call('PATCH', `${path}/sh`, { body: { numbers: ['02160000003'] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Shanghai', numbers: ['02160000003'] });
    expect((await call('DELETE', `${path}/sh`)).status).toBe(204);
    expectError(await call('GET', `${path}/sh`), 404, 'NumberGroupNotFound');
  });

  it('manages break reasons', async () => {
    const path = `${base(inst)}/break-reasons`;
    const created = await call('POST', path, { body: { code: 'meal', label: { 'zh-CN': '用餐', en: 'Meal' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: 'meal', label: { 'zh-CN': '用餐', en: 'Meal' }, system: false });
    expect(itemsOf(await call('GET', path)).map((r) => r.code)).toContain('meal');
    expect((await call('GET', `${path}/meal`)).body).toEqual(created.body);
    const patched = await call('PATCH', `${path}/meal`, { body: { label: { 'zh-CN': '午餐', en: 'Lunch' } } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ code: 'meal', label: { 'zh-CN': '午餐', en: 'Lunch' } });
    expect((await call('DELETE', `${path}/meal`)).status).toBe(204);
    expectError(await call('GET', `${path}/meal`), 404, 'BreakReasonNotFound');
  });

  it('manages agents and their group memberships', async () => {
    await createOk(`${base(inst)}/skill-groups`, { id: 'ag-sales', name: 'Sales' });
    await createOk(`${base(inst)}/skill-groups`, { id: 'ag-vip', name: 'VIP' });
    await createOk(`${base(inst)}/number-groups`, { id: 'ag-ng', name: 'Out', numbers: ['02160000009'] });
    const path = `${base(inst)}/agents`;
    const created = await call('POST', path, {
      body: { id: '2001', name: 'Bob', skillGroupIds: ['ag-sales'], numberGroupIds: ['ag-ng'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      instanceId: inst,
      id: '2001',
      name: 'Bob',
      departmentId: '',
      skillGroupIds: ['ag-sales'],
      numberGroupIds: ['ag-ng'],
      canSeeFullNumbers: false,
      acwSeconds: null,
      enabled: true,
    });
    expect(itemsOf(await call('GET', path)).map((a) => a.id)).toContain('2001');
    expect((await call('GET', `${path}/2001`)).body).toEqual(created.body);

    const patched = await call('PATCH', `${path}/2001`, {
      body: { skillGroupIds: ['ag-sales', 'ag-vip'], canSeeFullNumbers: true, acwSeconds: 30 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Bob',
      skillGroupIds: ['ag-sales', 'ag-vip'],
      canSeeFullNumbers: true,
      acwSeconds: 30,
    });

    // Removing a group drops the memberships instead of leaving dangling ids.
    expect((await call('DELETE', `${base(inst)}/skill-groups/ag-vip`)).status).toBe(204);
    expect((await call('GET', `${path}/2001`)).body).toMatchObject({ skillGroupIds: ['ag-sales'] });

    const status = await call('GET', `${path}/2001/status`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      instanceId: inst,
      agentId: '2001',
      name: 'Bob',
      status: AgentBarStatus.Unregistered,
    });

    expect((await call('DELETE', `${path}/2001`)).status).toBe(204);
    expectError(await call('GET', `${path}/2001`), 404, 'AgentNotFound');
    expectError(await call('GET', `${path}/2001/status`), 404, 'AgentNotFound');
  });

  it('manages API clients: the secret is shown once, works at /oauth2/token and is never listed', async () => {
    await createOk(`${base(inst)}/agents`, { id: 'cl-agent', name: 'Client agent' });
    const path = `${base(inst)}/clients`;
    const created = await call('POST', path, { body: { name: 'CRM' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { clientId, clientSecret } = created.body;
    if (typeof clientId !== 'string' || typeof clientSecret !== 'string') throw new Error(created.text);
    expect(created.body).toMatchObject({ instanceId: inst, name: 'CRM' });
    expect(clientSecret.length).toBeGreaterThanOrEqual(16);

    const list = await call('GET', path);
    expect(list.status).toBe(200);
    expect(itemsOf(list).find((c) => c.clientId === clientId)).toEqual({
      instanceId: inst,
      clientId,
      name: 'CRM',
      createdAt: created.body.createdAt,
    });
    expect(list.text).not.toContain(clientSecret);
    expect(list.text).not.toContain('secret');

    const token = await tokenFor(clientId, clientSecret, 'cl-agent');
    const me = await call('GET', '/v1/agent/status', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ agentId: 'cl-agent' });

    expect((await call('DELETE', `${path}/${clientId}`)).status).toBe(204);
    expect(itemsOf(await call('GET', path)).map((c) => c.clientId)).not.toContain(clientId);
    // Tokens die with their client.
    expectError(await call('GET', '/v1/agent/status', { token }), 401, 'Unauthorized');
    const exchange = await call('POST', '/oauth2/token', {
      token: null,
      body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
    });
    expectError(exchange, 401, 'InvalidClient');
    expectError(await call('DELETE', `${path}/${clientId}`), 404, 'ApiClientNotFound');
  });
});

describe('callers without the right credentials', () => {
  let agentToken: string;
  let backendToken: string;
  beforeAll(async () => {
    const { clientId, clientSecret } = await seedInstance('auth-a');
    await seedInstance('auth-b');
    agentToken = await tokenFor(clientId, clientSecret, '1001');
    backendToken = await tokenFor(clientId, clientSecret);
  });

  it('are refused with 401 Unauthorized when they bring no credentials', async () => {
    for (const [method, path] of [
      ['GET', '/v1/admin/instances'],
      ['GET', base('auth-a')],
      ['GET', `${base('auth-a')}/agents`],
      ['DELETE', `${base('auth-a')}/agents/1001`],
    ] as const) {
      const reply = await call(method, path, { token: null });
      expectError(reply, 401, 'Unauthorized');
      expect(reply.headers.get('www-authenticate')).toContain('Bearer');
    }
    // Authentication comes before parsing: a stranger's broken body is not looked at.
    expectError(await call('POST', '/v1/admin/instances', { token: null, rawBody: '{broken' }), 401, 'Unauthorized');
    expect((await call('GET', `${base('auth-a')}/agents/1001`)).status).toBe(200);
  });

  it('are refused with 401 when the key is wrong', async () => {
    expectError(await call('GET', '/v1/admin/instances', { token: `${TEST_ADMIN_KEY}x` }), 401, 'Unauthorized');
    expectError(await call('GET', base('auth-a'), { token: 'not-a-jwt' }), 401, 'Unauthorized');
  });

  it('are refused with 403 Forbidden when they hold an agent token, even for their own instance', async () => {
    expectError(await call('GET', '/v1/admin/instances', { token: agentToken }), 403, 'Forbidden');
    expectError(await call('GET', base('auth-a'), { token: agentToken }), 403, 'Forbidden');
    expectError(await call('GET', `${base('auth-a')}/agents`, { token: agentToken }), 403, 'Forbidden');
    expectError(
      await call('PATCH', `${base('auth-a')}/agents/1001`, { token: agentToken, body: { canSeeFullNumbers: true } }),
      403,
      'Forbidden',
    );
    expect((await call('GET', `${base('auth-a')}/agents/1001`)).body).toMatchObject({ canSeeFullNumbers: false });
  });

  it('may manage their own instance with a backend token, and nothing else', async () => {
    const own = await call('GET', `${base('auth-a')}/agents`, { token: backendToken });
    expect(own.status).toBe(200);
    expect(itemsOf(own).map((a) => a.id)).toEqual(['1001']);
    expect((await call('GET', base('auth-a'), { token: backendToken })).status).toBe(200);
    expect(
      (await call('POST', `${base('auth-a')}/agents`, { token: backendToken, body: { id: '1002', name: 'Carol' } }))
        .status,
    ).toBe(201);
    expect((await call('DELETE', `${base('auth-a')}/agents/1002`, { token: backendToken })).status).toBe(204);

    expectError(await call('GET', base('auth-b'), { token: backendToken }), 403, 'Forbidden');
    expectError(await call('GET', `${base('auth-b')}/agents`, { token: backendToken }), 403, 'Forbidden');
    expectError(await call('DELETE', `${base('auth-b')}/agents/1001`, { token: backendToken }), 403, 'Forbidden');
    expectError(await call('GET', '/v1/admin/instances', { token: backendToken }), 403, 'Forbidden');
    expectError(
      await call('POST', '/v1/admin/instances', { token: backendToken, body: { id: 'by-backend', name: 'No' } }),
      403,
      'Forbidden',
    );
    // An unknown instance is a 403 too, not a 404: a backend token cannot probe which instances exist.
    expectError(await call('GET', base('no-such'), { token: backendToken }), 403, 'Forbidden');
    expect((await call('GET', `${base('auth-b')}/agents/1001`)).status).toBe(200);
  });
});

describe('requests naming things that do not exist', () => {
  const inst = 'missing';
  beforeAll(async () => {
    await createOk('/v1/admin/instances', { id: inst, name: 'Missing' });
  });

  it('answer 404 with the code of the missing kind', async () => {
    const cases: [string, string, string][] = [
      ['GET', base('nope'), 'InstanceNotFound'],
      ['PATCH', base('nope'), 'InstanceNotFound'],
      ['DELETE', base('nope'), 'InstanceNotFound'],
      ['GET', `${base('nope')}/agents`, 'InstanceNotFound'],
      ['GET', `${base('nope')}/clients`, 'InstanceNotFound'],
      ['GET', `${base(inst)}/agents/nope`, 'AgentNotFound'],
      ['PATCH', `${base(inst)}/agents/nope`, 'AgentNotFound'],
      ['DELETE', `${base(inst)}/agents/nope`, 'AgentNotFound'],
      ['GET', `${base(inst)}/agents/nope/status`, 'AgentNotFound'],
      ['GET', `${base(inst)}/agents/nope/history`, 'AgentNotFound'],
      ['POST', `${base(inst)}/agents/nope/force-checkout`, 'AgentNotFound'],
      ['GET', `${base('nope')}/agents/nope/status`, 'InstanceNotFound'],
      ['GET', `${base(inst)}/skill-groups/nope`, 'SkillGroupNotFound'],
      ['DELETE', `${base(inst)}/skill-groups/nope`, 'SkillGroupNotFound'],
      ['GET', `${base(inst)}/hotline-numbers/4000000000`, 'HotlineNumberNotFound'],
      ['GET', `${base(inst)}/number-groups/nope`, 'NumberGroupNotFound'],
      ['GET', `${base(inst)}/break-reasons/nope`, 'BreakReasonNotFound'],
      ['DELETE', `${base(inst)}/clients/nope`, 'ApiClientNotFound'],
    ];
    for (const [method, path, code] of cases) {
      const body = method === 'PATCH' ? { name: 'x' } : undefined;
      const reply = await call(method, path, body === undefined ? {} : { body });
      expect({ method, path, status: reply.status, code: reply.body.code }).toEqual({
        method,
        path,
        status: 404,
        code,
      });
    }
  });

  it('refuses an agent in a skill group or number group that does not exist', async () => {
    expectError(
      await call('POST', `${base(inst)}/agents`, { body: { id: 'x1', name: 'X', skillGroupIds: ['ghost'] } }),
      404,
      'SkillGroupNotFound',
    );
    expectError(
      await call('POST', `${base(inst)}/agents`, { body: { id: 'x1', name: 'X', numberGroupIds: ['ghost'] } }),
      404,
      'NumberGroupNotFound',
    );
    // Nothing was half-created.
    expectError(await call('GET', `${base(inst)}/agents/x1`), 404, 'AgentNotFound');
    await createOk(`${base(inst)}/agents`, { id: 'x2', name: 'X2' });
    expectError(
      await call('PATCH', `${base(inst)}/agents/x2`, { body: { skillGroupIds: ['ghost'] } }),
      404,
      'SkillGroupNotFound',
    );
    expect((await call('GET', `${base(inst)}/agents/x2`)).body).toMatchObject({ skillGroupIds: [] });
  });

  it('refuses a hotline number routed to a skill group that does not exist', async () => {
    expectError(
      await call('POST', `${base(inst)}/hotline-numbers`, {
        body: { number: '4000000001', name: 'Ghost', skillGroupId: 'ghost' },
      }),
      404,
      'SkillGroupNotFound',
    );
  });

  it('does not reach into another instance', async () => {
    await seedInstance('other-owner');
    expectError(await call('GET', `${base(inst)}/agents/1001`), 404, 'AgentNotFound');
    expectError(await call('DELETE', `${base(inst)}/clients/other-owner-client`), 404, 'ApiClientNotFound');
    expect((await call('GET', `${base('other-owner')}/agents/1001`)).status).toBe(200);
  });

  it('answers RouteNotFound for a path that is no admin route', async () => {
    expectError(await call('GET', `${base(inst)}/widgets`), 404, 'RouteNotFound');
  });
});

describe('conflicting writes', () => {
  const inst = 'conflicts';
  beforeAll(async () => {
    await seedInstance(inst);
  });

  it('answer 409 AlreadyExists for a duplicate id', async () => {
    expectError(await call('POST', '/v1/admin/instances', { body: { id: inst, name: 'Twice' } }), 409, 'AlreadyExists');
    expectError(
      await call('POST', `${base(inst)}/agents`, { body: { id: '1001', name: 'Twice' } }),
      409,
      'AlreadyExists',
    );
    expectError(
      await call('POST', `${base(inst)}/skill-groups`, { body: { id: 'sales', name: 'Twice' } }),
      409,
      'AlreadyExists',
    );
    await createOk(`${base(inst)}/number-groups`, { id: 'ng', name: 'NG', numbers: ['02100000000'] });
    expectError(
      await call('POST', `${base(inst)}/number-groups`, { body: { id: 'ng', name: 'NG', numbers: ['02100000001'] } }),
      409,
      'AlreadyExists',
    );
    const label = { 'zh-CN': '培训', en: 'Training' };
    await createOk(`${base(inst)}/break-reasons`, { code: 'training', label });
    expectError(
      await call('POST', `${base(inst)}/break-reasons`, { body: { code: 'training', label } }),
      409,
      'AlreadyExists',
    );
    expectError(
      await call('POST', `${base(inst)}/clients`, { body: { name: 'Twice', clientId: `${inst}-client` } }),
      409,
      'AlreadyExists',
    );
    // The original survives the attempt.
    expect((await call('GET', `${base(inst)}/agents/1001`)).body).toMatchObject({ name: 'Alice' });
  });

  it('answer 409 AlreadyExists for a hotline number another instance already owns', async () => {
    await createOk(`${base(inst)}/hotline-numbers`, { number: '4001112222', name: 'Line', skillGroupId: 'sales' });
    await seedInstance('conflicts-2');
    expectError(
      await call('POST', `${base('conflicts-2')}/hotline-numbers`, {
        body: { number: '4001112222', name: 'Stolen', skillGroupId: 'sales' },
      }),
      409,
      'AlreadyExists',
    );
  });

  it('answer 409 InUse when removing a skill group a hotline number routes to', async () => {
    await createOk(`${base(inst)}/skill-groups`, { id: 'routed', name: 'Routed' });
    await createOk(`${base(inst)}/hotline-numbers`, { number: '4003334444', name: 'Routed', skillGroupId: 'routed' });
    const refused = await call('DELETE', `${base(inst)}/skill-groups/routed`);
    expectError(refused, 409, 'InUse');
    expect(String(refused.body.message)).toContain('4003334444');
    expect((await call('GET', `${base(inst)}/skill-groups/routed`)).status).toBe(200);
    // Once nothing routes to it, it goes.
    expect((await call('DELETE', `${base(inst)}/hotline-numbers/4003334444`)).status).toBe(204);
    expect((await call('DELETE', `${base(inst)}/skill-groups/routed`)).status).toBe(204);
  });
});

describe('malformed requests', () => {
  const inst = 'malformed';
  beforeAll(async () => {
    await seedInstance(inst);
  });

  it('answer 400 ValidationFailed for a wrong type', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/v1/admin/instances', { id: 'typed', name: { text: 'x' } }],
      ['POST', '/v1/admin/instances', { id: 'typed', name: 'T', settings: { acwSeconds: 'soon' } }],
      ['POST', `${base(inst)}/agents`, { id: 'typed', name: 'T', canSeeFullNumbers: 'maybe' }],
      ['PATCH', `${base(inst)}/agents/1001`, { acwSeconds: -1 }],
      ['PATCH', `${base(inst)}/agents/1001`, { skillGroupIds: ['sales', 'sales'] }],
      ['POST', `${base(inst)}/number-groups`, { id: 'ng', name: 'NG', numbers: [] }],
      ['POST', `${base(inst)}/hotline-numbers`, { number: 'not-a-number', name: 'N', skillGroupId: 'sales' }],
      ['POST', `${base(inst)}/clients`, { name: 'Short secret', clientSecret: 'short' }],
      ['POST', `${base(inst)}/skill-groups`, { id: 'bad id with spaces', name: 'S' }],
    ];
    for (const [method, path, body] of cases) {
      const reply = await call(method, path, { body });
      expect({ method, path, status: reply.status, code: reply.body.code }).toEqual({
        method,
        path,
        status: 400,
        code: 'ValidationFailed',
      });
    }
    expectError(await call('GET', `${base(inst)}/agents/typed`), 404, 'AgentNotFound');
  });

  it('answer 400 ValidationFailed for an unknown field, naming it', async () => {
    const reply = await call('POST', `${base(inst)}/skill-groups`, { body: { id: 'extra', name: 'E', colour: 'red' } });
    expectError(reply, 400, 'ValidationFailed');
    expect(JSON.stringify(reply.body.details)).toContain('colour');
    expectError(
      await call('PATCH', `${base(inst)}/agents/1001`, { body: { name: 'A', password: 'x' } }),
      400,
      'ValidationFailed',
    );
    expectError(await call('GET', `${base(inst)}/skill-groups/extra`), 404, 'SkillGroupNotFound');
  });

  it('answer 400 ValidationFailed for an empty PATCH', async () => {
    for (const path of [
      base(inst),
      `${base(inst)}/agents/1001`,
      `${base(inst)}/skill-groups/sales`,
      `${base(inst)}/break-reasons/any`,
    ]) {
      const reply = await call('PATCH', path, { body: {} });
      expect({ path, status: reply.status, code: reply.body.code }).toEqual({
        path,
        status: 400,
        code: 'ValidationFailed',
      });
    }
  });

  it('answer 400 ValidationFailed for a bad path parameter or query', async () => {
    expectError(await call('GET', base('x'.repeat(65))), 400, 'ValidationFailed');
    expectError(await call('GET', `${base(inst)}/agents/1001/history?limit=0`), 400, 'ValidationFailed');
    expectError(await call('GET', `${base(inst)}/agents/1001/history?limit=many`), 400, 'ValidationFailed');
    expectError(await call('GET', `${base(inst)}/agents/1001/history?order=asc`), 400, 'ValidationFailed');
    expectError(
      await call('POST', `${base(inst)}/agents/1001/force-checkout`, { body: { reason: 'x' } }),
      400,
      'ValidationFailed',
    );
  });

  it('answer 400 InvalidJson for a body that is not JSON', async () => {
    expectError(await call('POST', '/v1/admin/instances', { rawBody: '{"id": "broken",' }), 400, 'InvalidJson');
    expectError(await call('PATCH', `${base(inst)}/agents/1001`, { rawBody: 'name=Alice' }), 400, 'InvalidJson');
    expectError(await call('GET', base('broken')), 404, 'InstanceNotFound');
  });
});

describe('an administrator acts on live agents', () => {
  const inst = 'live';
  let clientId: string;
  let clientSecret: string;
  beforeAll(async () => {
    ({ clientId, clientSecret } = await seedInstance(inst));
  });

  async function checkin(agentId: string): Promise<string> {
    const token = await tokenFor(clientId, clientSecret, agentId);
    const reply = await call('POST', '/v1/agent/checkin', { token, body: {} });
    if (reply.status !== 200) throw new Error(`checkin gave ${reply.status}: ${reply.text}`);
    return token;
  }

  it('sees the status of a checked-in agent', async () => {
    await checkin('1001');
    const status = await call('GET', `${base(inst)}/agents/1001/status`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      agentId: '1001',
      status: AgentBarStatus.AgentReady,
      activeSkillGroupIds: ['sales'],
    });
  });

  it('forces an agent out and gets the new snapshot', async () => {
    await checkin('1001');
    const forced = await call('POST', `${base(inst)}/agents/1001/force-checkout`);
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({
      agentId: '1001',
      status: AgentBarStatus.AgentCheckout,
      activeSkillGroupIds: [],
    });
    // Forcing out an agent who is already out is harmless.
    const again = await call('POST', `${base(inst)}/agents/1001/force-checkout`, { body: {} });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: AgentBarStatus.AgentCheckout });
  });

  it('reads the status history newest first, paged with limit and before', async () => {
    await createOk(`${base(inst)}/agents`, { id: 'hist', name: 'Historian', skillGroupIds: ['sales'] });
    await checkin('hist');
    await call('POST', `${base(inst)}/agents/hist/force-checkout`);
    const history = await call('GET', `${base(inst)}/agents/hist/history`);
    expect(history.status).toBe(200);
    const entries = itemsOf(history);
    expect(entries.length).toBeGreaterThanOrEqual(2);
    expect(entries[0]).toMatchObject({ to: AgentBarStatus.AgentCheckout, cmd: 'admin' });
    const times = entries.map((e) => Number(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const one = await call('GET', `${base(inst)}/agents/hist/history?limit=1`);
    expect(itemsOf(one)).toEqual([entries[0]]);
    const older = await call('GET', `${base(inst)}/agents/hist/history?before=${Number(entries[0]?.at)}`);
    expect(older.status).toBe(200);
    expect(itemsOf(older).every((e) => Number(e.at) < Number(entries[0]?.at))).toBe(true);
  });

  it('checks an agent out when it is disabled, and it can no longer get a token', async () => {
    await createOk(`${base(inst)}/agents`, { id: 'dis', name: 'Soon disabled', skillGroupIds: ['sales'] });
    await checkin('dis');
    expect((await call('GET', `${base(inst)}/agents/dis/status`)).body).toMatchObject({
      status: AgentBarStatus.AgentReady,
    });
    const disabled = await call('PATCH', `${base(inst)}/agents/dis`, { body: { enabled: false } });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false });
    expect((await call('GET', `${base(inst)}/agents/dis/status`)).body).toMatchObject({
      status: AgentBarStatus.AgentCheckout,
      activeSkillGroupIds: [],
    });
    expect(itemsOf(await call('GET', `${base(inst)}/agents/dis/history?limit=1`))[0]).toMatchObject({
      cmd: 'agent-disabled',
    });
    const exchange = await call('POST', '/oauth2/token', {
      token: null,
      body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, agent_id: 'dis' },
    });
    expectError(exchange, 403, 'AgentDisabled');
  });
});

describe('the OpenAPI document', () => {
  it('lists every admin path with its methods, tagged admin', async () => {
    const reply = await call('GET', '/openapi.json', { token: null });
    expect(reply.status).toBe(200);
    const paths = reply.body.paths as Record<string, Record<string, { tags?: string[]; summary?: string }>>;
    const expected: Record<string, string[]> = {
      '/v1/admin/instances': ['get', 'post'],
      '/v1/admin/instances/{instanceId}': ['get', 'patch', 'delete'],
      '/v1/admin/instances/{instanceId}/agents': ['get', 'post'],
      '/v1/admin/instances/{instanceId}/agents/{agentId}': ['get', 'patch', 'delete'],
      '/v1/admin/instances/{instanceId}/agents/{agentId}/status': ['get'],
      '/v1/admin/instances/{instanceId}/agents/{agentId}/history': ['get'],
      '/v1/admin/instances/{instanceId}/agents/{agentId}/force-checkout': ['post'],
      '/v1/admin/instances/{instanceId}/skill-groups': ['get', 'post'],
      '/v1/admin/instances/{instanceId}/skill-groups/{skillGroupId}': ['get', 'patch', 'delete'],
      '/v1/admin/instances/{instanceId}/hotline-numbers': ['get', 'post'],
      '/v1/admin/instances/{instanceId}/hotline-numbers/{number}': ['get', 'patch', 'delete'],
      '/v1/admin/instances/{instanceId}/number-groups': ['get', 'post'],
      '/v1/admin/instances/{instanceId}/number-groups/{numberGroupId}': ['get', 'patch', 'delete'],
      '/v1/admin/instances/{instanceId}/break-reasons': ['get', 'post'],
      '/v1/admin/instances/{instanceId}/break-reasons/{code}': ['get', 'patch', 'delete'],
      '/v1/admin/instances/{instanceId}/clients': ['get', 'post'],
      '/v1/admin/instances/{instanceId}/clients/{clientId}': ['delete'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      expect(Object.keys(paths[path] ?? {}).sort(), path).toEqual([...methods].sort());
      for (const method of methods) {
        expect(paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(['admin']);
        expect(paths[path]?.[method]?.summary, `${method} ${path}`).toBeTruthy();
      }
    }
  });
});
