import type { CallRecord } from '@openhotline/protocol';
import type Database from 'better-sqlite3';
import { BAD_CURSOR, type CallRecordFilter, type CallRecordRepository } from '../storage.js';
import { type Db, distinct, referencing } from './shared.js';

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

export function callRecordRepository(db: Db): CallRecordRepository {
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
