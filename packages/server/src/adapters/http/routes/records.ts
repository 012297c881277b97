import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  type CallRecord,
  type CallRecording,
  CallRecordPageSchema,
  CallRecordQuerySchema,
  CallRecordSchema,
  ErrorResponseSchema,
} from '@openhotline/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { recordingSettings } from '../../../config.js';
import { HotlineError } from '../../../errors.js';
import type { Hotline } from '../../../hotline.js';
import { recordingPath } from '../../../services/call-recordings.js';
import { maskCallRecord } from '../../../services/masking.js';
import { BAD_CURSOR, type CallRecordFilter, type StoredCallRecording } from '../../storage/storage.js';
import { type AgentPrincipal, requireAgent, requireInstanceAdmin } from '../auth.js';
import { parseByteRange } from '../byte-range.js';

const tags = ['records'];
const errors = { '4xx': ErrorResponseSchema };
const PathId = Type.String({ minLength: 1, maxLength: 64 });
const ConnId = Type.String({ minLength: 1, maxLength: 128 });
/** An agent lists only its own calls, so the agent filter is not offered (and refused if sent). */
const AgentRecordQuerySchema = Type.Omit(CallRecordQuerySchema, ['agentId']);
const DEFAULT_LIMIT = 50;

type Query = Omit<CallRecordFilter, 'limit'> & { limit?: number };

/** Lists one page, turning a cursor the storage did not make into the client's mistake it is. */
function listPage(hotline: Hotline, instanceId: string, query: Query) {
  try {
    return hotline.storage.callRecords.list(instanceId, { ...query, limit: query.limit ?? DEFAULT_LIMIT });
  } catch (error) {
    if (error instanceof RangeError && error.message === BAD_CURSOR) {
      throw new HotlineError('ValidationFailed', 'cursor is not valid', {
        errors: [{ path: 'querystring/cursor', message: 'is not valid' }],
      });
    }
    throw error;
  }
}

function recordNotFound(connId: string): HotlineError {
  return new HotlineError('CallRecordNotFound', `No call record "${connId}".`);
}

// ------------------------------------------------------------------ recordings

/** Recording ids are made by the server (`rec_…`, URL- and file-safe); anything else is refused by the schema. */
const RecordingId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
/** A response schema keyed by media type, so the OpenAPI document says audio/wav (the stream is not serialised). */
const WavFile = {
  description: '2-channel 16-bit PCM WAV at 8 kHz (left: the agent, right: the customer)',
  content: { 'audio/wav': { schema: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' }) } },
};
const recordingErrors = { '4xx': ErrorResponseSchema };

/** Who reads a record decides which recordings it lists and which download route their URLs name. */
type RecordReader = { readonly kind: 'agent'; readonly agentId: string } | { readonly kind: 'admin' };

const finished = (recording: StoredCallRecording) => recording.state === 'done' || recording.state === 'interrupted';

/** An agent downloads only segments it talked in (a transferred call's next agent is not its business). */
function mayDownload(reader: RecordReader, recording: StoredCallRecording): boolean {
  return finished(recording) && (reader.kind === 'admin' || recording.participantIds.includes(reader.agentId));
}

function recordingUrl(reader: RecordReader, recording: StoredCallRecording): string {
  const tail = `records/${encodeURIComponent(recording.connId)}/recordings/${recording.id}`;
  return reader.kind === 'agent'
    ? `/v1/agent/${tail}`
    : `/v1/admin/instances/${encodeURIComponent(recording.instanceId)}/${tail}`;
}

/**
 * The record with the recordings this reader may download; `recordingUrl` is the first one's. A record with none
 * keeps its shape of before recordings existed (no `recordings` key, `recordingUrl: null`).
 */
function withRecordings(hotline: Hotline, record: CallRecord, reader: RecordReader): CallRecord {
  const recordings: CallRecording[] = hotline.storage.callRecordings
    .listByCall(record.instanceId, record.connId)
    .filter((recording) => mayDownload(reader, recording))
    .map((recording) => ({
      id: recording.id,
      url: recordingUrl(reader, recording),
      segment: recording.segment,
      agentId: recording.agentId,
      startedAt: recording.startedAt,
      durationMs: recording.durationMs ?? 0,
      bytes: recording.bytes ?? 0,
      interrupted: recording.state === 'interrupted',
    }));
  const [first] = recordings;
  return first ? { ...record, recordingUrl: first.url, recordings } : record;
}

function recordingNotFound(recordingId: string): HotlineError {
  return new HotlineError('RecordingNotFound', `No recording "${recordingId}" of this call.`);
}

/**
 * Streams a recording's WAV file, or the byte range asked for (206), so a browser's <audio> can seek. Every check
 * happens before the first header is set, so a refusal is an ordinary error response.
 */
async function sendRecording(
  dir: string,
  recording: StoredCallRecording,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const path = recordingPath(dir, recording);
  const size = path
    ? await stat(path).then(
        (s) => (s.isFile() ? s.size : undefined),
        () => undefined,
      )
    : undefined;
  if (!path || size === undefined) throw recordingNotFound(recording.id);
  const range = parseByteRange(request.headers.range, size);
  if (range === 'unsatisfiable') {
    const error = new HotlineError('RangeNotSatisfiable', `The recording has ${size} bytes.`);
    return reply.code(416).header('content-range', `bytes */${size}`).send(error.toBody(request.id));
  }
  reply
    .header('content-type', 'audio/wav')
    .header('accept-ranges', 'bytes')
    .header('content-disposition', `inline; filename="${recording.id}.wav"`)
    // Recordings are personal data: no shared cache keeps a copy.
    .header('cache-control', 'private, no-store');
  if (!range) return reply.header('content-length', size).send(createReadStream(path));
  return reply
    .code(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
    .header('content-length', range.end - range.start + 1)
    .send(createReadStream(path, { start: range.start, end: range.end }));
}

/**
 * Call detail records. An agent reads the calls it was on (offered or handled), with numbers masked unless it
 * may see full numbers; the admin key, or a backend token of the instance, reads all of an instance's records
 * unmasked.
 */
export async function recordsRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  const recordingsDir = recordingSettings(hotline.config).dir;
  await app.register(async (scope) => {
    const api = scope.withTypeProvider<TypeBoxTypeProvider>();
    scope.addHook('onRequest', async (request) => {
      request.agentPrincipal = await requireAgent(request, hotline.tokens);
    });
    const who = (request: FastifyRequest): AgentPrincipal => {
      const principal = request.agentPrincipal;
      if (!principal) throw new Error('records route without agent principal');
      return principal;
    };
    // Read per request rather than from the token, so a changed permission applies at once.
    const view = (request: FastifyRequest, record: CallRecord): CallRecord => {
      const { instanceId, agentId } = who(request);
      const canSee = hotline.storage.agents.get(instanceId, agentId)?.canSeeFullNumbers ?? false;
      return withRecordings(hotline, maskCallRecord(record, canSee), { kind: 'agent', agentId });
    };

    api.get(
      '/v1/agent/records',
      {
        schema: {
          tags,
          summary: 'The calls this agent was offered or handled, newest first',
          querystring: AgentRecordQuerySchema,
          response: { 200: CallRecordPageSchema, ...errors },
        },
      },
      async (request) => {
        const { instanceId, agentId } = who(request);
        const page = listPage(hotline, instanceId, { ...request.query, agentId });
        return { items: page.items.map((record) => view(request, record)), nextCursor: page.nextCursor };
      },
    );

    api.get(
      '/v1/agent/records/:connId',
      {
        schema: {
          tags,
          summary: 'One call this agent was on',
          params: Type.Object({ connId: ConnId }),
          response: { 200: CallRecordSchema, ...errors },
        },
      },
      async (request) => {
        const { instanceId, agentId } = who(request);
        const { connId } = request.params;
        const record = hotline.storage.callRecords.get(instanceId, connId);
        // Another agent's call is answered like an unknown one, so connIds cannot be probed.
        if (!record?.agentIds.includes(agentId)) throw recordNotFound(connId);
        return view(request, record);
      },
    );

    api.get(
      '/v1/agent/records/:connId/recordings/:recordingId',
      {
        schema: {
          tags,
          summary: 'Download a recording of a call this agent talked in (WAV; Range supported)',
          params: Type.Object({ connId: ConnId, recordingId: RecordingId }),
          response: { 200: WavFile, 206: WavFile, ...recordingErrors },
        },
      },
      async (request, reply) => {
        const { instanceId, agentId } = who(request);
        const { connId, recordingId } = request.params;
        const record = hotline.storage.callRecords.get(instanceId, connId);
        const recording = hotline.storage.callRecordings.get(instanceId, recordingId);
        // Unknown, another call's, another agent's or unfinished: all look the same, so nothing can be probed.
        const allowed =
          record?.agentIds.includes(agentId) &&
          recording?.connId === connId &&
          mayDownload({ kind: 'agent', agentId }, recording);
        if (!allowed || !recording) throw recordingNotFound(recordingId);
        return sendRecording(recordingsDir, recording, request, reply);
      },
    );
  });

  await app.register(async (scope) => {
    const api = scope.withTypeProvider<TypeBoxTypeProvider>();
    // onRequest: strangers learn nothing about the routes' schemas; the path parameters are parsed by then.
    scope.addHook('onRequest', async (request) => {
      const params = request.params as { instanceId?: unknown };
      const instanceId = typeof params.instanceId === 'string' ? params.instanceId : undefined;
      await requireInstanceAdmin(request, hotline.tokens, instanceId);
    });
    const PREFIX = '/v1/admin/instances/:instanceId/records';

    api.get(
      PREFIX,
      {
        schema: {
          tags,
          summary: "An instance's call records, newest first",
          params: Type.Object({ instanceId: PathId }),
          querystring: CallRecordQuerySchema,
          response: { 200: CallRecordPageSchema, ...errors },
        },
      },
      async (request) => {
        const { instanceId } = request.params;
        hotline.directory.getInstance(instanceId);
        const page = listPage(hotline, instanceId, request.query);
        return { ...page, items: page.items.map((record) => withRecordings(hotline, record, { kind: 'admin' })) };
      },
    );

    api.get(
      `${PREFIX}/:connId`,
      {
        schema: {
          tags,
          summary: 'One call record',
          params: Type.Object({ instanceId: PathId, connId: ConnId }),
          response: { 200: CallRecordSchema, ...errors },
        },
      },
      async (request) => {
        const { instanceId, connId } = request.params;
        hotline.directory.getInstance(instanceId);
        const record = hotline.storage.callRecords.get(instanceId, connId);
        if (!record) throw recordNotFound(connId);
        return withRecordings(hotline, record, { kind: 'admin' });
      },
    );

    api.get(
      `${PREFIX}/:connId/recordings/:recordingId`,
      {
        schema: {
          tags,
          summary: 'Download a recording of a call (WAV; Range supported)',
          params: Type.Object({ instanceId: PathId, connId: ConnId, recordingId: RecordingId }),
          response: { 200: WavFile, 206: WavFile, ...recordingErrors },
        },
      },
      async (request, reply) => {
        const { instanceId, connId, recordingId } = request.params;
        hotline.directory.getInstance(instanceId);
        const recording = hotline.storage.callRecordings.get(instanceId, recordingId);
        if (recording?.connId !== connId || !mayDownload({ kind: 'admin' }, recording)) {
          throw recordingNotFound(recordingId);
        }
        return sendRecording(recordingsDir, recording, request, reply);
      },
    );
  });
}
