import type { BreakReason } from '@openhotline/protocol';
import type { BreakReasonRepository } from '../storage.js';
import { creating, type Db, toFlag } from './shared.js';

interface BreakReasonRow {
  instance_id: string;
  code: string;
  label: string;
  system: number;
  created_at: string;
}

const BREAK_REASON_COLUMNS = 'instance_id, code, label, system, created_at';

function toBreakReason(row: BreakReasonRow): BreakReason {
  return {
    instanceId: row.instance_id,
    code: row.code,
    label: JSON.parse(row.label) as BreakReason['label'],
    system: row.system === 1,
    createdAt: row.created_at,
  };
}

export function breakReasonRepository(db: Db): BreakReasonRepository {
  const list = db.prepare<[string], BreakReasonRow>(
    `SELECT ${BREAK_REASON_COLUMNS} FROM break_reasons WHERE instance_id = ? ORDER BY seq`,
  );
  const get = db.prepare<[string, string], BreakReasonRow>(
    `SELECT ${BREAK_REASON_COLUMNS} FROM break_reasons WHERE instance_id = ? AND code = ?`,
  );
  const insert = db.prepare<[string, string, string, 0 | 1, string]>(
    'INSERT INTO break_reasons (instance_id, code, label, system, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const update = db.prepare<[string, string, string], BreakReasonRow>(
    `UPDATE break_reasons SET label = ? WHERE instance_id = ? AND code = ? RETURNING ${BREAK_REASON_COLUMNS}`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM break_reasons WHERE instance_id = ? AND code = ?');
  return {
    list: (instanceId) => list.all(instanceId).map(toBreakReason),
    get(instanceId, code) {
      const row = get.get(instanceId, code);
      return row && toBreakReason(row);
    },
    create(reason) {
      const label = JSON.stringify(reason.label);
      creating(`break reason ${reason.code}`, () =>
        insert.run(reason.instanceId, reason.code, label, toFlag(reason.system), reason.createdAt),
      );
      return toBreakReason(get.get(reason.instanceId, reason.code)!);
    },
    update(instanceId, code, patch) {
      const row = update.get(JSON.stringify(patch.label), instanceId, code);
      return row && toBreakReason(row);
    },
    remove: (instanceId, code) => remove.run(instanceId, code).changes > 0,
  };
}
