import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StateHistoryEntry } from '@openhotline/protocol';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import {
  APPEND_STATE_HISTORY_SEGMENT,
  agentRuntimeRepository,
  historySegmentParams,
  stateHistoryRepository,
  toAgentRuntimeWrite,
  UPSERT_AGENT_RUNTIME,
} from './sqlite/agent-status.js';
import { agentRepository } from './sqlite/agents.js';
import { apiClientRepository } from './sqlite/api-clients.js';
import { breakReasonRepository } from './sqlite/break-reasons.js';
import { callRecordingRepository } from './sqlite/call-recordings.js';
import { callRecordRepository } from './sqlite/call-records.js';
import { instanceRepository } from './sqlite/instances.js';
import { metaRepository } from './sqlite/meta.js';
import { hotlineNumberRepository, numberGroupRepository } from './sqlite/numbers.js';
import type { Db } from './sqlite/shared.js';
import { skillGroupRepository } from './sqlite/skill-groups.js';
import { withStatusWriteBehind } from './status-write-behind.js';
import type { StatusWrites, Storage } from './storage.js';

export interface SqliteStorageOptions {
  /** Told when a status row could not be written behind (see status-write-behind.ts). */
  readonly onWriteFailure?: (message: string) => void;
}

/**
 * Opens (creating it and its folder if needed) and migrates the SQLite database at `path`; ':memory:' works.
 * Status rows (agent runtime, state history) of a file database are written behind by a worker thread.
 */
export function openSqliteStorage(path: string, options: SqliteStorageOptions = {}): Storage {
  const db = openDatabase(path);
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  const storage: Storage = {
    instances: instanceRepository(db),
    agents: agentRepository(db),
    skillGroups: skillGroupRepository(db),
    hotlineNumbers: hotlineNumberRepository(db),
    numberGroups: numberGroupRepository(db),
    breakReasons: breakReasonRepository(db),
    apiClients: apiClientRepository(db),
    agentRuntime: agentRuntimeRepository(db),
    stateHistory: stateHistoryRepository(db),
    callRecords: callRecordRepository(db),
    callRecordings: callRecordingRepository(db),
    meta: metaRepository(db),
    writeStatus(writes) {
      writeStatusInline(storage, writes, options.onWriteFailure ?? (() => {}));
    },
    // better-sqlite3 turns a nested transaction into a savepoint, so services may compose atomic operations.
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    close() {
      db.close();
    },
  };
  return withStatusWriteBehind(
    storage,
    db,
    {
      upsertRuntime: UPSERT_AGENT_RUNTIME,
      appendHistorySegment: APPEND_STATE_HISTORY_SEGMENT,
      runtimeParams: toAgentRuntimeWrite,
      historySegmentParams,
    },
    options.onWriteFailure ? { onWriteFailure: options.onWriteFailure } : {},
  );
}

function openDatabase(path: string): Db {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // WAL lets readers (for example a backup) run beside the writer; an in-memory database has no journal file.
  if (!inMemory) db.pragma('journal_mode = WAL');
  // With WAL, NORMAL only risks the last transactions on power loss, never corruption.
  db.pragma('synchronous = NORMAL');
  // The cascades depend on it; better-sqlite3's bundled build enables it, but SQLite's default is off.
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Status rows in one transaction, each agent's history entries as one segment; if one write fails (an instance
 * removed meanwhile), the others one by one.
 */
function writeStatusInline(storage: Storage, writes: StatusWrites, report: (message: string) => void): void {
  const { runtime } = writes;
  const history = historyByAgent(writes.history);
  const all = () => {
    for (const record of runtime) storage.agentRuntime.put(record);
    for (const { instanceId, agentId, entries } of history) storage.stateHistory.append(instanceId, agentId, entries);
  };
  try {
    storage.transaction(all);
  } catch {
    const attempt = (write: () => void) => {
      try {
        write();
      } catch (error) {
        report(`status rows dropped: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    for (const record of runtime) attempt(() => storage.agentRuntime.put(record));
    for (const { instanceId, agentId, entries } of history) {
      attempt(() => storage.stateHistory.append(instanceId, agentId, entries));
    }
  }
}

/** History entries grouped by agent, each group in the order it happened. */
function historyByAgent(history: StatusWrites['history']) {
  const groups = new Map<string, { instanceId: string; agentId: string; entries: StateHistoryEntry[] }>();
  for (const { instanceId, agentId, entry } of history) {
    const key = `${instanceId}\u0000${agentId}`;
    let group = groups.get(key);
    if (!group) {
      group = { instanceId, agentId, entries: [] };
      groups.set(key, group);
    }
    group.entries.push(entry);
  }
  return [...groups.values()];
}
