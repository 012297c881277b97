import { closeSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { MediaEngine, Recording } from '../adapters/media/media-engine.js';
import { ENGINE_SAMPLE_RATE, wavHeader } from '../adapters/media/wav.js';
import type { Storage, StoredCallRecording } from '../adapters/storage/storage.js';
import type { Clock, IdGenerator } from './clock.js';
import type { Logger } from './logger.js';

/**
 * Call recording, one WAV file per **segment**: a stretch in which the customer talks with the same agent(s).
 * Left channel = the agent, right channel = the customer (the engine's recording has fixed endpoints, while the
 * agent on a call changes). The media service says when the customer starts talking with someone (`talking`),
 * stops talking with anyone (`pause`: hold, consultation, transfer), talks again with the same people (`resume`:
 * retrieve) and when the call ends. A conference records one file per agent in it, all with the customer on the
 * right, so every voice is kept. Calls without a customer (agent to agent) are not recorded. docs/media.md,
 * "Recording", has the whole story.
 */

/** An agent who talks with the customer, and the endpoint of its media line. */
export interface RecordedParty {
  readonly agentId: string;
  readonly endpointId: string;
}

interface OpenSegment {
  readonly id: string;
  readonly instanceId: string;
  /** Resolves to the engine's recording, or undefined when it could not start (already logged and marked). */
  readonly started: Promise<Recording | undefined>;
}

interface RecordedCall {
  readonly instanceId: string;
  nextSegment: number;
  customer: string;
  /** Who talks (or talked, before a pause) with the customer: what `resume` records again. */
  parties: readonly RecordedParty[];
  open: OpenSegment[];
}

export interface CallRecordingsDeps {
  readonly engine: Pick<MediaEngine, 'startRecording'>;
  readonly storage: Pick<Storage, 'callRecordings'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** The recordings folder; files go to `<dir>/YYYY-MM-DD/<recordingId>.wav`. */
  readonly dir: string;
  readonly log: Logger;
}

/** A recording id is also a file name: only what the server's id generator makes. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class CallRecordings {
  private readonly calls = new Map<string, RecordedCall>();
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly deps: CallRecordingsDeps) {}

  /**
   * The customer now talks with these agents. Starts a new segment per agent, finishing the open ones first —
   * unless the same agents already are being recorded with the same customer.
   */
  talking(
    call: { readonly connId: string; readonly instanceId: string },
    customer: string,
    parties: readonly RecordedParty[],
  ): void {
    let recorded = this.calls.get(call.connId);
    if (!recorded) {
      recorded = { instanceId: call.instanceId, nextSegment: 1, customer, parties: [], open: [] };
      this.calls.set(call.connId, recorded);
    }
    if (recorded.open.length > 0 && recorded.customer === customer && sameParties(recorded.parties, parties)) return;
    this.finishOpen(recorded);
    recorded.customer = customer;
    recorded.parties = parties;
    this.startSegments(call.connId, recorded);
  }

  /** Nobody talks with the customer now (hold, consultation, transfer under way): the open segments end. */
  pause(connId: string): void {
    const recorded = this.calls.get(connId);
    if (recorded) this.finishOpen(recorded);
  }

  /** The customer talks again with the agents of the last segment (retrieve): a new segment each. */
  resume(connId: string): void {
    const recorded = this.calls.get(connId);
    if (!recorded || recorded.open.length > 0) return;
    this.startSegments(connId, recorded);
  }

  /** The call is over: its open segments end. */
  ended(connId: string): void {
    this.endCall(connId, 'done');
  }

  /** How many segments of a call are being recorded now (for tests and metrics). */
  openSegments(connId: string): number {
    return this.calls.get(connId)?.open.length ?? 0;
  }

  /** Resolves when every segment stopped so far is finished on disk and in storage. */
  async settled(): Promise<void> {
    while (this.stopping.size > 0) await Promise.all([...this.stopping]);
  }

  /**
   * Finishes every open segment (server shutdown). They are cut short by the stop, not by the call: they are
   * `interrupted`, as a restart marks the segments of a server that stopped without finishing them.
   */
  async close(): Promise<void> {
    for (const connId of [...this.calls.keys()]) this.endCall(connId, 'interrupted');
    await this.settled();
  }

  // ------------------------------------------------------------------ internals

  private endCall(connId: string, state: 'done' | 'interrupted'): void {
    const recorded = this.calls.get(connId);
    if (!recorded) return;
    this.calls.delete(connId);
    this.finishOpen(recorded, state);
  }

  private startSegments(connId: string, recorded: RecordedCall): void {
    const participantIds = recorded.parties.map((party) => party.agentId);
    for (const party of recorded.parties) {
      const segment = this.start(connId, recorded, party, participantIds);
      if (segment) recorded.open.push(segment);
    }
  }

  private start(
    connId: string,
    recorded: RecordedCall,
    party: RecordedParty,
    participantIds: readonly string[],
  ): OpenSegment | undefined {
    const { instanceId } = recorded;
    const id = this.deps.ids('rec');
    const startedAt = this.deps.clock.now();
    const fileName = `${new Date(startedAt).toISOString().slice(0, 10)}/${id}.wav`;
    try {
      if (!SAFE_ID.test(id)) throw new Error(`recording id "${id}" cannot name a file`);
      this.deps.storage.callRecordings.create({
        id,
        instanceId,
        connId,
        segment: recorded.nextSegment++,
        agentId: party.agentId,
        participantIds,
        fileName,
        startedAt,
      });
    } catch (error) {
      this.deps.log.warn({ err: error, connId, id }, 'a recording could not be registered');
      return undefined;
    }
    const path = join(this.deps.dir, fileName);
    const started = (async () => {
      await mkdir(dirname(path), { recursive: true });
      return this.deps.engine.startRecording(id, { left: party.endpointId, right: recorded.customer, path });
    })().catch((error: unknown) => {
      this.deps.log.warn({ err: error, connId, id }, 'a recording could not start');
      this.mark(instanceId, id, { state: 'failed', durationMs: 0, bytes: 0 });
      return undefined;
    });
    return { id, instanceId, started };
  }

  private finishOpen(recorded: RecordedCall, state: 'done' | 'interrupted' = 'done'): void {
    const open = recorded.open;
    recorded.open = [];
    for (const segment of open) {
      const done: Promise<void> = this.finish(segment, state).finally(() => this.stopping.delete(done));
      this.stopping.add(done);
    }
  }

  private async finish(segment: OpenSegment, state: 'done' | 'interrupted'): Promise<void> {
    const recording = await segment.started;
    if (!recording) return;
    try {
      const result = await recording.stop();
      this.mark(segment.instanceId, segment.id, { state, durationMs: result.durationMs, bytes: result.bytes });
    } catch (error) {
      this.deps.log.warn({ err: error, id: segment.id }, 'a recording could not be finished');
      this.mark(segment.instanceId, segment.id, { state: 'failed', durationMs: 0, bytes: 0 });
    }
  }

  /** Should storage be closed already (an embedder closed it first), the next start finishes the row (`interrupted`). */
  private mark(
    instanceId: string,
    id: string,
    outcome: { state: 'done' | 'interrupted' | 'failed'; durationMs: number; bytes: number },
  ): void {
    try {
      this.deps.storage.callRecordings.finish(instanceId, id, outcome);
    } catch (error) {
      this.deps.log.debug({ err: error, id }, 'a finished recording could not be stored');
    }
  }
}

function sameParties(a: readonly RecordedParty[], b: readonly RecordedParty[]): boolean {
  return (
    a.length === b.length &&
    a.every((party, i) => party.agentId === b[i]?.agentId && party.endpointId === b[i]?.endpointId)
  );
}

/**
 * The file of a recording, or undefined when its stored name would lead outside the recordings folder (names are
 * made by the server, so that means a tampered database: refuse rather than serve).
 */
export function recordingPath(dir: string, recording: Pick<StoredCallRecording, 'fileName'>): string | undefined {
  const path = join(dir, recording.fileName);
  const inside = relative(dir, path);
  return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? undefined : path;
}

/** Bytes of one stereo 16-bit frame of a recording. */
const FRAME_BYTES = 4;
const HEADER_BYTES = 44;

/**
 * At start: segments a stopped server left `recording` are finished as `interrupted`. The engine streams the file
 * to disk twice a second and patches the WAV header only when it stops, so the header is rewritten here from the
 * file's size (a partly written last frame is cut off): the file plays up to the moment the server stopped.
 * A missing or header-less file is marked `failed`. Returns how many segments were finished.
 */
export function finishInterruptedRecordings(
  storage: Pick<Storage, 'callRecordings'>,
  dir: string,
  log: Logger,
): number {
  const unfinished = storage.callRecordings.listUnfinished();
  for (const recording of unfinished) {
    const path = recordingPath(dir, recording);
    let outcome: { state: 'interrupted' | 'failed'; durationMs: number; bytes: number } = {
      state: 'failed',
      durationMs: 0,
      bytes: 0,
    };
    try {
      if (path && statSync(path).size >= HEADER_BYTES) {
        const size = statSync(path).size;
        const dataBytes = Math.floor((size - HEADER_BYTES) / FRAME_BYTES) * FRAME_BYTES;
        const file = openSync(path, 'r+');
        try {
          writeSync(file, wavHeader(dataBytes, ENGINE_SAMPLE_RATE, 2), 0, HEADER_BYTES, 0);
          ftruncateSync(file, HEADER_BYTES + dataBytes);
        } finally {
          closeSync(file);
        }
        const durationMs = Math.round((dataBytes / FRAME_BYTES / ENGINE_SAMPLE_RATE) * 1000);
        outcome = { state: 'interrupted', durationMs, bytes: HEADER_BYTES + dataBytes };
      }
    } catch (error) {
      log.warn({ err: error, id: recording.id }, 'an interrupted recording could not be repaired');
    }
    storage.callRecordings.finish(recording.instanceId, recording.id, outcome);
  }
  if (unfinished.length > 0) log.info({ count: unfinished.length }, 'finished recordings of interrupted calls');
  return unfinished.length;
}
