import {
  DEFAULT_SERVICE_LEVEL_SECONDS,
  ErrorResponseSchema,
  WallboardCloseCode,
  type WallboardFrame,
  type WallboardLiveQuery,
  WallboardLiveQuerySchema,
  type WallboardQuery,
  WallboardQuerySchema,
  WallboardSnapshotSchema,
} from '@openhotline/protocol';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { HotlineError } from '../../../errors.js';
import type { Hotline } from '../../../hotline.js';
import type { Principal } from '../../../services/token-service.js';
import { bearerOf, requireInstanceAdmin } from '../auth.js';
import { cutOffWhenSilent } from '../heartbeat.js';

const BASE = '/v1/admin/instances/:instanceId/wallboard';
const tags = ['wallboard'];
const Params = Type.Object({ instanceId: Type.String({ minLength: 1, maxLength: 64 }) });
const liveQuery = TypeCompiler.Compile(WallboardLiveQuerySchema);

/**
 * The wallboard of an instance, for the admin key or a backend token of that instance: a JSON snapshot, and a
 * WebSocket that pushes a new snapshot whenever something changed. The socket authenticates in band, like the
 * agent channel: a browser cannot read the status of a refused upgrade, but it can read an `error` frame and the
 * close code.
 */
export async function wallboardRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  app.get(
    BASE,
    {
      schema: {
        tags,
        summary: 'The wallboard of an instance: agents, queues, calls in progress, call statistics (numbers masked)',
        params: Params,
        querystring: WallboardQuerySchema,
        response: { 200: WallboardSnapshotSchema, '4xx': ErrorResponseSchema },
      },
      onRequest: async (request) => {
        await requireInstanceAdmin(request, hotline.tokens, instanceIdOf(request));
      },
    },
    async (request) => {
      const query = request.query as WallboardQuery;
      return hotline.wallboard.snapshot(
        instanceIdOf(request) ?? '',
        query.serviceLevelSeconds ?? DEFAULT_SERVICE_LEVEL_SECONDS,
      );
    },
  );

  app.route({
    method: 'GET',
    url: `${BASE}/live`,
    schema: {
      tags,
      summary:
        'WebSocket: the wallboard, live. Connect with ?access_token=<admin key or backend token>; frames are ' +
        '{ type: "snapshot", wallboard } (at once, on change at most twice a second, and every 15 s) or ' +
        '{ type: "error", code, message } before a close (4001: credentials refused, 4004: unknown instance or bad query).',
      params: Params,
      // Checked in band on the socket, so a bad query gets a frame the browser can read.
      querystring: Type.Object({}, { additionalProperties: true }),
    },
    // A plain HTTP GET (no Upgrade) gets a catalogue error instead of an empty 404.
    handler: async () => {
      throw new HotlineError('UpgradeRequired');
    },
    wsHandler: (socket, request) => {
      void openLiveWallboard(socket, request, hotline);
    },
  });
}

function instanceIdOf(request: FastifyRequest): string | undefined {
  const params = request.params as { instanceId?: unknown } | undefined;
  return typeof params?.instanceId === 'string' ? params.instanceId : undefined;
}

async function openLiveWallboard(socket: WebSocket, request: FastifyRequest, hotline: Hotline): Promise<void> {
  const { tokens, wallboard } = hotline;
  const instanceId = instanceIdOf(request) ?? '';
  const send = (frame: WallboardFrame) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  const refuse = (error: HotlineError, code: WallboardCloseCode) => {
    send({ type: 'error', code: error.code, message: error.message });
    socket.close(code, error.code);
  };
  const closeCodeOf = (error: HotlineError) =>
    error.code === 'Unauthorized' || error.code === 'TokenExpired' || error.code === 'Forbidden'
      ? WallboardCloseCode.AuthFailed
      : WallboardCloseCode.Refused;

  // Query values are text: numbers are read as numbers, as the JSON route's validator does.
  const query = Value.Convert(WallboardLiveQuerySchema, request.query ?? {});
  if (!liveQuery.Check(query)) {
    const first = liveQuery.Errors(query).First();
    refuse(
      new HotlineError('ValidationFailed', first ? `query${first.path}: ${first.message}.` : undefined),
      WallboardCloseCode.Refused,
    );
    return;
  }
  const { access_token: accessToken, serviceLevelSeconds } = query as WallboardLiveQuery;
  const credential = accessToken ?? bearerOf(request);
  const authorize = async (): Promise<Principal> => {
    if (!credential) throw new HotlineError('Unauthorized', 'Connect with ?access_token=<admin key or backend token>.');
    const principal = await tokens.verify(credential);
    if (principal.kind === 'admin') return principal;
    if (principal.kind === 'backend' && principal.instanceId === instanceId) return principal;
    throw new HotlineError('Forbidden', 'The wallboard needs the admin key or a backend token of this instance.');
  };

  let stop: (() => void) | undefined;
  const pushSnapshot = () => send({ type: 'snapshot', wallboard: wallboard.snapshot(instanceId, serviceLevelSeconds) });
  try {
    await authorize();
    if (socket.readyState !== socket.OPEN) return;
    stop = wallboard.watch(instanceId, () => {
      pushSnapshot();
      // Credentials are checked again as the screen lives on: an expired token or a revoked client ends it.
      authorize().catch((error: unknown) => {
        stop?.();
        refuse(error instanceof HotlineError ? error : new HotlineError('Unauthorized'), WallboardCloseCode.AuthFailed);
      });
    });
    pushSnapshot();
  } catch (error) {
    const failure = error instanceof HotlineError ? error : new HotlineError('Unauthorized');
    refuse(failure, closeCodeOf(failure));
    return;
  }
  // The screen only listens; whatever it sends is ignored. A screen that vanished (a display switched off, a
  // network gone) is cut off rather than collecting snapshots in a send buffer.
  cutOffWhenSilent(socket, hotline.config.heartbeatIntervalMs);
  socket.once('close', () => stop?.());
}
