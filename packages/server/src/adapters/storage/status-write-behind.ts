import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { StateHistoryEntry } from '@openhotline/protocol';
import type Database from 'better-sqlite3';
import type { HistoryTuple } from './sqlite/agent-status.js';
import type { AgentRuntimeFields, Storage } from './storage.js';

/**
 * Status writes (the agent runtime mirror and the state history) happen on every status change of every agent:
 * at a thousand agents that is thousands of rows a second, and writing them on the main thread cost about as
 * much as everything else a status change does together (machine, message, push). They are written behind, by a
 * worker thread with its own connection to the same database file, so the event loop that carries the live
 * channels and the media clock never waits for SQLite's commit or checkpoint.
 *
 * What stays true for every caller of the Storage interface:
 * - reads of agent_runtime and the state history see every write made before them (a read waits for the worker to
 *   finish what it was given; that wait is short and only happens when something is in flight);
 * - main-thread writes that could collide with status rows (removing an agent, a skill group or an instance, and
 *   every `transaction`) first wait for the worker, so the two writers never hold the lock in a cycle and a row
 *   never lands after the delete that should have removed it;
 * - `close()` waits for the worker to finish, so a clean stop loses nothing; a crash may lose the status rows of
 *   the last BATCH_MS (a fifth of a second: the in-memory state is the truth, and an agent's status at a crash is
 *   resolved at the next start anyway), never corrupt anything.
 * Status writes are no longer part of the caller's transaction: a rollback does not take them back. The agent
 * service never relied on that (its in-memory state is the truth; storage follows it).
 *
 * Each batch writes one runtime row per agent (the newest) and one history segment per agent (every entry of the
 * batch, in order; see sqlite/agent-status.ts), so a busy agent costs SQLite one row of each per batch rather
 * than a row per change.
 *
 * An in-memory database cannot be shared with a worker: its status rows go through the same batches, written on
 * this thread at the end of the turn of the event loop (tests of the storage itself).
 */

/** What the worker writes with: two statements and how their parameters are made. */
export interface StatusStatements {
  /** Upserts an agent's runtime row (positional parameters, see runtimeParams). */
  readonly upsertRuntime: string;
  /** Appends one segment of an agent's history (positional parameters, see historySegmentParams). */
  readonly appendHistorySegment: string;
  /** The upsert's parameters for an agent's runtime row. */
  runtimeParams(instanceId: string, agentId: string, fields: AgentRuntimeFields): readonly unknown[];
  /**
   * A segment's parameters for one agent's entries as [at, from, to, cmd, breakReason] tuples. The worker runs its
   * source text, so it must be self-contained (no imports, closures or nested functions).
   */
  historySegmentParams(instanceId: string, agentId: string, tuples: HistoryTuple[]): readonly unknown[];
}

/** How long status rows wait to be handed to the worker, at most (see schedulePost). */
const BATCH_MS = 200;

export interface StatusWriteBehindOptions {
  /** Told when the worker could not write a row (it writes the others), or when the worker itself failed. */
  readonly onWriteFailure?: (message: string) => void;
  /** How long a read or a close waits for the worker before giving up on it (default 10 s). */
  readonly settleTimeoutMs?: number;
}

/** Numbers per history entry in a batch: instance, agent, at, from, to, cmd, breakReason (see Batch). */
const HISTORY_FIELDS = 7;
/** Room for this many numbers (256 entries) in a new batch's history; it grows by doubling. */
const INITIAL_HISTORY_CAPACITY = HISTORY_FIELDS * 256;

/**
 * A batch of status rows as it crosses to the worker.
 *
 * The history entries are numbers in one Float64Array whose buffer is moved to the worker, not copied, with each
 * string they name (instance and agent ids, commands, break reasons) once in `strings`. A batch holds every change
 * of the last BATCH_MS, thousands of them at a thousand busy agents; as a list of values it was copied value by
 * value and string by string (the same agent id once per entry), and until it was posted its entries' times were
 * heap numbers the garbage collector copied at every collection.
 */
interface Batch {
  /** Upsert parameters: the newest runtime row of each agent that changed. */
  readonly runtime: unknown[][];
  /** The strings the history entries name, by index. */
  readonly strings: string[];
  /**
   * HISTORY_FIELDS numbers per entry, in the order the entries happened: instance, agent, at, from, to, cmd,
   * breakReason, where instance, agent, cmd and breakReason are indexes into `strings`.
   */
  readonly history: Float64Array;
  /** How many numbers of `history` are entries (the rest of its buffer is room). */
  readonly historyLength: number;
}

/**
 * Turns a batch into its statements' parameters: each runtime row as it is, and each agent's history entries as
 * one segment, after the runtime rows. Shared by the worker (as source text) and the inline fallback, so it is
 * self-contained (the 7 is HISTORY_FIELDS).
 */
function planBatch(
  batch: Batch,
  segmentParams: StatusStatements['historySegmentParams'],
): { runtime: unknown[][]; segments: unknown[][] } {
  const { strings, history, historyLength } = batch;
  // instance → agent → entries, by the strings' indexes: no string to hash or join per entry.
  const byInstance = new Map<number, Map<number, HistoryTuple[]>>();
  for (let i = 0; i < historyLength; i += 7) {
    const instance = history[i] as number;
    const agent = history[i + 1] as number;
    let byAgent = byInstance.get(instance);
    if (byAgent === undefined) {
      byAgent = new Map();
      byInstance.set(instance, byAgent);
    }
    let tuples = byAgent.get(agent);
    if (tuples === undefined) {
      tuples = [];
      byAgent.set(agent, tuples);
    }
    tuples.push([
      history[i + 2] as number,
      history[i + 3] as number,
      history[i + 4] as number,
      strings[history[i + 5] as number] as string,
      strings[history[i + 6] as number] as string,
    ]);
  }
  const segments: unknown[][] = [];
  for (const [instance, byAgent] of byInstance) {
    for (const [agent, tuples] of byAgent) {
      segments.push(segmentParams(strings[instance] as string, strings[agent] as string, tuples) as unknown[]);
    }
  }
  return { runtime: batch.runtime, segments };
}

/**
 * Writes a planned batch: all of it in one transaction, or, if that fails, one write at a time, so that one bad row
 * (an instance removed meanwhile) costs only itself and is told to `dropped`. Shared by the worker (as source text)
 * and the inline path, so it is self-contained too.
 */
function writePlan(
  db: Database.Database,
  upsertRuntime: Database.Statement,
  appendSegment: Database.Statement,
  plan: { runtime: unknown[][]; segments: unknown[][] },
  dropped: (message: string) => void,
): void {
  try {
    db.transaction(() => {
      for (const params of plan.runtime) upsertRuntime.run(params);
      for (const params of plan.segments) appendSegment.run(params);
    })();
  } catch {
    for (const [statement, list] of [
      [upsertRuntime, plan.runtime],
      [appendSegment, plan.segments],
    ] as const) {
      for (const params of list) {
        try {
          statement.run(params);
        } catch (error) {
          dropped(error instanceof Error ? error.message : String(error));
        }
      }
    }
  }
}

/**
 * The worker's whole program. It is plain JavaScript evaluated in the worker (not a module file) so that it runs
 * the same from the compiled server and from the TypeScript sources the tests use: it plans and writes each batch
 * with the same functions as the inline path.
 */
const workerSource = (segmentParams: StatusStatements['historySegmentParams']) => `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
const upsertRuntime = db.prepare(workerData.upsertRuntime);
const appendSegment = db.prepare(workerData.appendHistorySegment);
const progress = new Int32Array(workerData.progress);
const segmentParams = ${segmentParams.toString()};
const planBatch = ${planBatch.toString()};
const writePlan = ${writePlan.toString()};
const dropped = (message) => parentPort.postMessage({ type: 'dropped', message });
parentPort.on('message', (message) => {
  if (message === 'close') {
    try {
      db.close();
    } finally {
      Atomics.store(progress, 1, 1);
      Atomics.notify(progress, 1);
      parentPort.close();
    }
    return;
  }
  writePlan(db, upsertRuntime, appendSegment, planBatch(message.batch, segmentParams), dropped);
  Atomics.store(progress, 0, message.seq);
  Atomics.notify(progress, 0);
});
`;

export function withStatusWriteBehind(
  storage: Omit<Storage, 'writeStatus'>,
  db: Database.Database,
  statements: StatusStatements,
  options: StatusWriteBehindOptions = {},
): Storage {
  const report = options.onWriteFailure ?? (() => {});
  const settleTimeoutMs = options.settleTimeoutMs ?? 10_000;
  // [0]: the last batch the worker finished; [1]: 1 once the worker closed its connection.
  const progress = new Int32Array(new SharedArrayBuffer(8));
  // An in-memory database cannot be shared with a worker: its status rows are written on this thread.
  let worker: Worker | undefined = db.memory
    ? undefined
    : new Worker(workerSource(statements.historySegmentParams), {
        eval: true,
        workerData: {
          driver: createRequire(import.meta.url).resolve('better-sqlite3'),
          path: db.name,
          upsertRuntime: statements.upsertRuntime,
          appendHistorySegment: statements.appendHistorySegment,
          progress: progress.buffer,
        },
      });
  /** The history entries of the next batch (see Batch), and the strings they name. */
  let history = new Float64Array(INITIAL_HISTORY_CAPACITY);
  let historyLength = 0;
  let strings: string[] = [];
  let stringIndexes = new Map<string, number>();
  /**
   * The newest runtime row of each agent since the last hand-over, by instance and agent: only the last state of an
   * agent matters, so an agent that changed status twice in one batch costs one upsert, and its parameters are made
   * once, at the hand-over, not at every change.
   */
  let pendingRuntime = new Map<string, Map<string, AgentRuntimeFields>>();
  let posted = 0;
  let postTimer: NodeJS.Timeout | undefined;
  let postImmediate: NodeJS.Immediate | undefined;
  let closed = false;
  /**
   * After close nothing is written (the database is gone): a late change, from a timer that outlived the server,
   * is reported as what it is rather than as a failed write.
   */
  const refusedAfterClose = (instanceId: string, agentId: string): boolean => {
    if (closed) report(`status change of ${instanceId}/${agentId} after storage closed: not written`);
    return closed;
  };

  const upsertRuntime = db.prepare(statements.upsertRuntime);
  const appendSegment = db.prepare(statements.appendHistorySegment);
  /** Without a worker (an in-memory database, or the worker failed): writes a batch on this thread as the worker would. */
  const writeInline = (batch: Batch) =>
    writePlan(db, upsertRuntime, appendSegment, planBatch(batch, statements.historySegmentParams), (message) =>
      report(`status rows dropped: ${message}`),
    );
  const abandon = (why: string) => {
    if (!worker) return;
    worker = undefined;
    report(why);
    writeInline(takePending());
  };
  worker?.on('message', (message: { type?: string; message?: string }) => {
    if (message?.type === 'dropped') report(`status rows dropped: ${message.message ?? ''}`);
  });
  worker?.on('error', (error) => abandon(`status writer failed: ${error.message}`));
  worker?.on('exit', (code) => {
    if (!closed) abandon(`status writer exited (${code})`);
  });
  // The worker must not keep the process alive on its own; the server's close() settles it.
  worker?.unref();

  /** Everything pending as a batch; pending starts over empty. */
  const takePending = (): Batch => {
    const runtime: unknown[][] = [];
    for (const [instanceId, agents] of pendingRuntime)
      for (const [agentId, fields] of agents)
        runtime.push(statements.runtimeParams(instanceId, agentId, fields) as unknown[]);
    const batch: Batch = { runtime, strings, history, historyLength };
    pendingRuntime = new Map();
    // The buffer goes to the worker: the next batch gets its own, as large as this one needed (a busy server's
    // batches are alike; after a burst, a quiet one's shrink back).
    history = new Float64Array(Math.max(INITIAL_HISTORY_CAPACITY, historyLength));
    historyLength = 0;
    strings = [];
    stringIndexes = new Map();
    return batch;
  };
  const post = () => {
    if (postTimer) clearTimeout(postTimer);
    if (postImmediate) clearImmediate(postImmediate);
    postTimer = undefined;
    postImmediate = undefined;
    if (historyLength === 0 && pendingRuntime.size === 0) return;
    const batch = takePending();
    if (!worker) {
      writeInline(batch);
      return;
    }
    posted += 1;
    worker.postMessage({ seq: posted, batch }, [batch.history.buffer as ArrayBuffer]);
  };
  /**
   * Rows are handed over every BATCH_MS rather than per burst: the worker then commits a few large transactions
   * instead of many small ones (each commit rewrites the pages it touched), which at a thousand busy agents is most
   * of its CPU, on a machine where that CPU is taken from the event loop and the sockets. Readers never see the
   * delay: every read and every main-thread write hands over and waits first.
   */
  const schedulePost = () => {
    if (!worker) {
      // Nobody to hand over to: write at the end of this turn of the event loop, outside any transaction of the
      // caller (as the worker does), and a burst of changes in one transaction.
      postImmediate ??= setImmediate(post);
      return;
    }
    if (!postTimer) {
      postTimer = setTimeout(post, BATCH_MS);
      postTimer.unref();
    }
  };
  const enqueueRuntime = (instanceId: string, agentId: string, fields: AgentRuntimeFields) => {
    let agents = pendingRuntime.get(instanceId);
    if (!agents) {
      agents = new Map();
      pendingRuntime.set(instanceId, agents);
    }
    agents.set(agentId, fields);
  };
  const indexOf = (text: string): number => {
    let index = stringIndexes.get(text);
    if (index === undefined) {
      index = strings.length;
      strings.push(text);
      stringIndexes.set(text, index);
    }
    return index;
  };
  const enqueueHistory = (instanceId: string, agentId: string, entry: StateHistoryEntry) => {
    if (historyLength + HISTORY_FIELDS > history.length) {
      const larger = new Float64Array(history.length * 2);
      larger.set(history);
      history = larger;
    }
    const at = historyLength;
    history[at] = indexOf(instanceId);
    history[at + 1] = indexOf(agentId);
    history[at + 2] = entry.at;
    history[at + 3] = entry.from;
    history[at + 4] = entry.to;
    history[at + 5] = indexOf(entry.cmd);
    history[at + 6] = indexOf(entry.breakReason);
    historyLength = at + HISTORY_FIELDS;
  };
  /** Hands over what is pending and waits until the worker has written everything it was given. */
  const settle = () => {
    post();
    if (!worker) return;
    const deadline = Date.now() + settleTimeoutMs;
    for (;;) {
      const done = Atomics.load(progress, 0);
      if (done >= posted) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        abandon(`status writer did not finish within ${settleTimeoutMs} ms`);
        return;
      }
      Atomics.wait(progress, 0, done, left);
    }
  };
  /** Before a main-thread write: never while the main thread is inside a transaction (the worker needs the lock). */
  const settleOutsideTransaction = () => {
    if (!db.inTransaction) settle();
  };
  const settled =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      settleOutsideTransaction();
      return fn(...args);
    };

  const { agentRuntime, stateHistory, agents, skillGroups, instances } = storage;
  return {
    ...storage,
    agentRuntime: {
      get: settled(agentRuntime.get.bind(agentRuntime)),
      listAll: settled(agentRuntime.listAll.bind(agentRuntime)),
      put(record) {
        if (refusedAfterClose(record.instanceId, record.agentId)) return;
        enqueueRuntime(record.instanceId, record.agentId, record);
        schedulePost();
      },
      remove: settled(agentRuntime.remove.bind(agentRuntime)),
    },
    stateHistory: {
      append(instanceId, agentId, entries) {
        if (refusedAfterClose(instanceId, agentId)) return;
        for (const entry of entries) enqueueHistory(instanceId, agentId, entry);
        schedulePost();
      },
      list: settled(stateHistory.list.bind(stateHistory)),
    },
    agents: { ...bindAll(agents), remove: settled(agents.remove.bind(agents)) },
    skillGroups: { ...bindAll(skillGroups), remove: settled(skillGroups.remove.bind(skillGroups)) },
    instances: { ...bindAll(instances), remove: settled(instances.remove.bind(instances)) },
    writeStatus(instanceId, agentId, runtime, entry) {
      if (refusedAfterClose(instanceId, agentId)) return;
      enqueueRuntime(instanceId, agentId, runtime);
      if (entry) enqueueHistory(instanceId, agentId, entry);
      schedulePost();
    },
    transaction<T>(fn: () => T): T {
      settleOutsideTransaction();
      return storage.transaction(fn);
    },
    close() {
      if (closed) return;
      settle();
      closed = true;
      if (worker) {
        worker.postMessage('close');
        worker = undefined;
        // Its connection is gone before ours: whoever removes the files next finds them finished.
        Atomics.wait(progress, 1, 0, settleTimeoutMs);
      }
      storage.close();
    },
  };
}

/** A repository object's methods bound to it, so they can be spread into a wrapper. */
function bindAll<T extends object>(repository: T): T {
  const bound: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(repository)) {
    bound[name] = typeof value === 'function' ? value.bind(repository) : value;
  }
  return bound as T;
}
