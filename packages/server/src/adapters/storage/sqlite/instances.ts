import type { Instance, InstanceSettings } from '@openhotline/protocol';
import type { InstanceRepository } from '../storage.js';
import { creating, type Db } from './shared.js';

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

export function instanceRepository(db: Db): InstanceRepository {
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
