import { CHANNEL_PATH, ClientFrameSchema, ERROR_CATALOGUE, isErrorCode } from '@openhotline/protocol';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_CLIENT, seedDemo } from '../../seed.js';
import { ManualClock } from '../../services/clock.js';
import { TokenService } from '../../services/token-service.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

/**
 * Throws a few thousand random and malformed requests and channel frames at the real server and checks the
 * promise of the error handler: nothing is a 5xx, every refusal is a JSON body with a catalogue code, every
 * channel frame is one of the protocol's frames, and the server still works afterwards.
 *
 * The inputs are sampled with a fixed seed so a failure reproduces; change FUZZ_SEED to explore further. A
 * failing run prints one shrunk request per kind of violation.
 */
const FUZZ_SEED = 0x5eed_0e11;
const HTTP_REQUESTS = 3000;
const WS_FRAMES = 2000;
const CONCURRENCY = 8;
const JWT_SECRET = 'fuzz-jwt-secret-0123456789-abcdefghijklmnop';
const REQUEST_TIMEOUT_MS = 15_000;
const FRAME_TIMEOUT_MS = 10_000;
const SERVER_FRAME_TYPES = new Set(['hello', 'notify', 'snapshot', 'pong', 'error']);

let server: TestServer;
/** Bearer credentials the generators mix in, made against the running server in beforeAll. */
let creds: {
  agent1001: string;
  agent1002: string;
  agent1003: string;
  backend: string;
  expired: string;
  forged: string;
  admin: string;
};

async function issueToken(agentId?: string): Promise<string> {
  const response = await fetch(`${server.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: DEMO_CLIENT.clientId,
      client_secret: DEMO_CLIENT.clientSecret,
      ...(agentId !== undefined ? { agent_id: agentId } : {}),
    }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

/** Tokens the HTTP API cannot issue on demand: signed with the server's key an hour ago, or with another key. */
async function craftedToken(secret: string, issuedAt: number): Promise<string> {
  const tokens = new TokenService({
    storage: server.hotline.storage,
    clock: new ManualClock(issuedAt),
    secret: new TextEncoder().encode(secret),
    maxTtlSeconds: 60,
    adminKey: server.adminKey,
  });
  return (
    await tokens.issue({
      grant_type: 'client_credentials',
      client_id: DEMO_CLIENT.clientId,
      client_secret: DEMO_CLIENT.clientSecret,
      agent_id: '1001',
    })
  ).access_token;
}

beforeAll(async () => {
  server = await startTestServer({ jwtSecret: JWT_SECRET });
  seedDemo(server.hotline);
  creds = {
    agent1001: await issueToken('1001'),
    agent1002: await issueToken('1002'),
    agent1003: await issueToken('1003'),
    backend: await issueToken(),
    expired: await craftedToken(JWT_SECRET, Date.now() - 3_600_000),
    forged: await craftedToken('another-secret-that-the-server-never-saw-0123', Date.now()),
    admin: server.adminKey,
  };
});

afterAll(async () => {
  await server?.close();
});

// ---------------------------------------------------------------- HTTP ----------------------------------------

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Catalogue codes the server answered with, to check that the fuzz reached past the front door. */
const seenCodes = new Set<string>();

interface Violation {
  /** What went wrong, without the specifics of one request, so that equal failures group together. */
  readonly kind: string;
  readonly detail: string;
}

/** Printable ASCII: what any HTTP client can put in a header value. */
const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

const ROUTE_PREFIXES = [
  '/',
  '/v1',
  '/v1/',
  '/v1/agent/',
  '/v1/agent/me',
  '/v1/agent/status',
  '/v1/agent/checkin',
  '/v1/agent/checkout',
  '/v1/agent/ready',
  '/v1/agent/break',
  '/v1/agent/settings',
  '/v1/agent/history',
  CHANNEL_PATH,
  '/v1/admin/',
  '/v1/admin/instances',
  '/v1/admin/instances/demo',
  '/v1/admin/instances/demo/agents',
  '/v1/admin/instances/demo/agents/1001',
  '/oauth2/token',
  '/healthz',
  '/metrics',
  '/openapi.json',
  '/docs',
  '/docs/static/',
];

const segmentArb = fc.oneof(
  { weight: 4, arbitrary: fc.webSegment() },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '..%2f..%2fetc%2fpasswd',
      '..\\..\\windows',
      '%2F',
      '%00',
      '%zz',
      '%',
      '%%41',
      '%c0%ae%c0%ae',
      '%E0%A4%A',
      '%ff%fe',
      ';jsessionid=1',
      '*',
      'me',
      'checkin',
      'demo',
      '1001',
      'agents',
      'instances',
    ),
  },
  // Unicode: fetch percent-encodes it, the server must decode it.
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 2, arbitrary: printable(16) },
  // Very long segments; a few add up past Node's 16 KiB header limit.
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 6000 }).map((n) => 'a'.repeat(n)) },
);

const queryArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '?limit=abc',
      '?limit=0',
      '?limit=1&limit=2',
      '?limit=100000000000000000000000',
      '?before=1e400',
      '?before=-Infinity',
      '?%zz=%zz',
      '?a[b]=1',
      '?access_token=x',
      '?__proto__[x]=1',
    ),
  },
  { weight: 1, arbitrary: printable(30).map((q) => `?${q}`) },
);

/** The routes that take bodies and credentials get more of the traffic than the rest of the map. */
const prefixArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ROUTE_PREFIXES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('/oauth2/token', '/v1/agent/checkin', '/v1/agent/break', '/v1/agent/settings'),
  },
);

const pathArb = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(prefixArb, queryArb).map(([p, q]) => p + q) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(prefixArb, fc.array(segmentArb, { minLength: 1, maxLength: 4 }), queryArb)
      .map(([p, segments, q]) => `${p}${p.endsWith('/') ? '' : '/'}${segments.join('/')}${q}`),
  },
);

const methodArb = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE') },
  { weight: 3, arbitrary: fc.constantFrom('HEAD', 'OPTIONS') },
  // Methods Node's parser knows but no route has, and ones it does not know at all.
  { weight: 1, arbitrary: fc.constantFrom('PROPFIND', 'SEARCH', 'PURGE', 'BREW', 'patch') },
);

const KNOWN_FIELDS = [
  'grant_type',
  'client_id',
  'client_secret',
  'agent_id',
  'expires_in',
  'skillGroupIds',
  'acwSeconds',
  'reasonCode',
  'name',
  'id',
  'settings',
  'enabled',
  'numbers',
  '__proto__',
  'constructor',
] as const;

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

const contentTypeArb = fc.oneof(
  fc.constantFrom(
    JSON_TYPE,
    `${JSON_TYPE}; charset=utf-8`,
    `${JSON_TYPE}; charset=utf-16`,
    FORM_TYPE,
    'text/plain',
    'text/html',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'application/json, text/plain',
    '',
    '*/*',
  ),
  printable(30),
);

/** A body and the content type it goes with: usually the matching one, sometimes any. */
const withType = (body: fc.Arbitrary<string>, matching: string) =>
  fc.tuple(body, fc.oneof({ weight: 3, arbitrary: fc.constant(matching) }, { weight: 1, arbitrary: contentTypeArb }));

const formValueArb = fc.oneof(
  printable(20),
  fc.constantFrom('client_credentials', 'password', DEMO_CLIENT.clientId, '%zz', '%', '1001', '0', '99999999', ''),
);

const bodyArb: fc.Arbitrary<[string, string] | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  // Malformed JSON.
  {
    weight: 4,
    arbitrary: withType(
      fc.oneof(
        fc.constantFrom(
          '{',
          '}',
          '{"a":',
          '[1,2',
          'nul',
          'tru',
          '{"a":1,}',
          "{'a':1}",
          '\u0000',
          '{"a":"\\x"}',
          '{"a":1}{"b":2}',
          '\ufeff{}',
          '',
          ' ',
          'NaN',
          '1e999',
          '"unterminated',
          '{"__proto__":{"admin":true}}',
          '{"constructor":{"prototype":{"admin":true}}}',
        ),
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
      ),
      JSON_TYPE,
    ),
  },
  // Well-formed JSON of any shape, and known fields with values of the wrong type.
  { weight: 3, arbitrary: withType(fc.json({ maxDepth: 4 }), JSON_TYPE) },
  {
    weight: 4,
    arbitrary: withType(
      fc
        .dictionary(fc.oneof(fc.constantFrom(...KNOWN_FIELDS), printable(10)), fc.jsonValue({ maxDepth: 3 }), {
          maxKeys: 5,
        })
        .map((o) => JSON.stringify(o)),
      JSON_TYPE,
    ),
  },
  // Nearly valid agent actions.
  {
    weight: 3,
    arbitrary: withType(
      fc
        .record(
          {
            skillGroupIds: fc.array(fc.constantFrom('support', 'sales', 'nope', ''), { maxLength: 3 }),
            acwSeconds: fc.integer({ min: -5, max: 4000 }),
            reasonCode: fc.constantFrom('rest', 'meal', 'ringTimeout', 'nope', ''),
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
      JSON_TYPE,
    ),
  },
  // Form bodies (the token route takes them) with junk keys and values.
  {
    weight: 4,
    arbitrary: withType(
      fc
        .array(fc.tuple(fc.oneof(fc.constantFrom(...KNOWN_FIELDS), printable(8)), formValueArb), { maxLength: 6 })
        .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')),
      FORM_TYPE,
    ),
  },
  // Token requests that get as far as the secret check. Rare on purpose: that check costs tens of ms.
  {
    weight: 1,
    arbitrary: withType(
      fc
        .tuple(printable(20), fc.option(formValueArb, { nil: undefined }), fc.option(formValueArb, { nil: undefined }))
        .map(
          ([secret, agent, expires]) =>
            `grant_type=client_credentials&client_id=${DEMO_CLIENT.clientId}&client_secret=${encodeURIComponent(secret)}` +
            (agent !== undefined ? `&agent_id=${agent}` : '') +
            (expires !== undefined ? `&expires_in=${expires}` : ''),
        ),
      FORM_TYPE,
    ),
  },
  // Deeply nested JSON, some of it also over the body limit.
  {
    weight: 1,
    arbitrary: withType(
      fc
        .tuple(fc.integer({ min: 100, max: 30_000 }), fc.boolean())
        .map(([depth, array]) =>
          array ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
        ),
      JSON_TYPE,
    ),
  },
  // Over the 64 KiB body limit.
  {
    weight: 1,
    arbitrary: withType(
      fc
        .tuple(fc.integer({ min: 65_537, max: 120_000 }), fc.boolean())
        .map(([n, json]) => (json ? JSON.stringify({ name: 'x'.repeat(n) }) : 'x'.repeat(n))),
      JSON_TYPE,
    ),
  },
);

function authorizationArb(): fc.Arbitrary<string> {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const basicPart = fc.oneof(
    printable(12),
    fc.constantFrom(DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret, '%', '%zz', '%E0%A4%A', '%41', ''),
  );
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(
        `Bearer ${creds.agent1001}`,
        `Bearer ${creds.agent1002}`,
        `bearer   ${creds.agent1003}  `,
        `Bearer ${creds.backend}`,
        `Bearer ${creds.expired}`,
        `Bearer ${creds.forged}`,
        `Bearer ${creds.agent1001.slice(0, -3)}abc`,
        `Bearer ${creds.agent1001} trailing`,
        `Bearer ${creds.admin}x`,
        `Bearer ${creds.admin.slice(0, -1)}`,
        'Bearer ohk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        'Bearer admin',
        'Bearer',
        'Bearer ',
        'Bearer a.b.c',
        'Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzY29wZSI6ImFnZW50In0.',
        basic(DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret),
        basic(DEMO_CLIENT.clientId, 'wrong'),
        'Basic',
        'Basic !!!',
        'Digest username="x"',
      ),
    },
    { weight: 2, arbitrary: printable(40).map((s) => `Bearer ${s}`) },
    { weight: 1, arbitrary: printable(40) },
    // Basic credentials with junk, percent escapes included (RFC 6749 form-encodes the two parts).
    { weight: 2, arbitrary: fc.tuple(basicPart, basicPart).map(([u, p]) => basic(u, p)) },
  );
}

/**
 * The token exchange is the one route anyone may call, so a tenth of the traffic knows its grammar: the fields
 * of the body (as JSON or a form), each right, missing or junk, and client credentials in a Basic header.
 */
function tokenRequestArb(): fc.Arbitrary<FuzzRequest> {
  const field = <T>(good: fc.Arbitrary<T>) =>
    fc.option(fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }), {
      nil: undefined,
    });
  const fields = fc.record({
    grant_type: field(fc.constantFrom('client_credentials', 'password', 'authorization_code', '')),
    client_id: field(fc.oneof(fc.constant(DEMO_CLIENT.clientId), printable(20))),
    client_secret: field(fc.oneof(fc.constant(DEMO_CLIENT.clientSecret), printable(30))),
    agent_id: field(fc.constantFrom('1001', '1002', 'nope', '../1001', '', 'a'.repeat(65))),
    expires_in: field(fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.constantFrom('60', '1e3', '0x10'))),
  });
  return fc
    .record({
      fields,
      form: fc.boolean(),
      authorization: fc.option(authorizationArb(), { nil: undefined }),
      contentType: fc.option(contentTypeArb, { nil: undefined, freq: 5 }),
    })
    .map(({ fields: f, form, authorization, contentType }) => {
      const present = Object.entries(f).filter(([, v]) => v !== undefined);
      const body = form
        ? present.map(([k, v]) => `${k}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`).join('&')
        : JSON.stringify(Object.fromEntries(present));
      const headers: Record<string, string> = { 'content-type': contentType ?? (form ? FORM_TYPE : JSON_TYPE) };
      if (authorization !== undefined) headers.authorization = authorization;
      return { method: 'POST', path: '/oauth2/token', headers, body };
    });
}

/** Agent actions with a good token, so that the fuzz also reaches the agent service and its state machine. */
function agentRequestArb(): fc.Arbitrary<FuzzRequest> {
  const mostly = <T>(good: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });
  const fieldArbs = {
    skillGroupIds: mostly(fc.uniqueArray(fc.constantFrom('support', 'sales', 'nope'), { maxLength: 3 })),
    acwSeconds: mostly(fc.integer({ min: -5, max: 4000 })),
    reasonCode: mostly(fc.constantFrom('rest', 'meal', 'ringTimeout', 'nope', '')),
  };
  type Field = keyof typeof fieldArbs;
  const routes: readonly (readonly [string, string, readonly Field[]])[] = [
    ['POST', '/v1/agent/checkin', ['skillGroupIds', 'acwSeconds']],
    ['POST', '/v1/agent/checkout', []],
    ['POST', '/v1/agent/ready', []],
    ['POST', '/v1/agent/break', ['reasonCode']],
    ['PUT', '/v1/agent/settings', ['acwSeconds']],
    ['GET', '/v1/agent/me', []],
    ['GET', '/v1/agent/status', []],
    ['GET', '/v1/agent/history', []],
  ];
  return fc
    .record({
      route: fc.constantFrom(...routes),
      values: fc.record(fieldArbs),
      present: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      extra: fc.option(fc.tuple(fc.constantFrom(...KNOWN_FIELDS), fc.jsonValue({ maxDepth: 1 })), {
        nil: undefined,
        freq: 5,
      }),
      noBody: fc.boolean(),
      token: fc.constantFrom(creds.agent1001, creds.agent1002, creds.agent1003),
      instanceId: fc.option(fc.constantFrom('demo', 'other'), { nil: undefined, freq: 4 }),
      query: queryArb,
    })
    .map(({ route: [method, path, fields], values, present, extra, noBody, token, instanceId, query }) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (instanceId !== undefined) headers['x-instance-id'] = instanceId;
      if (method === 'GET' || (noBody && fields.length === 0)) return { method, path: path + query, headers };
      const body: Record<string, unknown> = {};
      fields.forEach((field, i) => {
        if (fields.length === 1 || present[i]) body[field] = values[field];
      });
      if (extra !== undefined) body[extra[0]] = extra[1];
      headers['content-type'] = JSON_TYPE;
      return { method, path: path + query, headers, body: JSON.stringify(body) };
    });
}

function requestArb(): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { weight: 8, arbitrary: anyRequestArb() },
    { weight: 1, arbitrary: tokenRequestArb() },
    { weight: 1, arbitrary: agentRequestArb() },
  );
}

function anyRequestArb(): fc.Arbitrary<FuzzRequest> {
  return fc
    .record(
      {
        method: methodArb,
        path: pathArb,
        authorization: fc.option(authorizationArb(), { nil: undefined, freq: 3 }),
        // The admin key on reads only: a random write with it could delete the demo data mid-run.
        realAdmin: fc.boolean(),
        instanceId: fc.option(fc.oneof(fc.constantFrom('demo', 'other', ''), printable(20)), { nil: undefined }),
        origin: fc.option(fc.constantFrom('http://localhost:3000', 'null', 'https://evil.example'), {
          nil: undefined,
          freq: 4,
        }),
        preflight: fc.option(fc.constantFrom('GET', 'POST', 'DELETE', 'BREW'), { nil: undefined, freq: 4 }),
        accept: fc.option(fc.constantFrom('application/json', 'text/html', '*/*', 'garbage/;;'), {
          nil: undefined,
          freq: 4,
        }),
        extra: fc.option(fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), printable(60)), {
          nil: undefined,
          freq: 4,
        }),
        body: bodyArb,
      },
      { requiredKeys: ['method', 'path', 'realAdmin', 'body'] },
    )
    .map((r) => {
      const headers: Record<string, string> = {};
      const readOnly = r.method === 'GET' || r.method === 'HEAD';
      // A backend token administers its instance: it too must not update or remove the demo data mid-run.
      const destructive = r.method === 'PUT' || r.method === 'PATCH' || r.method === 'DELETE';
      if (r.realAdmin && readOnly) headers.authorization = `Bearer ${creds.admin}`;
      else if (r.authorization !== undefined && !(destructive && r.authorization === `Bearer ${creds.backend}`)) {
        headers.authorization = r.authorization;
      }
      if (r.instanceId !== undefined) headers['x-instance-id'] = r.instanceId;
      if (r.origin !== undefined) headers.origin = r.origin;
      if (r.preflight !== undefined) headers['access-control-request-method'] = r.preflight;
      if (r.accept !== undefined) headers.accept = r.accept;
      if (r.extra !== undefined) headers[r.extra[0]] = r.extra[1];
      // fetch refuses a body on GET and HEAD.
      if (r.body === undefined || readOnly) return { method: r.method, path: r.path, headers };
      const [body, contentType] = r.body;
      headers['content-type'] = contentType;
      return { method: r.method, path: r.path, headers, body };
    });
}

/**
 * Sends one request and judges the answer: a violation, undefined when all is well, or 'unsent' when the client
 * itself refused to send it (not the server's business). Codes of good refusals go to `seenCodes`.
 */
async function send(request: FuzzRequest): Promise<Violation | undefined | 'unsent'> {
  let response: Response;
  try {
    response = await fetch(`${server.url}${request.path}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    // A TypeError without a cause is fetch refusing the request before sending it (an invalid URL or header).
    if (error instanceof TypeError && error.cause === undefined) return 'unsent';
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return { kind: `no response (${error instanceof Error ? error.name : 'error'})`, detail: cause };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { kind: 'response body cut off', detail: String(error) };
  }
  const status = response.status;
  const contentType = response.headers.get('content-type') ?? 'none';
  if (status >= 500) return { kind: `status ${status}`, detail: text.slice(0, 300) };
  if (status < 400 || request.method === 'HEAD') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {
      kind: `status ${status}: error body is not JSON (content-type ${contentType})`,
      detail: JSON.stringify(text.slice(0, 200)),
    };
  }
  const code = typeof body === 'object' && body !== null && 'code' in body ? body.code : undefined;
  const message = typeof body === 'object' && body !== null && 'message' in body ? body.message : undefined;
  if (!isErrorCode(code)) {
    return {
      kind: `status ${status}: code ${JSON.stringify(code)} is not in the catalogue`,
      detail: text.slice(0, 300),
    };
  }
  if (typeof message !== 'string') return { kind: `status ${status}: ${code} without a message`, detail: text };
  if (ERROR_CATALOGUE[code].status !== status) {
    return { kind: `status ${status} carries ${code}, catalogued as ${ERROR_CATALOGUE[code].status}`, detail: text };
  }
  seenCodes.add(code);
  return undefined;
}

/** Smaller variants of a request: fewer headers, less body, shorter path. */
function* smaller(request: FuzzRequest): Generator<FuzzRequest> {
  for (const name of Object.keys(request.headers)) {
    const { [name]: _dropped, ...headers } = request.headers;
    yield { ...request, headers };
  }
  if (request.body !== undefined) {
    yield { method: request.method, path: request.path, headers: request.headers };
    for (const small of ['{}', '']) if (request.body !== small) yield { ...request, body: small };
    if (request.body.length > 1) yield { ...request, body: request.body.slice(0, Math.floor(request.body.length / 2)) };
  }
  const [pathOnly = '/', query] = request.path.split('?', 2);
  if (query !== undefined) yield { ...request, path: pathOnly };
  const cut = pathOnly.lastIndexOf('/');
  if (cut > 0) yield { ...request, path: pathOnly.slice(0, cut) + (query !== undefined ? `?${query}` : '') };
  if (pathOnly.length > 64) yield { ...request, path: pathOnly.slice(0, Math.floor(pathOnly.length / 2)) };
}

/** Greedy shrinking against the live server: keeps any smaller request that still fails the same way. */
async function shrink(request: FuzzRequest, violation: Violation): Promise<{ request: FuzzRequest; detail: string }> {
  let current = { request, detail: violation.detail };
  for (let attempts = 0; attempts < 200; ) {
    let improved = false;
    for (const candidate of smaller(current.request)) {
      attempts += 1;
      const outcome = await send(candidate);
      if (typeof outcome === 'object' && outcome.kind === violation.kind) {
        current = { request: candidate, detail: outcome.detail };
        improved = true;
        break;
      }
    }
    if (!improved) break;
  }
  return current;
}

function describeRequest(request: FuzzRequest): string {
  const headers = Object.entries(request.headers)
    .map(([k, v]) => `\n    ${k}: ${v.length > 120 ? `${v.slice(0, 120)}… (${v.length} chars)` : v}`)
    .join('');
  const path =
    request.path.length > 200 ? `${request.path.slice(0, 200)}… (${request.path.length} chars)` : request.path;
  const body =
    request.body === undefined
      ? ''
      : `\n    body: ${JSON.stringify(request.body.length > 200 ? `${request.body.slice(0, 200)}…` : request.body)}` +
        ` (${request.body.length} chars)`;
  return `${request.method} ${path}${headers}${body}`;
}

async function inPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}

// ---------------------------------------------------------------- live channel --------------------------------

interface ReceivedFrame {
  readonly type: string;
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A client channel that checks every frame the server sends and remembers how it closed. */
class FuzzChannel {
  readonly frames: ReceivedFrame[] = [];
  readonly violations: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { test: (f: ReceivedFrame) => boolean; resolve: (f: ReceivedFrame) => void }[] = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('error', () => {
      // Client-side errors (a reset after the server closes) show up as the close code, checked by the tests.
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
    );
  }

  static connect(query: string, headers?: Record<string, string>): FuzzChannel {
    return new FuzzChannel(new WebSocket(`${server.wsUrl}${CHANNEL_PATH}?${query}`, headers ? { headers } : {}));
  }

  /** The first frame from index `from` on (already received or still to come) that passes `test`. */
  next(test: (frame: ReceivedFrame) => boolean, from = 0): Promise<ReceivedFrame> {
    const already = this.frames.slice(from).find(test);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching frame within ${FRAME_TIMEOUT_MS} ms`)),
        FRAME_TIMEOUT_MS,
      );
      this.waiters.push({
        test,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  errorCount(): number {
    return this.frames.filter((f) => f.type === 'error').length;
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as Buffer).toString('utf8');
    if (isBinary) this.violations.push(`binary frame: ${text.slice(0, 100)}`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.violations.push(`frame is not JSON: ${JSON.stringify(text.slice(0, 100))}`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.violations.push(`frame is not an object: ${text.slice(0, 100)}`);
      return;
    }
    const raw = value as Record<string, unknown>;
    const type = typeof raw.type === 'string' ? raw.type : '';
    if (!SERVER_FRAME_TYPES.has(type)) this.violations.push(`frame of unknown type: ${text.slice(0, 100)}`);
    if (type === 'error' && (!isErrorCode(raw.code) || typeof raw.message !== 'string')) {
      this.violations.push(`error frame without a catalogue code and a message: ${text.slice(0, 200)}`);
    }
    const frame = { type, raw };
    this.frames.push(frame);
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.test(frame)) waiter.resolve(frame);
      else this.waiters.push(waiter);
    }
  }
}

/** Opens an agent channel and waits until it is attached (hello, then a snapshot). */
async function openAgentChannel(token: string): Promise<FuzzChannel> {
  const channel = FuzzChannel.connect(`access_token=${encodeURIComponent(token)}`);
  await channel.next((f) => f.type === 'hello');
  await channel.next((f) => f.type === 'snapshot');
  return channel;
}

type FrameKind = 'normal' | 'tooLarge' | 'badUtf8';

interface FuzzFrame {
  readonly channel: number;
  readonly data: string | Uint8Array;
  readonly kind: FrameKind;
}

function frameArb(epoch: string, channels: number): fc.Arbitrary<FuzzFrame> {
  const json = (value: unknown) => JSON.stringify(value);
  const text = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
    {
      weight: 3,
      arbitrary: fc
        .record(
          {
            type: fc.oneof(
              fc.constantFrom(
                'PING',
                'Ping',
                'pong',
                'hello',
                'notify',
                'snapshot',
                'error',
                'resume ',
                '',
                '__proto__',
              ),
              printable(12),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            t: fc.jsonValue({ maxDepth: 1 }),
          },
          { requiredKeys: ['type'] },
        )
        .map(json),
    },
    // The known types with wrong or extra fields.
    {
      weight: 3,
      arbitrary: fc
        .record(
          {
            type: fc.constantFrom('ping', 'resume'),
            t: fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 1 })),
            epoch: fc.oneof(fc.constant(epoch), fc.jsonValue({ maxDepth: 1 }), printable(80)),
            lastSeq: fc.oneof(fc.integer({ min: -3, max: 40 }), fc.double(), fc.jsonValue({ maxDepth: 1 })),
            extra: fc.jsonValue({ maxDepth: 1 }),
          },
          { requiredKeys: ['type'] },
        )
        .map(json),
    },
    // Valid frames: pings and resumes from the real epoch or another one.
    {
      weight: 2,
      arbitrary: fc
        .option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: undefined })
        .map((t) => json({ type: 'ping', ...(t !== undefined ? { t } : {}) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ epoch: fc.oneof(fc.constant(epoch), printable(64)), lastSeq: fc.nat(40) })
        .map((r) => json({ type: 'resume', ...r })),
    },
  );
  const data = fc.oneof(
    { weight: 14, arbitrary: text.map((t) => ({ data: t, kind: 'normal' as const })) },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ data: b, kind: 'normal' as const })) },
    // Binary frames carrying JSON: the server reads them as UTF-8 too.
    {
      weight: 1,
      arbitrary: text.map((t) => ({ data: new Uint8Array(Buffer.from(t, 'utf8')), kind: 'normal' as const })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 16_385, max: 40_000 }), fc.boolean()).map(([n, binary]) => ({
        data: binary ? new Uint8Array(n) : json({ type: 'ping', pad: 'x'.repeat(n) }),
        kind: 'tooLarge' as const,
      })),
    },
    // A text frame that is not UTF-8: the WebSocket layer itself must refuse it (close 1007).
    {
      weight: 1,
      arbitrary: fc
        .tuple(printable(10), fc.constantFrom([0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80]))
        .map(([prefix, bad]) => ({
          data: new Uint8Array([...Buffer.from(prefix), ...bad]),
          kind: 'badUtf8' as const,
        })),
    },
  );
  return fc.tuple(fc.nat(channels - 1), data).map(([channel, d]) => ({ channel, ...d }));
}

/** What the server makes of a frame, by the protocol's own schema: is it a valid client frame? */
function isValidClientFrame(data: string | Uint8Array): boolean {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  try {
    return Value.Check(ClientFrameSchema, JSON.parse(text));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- tests ---------------------------------------

describe('fuzzing the HTTP API and the live channel', () => {
  it('answers random and malformed HTTP requests below 500, refusals as JSON with a catalogue code', async () => {
    const requests = fc.sample(requestArb(), { seed: FUZZ_SEED, numRuns: HTTP_REQUESTS });
    const failures = new Map<string, { request: FuzzRequest; detail: string; count: number }>();
    let unsent = 0;
    await inPool(requests, CONCURRENCY, async (request) => {
      const outcome = await send(request);
      if (outcome === 'unsent') unsent += 1;
      else if (outcome) {
        const known = failures.get(outcome.kind);
        const size = (r: FuzzRequest) => r.path.length + (r.body?.length ?? 0) + JSON.stringify(r.headers).length;
        if (!known) failures.set(outcome.kind, { request, detail: outcome.detail, count: 1 });
        else {
          known.count += 1;
          if (size(request) < size(known.request)) Object.assign(known, { request, detail: outcome.detail });
        }
      }
    });

    // The generators must reach the server's refusals, not just bounce off the client.
    const counts = `${unsent} unsent; codes seen: ${[...seenCodes].sort().join(', ')}`;
    expect(unsent, counts).toBeLessThan(HTTP_REQUESTS * 0.05);
    for (const code of [
      'InvalidJson',
      'ValidationFailed',
      'UnsupportedMediaType',
      'PayloadTooLarge',
      'Unauthorized',
      'TokenExpired',
      'Forbidden',
      'InstanceMismatch',
      'RouteNotFound',
      'InvalidClient',
      'UnsupportedGrantType',
      'IllegalTransition',
      'UnknownBreakReason',
      'UnknownSkillGroup',
    ]) {
      expect(seenCodes, `no request drew ${code}`).toContain(code);
    }

    const report: string[] = [];
    for (const [kind, { request, detail, count }] of failures) {
      const minimal = await shrink(request, { kind, detail });
      report.push(
        `${kind} — ${count} of ${HTTP_REQUESTS} requests; shrunk to:\n  ${describeRequest(minimal.request)}\n  → ${minimal.detail}`,
      );
    }
    expect(report, `fuzz seed ${FUZZ_SEED}:\n${report.join('\n\n')}`).toEqual([]);
  }, 120_000);

  it('answers random channel frames with protocol frames only, one catalogue error per invalid frame', async () => {
    const tokens = [creds.agent1001, creds.agent1002, creds.agent1003, creds.agent1001];
    const channels = await Promise.all(tokens.map((t) => openAgentChannel(t)));
    const frames = fc.sample(frameArb(server.hotline.streams.epoch, tokens.length), {
      seed: FUZZ_SEED + 1,
      numRuns: WS_FRAMES,
    });
    const all: FuzzChannel[] = [...channels];
    const problems: string[] = [];
    let barrier = 0;

    await Promise.all(
      tokens.map(async (token, index) => {
        let channel = channels[index] as FuzzChannel;
        let invalidSent = 0;
        let errorsBefore = channel.errorCount();
        /** A ping after the frames so far: the server answers in order, so its pong means they were all handled. */
        const sync = async (after: string) => {
          const t = -1_000_000 - barrier++;
          const from = channel.frames.length;
          channel.socket.send(JSON.stringify({ type: 'ping', t }));
          try {
            await channel.next((f) => f.type === 'pong' && f.raw.t === t, from);
          } catch {
            problems.push(`channel ${index}: no pong after ${after} (a hang)`);
            return;
          }
          const errors = channel.errorCount() - errorsBefore;
          if (errors !== invalidSent) {
            problems.push(`channel ${index}: ${invalidSent} invalid frames drew ${errors} error frames (${after})`);
          }
          invalidSent = 0;
          errorsBefore = channel.errorCount();
        };

        const mine = frames.filter((f) => f.channel === index);
        for (const [n, frame] of mine.entries()) {
          if (frame.kind === 'normal') {
            channel.socket.send(frame.data, { binary: typeof frame.data !== 'string' });
            if (!isValidClientFrame(frame.data)) invalidSent += 1;
            if (n % 25 === 24) await sync(`frame ${n}: ${describeFrame(frame)}`);
            continue;
          }
          await sync(`frame ${n - 1}`);
          // Bytes that are not UTF-8 go out as a text frame regardless: that is the point.
          channel.socket.send(frame.data, { binary: frame.kind === 'tooLarge' && typeof frame.data !== 'string' });
          const expected = frame.kind === 'tooLarge' ? 1009 : 1007;
          const closed = await Promise.race([
            channel.closed,
            new Promise<undefined>((resolve) => setTimeout(resolve, FRAME_TIMEOUT_MS)),
          ]);
          if (closed?.code !== expected) {
            problems.push(
              `channel ${index}: ${describeFrame(frame)} closed with ${closed?.code ?? 'nothing'}, not ${expected}`,
            );
            channel.socket.terminate();
          }
          channel = await openAgentChannel(token);
          all.push(channel);
          invalidSent = 0;
          errorsBefore = channel.errorCount();
        }
        await sync('the last frame');
      }),
    );

    for (const channel of all) channel.socket.close();
    const frameViolations = all.flatMap((c) => c.violations);
    expect(problems).toEqual([]);
    expect(frameViolations).toEqual([]);
    // Each channel saw refusals of several kinds, so the fuzz reached the frame parser, not just the socket.
    const codes = new Set(all.flatMap((c) => c.frames.filter((f) => f.type === 'error').map((f) => f.raw.code)));
    expect([...codes].sort()).toEqual(
      expect.arrayContaining(['InvalidJson', 'UnknownMessageType', 'ValidationFailed']),
    );
  }, 120_000);

  it('refuses channels with bad credentials with an error frame and close code 4001', async () => {
    const junkParams = fc.record(
      {
        epoch: fc.oneof(printable(20), fc.constant(server.hotline.streams.epoch)),
        lastSeq: fc.oneof(fc.integer({ min: -5, max: 1e9 }).map(String), printable(20)),
        locale: fc.oneof(fc.constantFrom('en', 'zh-CN', 'fr', ''), printable(10)),
      },
      { requiredKeys: [] },
    );
    const badCredential = fc.oneof(
      fc.constantFrom(
        { token: creds.expired, code: 'TokenExpired' },
        { token: creds.forged, code: 'Unauthorized' },
        { token: creds.backend, code: 'Forbidden' },
        { token: creds.admin, code: 'Forbidden' },
        { token: '', code: 'Unauthorized' },
        { token: `${creds.agent1001.slice(0, -3)}abc`, code: 'Unauthorized' },
        { token: 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzY29wZSI6ImFnZW50In0.', code: 'Unauthorized' },
      ),
      fc.string({ unit: 'grapheme', maxLength: 60 }).map((token) => ({ token, code: 'Unauthorized' })),
    );
    const cases = fc.sample(
      fc.record({
        credential: badCredential,
        params: junkParams,
        // Node clients may send the credential as a header instead.
        asHeader: fc.boolean(),
        // Frames sent at once, before the server has checked the token, must not be answered as if it had.
        early: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
      }),
      { seed: FUZZ_SEED + 2, numRuns: 40 },
    );
    const problems: string[] = [];
    await inPool(cases, 4, async ({ credential, params, asHeader, early }) => {
      const query = new URLSearchParams(Object.entries(params) as [string, string][]);
      // A header carries visible ASCII only (the client refuses anything else); other junk goes in the query.
      const inHeader = asHeader && /^[\x21-\x7e]+$/.test(credential.token);
      if (!inHeader) query.set('access_token', credential.token);
      const headers = inHeader ? { authorization: `Bearer ${credential.token}` } : undefined;
      const channel = FuzzChannel.connect(query.toString(), headers);
      channel.socket.once('open', () => {
        for (const frame of early) channel.socket.send(frame);
      });
      const closed = await Promise.race([
        channel.closed,
        new Promise<undefined>((resolve) => setTimeout(resolve, FRAME_TIMEOUT_MS)),
      ]);
      const label = `${inHeader ? 'header' : 'query'} ${JSON.stringify(credential.token.slice(0, 40))} ${query}`;
      if (!closed) {
        problems.push(`${label}: not closed (a hang)`);
        channel.socket.terminate();
        return;
      }
      const types = channel.frames.map((f) => f.type);
      if (types.join() !== 'error') problems.push(`${label}: frames ${types.join() || 'none'}, wanted one error`);
      else if (channel.frames[0]?.raw.code !== credential.code) {
        problems.push(`${label}: ${String(channel.frames[0]?.raw.code)}, wanted ${credential.code}`);
      }
      if (closed.code !== 4001 || closed.reason !== credential.code) {
        problems.push(`${label}: closed ${closed.code} ${closed.reason}, wanted 4001 ${credential.code}`);
      }
      problems.push(...channel.violations.map((v) => `${label}: ${v}`));
    });
    expect(problems).toEqual([]);

    // A good token with junk resume and locale parameters still gets a working channel.
    const junkButValid = fc.sample(junkParams, { seed: FUZZ_SEED + 3, numRuns: 20 });
    for (const params of junkButValid) {
      const query = new URLSearchParams(Object.entries(params) as [string, string][]);
      query.set('access_token', creds.agent1002);
      const channel = FuzzChannel.connect(query.toString());
      await channel.next((f) => f.type === 'hello');
      await channel.next((f) => f.type === 'snapshot' || f.type === 'notify');
      channel.socket.send(JSON.stringify({ type: 'ping', t: 7 }));
      await channel.next((f) => f.type === 'pong' && f.raw.t === 7);
      channel.socket.close();
      expect(channel.violations).toEqual([]);
    }
  }, 60_000);

  it('still serves correctly after the fuzzing', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const token = await issueToken('1003');
    const checkin = await fetch(`${server.url}/v1/agent/checkin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(checkin.status).toBe(200);
    expect(await checkin.json()).toMatchObject({ agentId: '1003', agentBasicCode: 'AgentReady' });

    const channel = FuzzChannel.connect(`access_token=${encodeURIComponent(token)}&locale=en`);
    const hello = await channel.next((f) => f.type === 'hello');
    expect(hello.raw).toMatchObject({ epoch: server.hotline.streams.epoch });
    const snapshot = await channel.next((f) => f.type === 'snapshot');
    expect(snapshot.raw.agent).toMatchObject({ agentId: '1003', agentBasicCode: 'AgentReady' });
    channel.socket.send(JSON.stringify({ type: 'ping', t: 42 }));
    const pong = await channel.next((f) => f.type === 'pong');
    expect(pong.raw).toMatchObject({ type: 'pong', t: 42 });
    expect(channel.frames.map((f) => f.type)).toEqual(['hello', 'snapshot', 'pong']);
    expect(channel.violations).toEqual([]);
    channel.socket.close();
    await channel.closed;
  });
});

function describeFrame(frame: FuzzFrame): string {
  const shown =
    typeof frame.data === 'string'
      ? JSON.stringify(frame.data.slice(0, 60))
      : `bytes[${frame.data.length}] ${Buffer.from(frame.data.slice(0, 20)).toString('hex')}`;
  return `${frame.kind} ${shown}`;
}
