import type { MetaRepository } from '../storage.js';
import type { Db } from './shared.js';

export function metaRepository(db: Db): MetaRepository {
  const get = db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck();
  const set = db.prepare<[string, string]>(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  return {
    get: (key) => get.get(key),
    set(key, value) {
      set.run(key, value);
    },
  };
}
