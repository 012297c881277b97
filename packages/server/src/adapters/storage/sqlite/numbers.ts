import type { HotlineNumber, NumberGroup } from '@openhotline/protocol';
import type { HotlineNumberRepository, NumberGroupRepository } from '../storage.js';
import { creating, type Db, referencing } from './shared.js';

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

export function hotlineNumberRepository(db: Db): HotlineNumberRepository {
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

export function numberGroupRepository(db: Db): NumberGroupRepository {
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
