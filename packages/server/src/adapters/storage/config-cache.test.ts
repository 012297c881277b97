import { describe, expect, it, vi } from 'vitest';
import { withConfigCache } from './config-cache.js';
import { openSqliteStorage } from './sqlite.js';
import type { Storage } from './storage.js';
import { agentRecord, CREATED, SETTINGS } from './test-fixtures.js';

const agent = (instanceId: string, id: string, name = id) => agentRecord(instanceId, id, { name });

/** The real SQLite storage, with a count of the reads that reach it, behind the cache. */
function cachedStorage(maxValues?: number) {
  const inner = openSqliteStorage(':memory:');
  inner.instances.create({ id: 'i1', name: 'One', settings: SETTINGS, createdAt: CREATED });
  inner.instances.create({ id: 'i1x', name: 'Other', settings: SETTINGS, createdAt: CREATED });
  inner.agents.create(agent('i1', 'a1'));
  inner.agents.create(agent('i1x', '1'));
  const agentReads = vi.spyOn(inner.agents, 'get');
  const storage: Storage = withConfigCache(inner, maxValues === undefined ? {} : { maxValues });
  return { storage, agentReads, close: () => storage.close() };
}

describe('the configuration cache', () => {
  it('answers a repeated read from memory, with a frozen value', () => {
    const { storage, agentReads, close } = cachedStorage();
    try {
      const first = storage.agents.get('i1', 'a1');
      const second = storage.agents.get('i1', 'a1');
      expect(second).toBe(first);
      expect(agentReads).toHaveBeenCalledTimes(1);
      expect(Object.isFrozen(first)).toBe(true);
      expect(() => {
        (first as { name: string }).name = 'changed';
      }).toThrow(TypeError);
    } finally {
      close();
    }
  });

  it('keeps reads with different arguments apart, however their text would join', () => {
    const { storage, close } = cachedStorage();
    try {
      // ('i1', 'x1') and ('i1x', '1') must not share an entry.
      expect(storage.agents.get('i1', 'a1')?.instanceId).toBe('i1');
      expect(storage.agents.get('i1x', '1')?.instanceId).toBe('i1x');
      expect(storage.agents.get('i1', 'x1')).toBeUndefined();
      expect(storage.agents.get('i1x', '1')?.id).toBe('1');
    } finally {
      close();
    }
  });

  it('forgets everything on a write, so the next read sees it', () => {
    const { storage, agentReads, close } = cachedStorage();
    try {
      expect(storage.agents.get('i1', 'a2')).toBeUndefined();
      storage.agents.create(agent('i1', 'a2', 'New'));
      expect(storage.agents.get('i1', 'a2')?.name).toBe('New');
      expect(agentReads).toHaveBeenCalledTimes(2);
    } finally {
      close();
    }
  });

  it('forgets what a failed transaction may have read', () => {
    const { storage, close } = cachedStorage();
    try {
      expect(() =>
        storage.transaction(() => {
          storage.agents.create(agent('i1', 'a3', 'Rolled back'));
          expect(storage.agents.get('i1', 'a3')?.name).toBe('Rolled back');
          throw new Error('abort');
        }),
      ).toThrow('abort');
      expect(storage.agents.get('i1', 'a3')).toBeUndefined();
    } finally {
      close();
    }
  });

  it('stays bounded under a flood of unknown ids, and correct across the restart', () => {
    const { storage, agentReads, close } = cachedStorage(100);
    try {
      expect(storage.agents.get('i1', 'a1')?.name).toBe('a1');
      for (let i = 0; i < 1_000; i++) expect(storage.agents.get('i1', `ghost-${i}`)).toBeUndefined();
      expect(agentReads).toHaveBeenCalledTimes(1_001);
      // The cache started over along the way (a1 is read again), and answers from memory after that.
      expect(storage.agents.get('i1', 'a1')?.name).toBe('a1');
      expect(storage.agents.get('i1', 'a1')?.name).toBe('a1');
      expect(agentReads).toHaveBeenCalledTimes(1_002);
    } finally {
      close();
    }
  });
});
