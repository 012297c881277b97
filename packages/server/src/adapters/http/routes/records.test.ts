import type { CallRecord, CallRecordPage, ErrorBody } from '@openhotline/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_INSTANCE_ID, seedDemo } from '../../../seed.js';
import { type ApiResponse, agentToken, api } from '../../../test-support/api.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

/*
 * The records are put straight into storage here because the call service that writes them is being built at
 * the same time; the call scenario tests cover records written by real calls. What these tests pin down is the
 * API over real HTTP: who may read which record, what is masked for whom, filters, paging and errors.
 */

const T = 1_700_000_000_000;
const OTHER_INSTANCE = 'records-other';
const OTHER_CLIENT = { clientId: 'records-other-client', clientSecret: 'records-other-secret-0123' };

function callRecord(connId: string, overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    connId,
    instanceId: DEMO_INSTANCE_ID,
    direction: 'inbound',
    ani: '13812345678',
    dnis: '4008001000',
    callerIdUsed: '',
    skillGroupId: 'support',
    agentId: '',
    agentIds: [],
    disposition: 'answered',
    releasedBy: 'customer',
    releaseReason: '',
    offeredAt: T,
    queuedAt: null,
    ringingAt: null,
    answeredAt: null,
    endedAt: T + 60_000,
    memberId: '',
    memberName: '',
    fromSource: '',
    taskId: '',
    channelId: '',
    caseId: '',
    legs: [],
    events: [],
    recordingUrl: null,
    ...overrides,
  };
}

/** Offered to 1001, who let it ring out, then answered by 1002, who consulted an outside number. */
const shared = callRecord('rec-shared', {
  offeredAt: T + 1,
  agentId: '1002',
  agentIds: ['1001', '1002'],
  answeredAt: T + 20,
  legs: [
    { legId: 'l1', role: 'customer', party: '13812345678', kind: 'virtual', joinedAt: T + 1, leftAt: T + 60_000 },
    { legId: 'l2', role: 'agent', party: '1002', kind: 'agent', joinedAt: T + 20, leftAt: T + 60_000 },
    { legId: 'l3', role: 'third', party: '13987654321', kind: 'sip', joinedAt: T + 30, leftAt: T + 40 },
  ],
  events: [
    { at: T + 1, type: 'offered', agentId: '', detail: '' },
    { at: T + 2, type: 'ringing', agentId: '1001', detail: '' },
    { at: T + 30, type: 'consult-started', agentId: '1002', detail: 'number 13987654321' },
  ],
});
/** 1001's outbound call: the customer is the callee. */
const outbound = callRecord('rec-out', {
  direction: 'outbound',
  offeredAt: T + 2,
  ani: '02160000001',
  dnis: '13912345678',
  callerIdUsed: '02160000001',
  skillGroupId: '',
  agentId: '1001',
  agentIds: ['1001'],
  disposition: 'no-answer',
  releasedBy: 'system',
});
/** Offered to 1003 only; the caller gave up. */
const abandoned = callRecord('rec-abandoned', {
  offeredAt: T + 3,
  skillGroupId: 'sales',
  agentIds: ['1003'],
  disposition: 'abandoned',
});
/** Nine more of 1001's answered sales calls, so its list spans pages. */
const bulk = Array.from({ length: 9 }, (_, n) =>
  callRecord(`rec-bulk-${n}`, {
    offeredAt: T + 1_000 + Math.floor(n / 3),
    skillGroupId: 'sales',
    agentId: '1001',
    agentIds: ['1001'],
  }),
);
/** Same connId and agent id, another instance: must never show in the demo instance. */
const foreign = callRecord('rec-shared', { instanceId: OTHER_INSTANCE, agentId: '1001', agentIds: ['1001'] });

let server: TestServer;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer();
  seedDemo(server.hotline);
  const { directory, storage } = server.hotline;
  directory.createInstance({ id: OTHER_INSTANCE, name: 'Other' });
  directory.createAgent(OTHER_INSTANCE, { id: '1001', name: 'Other 1001' });
  directory.createApiClient(OTHER_INSTANCE, { name: 'Other backend', ...OTHER_CLIENT });
  for (const record of [shared, outbound, abandoned, ...bulk, foreign]) storage.callRecords.put(record);

  for (const agentId of ['1001', '1002', '1003']) tokens[agentId] = await agentToken(server, agentId);
  tokens.demoBackend = await backendToken({ clientId: 'demo-client', clientSecret: 'demo-secret-change-me' });
  tokens.otherBackend = await backendToken(OTHER_CLIENT);
});
afterAll(() => server.close());

async function backendToken(client: { clientId: string; clientSecret: string }): Promise<string> {
  const { status, body } = await api<{ access_token: string }>(server, 'POST', '/oauth2/token', {
    body: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
  });
  if (status !== 200) throw new Error(`backend token exchange failed: ${status}`);
  return body.access_token;
}

const ADMIN_RECORDS = `/v1/admin/instances/${DEMO_INSTANCE_ID}/records`;

function asAgent<T = CallRecordPage>(agentId: string, path: string): Promise<ApiResponse<T>> {
  return api<T>(server, 'GET', path, { token: tokens[agentId]! });
}
function asAdmin<T = CallRecordPage>(path: string, token = server.adminKey): Promise<ApiResponse<T>> {
  return api<T>(server, 'GET', path, { token });
}
const idsOf = (response: ApiResponse<CallRecordPage>) => response.body.items.map((r) => r.connId);

function expectError(response: ApiResponse<unknown>, status: number, code: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect((response.body as ErrorBody).code).toBe(code);
}

/** Follows nextCursor to the end and returns every page's connIds. */
async function pageThrough(read: (cursor: string | undefined) => Promise<ApiResponse<CallRecordPage>>) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const response = await read(cursor);
    expect(response.status).toBe(200);
    pages.push(idsOf(response));
    cursor = response.body.nextCursor ?? undefined;
    if (pages.length > 20) throw new Error('pagination does not end');
  } while (cursor);
  return pages;
}

describe('an agent reads the calls it was on, with numbers masked unless it may see them', () => {
  it('1002 (canSeeFullNumbers false) sees its one call masked, agent ids and the caller id in clear', async () => {
    const list = await asAgent('1002', '/v1/agent/records');
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    expect(idsOf(list)).toEqual(['rec-shared']);
    const [record] = list.body.items;
    // Inbound: the caller is masked, the hotline it dialled is the company's own number.
    expect(record).toMatchObject({ ani: '138****5678', dnis: '4008001000', agentId: '1002' });
    expect(record?.agentIds).toEqual(['1001', '1002']);
    expect(record?.legs.map((l) => l.party)).toEqual(['138****5678', '1002', '139****4321']);
    expect(record?.events.map((e) => e.detail)).toEqual(['', '', 'number 139****4321']);

    const one = await asAgent<CallRecord>('1002', '/v1/agent/records/rec-shared');
    expect(one.status).toBe(200);
    expect(one.body).toEqual(record);
  });

  it('1001 (canSeeFullNumbers true) sees its calls in full, the outbound one included', async () => {
    const list = await asAgent('1001', '/v1/agent/records?limit=100');
    expect(list.status).toBe(200);
    expect(idsOf(list)).toEqual([...bulk.map((r) => r.connId).reverse(), 'rec-out', 'rec-shared']);
    expect(list.body.items.find((r) => r.connId === 'rec-shared')).toEqual(shared);
    const out = await asAgent<CallRecord>('1001', '/v1/agent/records/rec-out');
    expect(out.body).toEqual(outbound);
  });

  it('masks the callee of an outbound call but keeps the caller id the company used, in ani too', async () => {
    const { directory } = server.hotline;
    directory.updateAgent(DEMO_INSTANCE_ID, '1001', { canSeeFullNumbers: false });
    try {
      const out = await asAgent<CallRecord>('1001', '/v1/agent/records/rec-out');
      expect(out.body).toMatchObject({ dnis: '139****5678', callerIdUsed: '02160000001', ani: '02160000001' });
    } finally {
      directory.updateAgent(DEMO_INSTANCE_ID, '1001', { canSeeFullNumbers: true });
    }
    // The permission is read at each request, so the change back applies at once, with the same token.
    expect((await asAgent<CallRecord>('1001', '/v1/agent/records/rec-out')).body.dnis).toBe('13912345678');
  });

  it('the admin key and the instance backend read the same records unmasked', async () => {
    for (const token of [server.adminKey, tokens.demoBackend!]) {
      const one = await asAdmin<CallRecord>(`${ADMIN_RECORDS}/rec-shared`, token);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(shared);
      const list = await asAdmin(`${ADMIN_RECORDS}?limit=500`, token);
      expect(idsOf(list)).toEqual([...bulk.map((r) => r.connId).reverse(), 'rec-abandoned', 'rec-out', 'rec-shared']);
      expect(list.body.items.find((r) => r.connId === 'rec-out')).toEqual(outbound);
    }
  });
});

describe('an agent cannot read calls it was not on', () => {
  it('answers another agent’s record exactly like an unknown one', async () => {
    const others = await asAgent('1002', '/v1/agent/records/rec-out');
    const unknown = await asAgent('1002', '/v1/agent/records/no-such-call');
    expectError(others, 404, 'CallRecordNotFound');
    expectError(unknown, 404, 'CallRecordNotFound');
    expect(others.body).toMatchObject({ message: 'No call record "rec-out".' });
    expectError(await asAgent('1003', '/v1/agent/records/rec-shared'), 404, 'CallRecordNotFound');
  });

  it('lists only its own calls and refuses to be asked for another agent’s', async () => {
    expect(idsOf(await asAgent('1003', '/v1/agent/records'))).toEqual(['rec-abandoned']);
    expectError(await asAgent('1002', '/v1/agent/records?agentId=1001'), 400, 'ValidationFailed');
  });

  it('never sees a record of another instance, even with the same agent id and connId', async () => {
    const list = await asAgent('1001', '/v1/agent/records?limit=500');
    expect(list.body.items.every((r) => r.instanceId === DEMO_INSTANCE_ID)).toBe(true);
    const other = await asAdmin<CallRecord>(`/v1/admin/instances/${OTHER_INSTANCE}/records/rec-shared`);
    expect(other.body).toEqual(foreign);
    expect(idsOf(await asAdmin(`/v1/admin/instances/${OTHER_INSTANCE}/records`, tokens.otherBackend))).toEqual([
      'rec-shared',
    ]);
  });
});

describe('filters', () => {
  it.each([
    ['direction=outbound', ['rec-out']],
    ['agentId=1003', ['rec-abandoned']],
    ['agentId=1002', ['rec-shared']],
    ['skillGroupId=support', ['rec-shared']],
    ['disposition=abandoned', ['rec-abandoned']],
    ['disposition=active', []],
    [`from=${T + 2}&to=${T + 4}`, ['rec-abandoned', 'rec-out']],
    [`skillGroupId=sales&to=${T + 1_001}`, ['rec-bulk-2', 'rec-bulk-1', 'rec-bulk-0', 'rec-abandoned']],
  ])('the admin list with %s', async (query, expected) => {
    const response = await asAdmin(`${ADMIN_RECORDS}?${query}`);
    expect(response.status).toBe(200);
    expect(idsOf(response)).toEqual(expected);
  });

  it('apply to the agent list within the agent’s own calls', async () => {
    expect(idsOf(await asAgent('1001', '/v1/agent/records?direction=outbound'))).toEqual(['rec-out']);
    expect(idsOf(await asAgent('1001', '/v1/agent/records?skillGroupId=support'))).toEqual(['rec-shared']);
    expect(idsOf(await asAgent('1002', '/v1/agent/records?direction=outbound'))).toEqual([]);
  });

  it('refuse values outside the schema', async () => {
    expectError(await asAdmin(`${ADMIN_RECORDS}?direction=sideways`), 400, 'ValidationFailed');
    expectError(await asAdmin(`${ADMIN_RECORDS}?disposition=lost`), 400, 'ValidationFailed');
    expectError(await asAdmin(`${ADMIN_RECORDS}?limit=0`), 400, 'ValidationFailed');
    expectError(await asAdmin(`${ADMIN_RECORDS}?limit=501`), 400, 'ValidationFailed');
    expectError(await asAdmin(`${ADMIN_RECORDS}?from=yesterday`), 400, 'ValidationFailed');
    expectError(await asAdmin(`${ADMIN_RECORDS}?colour=red`), 400, 'ValidationFailed');
  });
});

describe('pagination', () => {
  it('pages the admin list newest first with no duplicates or gaps', async () => {
    const everything = idsOf(await asAdmin(`${ADMIN_RECORDS}?limit=500`));
    expect(everything).toHaveLength(12);
    const pages = await pageThrough((cursor) =>
      asAdmin(`${ADMIN_RECORDS}?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    );
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
    expect(pages.flat()).toEqual(everything);
  });

  it('pages the agent list the same way', async () => {
    const everything = idsOf(await asAgent('1001', '/v1/agent/records?limit=500'));
    expect(everything).toHaveLength(11);
    const pages = await pageThrough((cursor) =>
      asAgent('1001', `/v1/agent/records?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    );
    expect(pages.map((p) => p.length)).toEqual([4, 4, 3]);
    expect(pages.flat()).toEqual(everything);
  });

  it('defaults to 50 per page', async () => {
    const response = await asAdmin(ADMIN_RECORDS);
    expect(response.body.items).toHaveLength(12);
    expect(response.body.nextCursor).toBeNull();
  });

  it('answers a cursor it did not hand out with 400 ValidationFailed', async () => {
    const forged = Buffer.from('not-a-time:rec-out').toString('base64url');
    for (const cursor of ['garbage!', forged, '']) {
      const query = `cursor=${encodeURIComponent(cursor)}`;
      const admin = await asAdmin(`${ADMIN_RECORDS}?${query}`);
      expectError(admin, 400, 'ValidationFailed');
      expect((admin.body as unknown as ErrorBody).message).toBe('cursor is not valid');
      expectError(await asAgent('1001', `/v1/agent/records?${query}`), 400, 'ValidationFailed');
    }
  });
});

describe('who may call the records API', () => {
  it('a backend token of another instance is forbidden, on the list and on one record', async () => {
    expectError(await asAdmin(ADMIN_RECORDS, tokens.otherBackend), 403, 'Forbidden');
    expectError(await asAdmin(`${ADMIN_RECORDS}/rec-shared`, tokens.otherBackend), 403, 'Forbidden');
    // Even for an instance that does not exist: a backend token cannot probe instance ids.
    expectError(await asAdmin('/v1/admin/instances/no-such/records', tokens.otherBackend), 403, 'Forbidden');
  });

  it('an agent token cannot use the admin routes, and the admin key not the agent ones', async () => {
    expectError(await asAdmin(ADMIN_RECORDS, tokens['1001']), 403, 'Forbidden');
    expectError(await asAdmin('/v1/agent/records'), 403, 'Forbidden');
    expectError(await asAdmin('/v1/agent/records', tokens.demoBackend), 403, 'Forbidden');
  });

  it('no token is 401 on both', async () => {
    expectError(await api(server, 'GET', ADMIN_RECORDS), 401, 'Unauthorized');
    expectError(await api(server, 'GET', '/v1/agent/records/rec-shared'), 401, 'Unauthorized');
  });

  it('the admin key learns that an instance or a record does not exist', async () => {
    expectError(await asAdmin('/v1/admin/instances/no-such/records'), 404, 'InstanceNotFound');
    expectError(await asAdmin('/v1/admin/instances/no-such/records/rec-shared'), 404, 'InstanceNotFound');
    expectError(await asAdmin(`${ADMIN_RECORDS}/no-such-call`), 404, 'CallRecordNotFound');
  });

  it('an agent token must match the X-Instance-Id it is sent with', async () => {
    const response = await api(server, 'GET', '/v1/agent/records', {
      token: tokens['1001']!,
      headers: { 'x-instance-id': OTHER_INSTANCE },
    });
    expectError(response, 403, 'InstanceMismatch');
  });
});
