import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { CHANNEL_PATH } from '@openhotline/protocol';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { buildApp } from '../packages/server/src/app.js';
import { loadConfig } from '../packages/server/src/config.js';
import { createHotline, type Hotline } from '../packages/server/src/hotline.js';
import { silentLogger } from '../packages/server/src/services/logger.js';
import type { Benchmark, BenchmarkResult } from './benchmark.js';

/**
 * Automatic call distribution under load: 200 agents that answer automatically (in a worker thread, over the
 * real channel and HTTP API), callers arriving at stepped rates. Per step: how many calls per second were routed
 * (offered to an agent) and how long from a caller's arrival to the agent's AgentRinging event.
 */
const AGENTS = 200;
/** Offered arrival rates, calls per second; a repetition stops increasing once calls back up. */
const STEPS = [50, 100, 200, 300, 400, 500] as const;
const STEP_MS = 3000;
const REPETITIONS = 3;
/**
 * Talk time of every call. With 200 agents and about 10 ms of HTTP round trips per call, each agent serves a call
 * per ~110 ms, so the pool could take ~1,800 calls/s: agents never limit routing at these rates, the server does.
 */
const TALK_MS = 100;
/** After a step, how long its late callers may still take to ring before they count as not routed. */
const DRAIN_MS = 5000;
const INSTANCE = 'acd';
const HOTLINE_NUMBER = '4008009000';
const CLIENT = { clientId: 'acd-bench', clientSecret: 'acd-bench-secret-0123456789' } as const;
const TIMEOUT_MS = 30_000;

const TARGET_RATE = 200;
const TARGET_P99_MS = 50;

/** Wall clock in ms with sub-ms resolution, comparable between this thread and the client worker. */
const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- the client worker ---------------------------

type FromWorker =
  | { readonly type: 'ready'; readonly ms: number }
  | { readonly type: 'rings'; readonly connIds: readonly string[]; readonly at: Float64Array; readonly cycles: number }
  | { readonly type: 'closed' }
  | { readonly type: 'fatal'; readonly message: string };

type ToWorker =
  | {
      readonly type: 'start';
      readonly channelUrls: readonly string[];
      readonly httpBase: string;
      readonly tokens: readonly string[];
      readonly talkMs: number;
    }
  | { readonly type: 'collect' }
  | { readonly type: 'close' };

const WORKER_MESSAGE_TYPES = new Set(['ready', 'rings', 'closed', 'fatal']);

function isFromWorker(value: unknown): value is FromWorker {
  return (
    typeof value === 'object' &&
    value !== null &&
    'type' in value &&
    typeof value.type === 'string' &&
    WORKER_MESSAGE_TYPES.has(value.type)
  );
}

/** The main thread's end of the agents' worker: replies arrive in order and are taken in order. */
class AgentsWorker {
  private readonly inbox: FromWorker[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private exited = false;
  private closing = false;
  private readonly exit: Promise<number>;

  constructor(private readonly worker: Worker) {
    worker.on('message', (message: unknown) => {
      if (!isFromWorker(message))
        this.fail(new Error(`unexpected message from the agents' worker: ${String(message)}`));
      else if (message.type === 'fatal') this.fail(new Error(`agents' worker: ${message.message}`));
      else this.inbox.push(message);
      this.wake?.();
    });
    worker.on('error', (error) => this.fail(error));
    this.exit = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.exited = true;
        this.fail(new Error(`the agents' worker exited (${code})`));
        resolve(code);
      }),
    );
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Throws the worker's failure, if any: an agent that could not answer invalidates the figures. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  async take<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.type === type);
      if (index >= 0) return this.inbox.splice(index, 1)[0] as Extract<FromWorker, { type: T }>;
      this.check();
      if (Date.now() > deadline) throw new Error(`no "${type}" from the agents' worker within ${TIMEOUT_MS} ms`);
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

  async collect(): Promise<Extract<FromWorker, { type: 'rings' }>> {
    this.post({ type: 'collect' });
    return this.take('rings');
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    this.post({ type: 'close' });
    await this.take('closed').catch(() => undefined);
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exit;
    clearTimeout(timer);
  }

  private fail(error: Error): void {
    // Once it is asked to close, the worker's exit is no failure.
    if (this.failure === undefined && !this.closing) this.failure = error;
    this.wake?.();
  }
}

// ---------------------------------------------------------------- the server ----------------------------------

interface Server {
  readonly hotline: Hotline;
  readonly httpBase: string;
  readonly wsBase: string;
  readonly tokens: readonly string[];
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openhotline-bench-acd-'));
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

  const agentIds = Array.from({ length: AGENTS }, (_, i) => `agent-${String(i).padStart(3, '0')}`);
  const { directory, storage } = hotline;
  storage.transaction(() => {
    directory.createInstance({
      id: INSTANCE,
      name: 'ACD benchmark',
      settings: {
        // 0: after-call work lasts until the agent acts, and the auto-answering agent acts at once (POST ready).
        acwSeconds: 0,
        readyOnCheckin: true,
        channelGraceSeconds: 3600,
        // Nothing may time out or overflow during a run: every caller waits until routed.
        ringTimeoutSeconds: 600,
        queueTimeoutSeconds: 86_400,
        maxQueueLength: 100_000,
      },
    });
    directory.createSkillGroup(INSTANCE, { id: 'acd', name: 'ACD' });
    directory.createHotlineNumber(INSTANCE, { number: HOTLINE_NUMBER, name: 'ACD hotline', skillGroupId: 'acd' });
    for (const id of agentIds) directory.createAgent(INSTANCE, { id, name: `Agent ${id}`, skillGroupIds: ['acd'] });
    directory.createApiClient(INSTANCE, { name: 'benchmark', ...CLIENT });
  });

  // One token through the real exchange; the rest are the same claims for the other agents, signed with the
  // server's key. The exchange checks the client secret with scrypt, two hundred of which would take seconds.
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
    httpBase: `http://127.0.0.1:${port}`,
    wsBase: `ws://127.0.0.1:${port}`,
    tokens,
    async close() {
      await app.close();
      await hotline.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- measuring -----------------------------------

interface StepFigures {
  readonly rate: number;
  /** Callers placed per second (below the step's rate if the pacing loop could not keep up). */
  readonly placedPerSecond: number;
  /** Offers made per second during the step: AgentRinging events that arrived within it. */
  readonly routedPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Callers still waiting in the queue when the step's arrivals ended. */
  readonly queueAtEnd: number;
  /** Callers of the step that had not rung by the end of the drain. */
  readonly unrouted: number;
  /** The server's event-loop delay during the step (a diagnostic: what the server thread had to spare). */
  readonly loopP99: number;
}

/** Ring times by connId, gathered from the worker as they come. */
class Rings {
  private readonly at = new Map<string, number>();

  constructor(private readonly agents: AgentsWorker) {}

  async update(): Promise<void> {
    const batch = await this.agents.collect();
    for (const [i, connId] of batch.connIds.entries()) {
      // The first ring counts: the auto-answering agents never let a call ring twice, but a retry would.
      if (!this.at.has(connId)) this.at.set(connId, batch.at[i] ?? 0);
    }
  }

  get(connId: string): number | undefined {
    return this.at.get(connId);
  }

  /** Rings within [from, to). */
  countBetween(from: number, to: number): number {
    let count = 0;
    for (const t of this.at.values()) if (t >= from && t < to) count++;
    return count;
  }

  clear(): void {
    this.at.clear();
  }
}

function queueLength(hotline: Hotline): number {
  return hotline.calls.queues(INSTANCE, { canSeeFullNumbers: true }).reduce((n, q) => n + q.waiting.length, 0);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (!condition()) {
    if (now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Every agent back to ready (the previous calls ended), so each step starts from the same place. */
async function settle(server: Server, agents: AgentsWorker): Promise<void> {
  const { hotline } = server;
  const settled = await until(() => {
    agents.check();
    return queueLength(hotline) === 0 && hotline.agents.readyAgents(INSTANCE).length === AGENTS;
  }, 10_000);
  if (!settled) {
    throw new Error(
      `agents did not settle: ${hotline.agents.readyAgents(INSTANCE).length}/${AGENTS} ready, ` +
        `${queueLength(hotline)} waiting`,
    );
  }
}

/**
 * One step: callers at `rate` per second for STEP_MS, each stamped with its scheduled arrival time. Stamping the
 * schedule rather than the moment of placing means a server thread too busy to take a caller on time pays for
 * it in the figure, as a real arrival queued behind other work would (no coordinated omission).
 */
async function step(server: Server, agents: AgentsWorker, rings: Rings, rate: number): Promise<StepFigures> {
  const { hotline } = server;
  const total = Math.round((rate * STEP_MS) / 1000);
  const interval = 1000 / rate;
  const arrivals = new Map<string, number>();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const start = now();
  let placed = 0;
  while (placed < total) {
    const due = Math.min(total, Math.floor((now() - start) / interval) + 1);
    for (; placed < due; placed++) {
      const from = `1390${String(placed % 10_000_000).padStart(7, '0')}`;
      const connId = hotline.virtualCallers.place({ from, to: HOTLINE_NUMBER });
      arrivals.set(connId, start + placed * interval);
    }
    if (placed < total) await sleep(Math.max(1, Math.min(5, start + placed * interval - now())));
  }
  const end = now();
  const queueAtEnd = queueLength(hotline);
  loop.disable();
  const windowEnd = start + STEP_MS;

  // Drain: the step's callers may still ring after its end; they are measured, just not counted as routed in
  // the step's window.
  const deadline = now() + DRAIN_MS;
  for (;;) {
    await sleep(50);
    agents.check();
    await rings.update();
    const missing = [...arrivals.keys()].some((connId) => rings.get(connId) === undefined);
    if (!missing || now() > deadline) break;
  }

  const latencies: number[] = [];
  let unrouted = 0;
  for (const [connId, arrival] of arrivals) {
    const rang = rings.get(connId);
    if (rang === undefined) unrouted++;
    else latencies.push(rang - arrival);
  }
  latencies.sort((a, b) => a - b);
  // A caller that never rang is slower than any that did: it ranks last, as an infinite latency.
  const rank = (q: number) => {
    const index = Math.ceil(q * arrivals.size) - 1;
    return index < latencies.length ? (latencies[Math.max(0, index)] ?? 0) : Number.POSITIVE_INFINITY;
  };
  const figures: StepFigures = {
    rate,
    placedPerSecond: total / ((end - start) / 1000),
    routedPerSecond: rings.countBetween(start, windowEnd) / (STEP_MS / 1000),
    p50: rank(0.5),
    p99: rank(0.99),
    max: unrouted > 0 ? Number.POSITIVE_INFINITY : (latencies[latencies.length - 1] ?? 0),
    queueAtEnd,
    unrouted,
    loopP99: loop.percentile(99) / 1e6,
  };
  // Callers still waiting would ring in the next step and blur it: they give up now. Only queued ones: a caller
  // hanging up on a ringing agent would race the agent's answer.
  for (const queue of hotline.calls.queues(INSTANCE, { canSeeFullNumbers: true })) {
    for (const { connId } of queue.waiting) hotline.virtualCallers.hangUp(INSTANCE, connId);
  }
  await settle(server, agents);
  await rings.update();
  rings.clear();
  return figures;
}

/** Calls backed up: a tenth of the step's callers still waiting at its end, or some never routed. */
function backedUp(figures: StepFigures): boolean {
  return figures.unrouted > 0 || figures.queueAtEnd > (figures.rate * STEP_MS) / 1000 / 10;
}

const median = (values: readonly number[]) => {
  // Not a - b: an unrouted caller makes a figure infinite, and ∞ - ∞ is NaN.
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '∞');
const perSecond = (v: number) => Math.round(v).toLocaleString('en-US');

// ---------------------------------------------------------------- the benchmark -------------------------------

export const acdBenchmark: Benchmark = {
  name: 'acd',
  summary: `${AGENTS} auto-answering agents, callers at ${STEPS.join('/')} calls/s, ${STEP_MS / 1000} s per step`,

  async run(progress): Promise<BenchmarkResult> {
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const setupStarted = now();
      const server = await startServer();
      cleanups.unshift(() => server.close());
      const agents = new AgentsWorker(new Worker(new URL('./acd-client.mjs', import.meta.url)));
      cleanups.unshift(() => agents.close());
      // Callers still up when the run ends (an error mid-step) must not keep timers or records busy.
      cleanups.unshift(async () => server.hotline.virtualCallers.close());

      agents.post({
        type: 'start',
        channelUrls: server.tokens.map((t) => `${server.wsBase}${CHANNEL_PATH}?access_token=${t}`),
        httpBase: server.httpBase,
        tokens: server.tokens,
        talkMs: TALK_MS,
      });
      const ready = await agents.take('ready');
      await settle(server, agents);
      progress(
        `set up in ${((now() - setupStarted) / 1000).toFixed(1)} s; ${AGENTS} agents with a channel, checked in ` +
          `and ready in ${Math.round(ready.ms)} ms`,
      );

      const rings = new Rings(agents);
      // Unmeasured: JIT, SQLite's caches, the keep-alive connections of the agents.
      await step(server, agents, rings, 100);

      const results = new Map<number, StepFigures[]>(STEPS.map((rate) => [rate, []]));
      for (let rep = 1; rep <= REPETITIONS; rep++) {
        for (const rate of STEPS) {
          const figures = await step(server, agents, rings, rate);
          results.get(rate)?.push(figures);
          progress(
            `rep ${rep} ${String(rate).padStart(3)}/s: placed ${perSecond(figures.placedPerSecond)}/s, routed ` +
              `${perSecond(figures.routedPerSecond)}/s, p50 ${ms(figures.p50)} ms, p99 ${ms(figures.p99)} ms, ` +
              `max ${ms(figures.max)} ms, queue at end ${figures.queueAtEnd}` +
              (figures.unrouted > 0 ? `, ${figures.unrouted} not routed` : '') +
              `, server loop p99 ${ms(figures.loopP99)} ms`,
          );
          if (backedUp(figures)) {
            progress(`rep ${rep}: calls backed up at ${rate}/s; no higher rate this repetition`);
            break;
          }
        }
      }

      const rows = STEPS.flatMap((rate) => {
        const runs = results.get(rate) ?? [];
        if (runs.length === 0) return [];
        return [
          {
            rate,
            runs: runs.length,
            placed: median(runs.map((r) => r.placedPerSecond)),
            routed: median(runs.map((r) => r.routedPerSecond)),
            p50: median(runs.map((r) => r.p50)),
            p99: median(runs.map((r) => r.p99)),
            max: Math.max(...runs.map((r) => r.max)),
            queue: median(runs.map((r) => r.queueAtEnd)),
            loop: median(runs.map((r) => r.loopP99)),
          },
        ];
      });
      // The issue's figure: the highest rate routed while the p99 stays within its target.
      const withinTarget = rows.filter((r) => r.p99 < TARGET_P99_MS);
      const capacity = withinTarget.reduce((best, r) => Math.max(best, r.routed), 0);
      const atTarget = rows.find((r) => r.rate === TARGET_RATE);
      const heapMb = Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
      return {
        table: [
          [
            'offered calls/s',
            'reps',
            'placed/s',
            'routed/s',
            'p50 ms',
            'p99 ms',
            'max ms',
            'queue at end',
            'loop p99 ms',
          ],
          ...rows.map((r) => [
            String(r.rate),
            String(r.runs),
            perSecond(r.placed),
            perSecond(r.routed),
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            String(Math.round(r.queue)),
            ms(r.loop),
          ]),
        ],
        notes: [
          `medians over up to ${REPETITIONS} repetitions (a repetition stops raising the rate once calls back up), ` +
            `after one unmeasured step at 100/s; max is the worst single call of all repetitions`,
          `latency: a caller's scheduled arrival (virtualCallers.place on the server thread) → the AgentRinging ` +
            `frame at the agent's channel in the worker; routed/s: AgentRinging frames within the ${STEP_MS / 1000} s step`,
          `agents answer, talk ${TALK_MS} ms, hang up and become ready over HTTP (after-call work 0 s); ` +
            `loop p99: the server's event-loop delay during the step; server heap after the run: ${heapMb} MB`,
        ],
        verdicts: [
          {
            label: `calls routed per second with p99 < ${TARGET_P99_MS} ms`,
            value: `${perSecond(capacity)}/s`,
            target: `>= ${TARGET_RATE}/s`,
            met: capacity >= TARGET_RATE,
          },
          {
            label: `p99 arrival → ringing at ${TARGET_RATE} calls/s`,
            value: atTarget ? `${ms(atTarget.p99)} ms` : 'not reached',
            target: `< ${TARGET_P99_MS} ms`,
            met: atTarget !== undefined && atTarget.p99 < TARGET_P99_MS,
          },
        ],
      };
    } finally {
      for (const cleanup of cleanups) await cleanup().catch((error: unknown) => progress(`cleanup: ${String(error)}`));
    }
  },
};
