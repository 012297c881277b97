import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { CHANNEL_PATH, EnumLocale } from '@openhotline/protocol';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { type WebSocket, WebSocketServer } from 'ws';
import { buildApp } from '../packages/server/src/app.js';
import { loadConfig } from '../packages/server/src/config.js';
import { createHotline, type Hotline } from '../packages/server/src/hotline.js';
import { agentKey, type UnsequencedMessage } from '../packages/server/src/services/agent-streams.js';
import { silentLogger } from '../packages/server/src/services/logger.js';
import type { Benchmark, BenchmarkResult } from './benchmark.js';
import { threadTimes } from './thread-times.js';

/**
 * The event channel under load: 1,000 agents each with a live channel, every agent changing status once per
 * round, each change pushing a hotline-message down that agent's channel. Baseline: a bare `ws` server in the
 * same process sending the same messages, in the same pattern, to the same client worker.
 */
const AGENTS = 1000;
/**
 * Even, so each repetition leaves the agents Ready, where the next one starts. A repetition runs well over a
 * second, so that the status writer's batches (every 200 ms, on another thread) fall inside the window of the
 * variant that caused them; see `settle`.
 */
const ROUNDS = 100;
const REPETITIONS = 5;
/** Changes per event-loop turn: state changes arrive as separate events in a real server, not as one loop. */
const BATCH = 50;
const INSTANCE = 'bench';
const CLIENT = { clientId: 'bench-client', clientSecret: 'bench-secret-0123456789' } as const;
const TIMEOUT_MS = 30_000;

const TARGET_P99_MS = 20;
const TARGET_THROUGHPUT_RATIO = 0.8;

/** Wall clock in ms with sub-ms resolution, comparable between this thread and the client worker. */
const now = () => performance.timeOrigin + performance.now();
/** The calling thread's CPU time in ns (Linux), or 0 where the system does not tell. */
const threadCpuNs = () => threadTimes().cpuNs || 0;
const processCpuNs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
};

// ---------------------------------------------------------------- the client worker ---------------------------

type FromWorker =
  | { readonly type: 'connected'; readonly set: string; readonly ms: number }
  | { readonly type: 'rep-ready'; readonly set: string }
  | { readonly type: 'round'; readonly set: string; readonly round: number }
  | { readonly type: 'rep-done'; readonly set: string; readonly recv: Float64Array; readonly cpuNs: number }
  | { readonly type: 'closed' }
  | { readonly type: 'fatal'; readonly message: string };

type ToWorker =
  | {
      readonly type: 'connect';
      readonly set: string;
      readonly urls: readonly string[];
      readonly readyOn: 'open' | 'snapshot';
    }
  | { readonly type: 'rep'; readonly set: string; readonly rounds: number; readonly baseSeq: number }
  | { readonly type: 'close' };

const WORKER_MESSAGE_TYPES = new Set(['connected', 'rep-ready', 'round', 'rep-done', 'closed', 'fatal']);

function isFromWorker(value: unknown): value is FromWorker {
  return (
    typeof value === 'object' &&
    value !== null &&
    'type' in value &&
    typeof value.type === 'string' &&
    WORKER_MESSAGE_TYPES.has(value.type)
  );
}

/** The main thread's end of the worker: messages arrive in order and are taken in order. */
class ClientWorker {
  private readonly inbox: FromWorker[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private exited = false;
  private closing = false;
  readonly exit: Promise<number>;

  constructor(private readonly worker: Worker) {
    worker.on('message', (message: unknown) => {
      if (!isFromWorker(message)) this.fail(new Error(`unexpected message from the client worker: ${String(message)}`));
      else if (message.type === 'fatal') this.fail(new Error(`client worker: ${message.message}`));
      else this.inbox.push(message);
      this.wake?.();
    });
    worker.on('error', (error) => this.fail(error));
    this.exit = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.exited = true;
        this.fail(new Error(`the client worker exited (${code})`));
        resolve(code);
      }),
    );
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** The next message of this type (and set): earlier messages of other types would be a protocol error. */
  async take<T extends FromWorker['type']>(type: T, set?: string): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const index = this.inbox.findIndex(
        (m) => m.type === type && (set === undefined || ('set' in m && m.set === set)),
      );
      if (index >= 0) return this.inbox.splice(index, 1)[0] as Extract<FromWorker, { type: T }>;
      if (this.failure) throw this.failure;
      if (Date.now() > deadline) throw new Error(`no "${type}" from the client worker within ${TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  async close(): Promise<void> {
    if (!this.exited) {
      this.closing = true;
      this.post({ type: 'close' });
      await this.take('closed').catch(() => undefined);
      const timer = setTimeout(() => void this.worker.terminate(), 5000);
      await this.exit;
      clearTimeout(timer);
    }
  }

  private fail(error: Error): void {
    // Once it is asked to close, the worker's exit is no failure.
    if (this.failure === undefined && !this.closing) this.failure = error;
    this.wake?.();
  }
}

// ---------------------------------------------------------------- the two servers -----------------------------

interface Variant {
  readonly name: string;
  readonly label: string;
  /** The client worker's set of sockets that receives this variant's messages. */
  readonly set: string;
  /** The seq of the last message each agent got before this repetition; the same for every agent. */
  baseSeq(): number;
  /** Causes one message to `agent`: a status change for ours, a send for the baseline. */
  push(agent: number, round: number, seq: number): void;
  /** After a repetition. */
  advance(): void;
  /**
   * After a repetition, outside its window: finishes work it left behind (the status rows still waiting for the
   * writer thread), so that its CPU is not taken from the next variant's window. At most the last batch (200 ms
   * of a repetition's changes) is written here rather than inside the window.
   */
  settle(): void;
}

interface Ours {
  readonly hotline: Hotline;
  readonly url: string;
  readonly agentIds: readonly string[];
  readonly tokens: readonly string[];
  close(): Promise<void>;
}

async function startOurs(): Promise<Ours> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openhotline-bench-'));
  const jwtSecret = randomBytes(32).toString('base64url');
  const config = loadConfig({
    overrides: {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      logLevel: 'silent',
      seedDemo: false,
      adminKey: `bench-admin-${randomBytes(12).toString('hex')}`,
      jwtSecret,
    },
  });
  const hotline = createHotline(config, { log: silentLogger });
  const app = await buildApp(hotline);
  await app.listen({ host: config.host, port: 0 });
  const { port } = app.server.address() as AddressInfo;

  const agentIds = Array.from({ length: AGENTS }, (_, i) => `agent-${String(i).padStart(4, '0')}`);
  const { directory, storage } = hotline;
  storage.transaction(() => {
    // Nobody is checked out for a lost channel mid-run, and ready follows check-in (the guide's flow).
    directory.createInstance({
      id: INSTANCE,
      name: 'Benchmark',
      settings: { readyOnCheckin: true, channelGraceSeconds: 3600 },
    });
    directory.createSkillGroup(INSTANCE, { id: 'bench', name: 'Benchmark' });
    directory.createBreakReason(INSTANCE, { code: 'rest', label: { 'zh-CN': '小休', en: 'Rest' } });
    for (const id of agentIds) directory.createAgent(INSTANCE, { id, name: `Agent ${id}`, skillGroupIds: ['bench'] });
    directory.createApiClient(INSTANCE, { name: 'benchmark', ...CLIENT });
  });
  for (const id of agentIds) hotline.agents.checkin(INSTANCE, id, {});

  // One token through the real exchange; the rest are the same claims for the other agents, signed with the
  // server's key. The exchange checks the client secret with scrypt, a thousand of which would take a minute.
  const first = await hotline.tokens.issue({
    grant_type: 'client_credentials',
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    agent_id: agentIds[0] ?? '',
  });
  const claims = decodeJwt(first.access_token);
  const header = decodeProtectedHeader(first.access_token);
  const key = new TextEncoder().encode(jwtSecret);
  const tokens = await Promise.all(
    agentIds.map((id) =>
      new SignJWT({ ...claims, sub: id, jti: randomBytes(9).toString('base64url') })
        .setProtectedHeader({ ...header, alg: header.alg ?? 'HS256' })
        .sign(key),
    ),
  );

  return {
    hotline,
    url: `ws://127.0.0.1:${port}`,
    agentIds,
    tokens,
    async close() {
      await app.close();
      await hotline.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function oursVariant(ours: Ours): Variant {
  const { hotline, agentIds } = ours;
  const keys = agentIds.map((id) => agentKey(INSTANCE, id));
  return {
    name: 'ours',
    label: 'openhotline',
    set: 'ours',
    baseSeq: () => headOf(hotline, keys),
    push(agent, round) {
      const id = agentIds[agent] ?? '';
      // The same service calls as POST /v1/agent/break and /ready: machine, SQLite, history, push.
      if (round % 2 === 0) hotline.agents.startBreak(INSTANCE, id, 'rest');
      else hotline.agents.ready(INSTANCE, id);
    },
    advance() {},
    settle() {
      // A read of status rows hands everything pending to the writer and waits until it has written it.
      hotline.storage.agentRuntime.get(INSTANCE, agentIds[0] ?? '');
    },
  };
}

function headOf(hotline: Hotline, keys: readonly string[]): number {
  const heads = new Set(keys.map((k) => hotline.streams.head(k)));
  if (heads.size !== 1) throw new Error(`agents' streams are not in step: ${[...heads].join(', ')}`);
  return [...heads][0] ?? 0;
}

/** The last message each agent was sent, as a channel in the default locale got it. */
function lastFrames(ours: Ours): Record<string, unknown>[] {
  const { streams } = ours.hotline;
  return ours.agentIds.map((id) => {
    const key = agentKey(INSTANCE, id);
    const subscriber = { locale: EnumLocale['zh-CN'], send() {} };
    const replay = streams.attach(key, subscriber, { epoch: streams.epoch, lastSeq: streams.head(key) - 1 });
    streams.detach(key, subscriber);
    const frame = replay.kind === 'replay' ? replay.frames[0] : undefined;
    if (frame === undefined) throw new Error(`no message of ${id} to copy`);
    return JSON.parse(frame.toString()) as Record<string, unknown>;
  });
}

/**
 * A diagnostic, not the issue's figure: the same channels fed by `streams.publish` directly, with no status
 * change behind each message, so the table shows what the channel costs apart from the agent service.
 */
function publishOnlyVariant(ours: Ours): Variant {
  const { hotline, agentIds } = ours;
  const keys = agentIds.map((id) => agentKey(INSTANCE, id));
  const messages = lastFrames(ours).map(({ type: _type, seq: _seq, ...message }) => message as UnsequencedMessage);
  return {
    name: 'publish',
    label: 'publish only',
    set: 'ours',
    baseSeq: () => headOf(hotline, keys),
    push(agent) {
      const message = messages[agent];
      if (message) hotline.streams.publish(keys[agent] ?? '', message);
    },
    advance() {},
    settle() {},
  };
}

interface Bare {
  readonly url: string;
  readonly sockets: (WebSocket | undefined)[];
  close(): Promise<void>;
}

async function startBare(): Promise<Bare> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 16_384 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const sockets: (WebSocket | undefined)[] = new Array(AGENTS);
  server.on('connection', (socket, request) => {
    const agent = Number(new URL(request.url ?? '/', 'http://bench').searchParams.get('agent'));
    socket.on('error', () => {});
    sockets[agent] = socket;
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    sockets,
    async close() {
      for (const socket of sockets) socket?.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The baseline sends each agent the message ours sent it last (the same JSON, as a channel in the default
 * locale gets it) with its own seq: one JSON.stringify and one ws send per message, the floor for this delivery.
 */
function bareVariant(bare: Bare, ours: Ours): Variant {
  const templates = lastFrames(ours);
  let base = 0;
  return {
    name: 'bare',
    label: 'bare ws',
    set: 'bare',
    baseSeq: () => base,
    push(agent, _round, seq) {
      bare.sockets[agent]?.send(JSON.stringify({ ...templates[agent], seq }));
    },
    advance() {
      base += ROUNDS;
    },
    settle() {},
  };
}

// ---------------------------------------------------------------- measuring -----------------------------------

interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly throughput: number;
  /** CPU per message, µs: the server's thread, the client worker, and every other thread (SQLite writer, GC). */
  readonly cpu: { readonly server: number; readonly client: number; readonly other: number };
}

async function repetition(variant: Variant, client: ClientWorker): Promise<Figures> {
  const sentAt = new Float64Array(AGENTS * ROUNDS);
  const baseSeq = variant.baseSeq();
  client.post({ type: 'rep', set: variant.set, rounds: ROUNDS, baseSeq });
  await client.take('rep-ready', variant.set);
  const serverCpuAtStart = threadCpuNs();
  const processCpuAtStart = processCpuNs();
  for (let round = 0; round < ROUNDS; round++) {
    for (let first = 0; first < AGENTS; first += BATCH) {
      for (let agent = first; agent < Math.min(AGENTS, first + BATCH); agent++) {
        sentAt[agent * ROUNDS + round] = now();
        variant.push(agent, round, baseSeq + round + 1);
      }
      await yieldToLoop();
    }
    // Closed loop: the next round starts when the client has every message of this one.
    await client.take('round', variant.set);
  }
  const { recv, cpuNs } = await client.take('rep-done', variant.set);
  const serverNs = threadCpuNs() - serverCpuAtStart;
  const processNs = processCpuNs() - processCpuAtStart;
  variant.advance();
  variant.settle();
  const perMessage = (ns: number) => ns / 1000 / sentAt.length;
  return {
    ...figuresOf(sentAt, recv),
    cpu: {
      server: perMessage(serverNs),
      client: perMessage(cpuNs),
      other: perMessage(Math.max(0, processNs - serverNs - cpuNs)),
    },
  };
}

function figuresOf(sentAt: Float64Array, receivedAt: Float64Array): Omit<Figures, 'cpu'> {
  const latencies = new Float64Array(sentAt.length);
  let firstSent = Number.POSITIVE_INFINITY;
  let lastReceived = 0;
  for (let i = 0; i < sentAt.length; i++) {
    const sent = sentAt[i] ?? 0;
    const received = receivedAt[i] ?? 0;
    if (received === 0) throw new Error(`message ${i} never arrived`);
    latencies[i] = received - sent;
    firstSent = Math.min(firstSent, sent);
    lastReceived = Math.max(lastReceived, received);
  }
  latencies.sort();
  const rank = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? 0;
  return {
    p50: rank(0.5),
    p99: rank(0.99),
    max: latencies[latencies.length - 1] ?? 0,
    throughput: sentAt.length / ((lastReceived - firstSent) / 1000),
  };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

const ms = (v: number) => v.toFixed(2);
const rate = (v: number) => Math.round(v).toLocaleString('en-US');

// ---------------------------------------------------------------- the benchmark -------------------------------

export const eventChannelBenchmark: Benchmark = {
  name: 'event-channel',
  summary: `${AGENTS} agents with a live channel each, ${ROUNDS} status changes per agent per repetition, vs bare ws`,

  async run(progress): Promise<BenchmarkResult> {
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const setupStarted = now();
      const ours = await startOurs();
      cleanups.unshift(() => ours.close());
      const bare = await startBare();
      cleanups.unshift(() => bare.close());
      const client = new ClientWorker(new Worker(new URL('./event-channel-client.mjs', import.meta.url)));
      cleanups.unshift(() => client.close());

      client.post({
        type: 'connect',
        set: 'ours',
        urls: ours.tokens.map((t) => `${ours.url}${CHANNEL_PATH}?access_token=${t}`),
        readyOn: 'snapshot',
      });
      const oursConnected = await client.take('connected', 'ours');
      client.post({
        type: 'connect',
        set: 'bare',
        urls: Array.from({ length: AGENTS }, (_, i) => `${bare.url}/?agent=${i}`),
        readyOn: 'open',
      });
      const bareConnected = await client.take('connected', 'bare');
      if (bare.sockets.filter(Boolean).length !== AGENTS) throw new Error('the baseline is missing connections');
      progress(
        `set up in ${((now() - setupStarted) / 1000).toFixed(1)} s; ${AGENTS} channels open in ` +
          `${Math.round(oursConnected.ms)} ms (bare ws: ${Math.round(bareConnected.ms)} ms)`,
      );

      const variants = [oursVariant(ours), bareVariant(bare, ours), publishOnlyVariant(ours)];
      const results = new Map<string, Figures[]>(variants.map((v) => [v.name, []]));
      // One unmeasured repetition each first (JIT, caches), then rounds in rotating order so that drift on a
      // noisy machine falls on every variant alike.
      for (const variant of variants) await repetition(variant, client);
      for (let rep = 0; rep < REPETITIONS; rep++) {
        const order = variants.map((_, i) => variants[(i + rep) % variants.length] as Variant);
        for (const variant of order) {
          const figures = await repetition(variant, client);
          results.get(variant.name)?.push(figures);
          progress(
            `rep ${rep + 1} ${variant.label.padEnd(12)} p50 ${ms(figures.p50)} ms  p99 ${ms(figures.p99)} ms  ` +
              `${rate(figures.throughput)} msg/s  cpu µs/msg server ${figures.cpu.server.toFixed(1)} ` +
              `client ${figures.cpu.client.toFixed(1)} other ${figures.cpu.other.toFixed(1)}`,
          );
        }
      }

      const summary = (name: string) => {
        const runs = results.get(name) ?? [];
        const throughputs = runs.map((r) => r.throughput);
        return {
          p50: median(runs.map((r) => r.p50)),
          p99: median(runs.map((r) => r.p99)),
          max: Math.max(...runs.map((r) => r.max)),
          throughput: median(throughputs),
          range: `${rate(Math.min(...throughputs))}–${rate(Math.max(...throughputs))}`,
          cpu: ['server', 'client', 'other'].map((thread) =>
            median(runs.map((r) => r.cpu[thread as keyof Figures['cpu']])).toFixed(1),
          ),
        };
      };
      const o = summary('ours');
      const b = summary('bare');
      const p = summary('publish');
      const memory = process.memoryUsage();
      const heapMb = Math.round(memory.heapUsed / 1024 / 1024);
      const buffersMb = Math.round(memory.arrayBuffers / 1024 / 1024);
      const throughputRatio = o.throughput / b.throughput;
      return {
        table: [
          ['', 'p50 ms', 'p99 ms', 'max ms', 'msg/s', 'msg/s range', 'server µs/msg', 'client µs/msg', 'other µs/msg'],
          [
            'openhotline (status change → push)',
            ms(o.p50),
            ms(o.p99),
            ms(o.max),
            rate(o.throughput),
            o.range,
            ...o.cpu,
          ],
          ['bare ws (baseline)', ms(b.p50), ms(b.p99), ms(b.max), rate(b.throughput), b.range, ...b.cpu],
          [
            'openhotline, publish only (diagnostic)',
            ms(p.p50),
            ms(p.p99),
            ms(p.max),
            rate(p.throughput),
            p.range,
            ...p.cpu,
          ],
        ],
        notes: [
          `medians of ${REPETITIONS} repetitions each (interleaved, after one warm-up each); a repetition is ` +
            `${ROUNDS} rounds × ${AGENTS} messages, ${BATCH} per event-loop turn, a round once the last arrived`,
          `ratios ours/bare: throughput ${throughputRatio.toFixed(2)}, p50 ${(o.p50 / b.p50).toFixed(2)}×, ` +
            `p99 ${(o.p99 / b.p99).toFixed(2)}×; publish only/bare: throughput ${(p.throughput / b.throughput).toFixed(2)}, ` +
            `p99 ${(p.p99 / b.p99).toFixed(2)}×`,
          'µs/msg: CPU time per message of the server thread, the client worker, and the other threads of the ' +
            'process (the status writer, the garbage collector, libuv), from /proc (Linux; 0 elsewhere)',
          `memory after the run: main thread's JavaScript heap ${heapMb} MB (both servers), ` +
            `buffers outside it ${buffersMb} MB (mostly the replay rings of ${AGENTS} agents)`,
        ],
        verdicts: [
          {
            label: 'delivery p99 (openhotline)',
            value: `${ms(o.p99)} ms`,
            target: `< ${TARGET_P99_MS} ms`,
            met: o.p99 < TARGET_P99_MS,
          },
          {
            label: 'throughput ours/bare ws',
            value: throughputRatio.toFixed(2),
            target: `>= ${TARGET_THROUGHPUT_RATIO}`,
            met: throughputRatio >= TARGET_THROUGHPUT_RATIO,
          },
        ],
      };
    } finally {
      for (const cleanup of cleanups) await cleanup().catch((error: unknown) => progress(`cleanup: ${String(error)}`));
    }
  },
};
