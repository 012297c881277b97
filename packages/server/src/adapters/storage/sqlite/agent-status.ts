import type { AgentBarStatus, StateHistoryEntry } from '@openhotline/protocol';
import type {
  AgentRuntimeFields,
  AgentRuntimeRecord,
  AgentRuntimeRepository,
  StateHistoryRepository,
} from '../storage.js';
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

export function toAgentRuntimeWrite(
  instanceId: string,
  agentId: string,
  fields: AgentRuntimeFields,
): AgentRuntimeWrite {
  return [
    instanceId,
    agentId,
    fields.status,
    fields.since,
    fields.breakReason,
    skillGroupsJson(fields.activeSkillGroupIds),
    fields.acwSeconds,
    fields.idleSince,
  ];
}

/**
 * The JSON of a list of skill groups. An agent's states share one list for a whole check-in (states are never
 * changed in place), and every status change writes it, so its text is kept per list.
 */
const skillGroupsTexts = new WeakMap<readonly string[], string>();

function skillGroupsJson(ids: readonly string[]): string {
  let text = skillGroupsTexts.get(ids);
  if (text === undefined) {
    text = JSON.stringify(ids);
    skillGroupsTexts.set(ids, text);
  }
  return text;
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
      referencing(`runtime of agent ${record.agentId}`, () =>
        put.run(...toAgentRuntimeWrite(record.instanceId, record.agentId, record)),
      );
    },
    remove(instanceId, agentId) {
      remove.run(instanceId, agentId);
    },
  };
}

// ---------- state history ----------

/**
 * The history is stored in segments: one row holds a run of one agent's entries, written together (a batch of the
 * status writer holds every change of the agent since the last batch). A busy agent changes status several times
 * a second in a burst (a shift starting, a queue storm, the benchmark's thousand agents), and one row per change
 * cost SQLite about 7 µs each in the index and the B-tree; a segment costs that once per agent per batch, and
 * about 1 µs per entry in JSON. A quiet agent's segments hold one entry each, as the rows did.
 *
 * `entries` is a JSON array of [at, from, to, cmd, breakReason] tuples in the order they happened; first_at and
 * last_at are the smallest and largest `at` of the segment, so a read knows which segments can hold what it
 * wants without opening them.
 */
export const APPEND_STATE_HISTORY_SEGMENT = `INSERT INTO state_history_segments
  (instance_id, agent_id, first_at, last_at, entries) VALUES (?, ?, ?, ?, ?)`;

/** One history entry as a segment stores it. */
export type HistoryTuple = [at: number, from: number, to: number, cmd: string, breakReason: string];

/**
 * The segment insert's parameters for entries of one agent, in the order they happened.
 *
 * The status writer's worker runs this same function (its source is put into the worker's program, see
 * status-write-behind.ts), so it must stay self-contained: no imports, no closures, no nested functions.
 */
export function historySegmentParams(
  instanceId: string,
  agentId: string,
  tuples: readonly HistoryTuple[],
): [string, string, number, number, string] {
  let firstAt = Number.POSITIVE_INFINITY;
  let lastAt = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < tuples.length; i++) {
    const at = tuples[i]![0];
    if (at < firstAt) firstAt = at;
    if (at > lastAt) lastAt = at;
  }
  return [instanceId, agentId, firstAt, lastAt, JSON.stringify(tuples)];
}

const toTuple = (entry: StateHistoryEntry): HistoryTuple => [
  entry.at,
  entry.from,
  entry.to,
  entry.cmd,
  entry.breakReason,
];

interface SegmentRow {
  id: number;
  last_at: number;
  entries: string;
}

/** An entry read back, with where it was stored: ties of the same millisecond go newest stored first. */
interface Found {
  readonly entry: StateHistoryEntry;
  readonly segment: number;
  readonly index: number;
}

const newestFirst = (a: Found, b: Found) => b.entry.at - a.entry.at || b.segment - a.segment || b.index - a.index;

export function stateHistoryRepository(db: Db): StateHistoryRepository {
  const append = db.prepare<[string, string, number, number, string]>(APPEND_STATE_HISTORY_SEGMENT);
  // Newest segments first by their newest entry; a segment whose entries all fall on or after `before` is
  // skipped by the first_at filter. Two statements so that both read the (instance, agent, last_at) index range.
  const newest = db.prepare<[string, string], SegmentRow>(
    `SELECT id, last_at, entries FROM state_history_segments
     WHERE instance_id = ? AND agent_id = ? ORDER BY last_at DESC, id DESC`,
  );
  const newestBefore = db.prepare<[string, string, number], SegmentRow>(
    `SELECT id, last_at, entries FROM state_history_segments
     WHERE instance_id = ? AND agent_id = ? AND first_at < ? ORDER BY last_at DESC, id DESC`,
  );
  return {
    append(instanceId, agentId, entries) {
      if (entries.length === 0) return;
      referencing(`history of agent ${agentId}`, () =>
        append.run(...historySegmentParams(instanceId, agentId, entries.map(toTuple))),
      );
    },
    list(instanceId, agentId, { limit, before }) {
      const rows =
        before === undefined ? newest.iterate(instanceId, agentId) : newestBefore.iterate(instanceId, agentId, before);
      const found: Found[] = [];
      for (const row of rows) {
        // Segments come newest last_at first, so once `limit` entries are at least as new as this segment's
        // newest, nothing in it or after it can make the page: stop reading (the iterator is closed by break).
        if (found.length >= limit) {
          found.sort(newestFirst);
          found.length = limit;
          if ((found[limit - 1]?.entry.at ?? Number.POSITIVE_INFINITY) > row.last_at) break;
        }
        const tuples = JSON.parse(row.entries) as HistoryTuple[];
        for (let index = 0; index < tuples.length; index++) {
          const [at, from, to, cmd, breakReason] = tuples[index]!;
          if (before !== undefined && at >= before) continue;
          found.push({
            entry: { at, from: from as AgentBarStatus, to: to as AgentBarStatus, cmd, breakReason },
            segment: row.id,
            index,
          });
        }
      }
      return found
        .sort(newestFirst)
        .slice(0, limit)
        .map((f) => f.entry);
    },
  };
}
