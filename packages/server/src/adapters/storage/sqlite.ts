import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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
import type { Storage } from './storage.js';

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
  const storage: Omit<Storage, 'writeStatus'> = {
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
