import type { AgentBarStatus, StateHistoryEntry } from '@openhotline/protocol';
import type { AgentRuntimeRecord, AgentRuntimeRepository, StateHistoryRepository } from '../storage.js';
import { type Db, referencing } from './shared.js';

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

export const UPSERT_AGENT_RUNTIME = `INSERT INTO agent_runtime (${AGENT_RUNTIME_COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (instance_id, agent_id) DO UPDATE SET
    status = excluded.status, since = excluded.since, break_reason = excluded.break_reason,
    active_skill_group_ids = excluded.active_skill_group_ids, acw_seconds = excluded.acw_seconds,
    idle_since = excluded.idle_since`;

export function toAgentRuntimeWrite(record: AgentRuntimeRecord): AgentRuntimeWrite {
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

export function agentRuntimeRepository(db: Db): AgentRuntimeRepository {
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

export const APPEND_STATE_HISTORY = `INSERT INTO state_history (instance_id, agent_id, at, from_status, to_status, cmd, break_reason)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;

export function stateHistoryRepository(db: Db): StateHistoryRepository {
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
