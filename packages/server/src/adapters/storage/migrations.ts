import type Database from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: string;
}

/**
 * The SQLite schema, as the ordered list of changes that build it.
 *
 * APPEND-ONLY: a migration that has shipped may have run on someone's database, so it is never edited,
 * reordered or removed. Change the schema by appending a migration with the next version.
 *
 * Every table of an instance refers to `instances` with ON DELETE CASCADE so that removing an instance is one
 * DELETE. Rows carry an explicit `seq INTEGER PRIMARY KEY` because lists are returned in creation order and an
 * implicit rowid may be renumbered by VACUUM.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: `
      CREATE TABLE instances (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        settings TEXT NOT NULL CHECK (json_valid(settings)),
        created_at TEXT NOT NULL
      );

      CREATE TABLE skill_groups (
        seq INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (instance_id, id)
      );

      CREATE TABLE number_groups (
        seq INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        numbers TEXT NOT NULL CHECK (json_valid(numbers)),
        created_at TEXT NOT NULL,
        UNIQUE (instance_id, id)
      );

      CREATE TABLE agents (
        seq INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        department_id TEXT NOT NULL,
        can_see_full_numbers INTEGER NOT NULL CHECK (can_see_full_numbers IN (0, 1)),
        acw_seconds INTEGER,
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        created_at TEXT NOT NULL,
        UNIQUE (instance_id, id)
      );

      CREATE TABLE agent_skill_groups (
        instance_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        skill_group_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (instance_id, agent_id, skill_group_id),
        FOREIGN KEY (instance_id, agent_id) REFERENCES agents (instance_id, id) ON DELETE CASCADE,
        FOREIGN KEY (instance_id, skill_group_id) REFERENCES skill_groups (instance_id, id) ON DELETE CASCADE
      ) WITHOUT ROWID;
      -- The cascade from a removed group looks memberships up by group.
      CREATE INDEX agent_skill_groups_by_group ON agent_skill_groups (instance_id, skill_group_id);

      CREATE TABLE agent_number_groups (
        instance_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        number_group_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (instance_id, agent_id, number_group_id),
        FOREIGN KEY (instance_id, agent_id) REFERENCES agents (instance_id, id) ON DELETE CASCADE,
        FOREIGN KEY (instance_id, number_group_id) REFERENCES number_groups (instance_id, id) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX agent_number_groups_by_group ON agent_number_groups (instance_id, number_group_id);

      CREATE TABLE hotline_numbers (
        seq INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        -- Unique across instances: the dialed number alone decides where a call goes.
        number TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        skill_group_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        -- NO ACTION rather than RESTRICT: it is checked at the end of the statement, so an instance's cascade can
        -- delete a group and the numbers routed to it together, while removing a routed group alone still fails.
        FOREIGN KEY (instance_id, skill_group_id) REFERENCES skill_groups (instance_id, id)
      );
      CREATE INDEX hotline_numbers_by_group ON hotline_numbers (instance_id, skill_group_id);

      CREATE TABLE break_reasons (
        seq INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        code TEXT NOT NULL,
        label TEXT NOT NULL CHECK (json_valid(label)),
        system INTEGER NOT NULL CHECK (system IN (0, 1)),
        created_at TEXT NOT NULL,
        UNIQUE (instance_id, code)
      );

      CREATE TABLE api_clients (
        seq INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        -- Unique across instances: the token endpoint finds the instance from the client id.
        client_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX api_clients_by_instance ON api_clients (instance_id);

      -- A mirror of live state written on every status change: one row, no references to agents or groups, so a
      -- write from the call path never fails on a configuration change racing it.
      CREATE TABLE agent_runtime (
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        agent_id TEXT NOT NULL,
        status INTEGER NOT NULL,
        since INTEGER NOT NULL,
        break_reason TEXT NOT NULL,
        active_skill_group_ids TEXT NOT NULL CHECK (json_valid(active_skill_group_ids)),
        acw_seconds INTEGER,
        idle_since INTEGER,
        PRIMARY KEY (instance_id, agent_id)
      ) WITHOUT ROWID;

      -- Kept when an agent is removed (it is the audit trail); goes with the instance.
      CREATE TABLE state_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        agent_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        from_status INTEGER NOT NULL,
        to_status INTEGER NOT NULL,
        cmd TEXT NOT NULL,
        break_reason TEXT NOT NULL
      );
      CREATE INDEX state_history_by_agent_time ON state_history (instance_id, agent_id, at);

      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'call records',
    up: `
      -- One row per call, rewritten whole at each milestone. The record itself is the JSON column; the other
      -- columns copy the fields that lists filter and order on, so no query has to look inside the JSON.
      CREATE TABLE call_records (
        seq INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        conn_id TEXT NOT NULL,
        direction TEXT NOT NULL,
        disposition TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        skill_group_id TEXT NOT NULL,
        offered_at INTEGER NOT NULL,
        ended_at INTEGER,
        record TEXT NOT NULL CHECK (json_valid(record)),
        UNIQUE (instance_id, conn_id)
      );
      -- Lists are newest first with (offered_at, conn_id) as the keyset: each filter's index ends in both, so a
      -- filtered page is an index range read backwards, not a sort.
      CREATE INDEX call_records_by_time ON call_records (instance_id, offered_at, conn_id);
      CREATE INDEX call_records_by_group ON call_records (instance_id, skill_group_id, offered_at, conn_id);
      CREATE INDEX call_records_by_direction ON call_records (instance_id, direction, offered_at, conn_id);
      CREATE INDEX call_records_by_disposition ON call_records (instance_id, disposition, offered_at, conn_id);
      -- The start-up sweep reads the few records still active across all instances.
      CREATE INDEX call_records_active ON call_records (seq) WHERE disposition = 'active';

      -- Every agent offered or handling a call (the record's agentIds), for the per-agent list. offered_at is
      -- copied here so that the agent's page is a range of this table's key, ordered like the records.
      CREATE TABLE call_record_agents (
        instance_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        offered_at INTEGER NOT NULL,
        conn_id TEXT NOT NULL,
        PRIMARY KEY (instance_id, agent_id, offered_at, conn_id),
        FOREIGN KEY (instance_id, conn_id) REFERENCES call_records (instance_id, conn_id) ON DELETE CASCADE
      ) WITHOUT ROWID;
      -- The cascade and the rewrite of a record find its agents by record.
      CREATE INDEX call_record_agents_by_record ON call_record_agents (instance_id, conn_id);
    `,
  },
  {
    version: 3,
    name: 'skill group queue settings',
    up: `
      -- Per-group queue timeout, length and overflow (QueueSettings JSON); '{}' = the instance defaults.
      ALTER TABLE skill_groups ADD COLUMN queue TEXT NOT NULL DEFAULT '{}';
    `,
  },
  {
    version: 4,
    name: 'call recordings',
    up: `
      -- One row per recorded segment of a call. No reference to call_records: the record is written in batches and
      -- may reach the database after its first segment does.
      CREATE TABLE call_recordings (
        seq INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        id TEXT NOT NULL UNIQUE,
        conn_id TEXT NOT NULL,
        segment INTEGER NOT NULL CHECK (segment >= 1),
        agent_id TEXT NOT NULL,
        participant_ids TEXT NOT NULL CHECK (json_valid(participant_ids)),
        file_name TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER,
        bytes INTEGER,
        state TEXT NOT NULL CHECK (state IN ('recording', 'done', 'interrupted', 'failed')),
        UNIQUE (instance_id, conn_id, segment)
      );
      -- The start-up sweep reads the few segments a stopped server left open.
      CREATE INDEX call_recordings_unfinished ON call_recordings (seq) WHERE state = 'recording';
    `,
  },
  {
    version: 5,
    name: 'state history in segments',
    up: `
      -- A run of one agent's history entries per row (see sqlite/agent-status.ts): a JSON array of
      -- [at, from, to, cmd, breakReason] in the order they happened, with the smallest and largest at.
      -- Kept when an agent is removed (it is the audit trail); goes with the instance.
      CREATE TABLE state_history_segments (
        id INTEGER PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        agent_id TEXT NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        entries TEXT NOT NULL
      );
      -- Reads go newest segment first; first_at in the index lets a page before a time skip newer segments
      -- without opening them.
      CREATE INDEX state_history_segments_by_agent_time
        ON state_history_segments (instance_id, agent_id, last_at, first_at);

      -- Every existing row becomes a segment of one entry, keeping its id (the tie-break of the same millisecond).
      INSERT INTO state_history_segments (id, instance_id, agent_id, first_at, last_at, entries)
        SELECT id, instance_id, agent_id, at, at, json_array(json_array(at, from_status, to_status, cmd, break_reason))
        FROM state_history ORDER BY id;
      DROP TABLE state_history;
    `,
  },
];

/**
 * Brings the database up to the newest schema. Each migration runs in its own IMMEDIATE transaction and is
 * re-checked inside it, so two processes opening the same file at once apply it only once.
 */
export function migrate(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )
  `);
  refuseNewerSchema(db);
  const isApplied = db.prepare<[number], number>('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare<[number, string, string]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const apply = db.transaction((migration: Migration) => {
    if (isApplied.get(migration.version) !== undefined) return;
    db.exec(migration.up);
    record.run(migration.version, migration.name, new Date().toISOString());
  });
  for (const migration of MIGRATIONS) {
    if (isApplied.get(migration.version) === undefined) apply.immediate(migration);
  }
}

/** A database written by a newer server may hold data this one would misread or overwrite. */
function refuseNewerSchema(db: Database.Database): void {
  const current = db.prepare<[], number | null>('SELECT max(version) FROM schema_migrations').pluck().get() ?? 0;
  const known = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > known) {
    throw new Error(`the database has schema version ${current}, newer than ${known} known to this server`);
  }
}
