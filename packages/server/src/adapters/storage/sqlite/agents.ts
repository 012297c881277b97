import type { Agent } from '@openhotline/protocol';
import type Database from 'better-sqlite3';
import type { AgentRepository } from '../storage.js';
import { creating, type Db, distinct, groupByOwner, patched, referencing, toFlag } from './shared.js';

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

export function agentRepository(db: Db): AgentRepository {
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
