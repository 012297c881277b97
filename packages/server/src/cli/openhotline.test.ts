import { AgentBarStatus } from '@openhotline/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../seed.js';
import { startTestServer, TEST_ADMIN_KEY, type TestServer } from '../test-support/test-server.js';
import { runCli } from './openhotline.js';

type Json = Record<string, unknown>;

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** HTTP requests the command sent. */
  readonly requests: number;
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

/** Runs the CLI in-process against the test server; `env` replaces the default connection flags. */
async function cli(argv: string[], env?: Record<string, string | undefined>): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  let requests = 0;
  const connection = env === undefined ? ['--url', server.url, '--admin-key', TEST_ADMIN_KEY] : [];
  const code = await runCli([...argv, ...connection], {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: env ?? {},
    // Real HTTP; the wrapper only counts, to prove that usage errors send nothing.
    fetch: (input, init) => {
      requests++;
      return fetch(input, init);
    },
  });
  return { code, stdout, stderr, requests };
}

async function cliJson(argv: string[]): Promise<Json> {
  const outcome = await cli(argv);
  if (outcome.code !== 0) throw new Error(`${argv.join(' ')} exited ${outcome.code}: ${outcome.stderr}`);
  return JSON.parse(outcome.stdout) as Json;
}

function itemsOf(json: Json): Json[] {
  if (!Array.isArray(json.items)) throw new Error(`no items in ${JSON.stringify(json)}`);
  return json.items as Json[];
}

describe('an operator configures a running server with the CLI', () => {
  const inst = ['--instance', 'demo'];

  it('creates an instance, groups and an agent, printing JSON', async () => {
    const instance = await cli(['instance', 'create', '--id', 'demo', '--name', 'Demo', '--acw-seconds', '5']);
    expect(instance.code).toBe(0);
    expect(instance.stderr).toBe('');
    expect(JSON.parse(instance.stdout)).toMatchObject({ id: 'demo', name: 'Demo', settings: { acwSeconds: 5 } });

    expect(await cliJson(['skill-group', 'create', ...inst, '--id', 'sales', '--name', 'Sales'])).toMatchObject({
      id: 'sales',
    });
    await cliJson(['skill-group', 'create', ...inst, '--id', 'support', '--name', 'Support']);
    expect(
      await cliJson([
        'number-group',
        'create',
        ...inst,
        '--id',
        'sh',
        '--name',
        'Shanghai',
        '--numbers',
        '02160000001,02160000002',
      ]),
    ).toMatchObject({ id: 'sh', numbers: ['02160000001', '02160000002'] });

    const agent = await cliJson([
      'agent',
      'create',
      ...inst,
      '--id',
      '1001',
      '--name',
      'Alice',
      '--skill-groups',
      'sales,support',
      '--number-groups',
      'sh',
      '--can-see-full-numbers',
    ]);
    expect(agent).toMatchObject({
      instanceId: 'demo',
      id: '1001',
      name: 'Alice',
      skillGroupIds: ['sales', 'support'],
      numberGroupIds: ['sh'],
      canSeeFullNumbers: true,
      acwSeconds: null,
      enabled: true,
    });
    // The server has it, not just the output.
    const stored = server.hotline.directory.getAgent('demo', '1001');
    expect(stored.skillGroupIds).toEqual(['sales', 'support']);
  });

  it('lists as JSON and as a table', async () => {
    const json = await cliJson(['agent', 'list', ...inst]);
    expect(itemsOf(json).map((a) => a.id)).toEqual(['1001']);

    const table = await cli(['agent', 'list', ...inst, '--format', 'table']);
    expect(table.code).toBe(0);
    const [header, row, ...more] = table.stdout.trimEnd().split('\n');
    expect(more).toEqual([]);
    expect(header?.split(/\s{2,}/)).toEqual([
      'instanceId',
      'id',
      'name',
      'departmentId',
      'skillGroupIds',
      'numberGroupIds',
      'canSeeFullNumbers',
      'acwSeconds',
      'enabled',
      'createdAt',
    ]);
    expect(row).toMatch(/^demo\s+1001\s+Alice\s+-?\s*sales,support\s+sh\s+true\s+-\s+true\s+\d{4}-/);
    // Columns line up: each header starts where its values start.
    expect(row?.indexOf('Alice')).toBe(header?.indexOf('name'));

    const groups = await cli(['skill-group', 'list', ...inst, '--format', 'table']);
    expect(groups.stdout.split('\n').filter((l) => l !== '')).toHaveLength(3);
    expect(groups.stdout).toContain('Support');

    const numberGroups = await cli(['number-group', 'list', ...inst, '--format', 'table']);
    expect(numberGroups.stdout).toContain('02160000001,02160000002');

    const none = await cli(['break-reason', 'list', ...inst, '--format', 'table']);
    expect(none).toMatchObject({ code: 0, stdout: '(none)\n' });
  });

  it('shows nested fields as dotted columns and lines up Chinese labels', async () => {
    await cliJson(['break-reason', 'create', ...inst, '--code', 'meal', '--label-zh', '用餐', '--label-en', 'Meal']);
    await cliJson([
      'break-reason',
      'create',
      ...inst,
      '--code',
      'training',
      '--label-zh',
      '培训课程',
      '--label-en',
      'Training',
    ]);
    const table = await cli(['break-reason', 'list', ...inst, '--format', 'table']);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^instanceId\s+code\s+label\.zh-CN\s+label\.en\s+system\s+createdAt$/);
    // 用餐 is four columns wide on a terminal, 培训课程 eight: the next column starts at the same place.
    const enColumn = (line: string, label: string) => {
      const before = line.slice(0, line.indexOf(label));
      return [...before].reduce((w, ch) => w + ((ch.codePointAt(0) ?? 0) > 0x2e80 ? 2 : 1), 0);
    };
    expect(enColumn(lines[1] ?? '', 'Meal')).toBe(enColumn(lines[2] ?? '', 'Training'));
    expect(enColumn(lines[0] ?? '', 'label.en')).toBe(enColumn(lines[1] ?? '', 'Meal'));
  });

  it('changes only what the options name', async () => {
    const updated = await cliJson([
      'agent',
      'update',
      ...inst,
      '--id',
      '1001',
      '--no-can-see-full-numbers',
      '--acw-seconds',
      '30',
    ]);
    expect(updated).toMatchObject({
      name: 'Alice',
      canSeeFullNumbers: false,
      acwSeconds: 30,
      skillGroupIds: ['sales', 'support'],
    });
    expect(
      await cliJson(['agent', 'update', ...inst, '1001', '--skill-groups', 'sales', '--acw-seconds', 'default']),
    ).toMatchObject({
      skillGroupIds: ['sales'],
      acwSeconds: null,
      canSeeFullNumbers: false,
    });
    expect(await cliJson(['instance', 'update', '--id', 'demo', '--ready-on-checkin', 'false'])).toMatchObject({
      name: 'Demo',
      settings: { acwSeconds: 5, readyOnCheckin: false },
    });
    // A one-language label change keeps the other language.
    expect(await cliJson(['break-reason', 'update', ...inst, '--code', 'meal', '--label-en', 'Lunch'])).toMatchObject({
      label: { 'zh-CN': '用餐', en: 'Lunch' },
    });
    expect(await cliJson(['number-group', 'update', ...inst, 'sh', '--numbers', '02160000009'])).toMatchObject({
      name: 'Shanghai',
      numbers: ['02160000009'],
    });
  });

  it('reads one item by flag or by first argument', async () => {
    expect(await cliJson(['agent', 'get', ...inst, '--id', '1001'])).toMatchObject({ id: '1001', name: 'Alice' });
    expect(await cliJson(['agent', 'get', '1001', ...inst])).toMatchObject({ id: '1001' });
    expect(await cliJson(['instance', 'get', 'demo'])).toMatchObject({ id: 'demo' });
  });

  it('manages hotline numbers and removes things silently', async () => {
    expect(
      await cliJson([
        'hotline-number',
        'create',
        ...inst,
        '--number',
        '4008001000',
        '--name',
        'Main',
        '--skill-group',
        'sales',
      ]),
    ).toMatchObject({ number: '4008001000', skillGroupId: 'sales' });
    expect(
      await cliJson(['hotline-number', 'update', ...inst, '--number', '4008001000', '--skill-group', 'support']),
    ).toMatchObject({
      skillGroupId: 'support',
    });
    const inUse = await cli(['skill-group', 'remove', ...inst, '--id', 'support']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/^error InUse: .*4008001000/);

    const removed = await cli(['hotline-number', 'remove', ...inst, '--number', '4008001000']);
    expect(removed).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(itemsOf(await cliJson(['hotline-number', 'list', ...inst]))).toEqual([]);
  });

  it('creates an API client whose credentials get tokens, and never lists its secret', async () => {
    const created = await cliJson([
      'client',
      'create',
      ...inst,
      '--name',
      'CRM',
      '--client-id',
      'crm',
      '--client-secret',
      'crm-secret-0123456789',
    ]);
    expect(created).toMatchObject({ clientId: 'crm', clientSecret: 'crm-secret-0123456789' });
    const list = await cli(['client', 'list', ...inst]);
    expect(itemsOf(JSON.parse(list.stdout) as Json).map((c) => c.clientId)).toEqual(['crm']);
    expect(list.stdout).not.toContain('crm-secret');

    // `token` needs no admin key: the client credentials are the authentication.
    const backend = await cli(['token', '--client-id', 'crm', '--client-secret', 'crm-secret-0123456789'], {
      OPENHOTLINE_URL: server.url,
    });
    expect(backend.code).toBe(0);
    expect(JSON.parse(backend.stdout)).toMatchObject({ token_type: 'Bearer', scope: 'backend' });

    const agent = await cliJson([
      'token',
      '--client-id',
      'crm',
      '--client-secret',
      'crm-secret-0123456789',
      '--agent',
      '1001',
    ]);
    expect(agent).toMatchObject({ token_type: 'Bearer', scope: 'agent' });
    const accessToken = agent.access_token;
    if (typeof accessToken !== 'string') throw new Error('no access_token');
    const me = await fetch(`${server.url}/v1/agent/status`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);

    const wrong = await cli(['token', '--client-id', 'crm', '--client-secret', 'wrong-secret-0123456789']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error InvalidClient: /);

    expect((await cli(['client', 'remove', ...inst, '--client-id', 'crm'])).code).toBe(0);
    const gone = await cli(['token', '--client-id', 'crm', '--client-secret', 'crm-secret-0123456789']);
    expect(gone.stderr).toMatch(/^error InvalidClient: /);
  });

  it("reads and forces an agent's live status", async () => {
    await cliJson([
      'client',
      'create',
      ...inst,
      '--name',
      'Live',
      '--client-id',
      'live',
      '--client-secret',
      'live-secret-0123456789',
    ]);
    const token = await cliJson([
      'token',
      '--client-id',
      'live',
      '--client-secret',
      'live-secret-0123456789',
      '--agent',
      '1001',
    ]);
    const checkin = await fetch(`${server.url}/v1/agent/checkin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${String(token.access_token)}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(checkin.status).toBe(200);

    expect(await cliJson(['agent', 'status', ...inst, '--id', '1001'])).toMatchObject({
      agentId: '1001',
      status: AgentBarStatus.AgentCheckin,
    });
    expect(await cliJson(['agent', 'force-checkout', ...inst, '--id', '1001'])).toMatchObject({
      status: AgentBarStatus.AgentCheckout,
    });
    const history = itemsOf(await cliJson(['agent', 'history', ...inst, '--id', '1001', '--limit', '1']));
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ to: AgentBarStatus.AgentCheckout, cmd: 'admin' });
  });

  it('takes the server and the key from the environment', async () => {
    const outcome = await cli(['instance', 'list'], {
      OPENHOTLINE_URL: `${server.url}/`,
      OPENHOTLINE_ADMIN_KEY: TEST_ADMIN_KEY,
    });
    expect(outcome.code).toBe(0);
    expect(itemsOf(JSON.parse(outcome.stdout) as Json).map((i) => i.id)).toContain('demo');
  });
});

describe('the CLI reports failures', () => {
  it('prints the server error code and exits 1', async () => {
    const outcome = await cli(['agent', 'list', '--instance', 'nope']);
    expect(outcome).toMatchObject({ code: 1, stdout: '' });
    expect(outcome.stderr).toBe('error InstanceNotFound: No instance "nope".\n');

    const invalid = await cli(['skill-group', 'create', '--instance', 'demo', '--id', 'bad id', '--name', 'X']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error ValidationFailed: body\/id /);

    const empty = await cli(['agent', 'update', '--instance', 'demo', '--id', '1001']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^error ValidationFailed: /);
  });

  it('exits 1 on a wrong admin key and on an unreachable server', async () => {
    const wrongKey = await cli(['instance', 'list'], {
      OPENHOTLINE_URL: server.url,
      OPENHOTLINE_ADMIN_KEY: 'wrong-key-0123456789',
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/^error Unauthorized: /);

    const unreachable = await cli(['instance', 'list'], {
      OPENHOTLINE_URL: 'http://127.0.0.1:1',
      OPENHOTLINE_ADMIN_KEY: 'k',
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^error Unreachable: cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it('exits 2 with a usage line on a wrong command line, sending nothing', async () => {
    const cases: [string[], RegExp][] = [
      [[], /no command/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['agent'], /agent needs an action/],
      [['agent', 'fly'], /unknown action "agent fly"/],
      [['agent', 'list'], /--instance is required/],
      [['agent', 'create', '--instance', 'demo', '--name', 'Bob'], /--id is required/],
      [['agent', 'list', '--instance', 'demo', '--colour', 'red'], /colour/],
      [['agent', 'list', '--instance', 'demo', '--numbers', '1'], /--numbers does not apply here/],
      [['agent', 'list', '--instance', 'demo', 'extra'], /unexpected argument "extra"/],
      [['agent', 'list', '--instance', 'demo', '--format', 'xml'], /--format must be json or table/],
      [['agent', 'history', '--instance', 'demo', '--id', '1001', '--limit', 'ten'], /--limit must be an integer/],
      [
        ['agent', 'update', '--instance', 'demo', '--id', '1001', '--enabled', 'maybe'],
        /--enabled must be true or false/,
      ],
      [['break-reason', 'update', '--instance', 'demo', '--code', 'meal'], /--label-zh, --label-en or both/],
    ];
    for (const [argv, message] of cases) {
      const outcome = await cli(argv);
      expect({ argv, code: outcome.code, requests: outcome.requests, stdout: outcome.stdout }).toEqual({
        argv,
        code: 2,
        requests: 0,
        stdout: '',
      });
      expect(outcome.stderr).toMatch(/^error: /);
      expect(outcome.stderr).toMatch(message);
      expect(outcome.stderr).toMatch(/\nusage: openhotline .+\n$/);
    }
  });

  it('exits 2 when no admin key is configured', async () => {
    const outcome = await cli(['instance', 'list'], { OPENHOTLINE_URL: server.url });
    expect(outcome).toMatchObject({ code: 2, requests: 0 });
    expect(outcome.stderr).toMatch(/no admin key/);
  });

  it('prints help on request and exits 0', async () => {
    for (const argv of [['help'], ['--help'], ['agent', 'create', '-h']]) {
      const outcome = await cli(argv);
      expect(outcome.code).toBe(0);
      expect(outcome.stdout).toContain('agent create --instance ID --id ID --name NAME');
      expect(outcome.stdout).toContain('token --client-id ID --client-secret SECRET');
      expect(outcome.requests).toBe(0);
    }
  });
});

describe('an operator drives calls with the CLI', () => {
  // A server of its own with the demo seed: agents 1001-1003, hotline 4008001000 → support. Nobody is checked
  // in with a channel, so every caller waits in the queue until it hangs up.
  let demo: TestServer;
  const inst = ['--instance', 'demo'];
  const run = (argv: string[]) => cli(argv, { OPENHOTLINE_URL: demo.url, OPENHOTLINE_ADMIN_KEY: TEST_ADMIN_KEY });
  const runJson = async (argv: string[]): Promise<Json> => {
    const outcome = await run(argv);
    if (outcome.code !== 0) throw new Error(`${argv.join(' ')} exited ${outcome.code}: ${outcome.stderr}`);
    return JSON.parse(outcome.stdout) as Json;
  };
  const place = async (from: string, ...more: string[]): Promise<string> => {
    const placed = await runJson(['call', 'place', ...inst, '--from', from, '--to', '4008001000', ...more]);
    if (typeof placed.connId !== 'string') throw new Error(`no connId in ${JSON.stringify(placed)}`);
    return placed.connId;
  };

  beforeAll(async () => {
    demo = await startTestServer();
    seedDemo(demo.hotline);
  });

  afterAll(async () => {
    await demo.close();
  });

  it('places a call that waits in the queue, presses keys, hangs it up and finds its record', async () => {
    const connId = await place('13800138000', '--hangup-after', '30');

    const live = itemsOf(await runJson(['call', 'list', ...inst]));
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ connId, direction: 'inbound', ani: '13800138000', dnis: '4008001000' });
    expect(live[0]).toMatchObject({ disposition: 'active', skillGroupId: 'support' });

    const queues = itemsOf(await runJson(['queue', 'list', ...inst]));
    const support = queues.find((q) => q.skillGroupId === 'support');
    expect(support).toMatchObject({ readyAgents: 0, waiting: [{ connId, position: 1, ani: '13800138000' }] });
    const table = await run(['queue', 'list', ...inst, '--format', 'table']);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual(['skillGroupId', 'readyAgents', 'waiting', 'longestWaitMs', 'callers']);
    expect(lines.find((l) => l.startsWith('support'))).toMatch(new RegExp(`^support\\s+0\\s+1\\s+\\d+\\s+${connId}$`));

    expect(await run(['call', 'dtmf', ...inst, '--conn-id', connId, '--digits', '12#'])).toMatchObject({
      code: 0,
      stdout: '',
      stderr: '',
    });
    const hungUp = await run(['call', 'hangup', ...inst, '--conn-id', connId]);
    expect(hungUp).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(itemsOf(await runJson(['call', 'list', ...inst]))).toEqual([]);
    expect(
      itemsOf(await runJson(['queue', 'list', ...inst])).every(
        (q) => Array.isArray(q.waiting) && q.waiting.length === 0,
      ),
    ).toBe(true);

    const abandoned = itemsOf(await runJson(['record', 'list', ...inst, '--disposition', 'abandoned']));
    expect(abandoned.map((r) => r.connId)).toEqual([connId]);
    expect(abandoned[0]).toMatchObject({ releasedBy: 'customer', agentId: '' });
    expect(itemsOf(await runJson(['record', 'list', ...inst, '--disposition', 'answered']))).toEqual([]);

    const record = await runJson(['record', 'get', ...inst, connId]);
    expect(record).toMatchObject({ connId, disposition: 'abandoned' });
    const events = Array.isArray(record.events) ? (record.events as Json[]) : [];
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['offered', 'queued', 'dtmf-received', 'ended']));
    expect(events.find((e) => e.type === 'dtmf-received')).toMatchObject({ detail: '12#' });

    const recordTable = await run(['record', 'get', ...inst, '--conn-id', connId, '--format', 'table']);
    expect(recordTable.stdout).toMatch(
      /^connId\s+direction\s+disposition\s+ani\s+dnis\s+skillGroupId\s+agentId\s+offeredAt/,
    );
    expect(recordTable.stdout).toMatch(
      new RegExp(`${connId}\\s+inbound\\s+abandoned\\s+13800138000\\s+4008001000\\s+support\\s+\\S+\\s+\\d{4}-`),
    );

    // The caller is gone: a second hang-up or key press is the server's CallNotFound.
    const again = await run(['call', 'hangup', ...inst, '--conn-id', connId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error CallNotFound: /);
    const keys = await run(['call', 'dtmf', ...inst, connId, '--digits', '1']);
    expect(keys.stderr).toMatch(/^error CallNotFound: /);
  });

  it('filters records by time and follows the pages with --all', async () => {
    const before = Date.now();
    const connIds: string[] = [];
    for (const from of ['13800000011', '13800000012', '13800000013']) {
      const connId = await place(from);
      connIds.push(connId);
      expect((await run(['call', 'hangup', ...inst, '--conn-id', connId])).code).toBe(0);
    }
    expect(itemsOf(await runJson(['call', 'list', ...inst]))).toEqual([]);
    const newestFirst = [...connIds].reverse();

    const since = ['record', 'list', ...inst, '--from', new Date(before).toISOString()];
    expect(itemsOf(await runJson(since)).map((r) => r.connId)).toEqual(newestFirst);
    expect(itemsOf(await runJson([...since.slice(0, -1), String(before)])).map((r) => r.connId)).toEqual(newestFirst);
    expect(itemsOf(await runJson([...since, '--to', String(before)]))).toEqual([]);

    const first = await runJson([...since, '--limit', '1']);
    expect(itemsOf(first).map((r) => r.connId)).toEqual([newestFirst[0]]);
    expect(typeof first.nextCursor).toBe('string');
    const second = await runJson([...since, '--limit', '1', '--cursor', String(first.nextCursor)]);
    expect(itemsOf(second).map((r) => r.connId)).toEqual([newestFirst[1]]);

    let requests = 0;
    const all = await cli([...since, '--limit', '1', '--all'], {
      OPENHOTLINE_URL: demo.url,
      OPENHOTLINE_ADMIN_KEY: TEST_ADMIN_KEY,
    }).then((outcome) => {
      requests = outcome.requests;
      return JSON.parse(outcome.stdout) as Json;
    });
    expect(all).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(itemsOf(all).map((r) => r.connId)).toEqual(newestFirst);
    // Three pages of one: the last one says there is no more.
    expect(requests).toBe(3);

    expect(itemsOf(await runJson([...since, '--direction', 'outbound']))).toEqual([]);
    expect(itemsOf(await runJson([...since, '--skill-group', 'support', '--direction', 'inbound']))).toHaveLength(3);

    const table = await run([...since, '--format', 'table']);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(4);
    expect(table.stdout).not.toContain('events');
  });

  it('runs a generator of callers who give up, and stops it', async () => {
    const since = String(Date.now());
    const started = await runJson([
      'call',
      'generate',
      ...inst,
      '--to',
      '4008001000',
      '--rate',
      '600',
      '--count',
      '2',
      '--abandon-after',
      '0.2',
    ]);
    expect(started).toEqual({ running: true, placed: 1 });
    // One caller at once, the second 100 ms later; each gives up 200 ms after calling, and the generator stops.
    const abandoned = ['record', 'list', ...inst, '--from', since, '--disposition', 'abandoned'];
    await expect.poll(async () => itemsOf(await runJson(abandoned)).length, { timeout: 5000 }).toBe(2);
    expect(itemsOf(await runJson(['call', 'list', ...inst]))).toEqual([]);
    // The generator stopped itself after --count; stopping again is harmless.
    expect(await runJson(['call', 'stop-generator', ...inst])).toMatchObject({ running: false });

    const endless = await runJson([
      'call',
      'generate',
      ...inst,
      '--to',
      '4008001000',
      '--rate',
      '1',
      '--abandon-after',
      '0',
    ]);
    expect(endless).toEqual({ running: true, placed: 1 });
    expect(await runJson(['call', 'stop-generator', ...inst])).toEqual({ running: false, placed: 1 });

    const unknown = await run(['call', 'generate', ...inst, '--to', '4009999999', '--rate', '60']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error HotlineNumberNotFound: /);
  });

  it("places an outbound call on an agent's behalf with the business fields", async () => {
    demo.hotline.agents.checkin('demo', '1001', {});
    // Ends in 0002: the virtual carrier lets it ring unanswered, so the call stays up for the test.
    const call = await runJson([
      'call',
      'out',
      ...inst,
      '--agent',
      '1001',
      '--number',
      '13912340002',
      '--caller-id',
      '02160000002',
      '--member-id',
      'M42',
      '--member-name',
      'Zhang San',
      '--from-source',
      'ticket_out',
      '--task-id',
      'T7',
      '--channel-id',
      'C1',
      '--case-id',
      'K9',
    ]);
    expect(call).toMatchObject({
      direction: 'outbound',
      state: 'dialing',
      dnis: '13912340002',
      memberId: 'M42',
      memberName: 'Zhang San',
      fromSource: 'ticket_out',
      taskId: 'T7',
      channelId: 'C1',
      caseId: 'K9',
    });
    expect(await runJson(['agent', 'status', ...inst, '--id', '1001'])).toMatchObject({
      status: AgentBarStatus.AgentCallDialOut,
    });
    const busy = await run(['call', 'out', ...inst, '--agent', '1001', '--number', '13912340002']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/^error IllegalTransition: /);

    await runJson(['agent', 'force-checkout', ...inst, '--id', '1001']);
    const record = await runJson(['record', 'get', ...inst, '--conn-id', String(call.connId)]);
    expect(record).toMatchObject({
      direction: 'outbound',
      callerIdUsed: '02160000002',
      memberId: 'M42',
      agentId: '1001',
    });
    expect(record.disposition).not.toBe('active');

    demo.hotline.agents.checkin('demo', '1002', {});
    const wrongId = await run([
      'call',
      'out',
      ...inst,
      '--agent',
      '1002',
      '--number',
      '13912340002',
      '--caller-id',
      '02199999999',
    ]);
    expect(wrongId.code).toBe(1);
    expect(wrongId.stderr).toMatch(/^error CallerIdNotAllowed: /);
    const badSource = await run(['call', 'out', ...inst, '--agent', '1002', '--number', '139', '--from-source', 'crm']);
    expect(badSource.stderr).toMatch(/^error ValidationFailed: /);
  });

  it('refuses wrong call, queue and record command lines without sending anything', async () => {
    const cases: [string[], RegExp][] = [
      [['call', 'place', ...inst, '--from', '13800138000'], /--to is required/],
      [
        ['call', 'place', ...inst, '--to', '4008001000', '--from', '1', '--hangup-after', 'soon'],
        /--hangup-after must be a number/,
      ],
      [['call', 'hangup', ...inst], /--conn-id is required/],
      [['call', 'dtmf', ...inst, '--conn-id', 'c1'], /--digits is required/],
      [['call', 'generate', ...inst, '--to', '4008001000'], /--rate is required/],
      [['call', 'generate', ...inst, '--to', '4008001000', '--rate', 'fast'], /--rate must be a number/],
      [
        ['call', 'generate', ...inst, '--to', '4008001000', '--rate', '6', '--count', '1.5'],
        /--count must be an integer/,
      ],
      [['call', 'out', ...inst, '--number', '139'], /--agent is required/],
      [['call', 'list', ...inst, '--digits', '1'], /--digits does not apply here/],
      [['call', 'ring', ...inst], /unknown action "call ring"/],
      [['queue', 'list'], /--instance is required/],
      [['record', 'list', ...inst, '--from', 'yesterday'], /--from must be an ISO time or epoch milliseconds/],
      [['record', 'list', ...inst, '--limit', 'all'], /--limit must be an integer/],
      [['record', 'get', ...inst], /--conn-id is required/],
    ];
    for (const [argv, message] of cases) {
      const outcome = await run(argv);
      expect({ argv, code: outcome.code, requests: outcome.requests, stdout: outcome.stdout }).toEqual({
        argv,
        code: 2,
        requests: 0,
        stdout: '',
      });
      expect(outcome.stderr).toMatch(message);
      expect(outcome.stderr).toMatch(/\nusage: openhotline .+\n$/);
    }
    const help = await run(['help']);
    for (const line of ['call place --instance ID', 'call out --instance ID --agent ID', 'queue list', 'record list']) {
      expect(help.stdout).toContain(line);
    }
  });
});
