import { parseArgs } from 'node:util';
import { LauncherError } from '../launcher.js';

/**
 * The `openhotline` command: starts the server, or drives a running one through its admin HTTP API. It holds no
 * state and no storage of its own, so whatever it does an operator could do with curl, and the server stays the
 * only place where the rules are checked.
 */

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly env: Record<string, string | undefined>;
  readonly fetch?: typeof fetch;
}

const DEFAULT_URL = 'http://127.0.0.1:8080';
const SHORT_USAGE = 'usage: openhotline <resource> <action> [--option value ...]   (openhotline help)';

/** A mistake in the command line: exit code 2 and a usage line, nothing was sent. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string = SHORT_USAGE,
  ) {
    super(message);
  }
}

/** The server (or the network) said no: exit code 1. */
class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const OPTIONS = {
  url: { type: 'string' },
  'admin-key': { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  instance: { type: 'string' },
  id: { type: 'string' },
  name: { type: 'string' },
  // instance settings
  'acw-seconds': { type: 'string' },
  'ready-on-checkin': { type: 'string' },
  'channel-grace-seconds': { type: 'string' },
  // agents
  department: { type: 'string' },
  'skill-groups': { type: 'string' },
  'number-groups': { type: 'string' },
  'can-see-full-numbers': { type: 'string' },
  enabled: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  // hotline numbers, number groups, break reasons
  number: { type: 'string' },
  'skill-group': { type: 'string' },
  numbers: { type: 'string' },
  code: { type: 'string' },
  'label-zh': { type: 'string' },
  'label-en': { type: 'string' },
  // API clients and tokens
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  agent: { type: 'string' },
  'expires-in': { type: 'string' },
  // calls: virtual callers, the generator, callouts (`--from`/`--to` are numbers here, times for records)
  from: { type: 'string' },
  to: { type: 'string' },
  'conn-id': { type: 'string' },
  digits: { type: 'string' },
  'hangup-after': { type: 'string' },
  'abandon-after': { type: 'string' },
  rate: { type: 'string' },
  count: { type: 'string' },
  'caller-id': { type: 'string' },
  'member-id': { type: 'string' },
  'member-name': { type: 'string' },
  'from-source': { type: 'string' },
  'task-id': { type: 'string' },
  'channel-id': { type: 'string' },
  'case-id': { type: 'string' },
  // call records
  direction: { type: 'string' },
  disposition: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL_FLAGS: readonly OptionName[] = ['url', 'admin-key', 'format', 'help'];

/**
 * Switches that may stand alone (`--enabled`), take a value (`--enabled false`, `--enabled=false`) or be negated
 * (`--no-enabled`). parseArgs of Node 20 has no negation, so they are rewritten to `--flag=value` first.
 */
const SWITCHES = new Set(['can-see-full-numbers', 'enabled', 'ready-on-checkin']);

function normalizeSwitches(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const negated = /^--no-(.+)$/.exec(arg)?.[1];
    if (negated !== undefined && SWITCHES.has(negated)) {
      out.push(`--${negated}=false`);
      continue;
    }
    const bare = /^--(.+)$/.exec(arg)?.[1];
    if (bare !== undefined && SWITCHES.has(bare)) {
      const next = argv[i + 1];
      // Any following word is taken as the value, so `--enabled maybe` is refused rather than read as an item id.
      if (next !== undefined && !next.startsWith('-')) {
        out.push(`--${bare}=${next}`);
        i++;
      } else {
        out.push(`--${bare}=true`);
      }
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** The parsed options of one command, with conversions that fail as usage errors. */
class Args {
  constructor(
    private readonly values: Partial<Record<OptionName, string | boolean>>,
    /** Positionals after the resource and action: the first may name the item instead of its flag. */
    readonly rest: readonly string[],
    readonly usage: string,
  ) {}

  has(name: OptionName): boolean {
    return this.values[name] !== undefined;
  }

  string(name: OptionName): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  required(name: OptionName): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw new UsageError(`--${name} is required`, this.usage);
    return value;
  }

  /** The item a command acts on: `--id X` or the first positional. */
  key(name: OptionName): string {
    const value = this.string(name) ?? this.rest[0];
    if (value === undefined || value === '') throw new UsageError(`--${name} is required`, this.usage);
    return value;
  }

  int(name: OptionName): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be an integer, not "${value}"`, this.usage);
    return Number(value);
  }

  number(name: OptionName): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) {
      throw new UsageError(`--${name} must be a number, not "${value}"`, this.usage);
    }
    return parsed;
  }

  /** A time as epoch milliseconds or an ISO-8601 date (`2024-05-01`, `2024-05-01T08:00:00+08:00`). */
  time(name: OptionName): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const parsed = /^\d+$/.test(value)
      ? Number(value)
      : /^\d{4}-\d\d-\d\d/.test(value)
        ? Date.parse(value)
        : Number.NaN;
    if (!Number.isFinite(parsed)) {
      throw new UsageError(`--${name} must be an ISO time or epoch milliseconds, not "${value}"`, this.usage);
    }
    return parsed;
  }

  flag(name: OptionName): boolean {
    return this.values[name] === true;
  }

  bool(name: OptionName): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new UsageError(`--${name} must be true or false, not "${value}"`, this.usage);
  }

  /** A comma-separated list; an empty value is the empty list (to clear memberships). */
  list(name: OptionName): string[] | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
}

type Json = Record<string, unknown>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Context {
  /** Calls the server; resolves to the parsed body (undefined for 204), rejects with RemoteError. */
  call(method: Method, path: string, options?: { body?: unknown; auth?: boolean }): Promise<unknown>;
}

interface Command {
  /** Shown in help and after a usage error. */
  readonly usage: string;
  readonly summary: string;
  readonly flags: readonly OptionName[];
  /** Whether the item may be named by a bare first argument instead of its flag. */
  readonly positional?: boolean;
  run(ctx: Context, args: Args): Promise<unknown>;
  /** The rows of `--format table` when the result's items are too deep to read flat (calls, queues). */
  tableRows?(result: unknown): readonly unknown[];
}

/** Keeps only the fields that were given, so an update changes what was asked and nothing else. */
function defined(fields: Json): Json {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const enc = encodeURIComponent;
const ADMIN = '/v1/admin/instances';
const instancePath = (args: Args) => `${ADMIN}/${enc(args.required('instance'))}`;

interface ResourceSpec {
  readonly name: string;
  /** Path segment inside an instance; absent for instances themselves. */
  readonly segment?: string;
  /** The flag naming one item (`id`, `number`, `code`). */
  readonly key: OptionName;
  readonly createUsage: string;
  readonly updateUsage: string;
  readonly fields: readonly OptionName[];
  createBody(args: Args): Json;
  updateBody(args: Args, ctx: Context, itemPath: string): Promise<Json> | Json;
}

/** list / get / create / update / remove of one resource. */
function crud(spec: ResourceSpec): Record<string, Command> {
  const scoped = spec.segment !== undefined;
  const scope: OptionName[] = scoped ? ['instance'] : [];
  const instanceFlag = scoped ? ' --instance ID' : '';
  const collection = (args: Args) => (scoped ? `${instancePath(args)}/${spec.segment}` : ADMIN);
  const item = (args: Args) => `${collection(args)}/${enc(args.key(spec.key))}`;
  const keyUsage = `--${spec.key} ${spec.key.toUpperCase()}`;
  const noun = spec.name.replace('-', ' ');
  return {
    list: {
      usage: `${spec.name} list${instanceFlag}`,
      summary: `list the ${noun}s`,
      flags: scope,
      run: (ctx, args) => ctx.call('GET', collection(args)),
    },
    get: {
      usage: `${spec.name} get${instanceFlag} ${keyUsage}`,
      summary: `show one ${noun}`,
      flags: [...scope, spec.key],
      positional: true,
      run: (ctx, args) => ctx.call('GET', item(args)),
    },
    create: {
      usage: `${spec.name} create${instanceFlag} ${spec.createUsage}`,
      summary: `create a ${noun}`,
      flags: [...scope, spec.key, ...spec.fields],
      run: (ctx, args) => ctx.call('POST', collection(args), { body: spec.createBody(args) }),
    },
    update: {
      usage: `${spec.name} update${instanceFlag} ${keyUsage} ${spec.updateUsage}`,
      summary: `change a ${noun} (only the options given)`,
      flags: [...scope, spec.key, ...spec.fields],
      positional: true,
      run: async (ctx, args) => {
        const path = item(args);
        return ctx.call('PATCH', path, { body: await spec.updateBody(args, ctx, path) });
      },
    },
    remove: {
      usage: `${spec.name} remove${instanceFlag} ${keyUsage}`,
      summary: `remove a ${noun}`,
      flags: [...scope, spec.key],
      positional: true,
      run: (ctx, args) => ctx.call('DELETE', item(args)),
    },
  };
}

function instanceSettings(args: Args): Json | undefined {
  const settings = defined({
    acwSeconds: args.int('acw-seconds'),
    readyOnCheckin: args.bool('ready-on-checkin'),
    channelGraceSeconds: args.int('channel-grace-seconds'),
  });
  return Object.keys(settings).length > 0 ? settings : undefined;
}

/** `--acw-seconds 30`, or `--acw-seconds default` to fall back to the instance's setting. */
function agentAcw(args: Args): number | null | undefined {
  const raw = args.string('acw-seconds');
  if (raw === 'default' || raw === 'null') return null;
  return args.int('acw-seconds');
}

function agentFields(args: Args): Json {
  return defined({
    name: args.string('name'),
    departmentId: args.string('department'),
    skillGroupIds: args.list('skill-groups'),
    numberGroupIds: args.list('number-groups'),
    canSeeFullNumbers: args.bool('can-see-full-numbers'),
    acwSeconds: agentAcw(args),
    enabled: args.bool('enabled'),
  });
}

const AGENT_OPTIONS =
  '[--department ID] [--skill-groups A,B] [--number-groups A,B] [--can-see-full-numbers] [--acw-seconds N|default] [--enabled true|false]';

function buildCommands(): Record<string, Record<string, Command>> {
  const agent = crud({
    name: 'agent',
    segment: 'agents',
    key: 'id',
    createUsage: `--id ID --name NAME ${AGENT_OPTIONS}`,
    updateUsage: `[--name NAME] ${AGENT_OPTIONS}`,
    fields: ['name', 'department', 'skill-groups', 'number-groups', 'can-see-full-numbers', 'acw-seconds', 'enabled'],
    createBody: (args) => ({ id: args.required('id'), ...agentFields(args), name: args.required('name') }),
    updateBody: (args) => agentFields(args),
  });
  const agentPath = (args: Args) => `${instancePath(args)}/agents/${enc(args.key('id'))}`;
  agent.status = {
    usage: 'agent status --instance ID --id ID',
    summary: "show an agent's live status",
    flags: ['instance', 'id'],
    positional: true,
    run: (ctx, args) => ctx.call('GET', `${agentPath(args)}/status`),
  };
  agent.history = {
    usage: 'agent history --instance ID --id ID [--limit N] [--before EPOCH_MS]',
    summary: "show an agent's status history, newest first",
    flags: ['instance', 'id', 'limit', 'before'],
    positional: true,
    run: (ctx, args) => {
      const query = new URLSearchParams();
      const limit = args.int('limit');
      const before = args.number('before');
      if (limit !== undefined) query.set('limit', String(limit));
      if (before !== undefined) query.set('before', String(before));
      const qs = query.toString();
      return ctx.call('GET', `${agentPath(args)}/history${qs ? `?${qs}` : ''}`);
    },
  };
  agent['force-checkout'] = {
    usage: 'agent force-checkout --instance ID --id ID',
    summary: 'check an agent out from any status (hangs up its calls)',
    flags: ['instance', 'id'],
    positional: true,
    run: (ctx, args) => ctx.call('POST', `${agentPath(args)}/force-checkout`),
  };

  const clients = (args: Args) => `${instancePath(args)}/clients`;

  return {
    instance: crud({
      name: 'instance',
      key: 'id',
      createUsage: '--id ID --name NAME [--acw-seconds N] [--ready-on-checkin true|false] [--channel-grace-seconds N]',
      updateUsage: '[--name NAME] [--acw-seconds N] [--ready-on-checkin true|false] [--channel-grace-seconds N]',
      fields: ['name', 'acw-seconds', 'ready-on-checkin', 'channel-grace-seconds'],
      createBody: (args) =>
        defined({ id: args.required('id'), name: args.required('name'), settings: instanceSettings(args) }),
      updateBody: (args) => defined({ name: args.string('name'), settings: instanceSettings(args) }),
    }),
    agent,
    'skill-group': crud({
      name: 'skill-group',
      segment: 'skill-groups',
      key: 'id',
      createUsage: '--id ID --name NAME',
      updateUsage: '--name NAME',
      fields: ['name'],
      createBody: (args) => ({ id: args.required('id'), name: args.required('name') }),
      updateBody: (args) => defined({ name: args.string('name') }),
    }),
    'hotline-number': crud({
      name: 'hotline-number',
      segment: 'hotline-numbers',
      key: 'number',
      createUsage: '--number NUMBER --name NAME --skill-group ID',
      updateUsage: '[--name NAME] [--skill-group ID]',
      fields: ['name', 'skill-group'],
      createBody: (args) => ({
        number: args.required('number'),
        name: args.required('name'),
        skillGroupId: args.required('skill-group'),
      }),
      updateBody: (args) => defined({ name: args.string('name'), skillGroupId: args.string('skill-group') }),
    }),
    'number-group': crud({
      name: 'number-group',
      segment: 'number-groups',
      key: 'id',
      createUsage: '--id ID --name NAME --numbers N1,N2',
      updateUsage: '[--name NAME] [--numbers N1,N2]',
      fields: ['name', 'numbers'],
      createBody: (args) => {
        const head = { id: args.required('id'), name: args.required('name') };
        args.required('numbers');
        return { ...head, numbers: args.list('numbers') };
      },
      updateBody: (args) => defined({ name: args.string('name'), numbers: args.list('numbers') }),
    }),
    'break-reason': crud({
      name: 'break-reason',
      segment: 'break-reasons',
      key: 'code',
      createUsage: '--code CODE --label-zh TEXT --label-en TEXT',
      updateUsage: '[--label-zh TEXT] [--label-en TEXT]',
      fields: ['label-zh', 'label-en'],
      createBody: (args) => ({
        code: args.required('code'),
        label: { 'zh-CN': args.required('label-zh'), en: args.required('label-en') },
      }),
      updateBody: async (args, ctx, path) => {
        if (!args.has('label-zh') && !args.has('label-en')) {
          throw new UsageError('give --label-zh, --label-en or both', args.usage);
        }
        // The server replaces the label as a whole; a one-language change keeps the other language.
        let current: Json = {};
        if (!args.has('label-zh') || !args.has('label-en')) {
          const reason = await ctx.call('GET', path);
          if (isObject(reason) && isObject(reason.label)) current = reason.label;
        }
        return { label: { ...current, ...defined({ 'zh-CN': args.string('label-zh'), en: args.string('label-en') }) } };
      },
    }),
    client: {
      list: {
        usage: 'client list --instance ID',
        summary: 'list the API clients (secrets are never shown again)',
        flags: ['instance'],
        run: (ctx, args) => ctx.call('GET', clients(args)),
      },
      create: {
        usage: 'client create --instance ID --name NAME [--client-id ID] [--client-secret SECRET]',
        summary: 'create an API client; the output is the only time its secret is shown',
        flags: ['instance', 'name', 'client-id', 'client-secret'],
        run: (ctx, args) =>
          ctx.call('POST', clients(args), {
            body: defined({
              name: args.required('name'),
              clientId: args.string('client-id'),
              clientSecret: args.string('client-secret'),
            }),
          }),
      },
      remove: {
        usage: 'client remove --instance ID --client-id ID',
        summary: 'remove an API client; its tokens stop working',
        flags: ['instance', 'client-id'],
        positional: true,
        run: (ctx, args) => ctx.call('DELETE', `${clients(args)}/${enc(args.key('client-id'))}`),
      },
    },
  };
}

/** Epoch ms as ISO time for tables; call records keep numbers, people read dates. */
function isoTime(value: unknown): unknown {
  return typeof value === 'number' ? new Date(value).toISOString() : value;
}

function itemsOf(result: unknown): unknown[] {
  return isObject(result) && Array.isArray(result.items) ? result.items : [];
}

/** A call record as one table row: who, what, when; the legs and events stay in the JSON output. */
function recordRow(record: unknown): unknown {
  if (!isObject(record)) return record;
  // An empty field (no agent answered, nobody released yet) shows as "-", or the columns would not line up.
  const row: Json = {
    connId: record.connId,
    direction: record.direction,
    disposition: record.disposition,
    ani: record.ani,
    dnis: record.dnis,
    skillGroupId: record.skillGroupId,
    agentId: record.agentId,
    offeredAt: isoTime(record.offeredAt),
    answeredAt: isoTime(record.answeredAt),
    endedAt: isoTime(record.endedAt),
    releasedBy: record.releasedBy,
    releaseReason: record.releaseReason,
  };
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === '' ? null : value]));
}

/** One row per skill group; the waiting callers in queue order. */
function queueRow(queue: unknown): unknown {
  if (!isObject(queue)) return queue;
  const waiting = Array.isArray(queue.waiting) ? queue.waiting.filter(isObject) : [];
  return {
    skillGroupId: queue.skillGroupId,
    readyAgents: queue.readyAgents,
    waiting: waiting.length,
    longestWaitMs: queue.longestWaitMs,
    callers: waiting.map((w) => w.connId),
  };
}

const CALLOUT_OPTIONS =
  '[--caller-id NUMBER] [--member-id ID] [--member-name NAME] [--from-source hotlinebs_out|ticket_out|other_system_out] [--task-id ID] [--channel-id ID] [--case-id ID]';
const RECORD_FILTERS =
  '[--agent ID] [--skill-group ID] [--direction inbound|outbound|internal] [--disposition D] [--from TIME] [--to TIME] [--limit N] [--cursor C] [--all]';
/** The most pages `record list --all` follows: a runaway loop on a server bug must end. */
const MAX_PAGES = 10_000;

function callCommands(): Record<string, Record<string, Command>> {
  const virtualCalls = (args: Args) => `${instancePath(args)}/virtual-calls`;
  const virtualCall = (args: Args) => `${virtualCalls(args)}/${enc(args.key('conn-id'))}`;
  const records = (args: Args) => `${instancePath(args)}/records`;
  const script = (args: Args) =>
    defined({ hangupAfterSeconds: args.number('hangup-after'), abandonAfterSeconds: args.number('abandon-after') });

  const recordQuery = (args: Args, cursor: string | undefined): string => {
    const filters = defined({
      agentId: args.string('agent'),
      skillGroupId: args.string('skill-group'),
      direction: args.string('direction'),
      disposition: args.string('disposition'),
      from: args.time('from'),
      to: args.time('to'),
      limit: args.int('limit'),
      cursor,
    });
    const query = new URLSearchParams(
      Object.entries(filters).map(([key, value]): [string, string] => [key, String(value)]),
    ).toString();
    return query ? `?${query}` : '';
  };

  return {
    call: {
      place: {
        usage: 'call place --instance ID --from NUMBER --to HOTLINE [--hangup-after S] [--abandon-after S]',
        summary:
          'a virtual customer calls a hotline number (hangs up S seconds after being answered, or gives up S seconds unanswered); prints the connId',
        flags: ['instance', 'from', 'to', 'hangup-after', 'abandon-after'],
        run: (ctx, args) =>
          ctx.call('POST', virtualCalls(args), {
            body: { from: args.required('from'), to: args.required('to'), ...script(args) },
          }),
      },
      hangup: {
        usage: 'call hangup --instance ID --conn-id CONN',
        summary: 'the virtual customer of a call hangs up',
        flags: ['instance', 'conn-id'],
        positional: true,
        run: (ctx, args) => ctx.call('POST', `${virtualCall(args)}/hangup`),
      },
      dtmf: {
        usage: 'call dtmf --instance ID --conn-id CONN --digits 12#',
        summary: 'the virtual customer of a call presses keys',
        flags: ['instance', 'conn-id', 'digits'],
        positional: true,
        run: (ctx, args) => {
          const path = `${virtualCall(args)}/dtmf`;
          return ctx.call('POST', path, { body: { digits: args.required('digits') } });
        },
      },
      list: {
        usage: 'call list --instance ID',
        summary: 'the calls in progress',
        flags: ['instance'],
        run: (ctx, args) => ctx.call('GET', `${instancePath(args)}/calls`),
        tableRows: (result) => itemsOf(result).map(recordRow),
      },
      generate: {
        usage:
          'call generate --instance ID --to HOTLINE --rate PER_MINUTE [--count N] [--hangup-after S] [--abandon-after S]',
        summary: 'keep placing virtual callers at a rate (replaces a running generator)',
        flags: ['instance', 'to', 'rate', 'count', 'hangup-after', 'abandon-after'],
        run: (ctx, args) => {
          const path = `${virtualCalls(args)}/generator`;
          const to = args.required('to');
          args.required('rate');
          return ctx.call('PUT', path, {
            body: { to, ratePerMinute: args.number('rate'), ...defined({ count: args.int('count') }), ...script(args) },
          });
        },
      },
      'stop-generator': {
        usage: 'call stop-generator --instance ID',
        summary: 'stop placing virtual callers',
        flags: ['instance'],
        run: (ctx, args) => ctx.call('DELETE', `${virtualCalls(args)}/generator`),
      },
      out: {
        usage: `call out --instance ID --agent ID --number NUMBER ${CALLOUT_OPTIONS}`,
        summary: "place an outbound call on an agent's behalf (the agent's bar shows it as dialed by the agent)",
        flags: [
          'instance',
          'agent',
          'number',
          'caller-id',
          'member-id',
          'member-name',
          'from-source',
          'task-id',
          'channel-id',
          'case-id',
        ],
        run: (ctx, args) => {
          const path = `${instancePath(args)}/agents/${enc(args.required('agent'))}/callout`;
          const body = {
            number: args.required('number'),
            ...defined({
              calloutNumber: args.string('caller-id'),
              memberId: args.string('member-id'),
              memberName: args.string('member-name'),
              fromSource: args.string('from-source'),
              taskId: args.string('task-id'),
              channelId: args.string('channel-id'),
              caseId: args.string('case-id'),
            }),
          };
          return ctx.call('POST', path, { body });
        },
      },
    },
    queue: {
      list: {
        usage: 'queue list --instance ID',
        summary: 'the queues: waiting callers in order, how long they wait, ready agents',
        flags: ['instance'],
        run: (ctx, args) => ctx.call('GET', `${instancePath(args)}/queues`),
        tableRows: (result) => itemsOf(result).map(queueRow),
      },
    },
    record: {
      list: {
        usage: `record list --instance ID ${RECORD_FILTERS}`,
        summary: 'call records, newest first; --all follows the pages to the end',
        flags: ['instance', 'agent', 'skill-group', 'direction', 'disposition', 'from', 'to', 'limit', 'cursor', 'all'],
        run: async (ctx, args) => {
          const path = records(args);
          let page = await ctx.call('GET', `${path}${recordQuery(args, args.string('cursor'))}`);
          if (!args.flag('all')) return page;
          const items: unknown[] = [];
          for (let pages = 1; ; pages++) {
            items.push(...itemsOf(page));
            const next = isObject(page) ? page.nextCursor : null;
            if (typeof next !== 'string' || next === '') return { items, nextCursor: null };
            // Cut short, the output says where to go on rather than claiming it is complete.
            if (pages >= MAX_PAGES) return { items, nextCursor: next };
            page = await ctx.call('GET', `${path}${recordQuery(args, next)}`);
          }
        },
        tableRows: (result) => itemsOf(result).map(recordRow),
      },
      get: {
        usage: 'record get --instance ID --conn-id CONN',
        summary: 'one call record, with its legs and events',
        flags: ['instance', 'conn-id'],
        positional: true,
        run: (ctx, args) => ctx.call('GET', `${records(args)}/${enc(args.key('conn-id'))}`),
        tableRows: (result) => [recordRow(result)],
      },
    },
  };
}

const COMMANDS = { ...buildCommands(), ...callCommands() };

const TOKEN_COMMAND: Command = {
  usage: 'token --client-id ID --client-secret SECRET [--agent ID] [--expires-in SECONDS]',
  summary: 'exchange API client credentials for an access token (an agent token with --agent)',
  flags: ['client-id', 'client-secret', 'agent', 'expires-in'],
  run: (ctx, args) =>
    ctx.call('POST', '/oauth2/token', {
      auth: false,
      body: defined({
        grant_type: 'client_credentials',
        client_id: args.required('client-id'),
        client_secret: args.required('client-secret'),
        agent_id: args.string('agent'),
        expires_in: args.int('expires-in'),
      }),
    }),
};

function helpText(): string {
  const lines = [
    'openhotline — run an OpenHotline server or manage one over its admin API',
    '',
    'usage: openhotline <command> [options]',
    '',
    '  start [--config FILE]                 start the server (configuration: file and environment)',
    `  ${TOKEN_COMMAND.usage}`,
    `      ${TOKEN_COMMAND.summary}`,
  ];
  for (const actions of Object.values(COMMANDS)) {
    lines.push('');
    for (const command of Object.values(actions)) lines.push(`  ${command.usage}`, `      ${command.summary}`);
  }
  lines.push(
    '',
    'options of every command:',
    `  --url URL          the server (env OPENHOTLINE_URL, default ${DEFAULT_URL})`,
    '  --admin-key KEY    the admin key, or a backend token for one instance (env OPENHOTLINE_ADMIN_KEY)',
    '  --format json|table  output (default json)',
    '',
    'The item a command acts on may also be given as the first argument: openhotline agent get 1001 --instance demo.',
    'Switches (--can-see-full-numbers, --enabled, --ready-on-checkin) take true/false, or stand alone for true;',
    '--no-<switch> sets false. Removing prints nothing. Errors print "error <code>: <message>" and exit 1;',
    'a wrong command line exits 2.',
    'Times (--from/--to of record list) are epoch milliseconds or ISO-8601 (a date alone is UTC midnight);',
    'durations (--hangup-after, --abandon-after) are seconds.',
    '',
  );
  return lines.join('\n');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------- output ----------

function formatOutput(result: unknown, format: 'json' | 'table', command: Command): string {
  if (result === undefined) return '';
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  if (command.tableRows) return renderTable(command.tableRows(result));
  const rows = isObject(result) && Array.isArray(result.items) ? result.items : [result];
  return renderTable(rows);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.map(cell).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One level of nesting becomes dotted columns (settings.acwSeconds, label.en): tables stay flat. */
function flatten(row: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!isObject(row)) {
    out.set('value', cell(row));
    return out;
  }
  for (const [key, value] of Object.entries(row)) {
    if (isObject(value)) for (const [sub, inner] of Object.entries(value)) out.set(`${key}.${sub}`, cell(inner));
    else out.set(key, cell(value));
  }
  return out;
}

/** Terminal columns of a string: CJK and fullwidth characters take two (break reasons have Chinese labels). */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x20000 && code <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

function renderTable(rows: readonly unknown[]): string {
  if (rows.length === 0) return '(none)\n';
  const flat = rows.map(flatten);
  const columns: string[] = [];
  for (const row of flat) for (const key of row.keys()) if (!columns.includes(key)) columns.push(key);
  const widths = columns.map((c) => Math.max(displayWidth(c), ...flat.map((r) => displayWidth(r.get(c) ?? '-'))));
  const line = (cells: string[]) =>
    cells
      .map((text, i) => text + ' '.repeat((widths[i] ?? 0) - displayWidth(text)))
      .join('  ')
      .trimEnd();
  return `${[line(columns), ...flat.map((r) => line(columns.map((c) => r.get(c) ?? '-')))].join('\n')}\n`;
}

// ---------- the entry point ----------

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // `start` hands its arguments to the server's own parser; nothing here should reject them.
  if (argv[0] === 'start') return start(argv.slice(1), io);
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(
        `error: ${error.message}\n${error.usage.startsWith('usage:') ? error.usage : `usage: openhotline ${error.usage}`}\n`,
      );
      return 2;
    }
    if (error instanceof RemoteError) {
      io.stderr(`error ${error.code}: ${error.message}\n`);
      return 1;
    }
    io.stderr(`error InternalError: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function start(argv: string[], io: CliIo): Promise<number> {
  try {
    // The server runs under the V8 flags it needs: in a child process when this one lacks them (launcher.ts).
    const { startProcess } = await import('../start.js');
    return (await startProcess(argv)) ?? 0;
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof LauncherError ? 2 : 1;
  }
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: normalizeSwitches(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  const [resource, action, ...rest] = positionals;

  if (resource === 'help' || values.help) {
    io.stdout(helpText());
    return 0;
  }
  if (resource === undefined) throw new UsageError('no command given');

  let command: Command;
  let extra: readonly string[];
  if (resource === 'token') {
    command = TOKEN_COMMAND;
    extra = action === undefined ? [] : [action, ...rest];
  } else {
    const actions = COMMANDS[resource];
    if (!actions) throw new UsageError(`unknown command "${resource}"`);
    const names = Object.keys(actions).join('|');
    if (action === undefined) throw new UsageError(`${resource} needs an action`, `${resource} ${names}`);
    const found = actions[action];
    if (!found) throw new UsageError(`unknown action "${resource} ${action}"`, `${resource} ${names}`);
    command = found;
    extra = rest;
  }

  for (const name of Object.keys(values) as OptionName[]) {
    if (!GLOBAL_FLAGS.includes(name) && !command.flags.includes(name)) {
      throw new UsageError(`--${name} does not apply here`, command.usage);
    }
  }
  const allowed = command.positional ? 1 : 0;
  if (extra.length > allowed) throw new UsageError(`unexpected argument "${extra[allowed]}"`, command.usage);

  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'table') throw new UsageError(`--format must be json or table, not "${format}"`);

  const url = (values.url ?? io.env.OPENHOTLINE_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url must be an http(s) URL, not "${url}"`);
  const adminKey = values['admin-key'] ?? io.env.OPENHOTLINE_ADMIN_KEY;
  const doFetch = io.fetch ?? globalThis.fetch;

  const ctx: Context = {
    async call(method, path, options = {}) {
      const auth = options.auth ?? true;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (auth) {
        if (!adminKey)
          throw new UsageError('no admin key: pass --admin-key or set OPENHOTLINE_ADMIN_KEY', command.usage);
        headers.authorization = `Bearer ${adminKey}`;
      }
      // A JSON content type with no body is itself an error to the server, so bodiless calls send neither.
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await doFetch(`${url}${path}`, {
          method,
          headers,
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        });
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
        throw new RemoteError('Unreachable', `cannot reach ${url} (${cause})`);
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      if (!response.ok) {
        if (isObject(body) && typeof body.code === 'string') {
          throw new RemoteError(body.code, typeof body.message === 'string' ? body.message : response.statusText);
        }
        throw new RemoteError(`HTTP${response.status}`, text.slice(0, 200) || response.statusText);
      }
      return body;
    },
  };

  const args = new Args(values, extra, command.usage);
  const result = await command.run(ctx, args);
  io.stdout(formatOutput(result, format, command));
  return 0;
}
