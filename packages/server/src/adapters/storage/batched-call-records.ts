import type { CallRecord } from '@openhotline/protocol';
import type { CallRecordRepository, Storage } from './storage.js';

/**
 * Call records are rewritten at every milestone of a call (queued, ringing, answered, ended...). Writes wait for
 * the end of the current turn of the event loop and go to storage in one transaction, keeping only the newest
 * version of each record; every read writes the pending ones first, so a reader never sees an older record than
 * the call service holds. A crash loses at most the last turn's milestones, and the next start closes any record
 * still `active` as `interrupted`.
 */
export function withBatchedCallRecords(storage: Storage): Storage {
  const pending = new Map<string, CallRecord>();
  let scheduled = false;
  const inner = storage.callRecords;

  const flush = () => {
    scheduled = false;
    if (pending.size === 0) return;
    const records = [...pending.values()];
    pending.clear();
    storage.transaction(() => {
      for (const record of records) inner.put(record);
    });
  };

  const callRecords: CallRecordRepository = {
    put(record) {
      pending.set(`${record.instanceId}/${record.connId}`, record);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    get(instanceId, connId) {
      flush();
      return inner.get(instanceId, connId);
    },
    list(instanceId, query) {
      flush();
      return inner.list(instanceId, query);
    },
    listActive() {
      flush();
      return inner.listActive();
    },
  };

  return {
    ...storage,
    callRecords,
    close() {
      flush();
      storage.close();
    },
  };
}
