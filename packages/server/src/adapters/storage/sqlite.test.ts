import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentBarStatus, type CallRecord } from '@openhotline/protocol';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from './migrations.js';
import { openSqliteStorage } from './sqlite.js';
import {
  type AgentRuntimeRecord,
  BAD_CURSOR,
  type CallRecordFilter,
  type Storage,
  StorageConflict,
} from './storage.js';
import { agentRecord, CREATED, SETTINGS } from './test-fixtures.js';

const agent = agentRecord;

function runtime(instanceId: string, agentId: string, overrides: Partial<AgentRuntimeRecord> = {}): AgentRuntimeRecord {
  return {
    instanceId,
    agentId,
    status: AgentBarStatus.AgentReady,
    since: 1_700_000_000_000,
    breakReason: '',
    activeSkillGroupIds: [],
    acwSeconds: null,
    idleSince: 1_700_000_000_000,
    ...overrides,
  };
}

/** An instance with two skill groups, two number groups and one hotline number routed to `sg1`. */
function seed(storage: Storage, instanceId = 'i1', hotline = '+4930100'): void {
  storage.instances.create({ id: instanceId, name: `Instance ${instanceId}`, settings: SETTINGS, createdAt: CREATED });
  for (const id of ['sg1', 'sg2']) {
    storage.skillGroups.create({ instanceId, id, name: `Group ${id}`, queue: {}, createdAt: CREATED });
  }
  for (const id of ['ng1', 'ng2']) {
    storage.numberGroups.create({
      instanceId,
      id,
      name: `Numbers ${id}`,
      numbers: ['+491', '+492'],
      createdAt: CREATED,
    });
  }
  storage.hotlineNumbers.create({
    instanceId,
    number: hotline,
    name: 'Support',
    skillGroupId: 'sg1',
    createdAt: CREATED,
  });
}

function expectConflict(write: () => unknown, kind: StorageConflict['kind']): StorageConflict {
  try {
    write();
  } catch (error) {
    expect(error).toBeInstanceOf(StorageConflict);
    expect((error as StorageConflict).kind).toBe(kind);
    return error as StorageConflict;
  }
  throw new Error('expected a StorageConflict');
}

describe('SQLite storage on a file', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'openhotline-storage-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the missing parent folder and uses WAL', () => {
    const path = join(dir, 'nested', 'deeper', 'hotline.db');
    const storage = openSqliteStorage(path);
    storage.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('keeps configuration, runtime and history across a restart, migrating only once', () => {
    const path = join(dir, 'hotline.db');
    const first = openSqliteStorage(path);
    seed(first);
    first.agents.create(agent('i1', 'a1', { skillGroupIds: ['sg2', 'sg1'], numberGroupIds: ['ng2', 'ng1'] }));
    first.agentRuntime.put(runtime('i1', 'a1', { activeSkillGroupIds: ['sg2'] }));
    first.stateHistory.append('i1', 'a1', [
      {
        at: 5,
        from: AgentBarStatus.AgentCheckin,
        to: AgentBarStatus.AgentReady,
        cmd: 'ready',
        breakReason: '',
      },
    ]);
    first.meta.set('signingSecret', 'shh');
    first.close();

    const second = openSqliteStorage(path);
    expect(second.instances.get('i1')?.settings).toEqual(SETTINGS);
    expect(second.agents.get('i1', 'a1')).toMatchObject({
      skillGroupIds: ['sg2', 'sg1'],
      numberGroupIds: ['ng2', 'ng1'],
    });
    expect(second.hotlineNumbers.findByNumber('+4930100')?.skillGroupId).toBe('sg1');
    expect(second.agentRuntime.listAll()).toEqual([runtime('i1', 'a1', { activeSkillGroupIds: ['sg2'] })]);
    expect(second.stateHistory.list('i1', 'a1', { limit: 10 })).toHaveLength(1);
    expect(second.meta.get('signingSecret')).toBe('shh');
    second.close();

    const db = new Database(path, { readonly: true });
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    db.close();
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('refuses a database written by a newer schema', () => {
    const path = join(dir, 'hotline.db');
    openSqliteStorage(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      9999,
      'from the future',
      CREATED,
    );
    db.close();
    expect(() => openSqliteStorage(path)).toThrow(/newer/);
  });
});

describe('migrations', () => {
  it('are numbered in strictly increasing order', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('turn the rows of the old state history into segments that list the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openhotline-migrate-'));
    const path = join(dir, 'hotline.db');
    const db = new Database(path);
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const migration of MIGRATIONS.filter((m) => m.version <= 4)) {
      db.exec(migration.up);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, CREATED);
    }
    db.prepare("INSERT INTO instances (id, name, settings, created_at) VALUES ('i1', 'I1', '{}', ?)").run(CREATED);
    const insert = db.prepare(
      "INSERT INTO state_history (instance_id, agent_id, at, from_status, to_status, cmd, break_reason) VALUES ('i1', ?, ?, 3, 4, ?, 'lunch')",
    );
    insert.run('a1', 100, 'first');
    insert.run('a1', 300, 'third');
    insert.run('a1', 200, 'second');
    insert.run('a1', 300, 'third-same-ms');
    insert.run('a2', 250, 'other agent');
    db.close();

    const storage = openSqliteStorage(path);
    try {
      expect(storage.stateHistory.list('i1', 'a1', { limit: 10 })).toEqual(
        [
          [300, 'third-same-ms'],
          [300, 'third'],
          [200, 'second'],
          [100, 'first'],
        ].map(([at, cmd]) => ({
          at,
          from: AgentBarStatus.AgentReady,
          to: AgentBarStatus.AgentBreak,
          cmd,
          breakReason: 'lunch',
        })),
      );
      expect(storage.stateHistory.list('i1', 'a2', { limit: 10 }).map((e) => e.cmd)).toEqual(['other agent']);
    } finally {
      storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are idempotent on one connection', () => {
    const db = new Database(':memory:');
    migrate(db);
    migrate(db);
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(MIGRATIONS.length);
    db.close();
  });
});

describe('SQLite storage repositories', () => {
  let storage: Storage;

  beforeEach(() => {
    storage = openSqliteStorage(':memory:');
  });
  afterEach(() => {
    storage.close();
  });

  describe('instances', () => {
    it('round-trips, lists in creation order, updates only the given fields and removes', () => {
      const created = storage.instances.create({ id: 'zeta', name: 'Zeta', settings: SETTINGS, createdAt: CREATED });
      expect(created).toEqual({ id: 'zeta', name: 'Zeta', settings: SETTINGS, createdAt: CREATED });
      storage.instances.create({ id: 'alpha', name: 'Alpha', settings: SETTINGS, createdAt: CREATED });
      expect(storage.instances.list().map((i) => i.id)).toEqual(['zeta', 'alpha']);

      expect(storage.instances.update('zeta', { name: 'Zeta 2' })).toEqual({ ...created, name: 'Zeta 2' });
      const settings = { ...SETTINGS, readyOnCheckin: false };
      expect(storage.instances.update('zeta', { settings })).toEqual({ ...created, name: 'Zeta 2', settings });
      expect(storage.instances.get('zeta')).toEqual({ ...created, name: 'Zeta 2', settings });

      expect(storage.instances.update('missing', { name: 'x' })).toBeUndefined();
      expect(storage.instances.get('missing')).toBeUndefined();
      expect(storage.instances.remove('zeta')).toBe(true);
      expect(storage.instances.remove('zeta')).toBe(false);
      expect(storage.instances.list().map((i) => i.id)).toEqual(['alpha']);
    });

    it('rejects a duplicate id', () => {
      storage.instances.create({ id: 'i1', name: 'One', settings: SETTINGS, createdAt: CREATED });
      expectConflict(
        () => storage.instances.create({ id: 'i1', name: 'Again', settings: SETTINGS, createdAt: CREATED }),
        'AlreadyExists',
      );
      expect(storage.instances.get('i1')?.name).toBe('One');
    });

    it('removes everything in the instance and nothing in the others', () => {
      seed(storage, 'i1', '+4930100');
      seed(storage, 'i2', '+4930200');
      for (const instanceId of ['i1', 'i2']) {
        storage.agents.create(agent(instanceId, 'a1', { skillGroupIds: ['sg1'], numberGroupIds: ['ng1'] }));
        storage.breakReasons.create({
          instanceId,
          code: 'lunch',
          label: { 'zh-CN': '午餐', en: 'Lunch' },
          system: false,
          createdAt: CREATED,
        });
        storage.apiClients.create({
          instanceId,
          clientId: `client-${instanceId}`,
          name: 'Backend',
          secretHash: 'scrypt$a$b',
          createdAt: CREATED,
        });
        storage.agentRuntime.put(runtime(instanceId, 'a1'));
        storage.stateHistory.append(instanceId, 'a1', [
          {
            at: 1,
            from: AgentBarStatus.AgentCheckout,
            to: AgentBarStatus.AgentCheckin,
            cmd: 'checkin',
            breakReason: '',
          },
        ]);
      }

      expect(storage.instances.remove('i1')).toBe(true);

      expect(storage.agents.list('i1')).toEqual([]);
      expect(storage.skillGroups.list('i1')).toEqual([]);
      expect(storage.numberGroups.list('i1')).toEqual([]);
      expect(storage.hotlineNumbers.list('i1')).toEqual([]);
      expect(storage.hotlineNumbers.findByNumber('+4930100')).toBeUndefined();
      expect(storage.breakReasons.list('i1')).toEqual([]);
      expect(storage.apiClients.list('i1')).toEqual([]);
      expect(storage.apiClients.getByClientId('client-i1')).toBeUndefined();
      expect(storage.agentRuntime.get('i1', 'a1')).toBeUndefined();
      expect(storage.stateHistory.list('i1', 'a1', { limit: 10 })).toEqual([]);

      expect(storage.agents.get('i2', 'a1')?.skillGroupIds).toEqual(['sg1']);
      expect(storage.skillGroups.list('i2')).toHaveLength(2);
      expect(storage.hotlineNumbers.findByNumber('+4930200')?.instanceId).toBe('i2');
      expect(storage.agentRuntime.listAll().map((r) => r.instanceId)).toEqual(['i2']);
      expect(storage.stateHistory.list('i2', 'a1', { limit: 10 })).toHaveLength(1);
      // The number of the removed instance is free again.
      storage.hotlineNumbers.create({
        instanceId: 'i2',
        number: '+4930100',
        name: 'Reused',
        skillGroupId: 'sg2',
        createdAt: CREATED,
      });
    });
  });

  describe('agents', () => {
    beforeEach(() => seed(storage));

    it('round-trips every field and keeps the order of group ids', () => {
      const full = agent('i1', 'a1', {
        skillGroupIds: ['sg2', 'sg1'],
        numberGroupIds: ['ng2', 'ng1'],
        canSeeFullNumbers: true,
        acwSeconds: 45,
        enabled: false,
      });
      expect(storage.agents.create(full)).toEqual(full);
      expect(storage.agents.get('i1', 'a1')).toEqual(full);
      storage.agents.create(agent('i1', '0-first-by-name', { skillGroupIds: ['sg1'] }));
      expect(storage.agents.list('i1')).toEqual([full, agent('i1', '0-first-by-name', { skillGroupIds: ['sg1'] })]);
    });

    it('updates only the given fields, including setting acwSeconds back to null', () => {
      const original = agent('i1', 'a1', { skillGroupIds: ['sg1'], numberGroupIds: ['ng1'], acwSeconds: 20 });
      storage.agents.create(original);

      expect(storage.agents.update('i1', 'a1', { name: 'Renamed' })).toEqual({ ...original, name: 'Renamed' });
      expect(storage.agents.update('i1', 'a1', { acwSeconds: null, enabled: false })).toEqual({
        ...original,
        name: 'Renamed',
        acwSeconds: null,
        enabled: false,
      });
      const regrouped = storage.agents.update('i1', 'a1', { skillGroupIds: ['sg2', 'sg1'], numberGroupIds: [] });
      expect(regrouped?.skillGroupIds).toEqual(['sg2', 'sg1']);
      expect(regrouped?.numberGroupIds).toEqual([]);
      expect(storage.agents.get('i1', 'a1')).toEqual(regrouped);
      expect(storage.agents.update('i1', 'nobody', { name: 'x' })).toBeUndefined();
    });

    it('rejects a duplicate id in the same instance but not in another one', () => {
      storage.agents.create(agent('i1', 'a1'));
      expectConflict(() => storage.agents.create(agent('i1', 'a1', { name: 'Again' })), 'AlreadyExists');
      expect(storage.agents.get('i1', 'a1')?.name).toBe('Agent a1');

      seed(storage, 'i2', '+4930200');
      expect(storage.agents.create(agent('i2', 'a1')).instanceId).toBe('i2');
    });

    it('fails with a plain error, and writes nothing, when a group does not exist', () => {
      const write = () => storage.agents.create(agent('i1', 'a1', { skillGroupIds: ['sg1', 'ghost'] }));
      expect(write).toThrow(/does not exist/);
      expect(write).not.toThrow(StorageConflict);
      expect(storage.agents.get('i1', 'a1')).toBeUndefined();

      storage.agents.create(agent('i1', 'a2', { skillGroupIds: ['sg1'] }));
      expect(() => storage.agents.update('i1', 'a2', { numberGroupIds: ['ghost'] })).toThrow(/does not exist/);
      expect(storage.agents.get('i1', 'a2')?.numberGroupIds).toEqual([]);
    });

    it('drops memberships when a group is removed', () => {
      storage.agents.create(agent('i1', 'a1', { skillGroupIds: ['sg1', 'sg2'], numberGroupIds: ['ng1', 'ng2'] }));
      storage.hotlineNumbers.remove('i1', '+4930100');

      expect(storage.skillGroups.remove('i1', 'sg1')).toBe(true);
      expect(storage.numberGroups.remove('i1', 'ng2')).toBe(true);

      expect(storage.agents.get('i1', 'a1')).toMatchObject({ skillGroupIds: ['sg2'], numberGroupIds: ['ng1'] });
      expect(storage.agents.list('i1')[0]).toMatchObject({ skillGroupIds: ['sg2'], numberGroupIds: ['ng1'] });
    });

    it('removes the agent with its live status but keeps its history', () => {
      storage.agents.create(agent('i1', 'a1', { skillGroupIds: ['sg1'] }));
      storage.agentRuntime.put(runtime('i1', 'a1'));
      storage.stateHistory.append('i1', 'a1', [
        {
          at: 1,
          from: AgentBarStatus.AgentCheckout,
          to: AgentBarStatus.AgentCheckin,
          cmd: 'checkin',
          breakReason: '',
        },
      ]);

      expect(storage.agents.remove('i1', 'a1')).toBe(true);
      expect(storage.agents.remove('i1', 'a1')).toBe(false);
      expect(storage.agents.get('i1', 'a1')).toBeUndefined();
      expect(storage.agentRuntime.get('i1', 'a1')).toBeUndefined();
      expect(storage.stateHistory.list('i1', 'a1', { limit: 10 })).toHaveLength(1);
      // Memberships went with it, so the group can go too.
      storage.hotlineNumbers.remove('i1', '+4930100');
      expect(storage.skillGroups.remove('i1', 'sg1')).toBe(true);
    });
  });

  describe('skill groups', () => {
    beforeEach(() => seed(storage));

    it('round-trips, updates, rejects duplicates', () => {
      expect(storage.skillGroups.list('i1').map((g) => g.id)).toEqual(['sg1', 'sg2']);
      expect(storage.skillGroups.get('i1', 'sg2')).toEqual({
        instanceId: 'i1',
        id: 'sg2',
        name: 'Group sg2',
        queue: {},
        createdAt: CREATED,
      });
      expect(storage.skillGroups.update('i1', 'sg2', { name: 'Billing' })?.name).toBe('Billing');
      const queue = { timeoutSeconds: 30, maxLength: 5, overflow: { action: 'group' as const, skillGroupId: 'sg1' } };
      expect(storage.skillGroups.update('i1', 'sg2', { queue })?.queue).toEqual(queue);
      expect(storage.skillGroups.update('i1', 'sg2', { name: 'Billing' })?.queue).toEqual(queue);
      expect(storage.skillGroups.update('i1', 'sg2', {})?.name).toBe('Billing');
      expect(storage.skillGroups.update('i1', 'ghost', { name: 'x' })).toBeUndefined();
      expectConflict(
        () => storage.skillGroups.create({ instanceId: 'i1', id: 'sg1', name: 'Dup', queue: {}, createdAt: CREATED }),
        'AlreadyExists',
      );
      expect(storage.skillGroups.remove('i1', 'ghost')).toBe(false);
    });

    it('refuses removal while a hotline number routes to it, naming the numbers', () => {
      storage.hotlineNumbers.create({
        instanceId: 'i1',
        number: '+4930101',
        name: 'Second line',
        skillGroupId: 'sg1',
        createdAt: CREATED,
      });
      const conflict = expectConflict(() => storage.skillGroups.remove('i1', 'sg1'), 'InUse');
      expect(conflict.message).toContain('+4930100');
      expect(conflict.message).toContain('+4930101');
      expect(storage.skillGroups.get('i1', 'sg1')).toBeDefined();

      storage.hotlineNumbers.update('i1', '+4930100', { skillGroupId: 'sg2' });
      storage.hotlineNumbers.remove('i1', '+4930101');
      expect(storage.skillGroups.remove('i1', 'sg1')).toBe(true);
    });

    it('drops the removed group from persisted live selections', () => {
      storage.agents.create(agent('i1', 'a1', { skillGroupIds: ['sg1', 'sg2'] }));
      storage.agentRuntime.put(runtime('i1', 'a1', { activeSkillGroupIds: ['sg2', 'sg1'] }));
      storage.hotlineNumbers.remove('i1', '+4930100');
      storage.skillGroups.remove('i1', 'sg2');
      expect(storage.agentRuntime.get('i1', 'a1')?.activeSkillGroupIds).toEqual(['sg1']);
    });
  });

  describe('hotline numbers', () => {
    beforeEach(() => seed(storage));

    it('round-trips, updates only the given fields and finds by number', () => {
      const support = {
        instanceId: 'i1',
        number: '+4930100',
        name: 'Support',
        skillGroupId: 'sg1',
        createdAt: CREATED,
      };
      expect(storage.hotlineNumbers.get('i1', '+4930100')).toEqual(support);
      storage.hotlineNumbers.create({ ...support, number: '0800', name: 'Free' });
      expect(storage.hotlineNumbers.list('i1').map((n) => n.number)).toEqual(['+4930100', '0800']);

      expect(storage.hotlineNumbers.update('i1', '+4930100', { name: 'Help' })).toEqual({ ...support, name: 'Help' });
      expect(storage.hotlineNumbers.update('i1', '+4930100', { skillGroupId: 'sg2' })).toEqual({
        ...support,
        name: 'Help',
        skillGroupId: 'sg2',
      });
      expect(storage.hotlineNumbers.findByNumber('+4930100')?.skillGroupId).toBe('sg2');
      expect(storage.hotlineNumbers.update('i1', '+000', { name: 'x' })).toBeUndefined();
      expect(() => storage.hotlineNumbers.update('i1', '+4930100', { skillGroupId: 'ghost' })).toThrow(
        /does not exist/,
      );

      expect(storage.hotlineNumbers.remove('i1', '0800')).toBe(true);
      expect(storage.hotlineNumbers.remove('i1', '0800')).toBe(false);
      expect(storage.hotlineNumbers.findByNumber('0800')).toBeUndefined();
    });

    it('keeps a number unique across instances', () => {
      seed(storage, 'i2', '+4930200');
      expectConflict(
        () =>
          storage.hotlineNumbers.create({
            instanceId: 'i2',
            number: '+4930100',
            name: 'Stolen',
            skillGroupId: 'sg1',
            createdAt: CREATED,
          }),
        'AlreadyExists',
      );
      expect(storage.hotlineNumbers.get('i2', '+4930100')).toBeUndefined();
      expect(storage.hotlineNumbers.findByNumber('+4930100')?.instanceId).toBe('i1');
    });
  });

  describe('number groups', () => {
    beforeEach(() => seed(storage));

    it('round-trips numbers in order, updates only the given fields, rejects duplicates', () => {
      const group = { instanceId: 'i1', id: 'ng3', name: 'Out', numbers: ['+3', '+1', '+2'], createdAt: CREATED };
      expect(storage.numberGroups.create(group)).toEqual(group);
      expect(storage.numberGroups.get('i1', 'ng3')).toEqual(group);
      expect(storage.numberGroups.list('i1').map((g) => g.id)).toEqual(['ng1', 'ng2', 'ng3']);

      expect(storage.numberGroups.update('i1', 'ng3', { name: 'Outbound' })).toEqual({ ...group, name: 'Outbound' });
      expect(storage.numberGroups.update('i1', 'ng3', { numbers: ['+9'] })).toEqual({
        ...group,
        name: 'Outbound',
        numbers: ['+9'],
      });
      expect(storage.numberGroups.update('i1', 'ghost', { name: 'x' })).toBeUndefined();
      expectConflict(() => storage.numberGroups.create(group), 'AlreadyExists');
      expect(storage.numberGroups.remove('i1', 'ng3')).toBe(true);
      expect(storage.numberGroups.remove('i1', 'ng3')).toBe(false);
    });
  });

  describe('break reasons', () => {
    beforeEach(() => seed(storage));

    it('round-trips labels and the system flag, updates, rejects duplicates', () => {
      const lunch = {
        instanceId: 'i1',
        code: 'lunch',
        label: { 'zh-CN': '午餐', en: 'Lunch' },
        system: false,
        createdAt: CREATED,
      };
      const timeout = { ...lunch, code: 'ringTimeout', label: { 'zh-CN': '未接', en: 'Missed' }, system: true };
      expect(storage.breakReasons.create(lunch)).toEqual(lunch);
      storage.breakReasons.create(timeout);
      expect(storage.breakReasons.list('i1')).toEqual([lunch, timeout]);

      const label = { 'zh-CN': '午饭', en: 'Lunch break' };
      expect(storage.breakReasons.update('i1', 'lunch', { label })).toEqual({ ...lunch, label });
      expect(storage.breakReasons.update('i1', 'ghost', { label })).toBeUndefined();
      expectConflict(() => storage.breakReasons.create(lunch), 'AlreadyExists');
      expect(storage.breakReasons.remove('i1', 'lunch')).toBe(true);
      expect(storage.breakReasons.get('i1', 'lunch')).toBeUndefined();
    });
  });

  describe('API clients', () => {
    beforeEach(() => {
      seed(storage, 'i1', '+4930100');
      seed(storage, 'i2', '+4930200');
    });

    it('round-trips with the secret hash and keeps client ids unique across instances', () => {
      const client = { instanceId: 'i1', clientId: 'c1', name: 'CRM', secretHash: 'scrypt$s$h', createdAt: CREATED };
      expect(storage.apiClients.create(client)).toEqual(client);
      storage.apiClients.create({ ...client, clientId: 'c0' });
      expect(storage.apiClients.list('i1').map((c) => c.clientId)).toEqual(['c1', 'c0']);
      expect(storage.apiClients.getByClientId('c1')).toEqual(client);

      expectConflict(() => storage.apiClients.create({ ...client, instanceId: 'i2' }), 'AlreadyExists');
      expect(storage.apiClients.list('i2')).toEqual([]);

      expect(storage.apiClients.remove('i2', 'c1')).toBe(false);
      expect(storage.apiClients.remove('i1', 'c1')).toBe(true);
      expect(storage.apiClients.getByClientId('c1')).toBeUndefined();
    });
  });

  describe('agent runtime', () => {
    beforeEach(() => {
      seed(storage);
      storage.agents.create(agent('i1', 'a1', { skillGroupIds: ['sg1', 'sg2'] }));
      storage.agents.create(agent('i1', 'a2'));
    });

    it('upserts, lists all and removes', () => {
      const ready = runtime('i1', 'a1', { activeSkillGroupIds: ['sg2', 'sg1'], acwSeconds: 15 });
      storage.agentRuntime.put(ready);
      expect(storage.agentRuntime.get('i1', 'a1')).toEqual(ready);

      const onBreak = runtime('i1', 'a1', {
        status: AgentBarStatus.AgentBreak,
        since: 1_700_000_060_000,
        breakReason: 'lunch',
        activeSkillGroupIds: ['sg1'],
        idleSince: null,
      });
      storage.agentRuntime.put(onBreak);
      storage.agentRuntime.put(runtime('i1', 'a2'));
      expect(storage.agentRuntime.get('i1', 'a1')).toEqual(onBreak);
      expect(storage.agentRuntime.listAll()).toEqual([onBreak, runtime('i1', 'a2')]);

      storage.agentRuntime.remove('i1', 'a1');
      storage.agentRuntime.remove('i1', 'a1');
      expect(storage.agentRuntime.get('i1', 'a1')).toBeUndefined();
      expect(storage.agentRuntime.listAll()).toHaveLength(1);
    });
  });

  describe('state history', () => {
    beforeEach(() => seed(storage));

    const entry = (at: number, cmd: string) => ({
      at,
      from: AgentBarStatus.AgentReady,
      to: AgentBarStatus.AgentBreak,
      cmd,
      breakReason: 'lunch',
    });

    it('lists newest first, with a limit and a strict before bound, per agent', () => {
      storage.stateHistory.append('i1', 'a1', [entry(100, 'first')]);
      storage.stateHistory.append('i1', 'a1', [entry(300, 'third')]);
      storage.stateHistory.append('i1', 'a1', [entry(200, 'second')]);
      storage.stateHistory.append('i1', 'a1', [entry(300, 'third-same-ms')]);
      storage.stateHistory.append('i1', 'a2', [entry(250, 'other agent')]);

      const cmds = (options: { limit: number; before?: number }) =>
        storage.stateHistory.list('i1', 'a1', options).map((e) => e.cmd);
      expect(cmds({ limit: 10 })).toEqual(['third-same-ms', 'third', 'second', 'first']);
      expect(cmds({ limit: 2 })).toEqual(['third-same-ms', 'third']);
      expect(cmds({ limit: 10, before: 300 })).toEqual(['second', 'first']);
      expect(cmds({ limit: 1, before: 300 })).toEqual(['second']);
      expect(cmds({ limit: 10, before: 100 })).toEqual([]);
      expect(storage.stateHistory.list('i1', 'a1', { limit: 1 })).toEqual([entry(300, 'third-same-ms')]);
    });

    it('pages through segments exactly as through one list of every entry, whatever order their times come in', () => {
      // Segments of random runs of entries with times that repeat and go backwards (a clock set back): the page
      // is always the newest `limit` entries before the bound, ties of a millisecond the last appended first.
      const segment = fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 });
      const query = fc.record({
        limit: fc.integer({ min: 1, max: 25 }),
        before: fc.option(fc.integer({ min: 0, max: 45 }), { nil: undefined }),
      });
      let run = 0;
      fc.assert(
        fc.property(
          fc.array(segment, { maxLength: 12 }),
          fc.array(query, { minLength: 1, maxLength: 5 }),
          (segments, queries) => {
            run += 1;
            const agentId = `p${run}`;
            const appended: { at: number; cmd: string }[] = [];
            for (const times of segments) {
              const entries = times.map((at, i) => entry(at, `#${appended.length + i}`));
              storage.stateHistory.append('i1', agentId, entries);
              appended.push(...entries);
            }
            for (const { limit, before } of queries) {
              const expected = appended
                .map((e, order) => ({ ...e, order }))
                .filter((e) => before === undefined || e.at < before)
                .sort((a, b) => b.at - a.at || b.order - a.order)
                .slice(0, limit)
                .map((e) => e.cmd);
              const options = before === undefined ? { limit } : { limit, before };
              expect(storage.stateHistory.list('i1', agentId, options).map((e) => e.cmd)).toEqual(expected);
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('meta', () => {
    it('gets, sets and overwrites', () => {
      expect(storage.meta.get('adminKey')).toBeUndefined();
      storage.meta.set('adminKey', 'one');
      storage.meta.set('adminKey', 'two');
      expect(storage.meta.get('adminKey')).toBe('two');
    });
  });

  describe('transactions', () => {
    beforeEach(() => seed(storage));

    it('rolls everything back when fn throws', () => {
      expect(() =>
        storage.transaction(() => {
          storage.agents.create(agent('i1', 'a1'));
          storage.meta.set('k', 'v');
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(storage.agents.get('i1', 'a1')).toBeUndefined();
      expect(storage.meta.get('k')).toBeUndefined();
    });

    it('returns the value of fn and commits', () => {
      const result = storage.transaction(() => storage.agents.create(agent('i1', 'a1')).id);
      expect(result).toBe('a1');
      expect(storage.agents.get('i1', 'a1')).toBeDefined();
    });

    it('nests: an inner failure caught by the outer one undoes only the inner writes', () => {
      storage.transaction(() => {
        storage.meta.set('outer', 'kept');
        expect(() =>
          storage.transaction(() => {
            storage.meta.set('inner', 'lost');
            throw new Error('inner');
          }),
        ).toThrow('inner');
        // A repository's own transaction joins the outer one as well.
        storage.agents.create(agent('i1', 'a1', { skillGroupIds: ['sg1'] }));
      });
      expect(storage.meta.get('outer')).toBe('kept');
      expect(storage.meta.get('inner')).toBeUndefined();
      expect(storage.agents.get('i1', 'a1')?.skillGroupIds).toEqual(['sg1']);
    });

    it('leaves no partial write when a conflict inside a repository transaction is thrown', () => {
      expectConflict(() => storage.skillGroups.remove('i1', 'sg1'), 'InUse');
      expect(storage.skillGroups.get('i1', 'sg1')).toBeDefined();
    });
  });
});

describe('SQLite call records (CDR)', () => {
  let storage: Storage;

  beforeEach(() => {
    storage = openSqliteStorage(':memory:');
    seed(storage, 'i1', '+4930100');
    seed(storage, 'i2', '+4930200');
  });
  afterEach(() => {
    storage.close();
  });

  function callRecord(instanceId: string, connId: string, overrides: Partial<CallRecord> = {}): CallRecord {
    return {
      connId,
      instanceId,
      direction: 'inbound',
      ani: '13812345678',
      dnis: '+4930100',
      callerIdUsed: '',
      skillGroupId: 'sg1',
      agentId: 'a1',
      agentIds: ['a1'],
      disposition: 'answered',
      releasedBy: 'customer',
      releaseReason: '',
      offeredAt: 1_000,
      queuedAt: 1_001,
      ringingAt: 1_002,
      answeredAt: 1_003,
      endedAt: 1_100,
      memberId: '',
      memberName: '',
      fromSource: '',
      taskId: '',
      channelId: '',
      caseId: '',
      legs: [
        {
          legId: `${connId}-l1`,
          role: 'customer',
          party: '13812345678',
          kind: 'virtual',
          joinedAt: 1_000,
          leftAt: null,
        },
      ],
      events: [{ at: 1_000, type: 'offered', agentId: '', detail: '' }],
      recordingUrl: null,
      ...overrides,
    };
  }

  const ids = (page: { items: CallRecord[] }) => page.items.map((r) => r.connId);

  it('puts, gets and replaces the whole record, keeping one row per call', () => {
    const first = callRecord('i1', 'c1', { disposition: 'active', endedAt: null, agentIds: ['a1', 'a2'] });
    storage.callRecords.put(first);
    expect(storage.callRecords.get('i1', 'c1')).toEqual(first);

    const ended = callRecord('i1', 'c1', {
      disposition: 'abandoned',
      agentId: '',
      agentIds: ['a2'],
      events: [
        { at: 1_000, type: 'offered', agentId: '', detail: '' },
        { at: 1_100, type: 'ended', agentId: '', detail: 'caller hung up' },
      ],
    });
    storage.callRecords.put(ended);
    expect(storage.callRecords.get('i1', 'c1')).toEqual(ended);
    expect(ids(storage.callRecords.list('i1', { limit: 10 }))).toEqual(['c1']);
    // The agent index follows the replacement: a1 was dropped from agentIds.
    expect(ids(storage.callRecords.list('i1', { agentId: 'a1', limit: 10 }))).toEqual([]);
    expect(ids(storage.callRecords.list('i1', { agentId: 'a2', limit: 10 }))).toEqual(['c1']);
    expect(ids(storage.callRecords.list('i1', { disposition: 'active', limit: 10 }))).toEqual([]);
  });

  it('keeps the same connId apart in two instances, and answers undefined for an unknown one', () => {
    storage.callRecords.put(callRecord('i1', 'c1', { ani: '111' }));
    storage.callRecords.put(callRecord('i2', 'c1', { ani: '222' }));
    expect(storage.callRecords.get('i1', 'c1')?.ani).toBe('111');
    expect(storage.callRecords.get('i2', 'c1')?.ani).toBe('222');
    expect(storage.callRecords.get('i1', 'nope')).toBeUndefined();
    expect(storage.callRecords.get('i3', 'c1')).toBeUndefined();
  });

  it('refuses a record of an instance that does not exist', () => {
    expect(() => storage.callRecords.put(callRecord('missing', 'c1'))).toThrow(/does not exist/);
    expect(storage.callRecords.get('missing', 'c1')).toBeUndefined();
  });

  it('lists newest first by offeredAt, ties by connId descending, one instance only', () => {
    storage.callRecords.put(callRecord('i1', 'b', { offeredAt: 2_000 }));
    storage.callRecords.put(callRecord('i1', 'a', { offeredAt: 3_000 }));
    storage.callRecords.put(callRecord('i1', 'c', { offeredAt: 2_000 }));
    storage.callRecords.put(callRecord('i1', 'd', { offeredAt: 1_000 }));
    storage.callRecords.put(callRecord('i2', 'x', { offeredAt: 2_500 }));
    expect(storage.callRecords.list('i1', { limit: 10 })).toEqual({
      items: [
        callRecord('i1', 'a', { offeredAt: 3_000 }),
        callRecord('i1', 'c', { offeredAt: 2_000 }),
        callRecord('i1', 'b', { offeredAt: 2_000 }),
        callRecord('i1', 'd', { offeredAt: 1_000 }),
      ],
      nextCursor: null,
    });
    expect(ids(storage.callRecords.list('i2', { limit: 10 }))).toEqual(['x']);
    expect(storage.callRecords.list('i3', { limit: 10 })).toEqual({ items: [], nextCursor: null });
  });

  describe('filters', () => {
    beforeEach(() => {
      storage.callRecords.put(callRecord('i1', 'in-sg1', { offeredAt: 100, agentIds: ['a1', 'a2'], agentId: 'a2' }));
      storage.callRecords.put(
        callRecord('i1', 'in-sg2', { offeredAt: 200, skillGroupId: 'sg2', agentIds: ['a2'], agentId: 'a2' }),
      );
      storage.callRecords.put(
        callRecord('i1', 'out', {
          offeredAt: 300,
          direction: 'outbound',
          skillGroupId: '',
          disposition: 'no-answer',
          agentIds: ['a1'],
        }),
      );
      storage.callRecords.put(
        callRecord('i1', 'live', { offeredAt: 400, disposition: 'active', endedAt: null, agentIds: [], agentId: '' }),
      );
      storage.callRecords.put(
        callRecord('i1', 'internal', { offeredAt: 500, direction: 'internal', agentIds: ['a1', 'a3'] }),
      );
      // Another instance's records never leak into a filter.
      storage.callRecords.put(callRecord('i2', 'other', { offeredAt: 250, agentIds: ['a1', 'a2'] }));
    });

    const list = (filter: Omit<CallRecordFilter, 'limit'>) =>
      ids(storage.callRecords.list('i1', { limit: 50, ...filter }));

    it('agentId matches every agent in agentIds, not only the last handler', () => {
      expect(list({ agentId: 'a1' })).toEqual(['internal', 'out', 'in-sg1']);
      expect(list({ agentId: 'a2' })).toEqual(['in-sg2', 'in-sg1']);
      expect(list({ agentId: 'a3' })).toEqual(['internal']);
      expect(list({ agentId: 'nobody' })).toEqual([]);
    });

    it('skillGroupId, direction and disposition match exactly', () => {
      expect(list({ skillGroupId: 'sg2' })).toEqual(['in-sg2']);
      expect(list({ direction: 'outbound' })).toEqual(['out']);
      expect(list({ direction: 'internal' })).toEqual(['internal']);
      expect(list({ disposition: 'active' })).toEqual(['live']);
      expect(list({ disposition: 'no-answer' })).toEqual(['out']);
    });

    it('from is inclusive and to exclusive, on offeredAt', () => {
      expect(list({ from: 200 })).toEqual(['internal', 'live', 'out', 'in-sg2']);
      expect(list({ to: 300 })).toEqual(['in-sg2', 'in-sg1']);
      expect(list({ from: 200, to: 400 })).toEqual(['out', 'in-sg2']);
      expect(list({ from: 400, to: 400 })).toEqual([]);
    });

    it('combines filters with AND, with and without the agent filter', () => {
      expect(list({ agentId: 'a1', direction: 'inbound' })).toEqual(['in-sg1']);
      expect(list({ agentId: 'a1', from: 300 })).toEqual(['internal', 'out']);
      expect(list({ agentId: 'a2', skillGroupId: 'sg1', disposition: 'answered' })).toEqual(['in-sg1']);
      expect(list({ direction: 'inbound', skillGroupId: 'sg1', disposition: 'answered', to: 400 })).toEqual(['in-sg1']);
    });

    it('takes filter values as data, never as SQL', () => {
      expect(list({ agentId: "a1' OR 1=1 --" })).toEqual([]);
      expect(list({ skillGroupId: "sg1' OR '1'='1" })).toEqual([]);
    });
  });

  describe('pagination', () => {
    // 23 records over 9 distinct offeredAt values, so pages break inside runs of equal times.
    const all: string[] = [];
    beforeEach(() => {
      all.length = 0;
      for (let n = 0; n < 23; n++) {
        const connId = `c${String(n).padStart(2, '0')}`;
        const agentIds = n % 2 === 0 ? ['a1'] : ['a2'];
        storage.callRecords.put(callRecord('i1', connId, { offeredAt: 1_000 + (n % 9), agentIds }));
      }
    });

    function pageThrough(filter: Omit<CallRecordFilter, 'limit' | 'cursor'>, limit: number): string[][] {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = storage.callRecords.list('i1', { ...filter, limit, ...(cursor ? { cursor } : {}) });
        pages.push(ids(page));
        cursor = page.nextCursor ?? undefined;
        if (pages.length > 50) throw new Error('pagination does not end');
      } while (cursor);
      return pages;
    }

    it.each([1, 2, 5, 7, 22, 23, 24])('visits every record once, in order, with pages of %i', (limit) => {
      const everything = ids(storage.callRecords.list('i1', { limit: 100 }));
      expect(everything).toHaveLength(23);
      const pages = pageThrough({}, limit);
      expect(pages.flat()).toEqual(everything);
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      expect(pages.at(-1)?.length).toBeGreaterThan(0);
    });

    it('pages through a filtered list, the agent one included', () => {
      const a1 = ids(storage.callRecords.list('i1', { agentId: 'a1', limit: 100 }));
      expect(a1).toHaveLength(12);
      expect(pageThrough({ agentId: 'a1' }, 5).flat()).toEqual(a1);
      const window = ids(storage.callRecords.list('i1', { from: 1_002, to: 1_007, limit: 100 }));
      expect(pageThrough({ from: 1_002, to: 1_007 }, 3).flat()).toEqual(window);
    });

    it('keeps its place when newer records arrive between pages', () => {
      const first = storage.callRecords.list('i1', { limit: 10 });
      storage.callRecords.put(callRecord('i1', 'newest', { offeredAt: 9_999 }));
      const rest = pageThrough({}, 100);
      const second = storage.callRecords.list('i1', { limit: 100, cursor: first.nextCursor! });
      expect([...ids(first), ...ids(second)]).toEqual(rest.flat().filter((id) => id !== 'newest'));
    });

    it('rejects a cursor it did not make with RangeError(BAD_CURSOR)', () => {
      const { nextCursor } = storage.callRecords.list('i1', { limit: 1 });
      expect(nextCursor).not.toBeNull();
      const bad = [
        'not base64!',
        Buffer.from('no-colon').toString('base64url'),
        Buffer.from('abc:c01').toString('base64url'),
        Buffer.from('1000:').toString('base64url'),
        Buffer.from(':c01').toString('base64url'),
        Buffer.from('01000:c01').toString('base64url'),
        `${nextCursor}=`,
        '',
      ];
      for (const cursor of bad) {
        expect(() => storage.callRecords.list('i1', { limit: 5, cursor }), cursor).toThrow(new RangeError(BAD_CURSOR));
      }
    });
  });

  it('lists the active records of every instance, and only those', () => {
    storage.callRecords.put(callRecord('i1', 'up', { disposition: 'active', endedAt: null }));
    storage.callRecords.put(callRecord('i1', 'done'));
    storage.callRecords.put(callRecord('i2', 'up-too', { disposition: 'active', endedAt: null }));
    expect(storage.callRecords.listActive().map((r) => [r.instanceId, r.connId])).toEqual([
      ['i1', 'up'],
      ['i2', 'up-too'],
    ]);
    // Closing one (as the call service does at start) takes it off the list.
    storage.callRecords.put(callRecord('i1', 'up', { disposition: 'interrupted' }));
    expect(storage.callRecords.listActive().map((r) => r.connId)).toEqual(['up-too']);
  });

  it('goes with its instance, agent index included, and leaves the other instances alone', () => {
    storage.callRecords.put(callRecord('i1', 'c1', { disposition: 'active', endedAt: null, agentIds: ['a1'] }));
    storage.callRecords.put(callRecord('i2', 'c1', { agentIds: ['a1'] }));
    expect(storage.instances.remove('i1')).toBe(true);
    expect(storage.callRecords.get('i1', 'c1')).toBeUndefined();
    expect(storage.callRecords.listActive()).toEqual([]);
    // A new instance with the old id starts without records, the agent index included.
    seed(storage, 'i1', '+4930100');
    expect(storage.callRecords.list('i1', { agentId: 'a1', limit: 10 })).toEqual({ items: [], nextCursor: null });
    expect(ids(storage.callRecords.list('i2', { agentId: 'a1', limit: 10 }))).toEqual(['c1']);
  });

  it('survives a restart on a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openhotline-cdr-'));
    try {
      const path = join(dir, 'hotline.db');
      const first = openSqliteStorage(path);
      seed(first);
      const live = callRecord('i1', 'c1', { disposition: 'active', endedAt: null, agentIds: ['a1', 'a2'] });
      first.callRecords.put(live);
      first.callRecords.put(callRecord('i1', 'c2', { offeredAt: 2_000 }));
      const page = first.callRecords.list('i1', { limit: 1 });
      first.close();

      const second = openSqliteStorage(path);
      expect(second.callRecords.get('i1', 'c1')).toEqual(live);
      expect(second.callRecords.listActive()).toEqual([live]);
      expect(ids(second.callRecords.list('i1', { agentId: 'a2', limit: 10 }))).toEqual(['c1']);
      // A cursor handed out before the restart still works after it.
      expect(ids(second.callRecords.list('i1', { limit: 10, cursor: page.nextCursor! }))).toEqual(['c1']);
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
