import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentBarStatus, type StateHistoryEntry } from '@openhotline/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStorage } from './sqlite.js';
import type { AgentRuntimeRecord, Storage } from './storage.js';
import { agentRecord, CREATED, SETTINGS } from './test-fixtures.js';

function runtime(instanceId: string, agentId: string, status: AgentBarStatus, since: number): AgentRuntimeRecord {
  return {
    instanceId,
    agentId,
    status,
    since,
    breakReason: '',
    activeSkillGroupIds: ['g1'],
    acwSeconds: null,
    idleSince: since,
  };
}

function entry(at: number, from: AgentBarStatus, to: AgentBarStatus): StateHistoryEntry {
  return { at, from, to, cmd: 'test', breakReason: '' };
}

function seed(storage: Storage, instanceId: string): void {
  storage.instances.create({ id: instanceId, name: instanceId, settings: SETTINGS, createdAt: CREATED });
  storage.skillGroups.create({ instanceId, id: 'g1', name: 'G1', queue: {}, createdAt: CREATED });
  for (const id of ['a1', 'a2']) {
    storage.agents.create(agentRecord(instanceId, id, { skillGroupIds: ['g1'] }));
  }
}

/** A burst of status changes of one agent, as the agent service writes them: one runtime row and entry each. */
function writeBurst(storage: Storage, instanceId: string, agentId: string, changes: number, start = 1_000): void {
  for (let i = 0; i < changes; i++) {
    const from = i % 2 ? AgentBarStatus.AgentBreak : AgentBarStatus.AgentReady;
    const to = i % 2 ? AgentBarStatus.AgentReady : AgentBarStatus.AgentBreak;
    storage.writeStatus(instanceId, agentId, runtime(instanceId, agentId, to, start + i), entry(start + i, from, to));
  }
}

describe('status rows written behind by a worker thread', () => {
  let dir: string;
  let path: string;
  let failures: string[];
  let storage: Storage;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'openhotline-write-behind-'));
    path = join(dir, 'hotline.db');
    failures = [];
    storage = openSqliteStorage(path, { onWriteFailure: (message) => failures.push(message) });
    seed(storage, 'i1');
  });
  afterEach(() => {
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves the writing to the worker, yet every read sees what was written before it', () => {
    writeBurst(storage, 'i1', 'a1', 3);
    // In the same synchronous run the rows are not in the file yet: this thread did not write them.
    const outside = new Database(path, { readonly: true });
    try {
      expect(outside.prepare('SELECT count(*) AS n FROM state_history_segments').get()).toEqual({ n: 0 });
    } finally {
      outside.close();
    }
    // A read through the storage waits for the worker and sees all of it.
    expect(storage.agentRuntime.get('i1', 'a1')).toMatchObject({ status: AgentBarStatus.AgentBreak, since: 1_002 });
    expect(storage.stateHistory.list('i1', 'a1', { limit: 10 }).map((e) => e.at)).toEqual([1_002, 1_001, 1_000]);
    expect(failures).toEqual([]);
  });

  it('keeps every row of many bursts across a close and a reopen', async () => {
    for (let round = 0; round < 20; round++) {
      writeBurst(storage, 'i1', 'a1', 50, 10_000 + round * 50);
      writeBurst(storage, 'i1', 'a2', 50, 10_000 + round * 50);
      await new Promise((resolve) => setImmediate(resolve));
    }
    storage.close();
    storage = openSqliteStorage(path);
    expect(storage.stateHistory.list('i1', 'a1', { limit: 5_000 })).toHaveLength(1_000);
    expect(storage.stateHistory.list('i1', 'a2', { limit: 5_000 })).toHaveLength(1_000);
    expect(storage.agentRuntime.listAll().map((r) => [r.agentId, r.since])).toEqual([
      ['a1', 10_999],
      ['a2', 10_999],
    ]);
  });

  it('writes every entry exactly as given when it is handed over in many batches', () => {
    const written: StateHistoryEntry[] = [];
    for (let batch = 0; batch < 12; batch++) {
      // A batch of a few changes of both agents, with the strings of each entry its own.
      for (let i = 0; i < 3 + batch; i++) {
        const at = 50_000 + batch * 100 + i;
        const agentId = i % 2 ? 'a2' : 'a1';
        const from = i % 2 ? AgentBarStatus.AgentBreak : AgentBarStatus.AgentReady;
        const to = i % 2 ? AgentBarStatus.AgentReady : AgentBarStatus.AgentBreak;
        const entry = { at, from, to, cmd: `cmd-${batch}-${i}`, breakReason: i % 3 ? `reason ${batch}` : '' };
        storage.writeStatus('i1', agentId, runtime('i1', agentId, to, at), entry);
        if (agentId === 'a1') written.push(entry);
      }
      // A read hands the batch over (and waits for it): the next changes go into a batch of their own.
      expect(storage.agentRuntime.get('i1', 'a1')?.since).toBe(50_000 + batch * 100 + 2 * Math.floor((2 + batch) / 2));
    }
    expect(storage.stateHistory.list('i1', 'a1', { limit: 1_000 })).toEqual(written.reverse());
    expect(failures).toEqual([]);
  });

  it('hands rows over on its own within a fraction of a second, one runtime row per agent however often it changed', async () => {
    const outside = new Database(path, { readonly: true });
    try {
      const entries = () =>
        outside
          .prepare('SELECT entries FROM state_history_segments ORDER BY id')
          .pluck()
          .all()
          .map((json) => (JSON.parse(json as string) as unknown[][]).map((tuple) => tuple[0]));
      // Three bursts of the same agent, no read in between: the newest runtime row wins, every history entry
      // stays, and they land as one segment of the agent, in the order they happened.
      writeBurst(storage, 'i1', 'a1', 3, 1_000);
      writeBurst(storage, 'i1', 'a1', 2, 2_000);
      writeBurst(storage, 'i1', 'a1', 1, 3_000);
      const deadline = Date.now() + 5_000;
      while (entries().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(entries()).toEqual([[1_000, 1_001, 1_002, 2_000, 2_001, 3_000]]);
      expect(outside.prepare('SELECT agent_id, since, status FROM agent_runtime').all()).toEqual([
        { agent_id: 'a1', since: 3_000, status: AgentBarStatus.AgentBreak },
      ]);
    } finally {
      outside.close();
    }
    expect(failures).toEqual([]);
  });

  it('does not bring back the runtime row of an agent removed right after its last change', () => {
    writeBurst(storage, 'i1', 'a2', 1);
    storage.agents.remove('i1', 'a2');
    expect(storage.agentRuntime.get('i1', 'a2')).toBeUndefined();
    expect(storage.agentRuntime.listAll().map((r) => r.agentId)).toEqual([]);
    // Its history stays: it is the audit trail.
    expect(storage.stateHistory.list('i1', 'a2', { limit: 10 })).toHaveLength(1);
  });

  it('drops and reports only the rows of an instance removed meanwhile, and writes the others', async () => {
    seed(storage, 'i2');
    storage.instances.remove('i2');
    writeBurst(storage, 'i2', 'a1', 2);
    writeBurst(storage, 'i1', 'a1', 1);
    expect(storage.stateHistory.list('i1', 'a1', { limit: 10 })).toHaveLength(1);
    expect(storage.agentRuntime.listAll().map((r) => `${r.instanceId}/${r.agentId}`)).toEqual(['i1/a1']);
    // Reports come back from the worker as messages, on a later turn of the event loop.
    // Its runtime row and its history segment.
    await vi.waitFor(() => expect(failures).toHaveLength(2));
    expect(failures[0]).toMatch(/FOREIGN KEY/);
  });

  it('lets a transaction of this thread run after the worker, without waiting for a lock in a cycle', () => {
    writeBurst(storage, 'i1', 'a1', 10);
    const started = Date.now();
    storage.transaction(() => {
      storage.meta.set('k', 'v');
      storage.agents.remove('i1', 'a1');
    });
    // Well below SQLite's busy timeout (5 s): nobody waited for a lock the other side held.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(storage.agentRuntime.get('i1', 'a1')).toBeUndefined();
    expect(storage.meta.get('k')).toBe('v');
  });
});

describe('a status change after storage closed', () => {
  it('is reported as not written, names the agent, and touches nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openhotline-write-behind-'));
    const failures: string[] = [];
    const storage = openSqliteStorage(join(dir, 'hotline.db'), { onWriteFailure: (message) => failures.push(message) });
    try {
      seed(storage, 'i1');
      writeBurst(storage, 'i1', 'a1', 1);
      storage.close();
      writeBurst(storage, 'i1', 'a2', 1);
      // Nothing is scheduled that could fail later.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(failures).toEqual(['status change of i1/a2 after storage closed: not written']);
      const reopened = openSqliteStorage(join(dir, 'hotline.db'));
      try {
        expect(reopened.stateHistory.list('i1', 'a1', { limit: 10 })).toHaveLength(1);
        expect(reopened.stateHistory.list('i1', 'a2', { limit: 10 })).toHaveLength(0);
      } finally {
        reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('status rows of an in-memory database', () => {
  it('are written on this thread (a worker cannot share the database) and seen by the next read', () => {
    const storage = openSqliteStorage(':memory:');
    try {
      seed(storage, 'i1');
      writeBurst(storage, 'i1', 'a1', 2);
      expect(storage.stateHistory.list('i1', 'a1', { limit: 10 })).toHaveLength(2);
    } finally {
      storage.close();
    }
  });

  it('are not part of an enclosing transaction: a rollback does not take them back, as with a file database', () => {
    const storage = openSqliteStorage(':memory:');
    try {
      seed(storage, 'i1');
      expect(() =>
        storage.transaction(() => {
          writeBurst(storage, 'i1', 'a1', 2);
          storage.meta.set('k', 'v');
          throw new Error('rolled back');
        }),
      ).toThrow('rolled back');
      expect(storage.meta.get('k')).toBeUndefined();
      expect(storage.stateHistory.list('i1', 'a1', { limit: 10 })).toHaveLength(2);
      expect(storage.agentRuntime.get('i1', 'a1')?.status).toBe(AgentBarStatus.AgentReady);
    } finally {
      storage.close();
    }
  });
});
