import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  Agent,
  AgentBarStatus,
  BreakReason,
  CallRecord,
  HotlineNumber,
  Instance,
  InstanceSettings,
  NumberGroup,
  QueueSettings,
  SkillGroup,
  StateHistoryEntry,
} from '@openhotline/protocol';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import { withStatusWriteBehind } from './status-write-behind.js';
import {
  type AgentRepository,
  type AgentRuntimeRecord,
  type AgentRuntimeRepository,
  type ApiClientRepository,
  BAD_CURSOR,
  type BreakReasonRepository,
  type CallRecordFilter,
  type CallRecordingRepository,
  type CallRecordingState,
  type CallRecordRepository,
  type HotlineNumberRepository,
  type InstanceRepository,
  type MetaRepository,
  type NumberGroupRepository,
  type SkillGroupRepository,
  type StateHistoryRepository,
  type StatusWrites,
  type Storage,
  StorageConflict,
  type StoredApiClient,
  type StoredCallRecording,
} from './storage.js';

type Db = Database.Database;

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
    { upsertRuntime: UPSERT_AGENT_RUNTIME, appendHistory: APPEND_STATE_HISTORY, runtimeParams: toAgentRuntimeWrite },
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

/** Status rows in one transaction; if one fails (an instance removed meanwhile), the others row by row. */
function writeStatusInline(storage: Storage, writes: StatusWrites, report: (message: string) => void): void {
  const { runtime, history } = writes;
  const all = () => {
    for (const record of runtime) storage.agentRuntime.put(record);
    for (const { instanceId, agentId, entry } of history) storage.stateHistory.append(instanceId, agentId, entry);
  };
  try {
    storage.transaction(all);
  } catch {
    const attempt = (write: () => void) => {
      try {
        write();
      } catch (error) {
        report(`status row dropped: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    for (const record of runtime) attempt(() => storage.agentRuntime.put(record));
    for (const { instanceId, agentId, entry } of history) {
      attempt(() => storage.stateHistory.append(instanceId, agentId, entry));
    }
  }
}

// ---------- constraint errors ----------

const DUPLICATE_KEY_CODES = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']);

/** Runs an insert, turning a duplicate key into the interface's conflict. */
function creating<T>(what: string, write: () => T): T {
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
function referencing<T>(what: string, write: () => T): T {
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

function toFlag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}

/** The patch's value when the caller gave one (null included), else the current one. */
function patched<T>(given: T | undefined, current: T): T {
  return given === undefined ? current : given;
}

/** A membership is a set: a repeated id keeps its first place. */
function distinct(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function groupByOwner(rows: readonly { owner: string; member: string }[]): Map<string, string[]> {
  const byOwner = new Map<string, string[]>();
  for (const { owner, member } of rows) {
    const members = byOwner.get(owner);
    if (members) members.push(member);
    else byOwner.set(owner, [member]);
  }
  return byOwner;
}

// ---------- instances ----------

interface InstanceRow {
  id: string;
  name: string;
  settings: string;
  created_at: string;
}

const INSTANCE_COLUMNS = 'id, name, settings, created_at';

function toInstance(row: InstanceRow): Instance {
  return {
    id: row.id,
    name: row.name,
    settings: JSON.parse(row.settings) as InstanceSettings,
    createdAt: row.created_at,
  };
}

function instanceRepository(db: Db): InstanceRepository {
  const list = db.prepare<[], InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM instances ORDER BY seq`);
  const get = db.prepare<[string], InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM instances WHERE id = ?`);
  const insert = db.prepare<[string, string, string, string]>(
    'INSERT INTO instances (id, name, settings, created_at) VALUES (?, ?, ?, ?)',
  );
  const update = db.prepare<[string | null, string | null, string], InstanceRow>(
    `UPDATE instances SET name = coalesce(?, name), settings = coalesce(?, settings) WHERE id = ?
     RETURNING ${INSTANCE_COLUMNS}`,
  );
  const remove = db.prepare<[string]>('DELETE FROM instances WHERE id = ?');
  return {
    list: () => list.all().map(toInstance),
    get(id) {
      const row = get.get(id);
      return row && toInstance(row);
    },
    create(instance) {
      const settings = JSON.stringify(instance.settings);
      creating(`instance ${instance.id}`, () => insert.run(instance.id, instance.name, settings, instance.createdAt));
      return toInstance(get.get(instance.id)!);
    },
    update(id, patch) {
      const settings = patch.settings === undefined ? null : JSON.stringify(patch.settings);
      const row = update.get(patch.name ?? null, settings, id);
      return row && toInstance(row);
    },
    remove: (id) => remove.run(id).changes > 0,
  };
}

// ---------- agents ----------

interface AgentRow {
  instance_id: string;
  id: string;
  name: string;
  department_id: string;
  can_see_full_numbers: number;
  acw_seconds: number | null;
  enabled: number;
  created_at: string;
}

const AGENT_COLUMNS = 'instance_id, id, name, department_id, can_see_full_numbers, acw_seconds, enabled, created_at';

function toAgent(row: AgentRow, skillGroupIds: string[], numberGroupIds: string[]): Agent {
  return {
    instanceId: row.instance_id,
    id: row.id,
    name: row.name,
    departmentId: row.department_id,
    skillGroupIds,
    numberGroupIds,
    canSeeFullNumbers: row.can_see_full_numbers === 1,
    acwSeconds: row.acw_seconds,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
  };
}

interface AgentWrite {
  instanceId: string;
  id: string;
  name: string;
  departmentId: string;
  canSeeFullNumbers: 0 | 1;
  acwSeconds: number | null;
  enabled: 0 | 1;
  createdAt: string;
}

function toAgentWrite(agent: Agent): AgentWrite {
  return {
    instanceId: agent.instanceId,
    id: agent.id,
    name: agent.name,
    departmentId: agent.departmentId,
    canSeeFullNumbers: toFlag(agent.canSeeFullNumbers),
    acwSeconds: agent.acwSeconds,
    enabled: toFlag(agent.enabled),
    createdAt: agent.createdAt,
  };
}

/** An agent's ordered membership in one kind of group, kept in a join table that cascades from both sides. */
interface Memberships {
  ofAgent(instanceId: string, agentId: string): string[];
  ofInstance(instanceId: string): Map<string, string[]>;
  replace(instanceId: string, agentId: string, groupIds: readonly string[]): void;
}

function membershipTable(db: Db, table: 'agent_skill_groups' | 'agent_number_groups', column: string): Memberships {
  const ofAgent = db
    .prepare<[string, string], string>(
      `SELECT ${column} FROM ${table} WHERE instance_id = ? AND agent_id = ? ORDER BY position`,
    )
    .pluck();
  const ofInstance = db.prepare<[string], { owner: string; member: string }>(
    `SELECT agent_id AS owner, ${column} AS member FROM ${table} WHERE instance_id = ? ORDER BY agent_id, position`,
  );
  const clear = db.prepare<[string, string]>(`DELETE FROM ${table} WHERE instance_id = ? AND agent_id = ?`);
  const insert = db.prepare<[string, string, string, number]>(
    `INSERT INTO ${table} (instance_id, agent_id, ${column}, position) VALUES (?, ?, ?, ?)`,
  );
  return {
    ofAgent: (instanceId, agentId) => ofAgent.all(instanceId, agentId),
    ofInstance: (instanceId) => groupByOwner(ofInstance.all(instanceId)),
    replace(instanceId, agentId, groupIds) {
      clear.run(instanceId, agentId);
      distinct(groupIds).forEach((groupId, position) => {
        insert.run(instanceId, agentId, groupId, position);
      });
    },
  };
}

function agentRepository(db: Db): AgentRepository {
  const skillGroups = membershipTable(db, 'agent_skill_groups', 'skill_group_id');
  const numberGroups = membershipTable(db, 'agent_number_groups', 'number_group_id');
  const list = db.prepare<[string], AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE instance_id = ? ORDER BY seq`);
  const get = db.prepare<[string, string], AgentRow>(
    `SELECT ${AGENT_COLUMNS} FROM agents WHERE instance_id = ? AND id = ?`,
  );
  const insert = db.prepare<AgentWrite>(
    `INSERT INTO agents (${AGENT_COLUMNS})
     VALUES (@instanceId, @id, @name, @departmentId, @canSeeFullNumbers, @acwSeconds, @enabled, @createdAt)`,
  );
  const update = db.prepare<AgentWrite>(
    `UPDATE agents SET name = @name, department_id = @departmentId, can_see_full_numbers = @canSeeFullNumbers,
       acw_seconds = @acwSeconds, enabled = @enabled
     WHERE instance_id = @instanceId AND id = @id`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM agents WHERE instance_id = ? AND id = ?');
  // The live status of a removed agent must not be resumed at the next start; its history stays.
  const removeRuntime = db.prepare<[string, string]>(
    'DELETE FROM agent_runtime WHERE instance_id = ? AND agent_id = ?',
  );

  const read = (instanceId: string, id: string): Agent | undefined => {
    const row = get.get(instanceId, id);
    return row && toAgent(row, skillGroups.ofAgent(instanceId, id), numberGroups.ofAgent(instanceId, id));
  };
  const write = (agent: Agent, statement: Database.Statement<AgentWrite>) => {
    statement.run(toAgentWrite(agent));
    skillGroups.replace(agent.instanceId, agent.id, agent.skillGroupIds);
    numberGroups.replace(agent.instanceId, agent.id, agent.numberGroupIds);
  };
  const createTx = db.transaction((agent: Agent) => {
    write(agent, insert);
    return read(agent.instanceId, agent.id)!;
  });
  const updateTx = db.transaction(
    (instanceId: string, id: string, patch: Parameters<AgentRepository['update']>[2]): Agent | undefined => {
      const current = read(instanceId, id);
      if (!current) return undefined;
      write(mergeAgent(current, patch), update);
      return read(instanceId, id);
    },
  );
  const removeTx = db.transaction((instanceId: string, id: string) => {
    removeRuntime.run(instanceId, id);
    return remove.run(instanceId, id).changes > 0;
  });

  return {
    list(instanceId) {
      const skillsByAgent = skillGroups.ofInstance(instanceId);
      const numbersByAgent = numberGroups.ofInstance(instanceId);
      return list
        .all(instanceId)
        .map((row) => toAgent(row, skillsByAgent.get(row.id) ?? [], numbersByAgent.get(row.id) ?? []));
    },
    get: read,
    create: (agent) => creating(`agent ${agent.id}`, () => createTx(agent)),
    update: (instanceId, id, patch) => referencing(`agent ${id}`, () => updateTx(instanceId, id, patch)),
    remove: (instanceId, id) => removeTx(instanceId, id),
  };
}

function mergeAgent(current: Agent, patch: Parameters<AgentRepository['update']>[2]): Agent {
  return {
    ...current,
    name: patched(patch.name, current.name),
    departmentId: patched(patch.departmentId, current.departmentId),
    skillGroupIds: patched(patch.skillGroupIds, current.skillGroupIds),
    numberGroupIds: patched(patch.numberGroupIds, current.numberGroupIds),
    canSeeFullNumbers: patched(patch.canSeeFullNumbers, current.canSeeFullNumbers),
    acwSeconds: patched(patch.acwSeconds, current.acwSeconds),
    enabled: patched(patch.enabled, current.enabled),
  };
}

// ---------- skill groups ----------

interface SkillGroupRow {
  instance_id: string;
  id: string;
  name: string;
  queue: string;
  created_at: string;
}

const SKILL_GROUP_COLUMNS = 'instance_id, id, name, queue, created_at';

function toSkillGroup(row: SkillGroupRow): SkillGroup {
  return {
    instanceId: row.instance_id,
    id: row.id,
    name: row.name,
    queue: JSON.parse(row.queue) as QueueSettings,
    createdAt: row.created_at,
  };
}

function skillGroupRepository(db: Db): SkillGroupRepository {
  const list = db.prepare<[string], SkillGroupRow>(
    `SELECT ${SKILL_GROUP_COLUMNS} FROM skill_groups WHERE instance_id = ? ORDER BY seq`,
  );
  const get = db.prepare<[string, string], SkillGroupRow>(
    `SELECT ${SKILL_GROUP_COLUMNS} FROM skill_groups WHERE instance_id = ? AND id = ?`,
  );
  const insert = db.prepare<[string, string, string, string, string]>(
    'INSERT INTO skill_groups (instance_id, id, name, queue, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const update = db.prepare<[string | null, string | null, string, string], SkillGroupRow>(
    `UPDATE skill_groups SET name = coalesce(?, name), queue = coalesce(?, queue)
     WHERE instance_id = ? AND id = ? RETURNING ${SKILL_GROUP_COLUMNS}`,
  );
  const routedNumbers = db
    .prepare<[string, string], string>(
      'SELECT number FROM hotline_numbers WHERE instance_id = ? AND skill_group_id = ? ORDER BY seq',
    )
    .pluck();
  // Memberships go by cascade; the persisted live selection of checked-in agents is JSON, so it is pruned here.
  const pruneActiveSelections = db.prepare<{ instanceId: string; groupId: string }>(
    `UPDATE agent_runtime
     SET active_skill_group_ids = (
       SELECT json_group_array(value ORDER BY key) FROM json_each(active_skill_group_ids) WHERE value <> @groupId
     )
     WHERE instance_id = @instanceId
       AND EXISTS (SELECT 1 FROM json_each(active_skill_group_ids) WHERE value = @groupId)`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM skill_groups WHERE instance_id = ? AND id = ?');
  const removeTx = db.transaction((instanceId: string, id: string) => {
    const numbers = routedNumbers.all(instanceId, id);
    if (numbers.length > 0) {
      throw new StorageConflict('InUse', `skill group ${id} is in use by hotline numbers ${numbers.join(', ')}`);
    }
    pruneActiveSelections.run({ instanceId, groupId: id });
    return remove.run(instanceId, id).changes > 0;
  });
  return {
    list: (instanceId) => list.all(instanceId).map(toSkillGroup),
    get(instanceId, id) {
      const row = get.get(instanceId, id);
      return row && toSkillGroup(row);
    },
    create(group) {
      creating(`skill group ${group.id}`, () =>
        insert.run(group.instanceId, group.id, group.name, JSON.stringify(group.queue ?? {}), group.createdAt),
      );
      return toSkillGroup(get.get(group.instanceId, group.id)!);
    },
    update(instanceId, id, patch) {
      const row = update.get(
        patch.name ?? null,
        patch.queue === undefined ? null : JSON.stringify(patch.queue),
        instanceId,
        id,
      );
      return row && toSkillGroup(row);
    },
    remove: (instanceId, id) => removeTx(instanceId, id),
  };
}

// ---------- hotline numbers ----------

interface HotlineNumberRow {
  instance_id: string;
  number: string;
  name: string;
  skill_group_id: string;
  created_at: string;
}

const HOTLINE_NUMBER_COLUMNS = 'instance_id, number, name, skill_group_id, created_at';

function toHotlineNumber(row: HotlineNumberRow): HotlineNumber {
  return {
    instanceId: row.instance_id,
    number: row.number,
    name: row.name,
    skillGroupId: row.skill_group_id,
    createdAt: row.created_at,
  };
}

function hotlineNumberRepository(db: Db): HotlineNumberRepository {
  const list = db.prepare<[string], HotlineNumberRow>(
    `SELECT ${HOTLINE_NUMBER_COLUMNS} FROM hotline_numbers WHERE instance_id = ? ORDER BY seq`,
  );
  const get = db.prepare<[string, string], HotlineNumberRow>(
    `SELECT ${HOTLINE_NUMBER_COLUMNS} FROM hotline_numbers WHERE instance_id = ? AND number = ?`,
  );
  const findByNumber = db.prepare<[string], HotlineNumberRow>(
    `SELECT ${HOTLINE_NUMBER_COLUMNS} FROM hotline_numbers WHERE number = ?`,
  );
  const insert = db.prepare<[string, string, string, string, string]>(
    'INSERT INTO hotline_numbers (instance_id, number, name, skill_group_id, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const update = db.prepare<[string | null, string | null, string, string], HotlineNumberRow>(
    `UPDATE hotline_numbers SET name = coalesce(?, name), skill_group_id = coalesce(?, skill_group_id)
     WHERE instance_id = ? AND number = ?
     RETURNING ${HOTLINE_NUMBER_COLUMNS}`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM hotline_numbers WHERE instance_id = ? AND number = ?');
  return {
    list: (instanceId) => list.all(instanceId).map(toHotlineNumber),
    get(instanceId, number) {
      const row = get.get(instanceId, number);
      return row && toHotlineNumber(row);
    },
    create(hotline) {
      creating(`hotline number ${hotline.number}`, () =>
        insert.run(hotline.instanceId, hotline.number, hotline.name, hotline.skillGroupId, hotline.createdAt),
      );
      return toHotlineNumber(get.get(hotline.instanceId, hotline.number)!);
    },
    update(instanceId, number, patch) {
      const row = referencing(`hotline number ${number}`, () =>
        update.get(patch.name ?? null, patch.skillGroupId ?? null, instanceId, number),
      );
      return row && toHotlineNumber(row);
    },
    remove: (instanceId, number) => remove.run(instanceId, number).changes > 0,
    findByNumber(number) {
      const row = findByNumber.get(number);
      return row && toHotlineNumber(row);
    },
  };
}

// ---------- number groups ----------

interface NumberGroupRow {
  instance_id: string;
  id: string;
  name: string;
  numbers: string;
  created_at: string;
}

const NUMBER_GROUP_COLUMNS = 'instance_id, id, name, numbers, created_at';

function toNumberGroup(row: NumberGroupRow): NumberGroup {
  return {
    instanceId: row.instance_id,
    id: row.id,
    name: row.name,
    numbers: JSON.parse(row.numbers) as string[],
    createdAt: row.created_at,
  };
}

function numberGroupRepository(db: Db): NumberGroupRepository {
  const list = db.prepare<[string], NumberGroupRow>(
    `SELECT ${NUMBER_GROUP_COLUMNS} FROM number_groups WHERE instance_id = ? ORDER BY seq`,
  );
  const get = db.prepare<[string, string], NumberGroupRow>(
    `SELECT ${NUMBER_GROUP_COLUMNS} FROM number_groups WHERE instance_id = ? AND id = ?`,
  );
  const insert = db.prepare<[string, string, string, string, string]>(
    'INSERT INTO number_groups (instance_id, id, name, numbers, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const update = db.prepare<[string | null, string | null, string, string], NumberGroupRow>(
    `UPDATE number_groups SET name = coalesce(?, name), numbers = coalesce(?, numbers)
     WHERE instance_id = ? AND id = ?
     RETURNING ${NUMBER_GROUP_COLUMNS}`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM number_groups WHERE instance_id = ? AND id = ?');
  return {
    list: (instanceId) => list.all(instanceId).map(toNumberGroup),
    get(instanceId, id) {
      const row = get.get(instanceId, id);
      return row && toNumberGroup(row);
    },
    create(group) {
      const numbers = JSON.stringify(group.numbers);
      creating(`number group ${group.id}`, () =>
        insert.run(group.instanceId, group.id, group.name, numbers, group.createdAt),
      );
      return toNumberGroup(get.get(group.instanceId, group.id)!);
    },
    update(instanceId, id, patch) {
      const numbers = patch.numbers === undefined ? null : JSON.stringify(patch.numbers);
      const row = update.get(patch.name ?? null, numbers, instanceId, id);
      return row && toNumberGroup(row);
    },
    // Agents' memberships go by cascade.
    remove: (instanceId, id) => remove.run(instanceId, id).changes > 0,
  };
}

// ---------- break reasons ----------

interface BreakReasonRow {
  instance_id: string;
  code: string;
  label: string;
  system: number;
  created_at: string;
}

const BREAK_REASON_COLUMNS = 'instance_id, code, label, system, created_at';

function toBreakReason(row: BreakReasonRow): BreakReason {
  return {
    instanceId: row.instance_id,
    code: row.code,
    label: JSON.parse(row.label) as BreakReason['label'],
    system: row.system === 1,
    createdAt: row.created_at,
  };
}

function breakReasonRepository(db: Db): BreakReasonRepository {
  const list = db.prepare<[string], BreakReasonRow>(
    `SELECT ${BREAK_REASON_COLUMNS} FROM break_reasons WHERE instance_id = ? ORDER BY seq`,
  );
  const get = db.prepare<[string, string], BreakReasonRow>(
    `SELECT ${BREAK_REASON_COLUMNS} FROM break_reasons WHERE instance_id = ? AND code = ?`,
  );
  const insert = db.prepare<[string, string, string, 0 | 1, string]>(
    'INSERT INTO break_reasons (instance_id, code, label, system, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const update = db.prepare<[string, string, string], BreakReasonRow>(
    `UPDATE break_reasons SET label = ? WHERE instance_id = ? AND code = ? RETURNING ${BREAK_REASON_COLUMNS}`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM break_reasons WHERE instance_id = ? AND code = ?');
  return {
    list: (instanceId) => list.all(instanceId).map(toBreakReason),
    get(instanceId, code) {
      const row = get.get(instanceId, code);
      return row && toBreakReason(row);
    },
    create(reason) {
      const label = JSON.stringify(reason.label);
      creating(`break reason ${reason.code}`, () =>
        insert.run(reason.instanceId, reason.code, label, toFlag(reason.system), reason.createdAt),
      );
      return toBreakReason(get.get(reason.instanceId, reason.code)!);
    },
    update(instanceId, code, patch) {
      const row = update.get(JSON.stringify(patch.label), instanceId, code);
      return row && toBreakReason(row);
    },
    remove: (instanceId, code) => remove.run(instanceId, code).changes > 0,
  };
}

// ---------- API clients ----------

interface ApiClientRow {
  instance_id: string;
  client_id: string;
  name: string;
  secret_hash: string;
  created_at: string;
}

const API_CLIENT_COLUMNS = 'instance_id, client_id, name, secret_hash, created_at';

function toApiClient(row: ApiClientRow): StoredApiClient {
  return {
    instanceId: row.instance_id,
    clientId: row.client_id,
    name: row.name,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
  };
}

function apiClientRepository(db: Db): ApiClientRepository {
  const list = db.prepare<[string], ApiClientRow>(
    `SELECT ${API_CLIENT_COLUMNS} FROM api_clients WHERE instance_id = ? ORDER BY seq`,
  );
  const getByClientId = db.prepare<[string], ApiClientRow>(
    `SELECT ${API_CLIENT_COLUMNS} FROM api_clients WHERE client_id = ?`,
  );
  const insert = db.prepare<[string, string, string, string, string]>(
    'INSERT INTO api_clients (instance_id, client_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const remove = db.prepare<[string, string]>('DELETE FROM api_clients WHERE instance_id = ? AND client_id = ?');
  return {
    list: (instanceId) => list.all(instanceId).map(toApiClient),
    getByClientId(clientId) {
      const row = getByClientId.get(clientId);
      return row && toApiClient(row);
    },
    create(client) {
      creating(`API client ${client.clientId}`, () =>
        insert.run(client.instanceId, client.clientId, client.name, client.secretHash, client.createdAt),
      );
      return toApiClient(getByClientId.get(client.clientId)!);
    },
    remove: (instanceId, clientId) => remove.run(instanceId, clientId).changes > 0,
  };
}

// ---------- agent runtime ----------

interface AgentRuntimeRow {
  instance_id: string;
  agent_id: string;
  status: number;
  since: number;
  break_reason: string;
  active_skill_group_ids: string;
  acw_seconds: number | null;
  idle_since: number | null;
}

const AGENT_RUNTIME_COLUMNS =
  'instance_id, agent_id, status, since, break_reason, active_skill_group_ids, acw_seconds, idle_since';

function toAgentRuntime(row: AgentRuntimeRow): AgentRuntimeRecord {
  return {
    instanceId: row.instance_id,
    agentId: row.agent_id,
    status: row.status as AgentBarStatus,
    since: row.since,
    breakReason: row.break_reason,
    activeSkillGroupIds: JSON.parse(row.active_skill_group_ids) as string[],
    acwSeconds: row.acw_seconds,
    idleSince: row.idle_since,
  };
}

/** The upsert's parameters, in the order of AGENT_RUNTIME_COLUMNS. */
type AgentRuntimeWrite = [
  instanceId: string,
  agentId: string,
  status: number,
  since: number,
  breakReason: string,
  activeSkillGroupIds: string,
  acwSeconds: number | null,
  idleSince: number | null,
];

const UPSERT_AGENT_RUNTIME = `INSERT INTO agent_runtime (${AGENT_RUNTIME_COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (instance_id, agent_id) DO UPDATE SET
    status = excluded.status, since = excluded.since, break_reason = excluded.break_reason,
    active_skill_group_ids = excluded.active_skill_group_ids, acw_seconds = excluded.acw_seconds,
    idle_since = excluded.idle_since`;

function toAgentRuntimeWrite(record: AgentRuntimeRecord): AgentRuntimeWrite {
  return [
    record.instanceId,
    record.agentId,
    record.status,
    record.since,
    record.breakReason,
    JSON.stringify(record.activeSkillGroupIds),
    record.acwSeconds,
    record.idleSince,
  ];
}

function agentRuntimeRepository(db: Db): AgentRuntimeRepository {
  const get = db.prepare<[string, string], AgentRuntimeRow>(
    `SELECT ${AGENT_RUNTIME_COLUMNS} FROM agent_runtime WHERE instance_id = ? AND agent_id = ?`,
  );
  const listAll = db.prepare<[], AgentRuntimeRow>(
    `SELECT ${AGENT_RUNTIME_COLUMNS} FROM agent_runtime ORDER BY instance_id, agent_id`,
  );
  const put = db.prepare<AgentRuntimeWrite>(UPSERT_AGENT_RUNTIME);
  const remove = db.prepare<[string, string]>('DELETE FROM agent_runtime WHERE instance_id = ? AND agent_id = ?');
  return {
    get(instanceId, agentId) {
      const row = get.get(instanceId, agentId);
      return row && toAgentRuntime(row);
    },
    listAll: () => listAll.all().map(toAgentRuntime),
    put(record) {
      referencing(`runtime of agent ${record.agentId}`, () => put.run(...toAgentRuntimeWrite(record)));
    },
    remove(instanceId, agentId) {
      remove.run(instanceId, agentId);
    },
  };
}

// ---------- state history ----------

interface StateHistoryRow {
  at: number;
  from_status: number;
  to_status: number;
  cmd: string;
  break_reason: string;
}

function toStateHistoryEntry(row: StateHistoryRow): StateHistoryEntry {
  return {
    at: row.at,
    from: row.from_status as AgentBarStatus,
    to: row.to_status as AgentBarStatus,
    cmd: row.cmd,
    breakReason: row.break_reason,
  };
}

const APPEND_STATE_HISTORY = `INSERT INTO state_history (instance_id, agent_id, at, from_status, to_status, cmd, break_reason)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;

function stateHistoryRepository(db: Db): StateHistoryRepository {
  const append = db.prepare<[string, string, number, number, number, string, string]>(APPEND_STATE_HISTORY);
  // Two statements rather than `? IS NULL OR at < ?`, so that both use the (instance, agent, at) index range.
  // The id breaks ties between entries of the same millisecond, newest first.
  const newest = db.prepare<[string, string, number], StateHistoryRow>(
    `SELECT at, from_status, to_status, cmd, break_reason FROM state_history
     WHERE instance_id = ? AND agent_id = ? ORDER BY at DESC, id DESC LIMIT ?`,
  );
  const newestBefore = db.prepare<[string, string, number, number], StateHistoryRow>(
    `SELECT at, from_status, to_status, cmd, break_reason FROM state_history
     WHERE instance_id = ? AND agent_id = ? AND at < ? ORDER BY at DESC, id DESC LIMIT ?`,
  );
  return {
    append(instanceId, agentId, entry) {
      referencing(`history of agent ${agentId}`, () =>
        append.run(instanceId, agentId, entry.at, entry.from, entry.to, entry.cmd, entry.breakReason),
      );
    },
    list(instanceId, agentId, { limit, before }) {
      const rows =
        before === undefined
          ? newest.all(instanceId, agentId, limit)
          : newestBefore.all(instanceId, agentId, before, limit);
      return rows.map(toStateHistoryEntry);
    },
  };
}

// ---------- call records ----------

interface CallRecordWrite {
  instanceId: string;
  connId: string;
  direction: string;
  disposition: string;
  agentId: string;
  skillGroupId: string;
  offeredAt: number;
  endedAt: number | null;
  record: string;
}

type SqlValue = string | number;

/** The keyset position after a record: its offeredAt and connId, opaque to clients. */
function encodeCursor(offeredAt: number, connId: string): string {
  return Buffer.from(`${offeredAt}:${connId}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { offeredAt: number; connId: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  const offeredAtText = text.slice(0, colon);
  const connId = text.slice(colon + 1);
  const offeredAt = Number(offeredAtText);
  // Base64url decoding skips characters it does not know and a number parses from many spellings, so only a
  // cursor that re-encodes to exactly itself is one this repository made.
  const canonical =
    colon > 0 &&
    connId !== '' &&
    Number.isFinite(offeredAt) &&
    String(offeredAt) === offeredAtText &&
    encodeCursor(offeredAt, connId) === cursor;
  if (!canonical) throw new RangeError(BAD_CURSOR);
  return { offeredAt, connId };
}

/**
 * The list query for one combination of filters. Only fixed SQL fragments are joined here; every value the
 * caller gave is a bound parameter. An agent's list walks call_record_agents, whose key is ordered like the
 * records, so both the ordering and the keyset refer to the table the plan reads.
 */
function callRecordListQuery(instanceId: string, filter: CallRecordFilter): { sql: string; params: SqlValue[] } {
  const byAgent = filter.agentId !== undefined;
  const keyset = byAgent ? 'a' : 'r';
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  const where = (clause: string, ...values: SqlValue[]) => {
    clauses.push(clause);
    params.push(...values);
  };
  if (filter.agentId !== undefined) {
    where('a.instance_id = ?', instanceId);
    where('a.agent_id = ?', filter.agentId);
  } else {
    where('r.instance_id = ?', instanceId);
  }
  if (filter.skillGroupId !== undefined) where('r.skill_group_id = ?', filter.skillGroupId);
  if (filter.direction !== undefined) where('r.direction = ?', filter.direction);
  if (filter.disposition !== undefined) where('r.disposition = ?', filter.disposition);
  if (filter.from !== undefined) where(`${keyset}.offered_at >= ?`, filter.from);
  if (filter.to !== undefined) where(`${keyset}.offered_at < ?`, filter.to);
  if (filter.cursor !== undefined) {
    const after = decodeCursor(filter.cursor);
    where(`(${keyset}.offered_at, ${keyset}.conn_id) < (?, ?)`, after.offeredAt, after.connId);
  }
  const from = byAgent
    ? 'call_record_agents a JOIN call_records r ON r.instance_id = a.instance_id AND r.conn_id = a.conn_id'
    : 'call_records r';
  // One row more than the page tells whether there is a next page without a count.
  params.push(filter.limit + 1);
  return {
    sql: `SELECT r.record FROM ${from} WHERE ${clauses.join(' AND ')}
          ORDER BY ${keyset}.offered_at DESC, ${keyset}.conn_id DESC LIMIT ?`,
    params,
  };
}

function callRecordRepository(db: Db): CallRecordRepository {
  const upsert = db.prepare<CallRecordWrite>(
    `INSERT INTO call_records
       (instance_id, conn_id, direction, disposition, agent_id, skill_group_id, offered_at, ended_at, record)
     VALUES
       (@instanceId, @connId, @direction, @disposition, @agentId, @skillGroupId, @offeredAt, @endedAt, @record)
     ON CONFLICT (instance_id, conn_id) DO UPDATE SET
       direction = excluded.direction, disposition = excluded.disposition, agent_id = excluded.agent_id,
       skill_group_id = excluded.skill_group_id, offered_at = excluded.offered_at, ended_at = excluded.ended_at,
       record = excluded.record`,
  );
  const clearAgents = db.prepare<[string, string]>(
    'DELETE FROM call_record_agents WHERE instance_id = ? AND conn_id = ?',
  );
  const addAgent = db.prepare<[string, string, number, string]>(
    'INSERT INTO call_record_agents (instance_id, agent_id, offered_at, conn_id) VALUES (?, ?, ?, ?)',
  );
  const get = db
    .prepare<[string, string], string>('SELECT record FROM call_records WHERE instance_id = ? AND conn_id = ?')
    .pluck();
  // The literal matches the partial index's condition, so the sweep reads only the active rows.
  const listActive = db
    .prepare<[], string>("SELECT record FROM call_records WHERE disposition = 'active' ORDER BY seq")
    .pluck();
  // At most one statement per combination of filters (a few dozen), each prepared on first use.
  const listStatements = new Map<string, Database.Statement<SqlValue[], string>>();
  const listStatement = (sql: string) => {
    let statement = listStatements.get(sql);
    if (!statement) {
      statement = db.prepare<SqlValue[], string>(sql).pluck();
      listStatements.set(sql, statement);
    }
    return statement;
  };
  const putTx = db.transaction((record: CallRecord) => {
    upsert.run({
      instanceId: record.instanceId,
      connId: record.connId,
      direction: record.direction,
      disposition: record.disposition,
      agentId: record.agentId,
      skillGroupId: record.skillGroupId,
      offeredAt: record.offeredAt,
      endedAt: record.endedAt,
      record: JSON.stringify(record),
    });
    // Replaced whole like the record, so an agent dropped from agentIds (or a changed offeredAt) leaves no trace.
    clearAgents.run(record.instanceId, record.connId);
    for (const agentId of distinct(record.agentIds)) {
      addAgent.run(record.instanceId, agentId, record.offeredAt, record.connId);
    }
  });
  const parse = (json: string) => JSON.parse(json) as CallRecord;
  return {
    put(record) {
      referencing(`call record ${record.connId}`, () => putTx(record));
    },
    get(instanceId, connId) {
      const json = get.get(instanceId, connId);
      return json === undefined ? undefined : parse(json);
    },
    list(instanceId, filter) {
      if (!Number.isInteger(filter.limit) || filter.limit < 1) throw new RangeError('limit must be a positive integer');
      const { sql, params } = callRecordListQuery(instanceId, filter);
      const items = listStatement(sql)
        .all(...params)
        .map(parse);
      if (items.length <= filter.limit) return { items, nextCursor: null };
      items.length = filter.limit;
      const last = items[items.length - 1]!;
      return { items, nextCursor: encodeCursor(last.offeredAt, last.connId) };
    },
    listActive: () => listActive.all().map(parse),
  };
}

// ---------- call recordings ----------

interface CallRecordingRow {
  id: string;
  instanceId: string;
  connId: string;
  segment: number;
  agentId: string;
  participantIds: string;
  fileName: string;
  startedAt: number;
  durationMs: number | null;
  bytes: number | null;
  state: CallRecordingState;
}

const CALL_RECORDING_COLUMNS = `id, instance_id AS instanceId, conn_id AS connId, segment, agent_id AS agentId,
  participant_ids AS participantIds, file_name AS fileName, started_at AS startedAt, duration_ms AS durationMs,
  bytes, state`;

function toCallRecording(row: CallRecordingRow): StoredCallRecording {
  return { ...row, participantIds: JSON.parse(row.participantIds) as string[] };
}

function callRecordingRepository(db: Db): CallRecordingRepository {
  const insert = db.prepare<Omit<CallRecordingRow, 'durationMs' | 'bytes' | 'state'>>(
    `INSERT INTO call_recordings
       (instance_id, id, conn_id, segment, agent_id, participant_ids, file_name, started_at, state)
     VALUES
       (@instanceId, @id, @connId, @segment, @agentId, @participantIds, @fileName, @startedAt, 'recording')`,
  );
  const finish = db.prepare<[string, number, number, string, string]>(
    'UPDATE call_recordings SET state = ?, duration_ms = ?, bytes = ? WHERE instance_id = ? AND id = ?',
  );
  const get = db.prepare<[string, string], CallRecordingRow>(
    `SELECT ${CALL_RECORDING_COLUMNS} FROM call_recordings WHERE instance_id = ? AND id = ?`,
  );
  const byCall = db.prepare<[string, string], CallRecordingRow>(
    `SELECT ${CALL_RECORDING_COLUMNS} FROM call_recordings WHERE instance_id = ? AND conn_id = ? ORDER BY segment`,
  );
  // The literal matches the partial index's condition.
  const unfinished = db.prepare<[], CallRecordingRow>(
    `SELECT ${CALL_RECORDING_COLUMNS} FROM call_recordings WHERE state = 'recording' ORDER BY seq`,
  );
  return {
    create(recording) {
      creating(`recording ${recording.id}`, () =>
        insert.run({ ...recording, participantIds: JSON.stringify(distinct(recording.participantIds)) }),
      );
    },
    finish(instanceId, id, { state, durationMs, bytes }) {
      return finish.run(state, Math.round(durationMs), bytes, instanceId, id).changes > 0;
    },
    get(instanceId, id) {
      const row = get.get(instanceId, id);
      return row ? toCallRecording(row) : undefined;
    },
    listByCall: (instanceId, connId) => byCall.all(instanceId, connId).map(toCallRecording),
    listUnfinished: () => unfinished.all().map(toCallRecording),
  };
}

// ---------- meta ----------

function metaRepository(db: Db): MetaRepository {
  const get = db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck();
  const set = db.prepare<[string, string]>(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  return {
    get: (key) => get.get(key),
    set(key, value) {
      set.run(key, value);
    },
  };
}
