import type { CallRecordingRepository, CallRecordingState, StoredCallRecording } from '../storage.js';
import { creating, type Db, distinct } from './shared.js';

interface CallRecordingRow {
  id: string;
  instanceId: string;
  connId: string;
  segment: number;
  agentId: string;
  participantIds: string;
  fileName: string;
  startedAt: number;
  durationMs: number | null;
  bytes: number | null;
  state: CallRecordingState;
}

const CALL_RECORDING_COLUMNS = `id, instance_id AS instanceId, conn_id AS connId, segment, agent_id AS agentId,
  participant_ids AS participantIds, file_name AS fileName, started_at AS startedAt, duration_ms AS durationMs,
  bytes, state`;

function toCallRecording(row: CallRecordingRow): StoredCallRecording {
  return { ...row, participantIds: JSON.parse(row.participantIds) as string[] };
}

export function callRecordingRepository(db: Db): CallRecordingRepository {
  const insert = db.prepare<Omit<CallRecordingRow, 'durationMs' | 'bytes' | 'state'>>(
    `INSERT INTO call_recordings
       (instance_id, id, conn_id, segment, agent_id, participant_ids, file_name, started_at, state)
     VALUES
       (@instanceId, @id, @connId, @segment, @agentId, @participantIds, @fileName, @startedAt, 'recording')`,
  );
  const finish = db.prepare<[string, number, number, string, string]>(
    'UPDATE call_recordings SET state = ?, duration_ms = ?, bytes = ? WHERE instance_id = ? AND id = ?',
  );
  const get = db.prepare<[string, string], CallRecordingRow>(
    `SELECT ${CALL_RECORDING_COLUMNS} FROM call_recordings WHERE instance_id = ? AND id = ?`,
  );
  const byCall = db.prepare<[string, string], CallRecordingRow>(
    `SELECT ${CALL_RECORDING_COLUMNS} FROM call_recordings WHERE instance_id = ? AND conn_id = ? ORDER BY segment`,
  );
  // The literal matches the partial index's condition.
  const unfinished = db.prepare<[], CallRecordingRow>(
    `SELECT ${CALL_RECORDING_COLUMNS} FROM call_recordings WHERE state = 'recording' ORDER BY seq`,
  );
  return {
    create(recording) {
      creating(`recording ${recording.id}`, () =>
        insert.run({ ...recording, participantIds: JSON.stringify(distinct(recording.participantIds)) }),
      );
    },
    finish(instanceId, id, { state, durationMs, bytes }) {
      return finish.run(state, Math.round(durationMs), bytes, instanceId, id).changes > 0;
    },
    get(instanceId, id) {
      const row = get.get(instanceId, id);
      return row ? toCallRecording(row) : undefined;
    },
    listByCall: (instanceId, connId) => byCall.all(instanceId, connId).map(toCallRecording),
    listUnfinished: () => unfinished.all().map(toCallRecording),
  };
}
