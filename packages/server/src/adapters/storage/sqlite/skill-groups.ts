import type { QueueSettings, SkillGroup } from '@openhotline/protocol';
import { type SkillGroupRepository, StorageConflict } from '../storage.js';
import { creating, type Db } from './shared.js';

interface SkillGroupRow {
  instance_id: string;
  id: string;
  name: string;
  queue: string;
  created_at: string;
}

const SKILL_GROUP_COLUMNS = 'instance_id, id, name, queue, created_at';

function toSkillGroup(row: SkillGroupRow): SkillGroup {
  return {
    instanceId: row.instance_id,
    id: row.id,
    name: row.name,
    queue: JSON.parse(row.queue) as QueueSettings,
    createdAt: row.created_at,
  };
}

export function skillGroupRepository(db: Db): SkillGroupRepository {
  const list = db.prepare<[string], SkillGroupRow>(
    `SELECT ${SKILL_GROUP_COLUMNS} FROM skill_groups WHERE instance_id = ? ORDER BY seq`,
  );
  const get = db.prepare<[string, string], SkillGroupRow>(
    `SELECT ${SKILL_GROUP_COLUMNS} FROM skill_groups WHERE instance_id = ? AND id = ?`,
  );
  const insert = db.prepare<[string, string, string, string, string]>(
    'INSERT INTO skill_groups (instance_id, id, name, queue, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const update = db.prepare<[string | null, string | null, string, string], SkillGroupRow>(
    `UPDATE skill_groups SET name = coalesce(?, name), queue = coalesce(?, queue)
     WHERE instance_id = ? AND id = ? RETURNING ${SKILL_GROUP_COLUMNS}`,
  );
  const routedNumbers = db
    .prepare<[string, string], string>(
      'SELECT number FROM hotline_numbers WHERE instance_id = ? AND skill_group_id = ? ORDER BY seq',
    )
    .pluck();
  // Memberships go by cascade; the persisted live selection of checked-in agents is JSON, so it is pruned here.
  const pruneActiveSelections = db.prepare<{ instanceId: string; groupId: string }>(
    `UPDATE agent_runtime
     SET active_skill_group_ids = (
       SELECT json_group_array(value ORDER BY key) FROM json_each(active_skill_group_ids) WHERE value <> @groupId
     )
     WHERE instance_id = @instanceId
       AND EXISTS (SELECT 1 FROM json_each(active_skill_group_ids) WHERE value = @groupId)`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM skill_groups WHERE instance_id = ? AND id = ?');
  const removeTx = db.transaction((instanceId: string, id: string) => {
    const numbers = routedNumbers.all(instanceId, id);
    if (numbers.length > 0) {
      throw new StorageConflict('InUse', `skill group ${id} is in use by hotline numbers ${numbers.join(', ')}`);
    }
    pruneActiveSelections.run({ instanceId, groupId: id });
    return remove.run(instanceId, id).changes > 0;
  });
  return {
    list: (instanceId) => list.all(instanceId).map(toSkillGroup),
    get(instanceId, id) {
      const row = get.get(instanceId, id);
      return row && toSkillGroup(row);
    },
    create(group) {
      creating(`skill group ${group.id}`, () =>
        insert.run(group.instanceId, group.id, group.name, JSON.stringify(group.queue ?? {}), group.createdAt),
      );
      return toSkillGroup(get.get(group.instanceId, group.id)!);
    },
    update(instanceId, id, patch) {
      const row = update.get(
        patch.name ?? null,
        patch.queue === undefined ? null : JSON.stringify(patch.queue),
        instanceId,
        id,
      );
      return row && toSkillGroup(row);
    },
    remove: (instanceId, id) => removeTx(instanceId, id),
  };
}
