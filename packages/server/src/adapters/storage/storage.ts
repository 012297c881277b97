import type {
  Agent,
  AgentBarStatus,
  ApiClient,
  BreakReason,
  CallDisposition,
  CallRecord,
  HotlineNumber,
  Instance,
  InstanceSettings,
  NumberGroup,
  QueueSettings,
  SkillGroup,
  StateHistoryEntry,
} from '@openhotline/protocol';

/**
 * Persistence behind one interface: SQLite (better-sqlite3) is the embedded default, PostgreSQL the cluster one.
 *
 * Methods are synchronous because the embedded default is; a networked implementation will wrap the services in
 * an async variant of this interface when the cluster mode arrives. Every method that changes several rows is
 * atomic. Lookups return `undefined` for an unknown id; writes that break a rule throw `StorageConflict`.
 */
export interface Storage {
  readonly instances: InstanceRepository;
  readonly agents: AgentRepository;
  readonly skillGroups: SkillGroupRepository;
  readonly hotlineNumbers: HotlineNumberRepository;
  readonly numberGroups: NumberGroupRepository;
  readonly breakReasons: BreakReasonRepository;
  readonly apiClients: ApiClientRepository;
  readonly agentRuntime: AgentRuntimeRepository;
  readonly stateHistory: StateHistoryRepository;
  readonly callRecords: CallRecordRepository;
  readonly callRecordings: CallRecordingRepository;
  readonly meta: MetaRepository;
  /**
   * Records one status change of an agent: its runtime row becomes `runtime`, and `entry` (when its status or break
   * reason changed) is appended to its state history. A file database writes these behind, in batches, on a worker
   * thread (reads still see them at once), so they are not part of an enclosing transaction. A row that cannot be
   * written (its instance was removed meanwhile) is dropped and reported; the others are written. A change after
   * `close()` is reported as not written, and nothing is attempted.
   *
   * `runtime` is kept as given until it is written, not copied (this runs on every status change): the caller must
   * never change it afterwards. The agent service hands over its states, which are never changed in place.
   */
  writeStatus(instanceId: string, agentId: string, runtime: AgentRuntimeFields, entry?: StateHistoryEntry): void;
  /** Runs fn in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Thrown when a write would duplicate an id or remove something still referenced. */
export class StorageConflict extends Error {
  constructor(
    readonly kind: 'AlreadyExists' | 'InUse',
    message: string,
  ) {
    super(message);
    this.name = 'StorageConflict';
  }
}

export interface InstanceRepository {
  list(): Instance[];
  get(id: string): Instance | undefined;
  /** Throws StorageConflict('AlreadyExists'). */
  create(instance: { id: string; name: string; settings: InstanceSettings; createdAt: string }): Instance;
  update(id: string, patch: { name?: string; settings?: InstanceSettings }): Instance | undefined;
  /** Removes the instance and everything in it (agents, groups, numbers, reasons, clients, runtime, history,
   * call records). */
  remove(id: string): boolean;
}

export interface AgentRepository {
  list(instanceId: string): Agent[];
  get(instanceId: string, id: string): Agent | undefined;
  /** Throws StorageConflict('AlreadyExists'). Group ids must already have been checked by the caller. */
  create(agent: Agent): Agent;
  update(
    instanceId: string,
    id: string,
    patch: Partial<Omit<Agent, 'instanceId' | 'id' | 'createdAt'>>,
  ): Agent | undefined;
  remove(instanceId: string, id: string): boolean;
}

export interface SkillGroupRepository {
  list(instanceId: string): SkillGroup[];
  get(instanceId: string, id: string): SkillGroup | undefined;
  create(group: SkillGroup): SkillGroup;
  update(instanceId: string, id: string, patch: { name?: string; queue?: QueueSettings }): SkillGroup | undefined;
  /** Throws StorageConflict('InUse') while a hotline number routes to it. Agents' memberships are dropped. */
  remove(instanceId: string, id: string): boolean;
}

export interface HotlineNumberRepository {
  list(instanceId: string): HotlineNumber[];
  get(instanceId: string, number: string): HotlineNumber | undefined;
  /** A number is unique across all instances (it routes calls); throws StorageConflict('AlreadyExists'). */
  create(number: HotlineNumber): HotlineNumber;
  update(
    instanceId: string,
    number: string,
    patch: { name?: string; skillGroupId?: string },
  ): HotlineNumber | undefined;
  remove(instanceId: string, number: string): boolean;
  /** Which instance and group a dialed number belongs to. */
  findByNumber(number: string): HotlineNumber | undefined;
}

export interface NumberGroupRepository {
  list(instanceId: string): NumberGroup[];
  get(instanceId: string, id: string): NumberGroup | undefined;
  create(group: NumberGroup): NumberGroup;
  update(instanceId: string, id: string, patch: { name?: string; numbers?: string[] }): NumberGroup | undefined;
  /** Agents' memberships are dropped. */
  remove(instanceId: string, id: string): boolean;
}

export interface BreakReasonRepository {
  list(instanceId: string): BreakReason[];
  get(instanceId: string, code: string): BreakReason | undefined;
  create(reason: BreakReason): BreakReason;
  update(instanceId: string, code: string, patch: { label: BreakReason['label'] }): BreakReason | undefined;
  remove(instanceId: string, code: string): boolean;
}

export interface StoredApiClient extends ApiClient {
  /** scrypt hash of the secret, `scrypt$<salt b64>$<hash b64>`. */
  readonly secretHash: string;
}

export interface ApiClientRepository {
  list(instanceId: string): StoredApiClient[];
  /** Client ids are unique across instances: the token endpoint finds the instance from the client id. */
  getByClientId(clientId: string): StoredApiClient | undefined;
  create(client: StoredApiClient): StoredApiClient;
  remove(instanceId: string, clientId: string): boolean;
}

/** The live status of an agent, persisted on every change so that a restart resumes it. */
export interface AgentRuntimeRecord {
  readonly instanceId: string;
  readonly agentId: string;
  readonly status: AgentBarStatus;
  readonly since: number;
  readonly breakReason: string;
  readonly activeSkillGroupIds: readonly string[];
  /** The after-call work seconds chosen at check-in, or null for the configured default. */
  readonly acwSeconds: number | null;
  /** Epoch ms when the agent last became ready (the ACD's longest-idle order). */
  readonly idleSince: number | null;
}

/** An agent's runtime row without its ids: what a status change writes (the agent service's states have these). */
export type AgentRuntimeFields = Omit<AgentRuntimeRecord, 'instanceId' | 'agentId'>;

export interface AgentRuntimeRepository {
  get(instanceId: string, agentId: string): AgentRuntimeRecord | undefined;
  listAll(): AgentRuntimeRecord[];
  put(record: AgentRuntimeRecord): void;
  remove(instanceId: string, agentId: string): void;
}

export interface StateHistoryRepository {
  /** Appends entries of one agent, in the order they happened, as one write. */
  append(instanceId: string, agentId: string, entries: readonly StateHistoryEntry[]): void;
  /** Newest first; entries of the same millisecond, the one that happened last first. */
  list(instanceId: string, agentId: string, options: { limit: number; before?: number }): StateHistoryEntry[];
}

/** The filters of a call-record list; every one given must match (AND). */
export interface CallRecordFilter {
  /** Records whose `agentIds` contains this agent (it was offered or handled the call). */
  agentId?: string;
  skillGroupId?: string;
  direction?: CallRecord['direction'];
  disposition?: CallDisposition | 'active';
  /** Epoch ms on offeredAt, inclusive. */
  from?: number;
  /** Epoch ms on offeredAt, exclusive. */
  to?: number;
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** The message of the RangeError that `CallRecordRepository.list` throws for a cursor it did not make. */
export const BAD_CURSOR = 'bad cursor';

/** Call detail records: one per call (connId), rewritten whole as the call goes on. */
export interface CallRecordRepository {
  /** Inserts or replaces the whole record, atomically (the call service writes it at each milestone). */
  put(record: CallRecord): void;
  get(instanceId: string, connId: string): CallRecord | undefined;
  /**
   * Newest first by offeredAt (ties by connId, descending); filters as in CallRecordQuery; keyset pagination via
   * an opaque cursor, so records written while a reader pages never shift its pages. Throws
   * `RangeError(BAD_CURSOR)` for a cursor this repository did not make.
   */
  list(instanceId: string, query: CallRecordFilter): { items: CallRecord[]; nextCursor: string | null };
  /** Records still `active` (disposition 'active'), across instances: the call service closes them at start. */
  listActive(): CallRecord[];
}

/**
 * A recording's life: `recording` while the engine writes it; `done` when it stopped normally; `interrupted` when
 * the server stopped first (the next start repaired the file's header); `failed` when no usable file exists.
 */
export type CallRecordingState = 'recording' | 'done' | 'interrupted' | 'failed';

/** One recorded segment of a call (docs/media.md, "Recording"). */
export interface StoredCallRecording {
  /** Made by the server; the file is named after it. */
  readonly id: string;
  readonly instanceId: string;
  readonly connId: string;
  /** 1, 2, ... per call, in the order the segments started. */
  readonly segment: number;
  /** The agent on the left channel. */
  readonly agentId: string;
  /** Every agent who talked with the customer in this segment (a conference has several): they may download it. */
  readonly participantIds: readonly string[];
  /** Path of the WAV file relative to the recordings folder (`YYYY-MM-DD/<id>.wav`). */
  readonly fileName: string;
  readonly startedAt: number;
  /** Null while recording. */
  readonly durationMs: number | null;
  /** Size of the file; null while recording. */
  readonly bytes: number | null;
  readonly state: CallRecordingState;
}

export interface CallRecordingRepository {
  /** Adds a segment that is being recorded. Throws StorageConflict('AlreadyExists') for a known id. */
  create(recording: Omit<StoredCallRecording, 'durationMs' | 'bytes' | 'state'>): void;
  /** Closes a segment; false when unknown. */
  finish(
    instanceId: string,
    id: string,
    outcome: { state: Exclude<CallRecordingState, 'recording'>; durationMs: number; bytes: number },
  ): boolean;
  get(instanceId: string, id: string): StoredCallRecording | undefined;
  /** A call's segments, in segment order, whatever their state. */
  listByCall(instanceId: string, connId: string): StoredCallRecording[];
  /** Segments still `recording`, across instances: the server finishes them at start. */
  listUnfinished(): StoredCallRecording[];
}

/** Small key/value settings of the server itself (signing secret, admin key, schema version). */
export interface MetaRepository {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}
