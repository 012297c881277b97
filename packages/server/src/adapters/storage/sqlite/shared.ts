import Database from 'better-sqlite3';
import { StorageConflict } from '../storage.js';

export type Db = Database.Database;

// ---------- constraint errors ----------

const DUPLICATE_KEY_CODES = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']);

/** Runs an insert, turning a duplicate key into the interface's conflict. */
export function creating<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (error instanceof Database.SqliteError && DUPLICATE_KEY_CODES.has(error.code)) {
      throw new StorageConflict('AlreadyExists', `${what} already exists`);
    }
    throw explainMissingReference(error, what);
  }
}

/** Runs a write whose references the service should have checked; a failure there is a bug, so say what it was. */
export function referencing<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    throw explainMissingReference(error, what);
  }
}

function explainMissingReference(error: unknown, what: string): unknown {
  if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new Error(`${what} refers to an instance or group that does not exist`, { cause: error });
  }
  return error;
}

// ---------- value mapping ----------

export function toFlag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}

/** The patch's value when the caller gave one (null included), else the current one. */
export function patched<T>(given: T | undefined, current: T): T {
  return given === undefined ? current : given;
}

/** A membership is a set: a repeated id keeps its first place. */
export function distinct(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

export function groupByOwner(rows: readonly { owner: string; member: string }[]): Map<string, string[]> {
  const byOwner = new Map<string, string[]>();
  for (const { owner, member } of rows) {
    const members = byOwner.get(owner);
    if (members) members.push(member);
    else byOwner.set(owner, [member]);
  }
  return byOwner;
}
