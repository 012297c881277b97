import {
  CHANNEL_PATH,
  ChannelCloseCode,
  ClientFrameSchema,
  EnumLocale,
  ERROR_CATALOGUE,
  type ErrorCode,
  type ServerFrame,
} from '@openhotline/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { HotlineError } from '../../errors.js';
import type { Hotline } from '../../hotline.js';
import type { Frame, StreamSubscriber } from '../../services/agent-streams.js';
import { agentKey } from '../../services/agent-streams.js';
import type { Principal } from '../../services/token-service.js';
import { bearerOf } from './auth.js';
import { frameParser } from './frame-parser.js';

const parseFrame = frameParser(ClientFrameSchema, ['ping', 'resume', 'media.offer', 'media.candidate']);

interface ChannelQuery {
  access_token?: string;
  locale?: string;
  epoch?: string;
  lastSeq?: string;
}

/**
 * The live channel. Authentication happens after the upgrade, in band: a browser cannot read the HTTP status
 * of a refused upgrade, but it can read an `error` frame and the close code (4001) with the error code as reason.
 */
export async function channelRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  app.route({
    method: 'GET',
    url: CHANNEL_PATH,
    schema: { hide: true },
    // A plain HTTP GET (no Upgrade) gets a catalogue error instead of an empty 404.
    handler: async () => {
      throw new HotlineError('UpgradeRequired');
    },
    wsHandler: (socket, request) => {
      void openChannel(socket, request, hotline);
    },
  });
}

async function openChannel(socket: WebSocket, request: FastifyRequest, hotline: Hotline): Promise<void> {
  const { config, tokens, streams, agents, channels, metrics, clock, ids } = hotline;
  const query = (request.query ?? {}) as ChannelQuery;
  // Frames that arrive while the token is being checked wait, in order.
  const early: unknown[] = [];
  const collectEarly = (data: unknown) => early.push(data);
  socket.on('message', collectEarly);

  /** A protocol frame, or a pushed message already serialized by the agent's stream (sent as text, as is). */
  const send = (frame: ServerFrame | Frame) => {
    if (socket.readyState !== socket.OPEN) return;
    if (Buffer.isBuffer(frame)) socket.send(frame, { binary: false });
    else socket.send(JSON.stringify(frame));
    metrics.framesPushed.inc();
  };
  const refuse = (error: HotlineError) => {
    metrics.channelRejections.inc({ code: error.code });
    send({ type: 'error', code: error.code, message: error.message });
    socket.close(ChannelCloseCode.AuthFailed, error.code);
  };

  let principal: Principal;
  try {
    const credential = query.access_token ?? bearerOf(request);
    if (!credential) throw new HotlineError('Unauthorized', 'Connect with ?access_token=<token>.');
    principal = await tokens.verify(credential);
    if (principal.kind !== 'agent') throw new HotlineError('Forbidden', 'The live channel needs an agent token.');
    const agent = hotline.storage.agents.get(principal.instanceId, principal.agentId);
    if (!agent) throw new HotlineError('AgentNotFound');
    if (!agent.enabled) throw new HotlineError('AgentDisabled');
  } catch (error) {
    refuse(error instanceof HotlineError ? error : new HotlineError('Unauthorized'));
    return;
  }
  if (socket.readyState !== socket.OPEN) return;
  const { instanceId, agentId } = principal;
  const key = agentKey(instanceId, agentId);
  const locale = query.locale === EnumLocale.en ? EnumLocale.en : EnumLocale['zh-CN'];
  const connectionId = ids('chan');
  let lastSeen = clock.now();

  const subscriber: StreamSubscriber = { locale, send: (frame) => send(frame) };
  const connection = {
    id: connectionId,
    openedAt: clock.now(),
    close: (code: ChannelCloseCode, error: ErrorCode) => {
      send({ type: 'error', code: error, message: ERROR_CATALOGUE[error].message });
      socket.close(code, error);
    },
  };

  const sendSnapshot = (seq: number) =>
    send({ type: 'snapshot', epoch: streams.epoch, seq, agent: agents.snapshot(instanceId, agentId) });

  /** Attaches to the stream (replay or snapshot); used at connect and on a `resume` frame. */
  const attach = (resume?: { epoch: string; lastSeq: number }) => {
    streams.detach(key, subscriber);
    const result = streams.attach(key, subscriber, resume);
    if (result.kind === 'snapshot') sendSnapshot(result.seq);
    else for (const frame of result.frames) send(frame);
  };

  send({
    type: 'hello',
    epoch: streams.epoch,
    seq: streams.head(key),
    connectionId,
    serverTime: clock.now(),
    heartbeatIntervalMs: config.heartbeatIntervalMs,
  });
  const lastSeq = query.lastSeq !== undefined && /^\d{1,15}$/.test(query.lastSeq) ? Number(query.lastSeq) : undefined;
  attach(query.epoch !== undefined && lastSeq !== undefined ? { epoch: query.epoch, lastSeq } : undefined);
  channels.add(instanceId, agentId, connection, config.maxChannelsPerAgent);
  agents.channelOpened(instanceId, agentId);
  metrics.channelsOpen.inc();

  const onFrame = (data: unknown) => {
    lastSeen = clock.now();
    const frame = parseFrame(data);
    if (frame instanceof HotlineError) {
      metrics.channelRejections.inc({ code: frame.code });
      send({
        type: 'error',
        code: frame.code,
        message: frame.message,
        ...(frame.details ? { details: frame.details } : {}),
      });
      return;
    }
    switch (frame.type) {
      case 'ping':
        send({ type: 'pong', ...(frame.t !== undefined ? { t: frame.t } : {}), serverTime: clock.now() });
        break;
      case 'resume':
        attach({ epoch: frame.epoch, lastSeq: frame.lastSeq });
        break;
      case 'media.offer':
        if (!hotline.media) {
          send({ type: 'error', code: 'ServiceUnavailable', message: 'Media is disabled on this server.' });
          break;
        }
        hotline.media
          .offer(instanceId, agentId, frame.sdp, frame.iceRestart ?? false, mediaOwner)
          .catch((error: unknown) => {
            send({ type: 'error', code: 'ValidationFailed', message: `The media offer was refused: ${String(error)}` });
          });
        break;
      case 'media.candidate':
        hotline.media?.candidate(instanceId, agentId, frame.candidate);
        break;
    }
  };
  const mediaOwner = { send };
  socket.off('message', collectEarly);
  socket.on('message', onFrame);
  for (const data of early) onFrame(data);

  // Heartbeat: protocol pings keep NATs open and find dead peers; any frame or pong counts as a sign of life.
  socket.on('pong', () => {
    lastSeen = clock.now();
  });
  const heartbeat = setInterval(() => {
    if (clock.now() - lastSeen > 2 * config.heartbeatIntervalMs) {
      metrics.channelRejections.inc({ code: 'HeartbeatTimeout' });
      socket.close(ChannelCloseCode.HeartbeatTimeout, 'HeartbeatTimeout');
      // A peer that cannot answer a close handshake is cut off.
      setTimeout(() => socket.terminate(), 1000).unref();
      return;
    }
    if (socket.readyState === socket.OPEN) socket.ping();
  }, config.heartbeatIntervalMs);
  heartbeat.unref();

  // Tokens are short-lived; the channel ends with its token so that a revoked agent cannot listen on.
  const expiry = setTimeout(
    () => refuse(new HotlineError('TokenExpired')),
    Math.max(0, tokenExpiry(query, request) - clock.now()),
  );
  expiry.unref();

  socket.once('close', () => {
    clearInterval(heartbeat);
    clearTimeout(expiry);
    streams.detach(key, subscriber);
    channels.remove(instanceId, agentId, connectionId);
    hotline.media?.channelClosed(instanceId, agentId, mediaOwner);
    agents.channelClosed(instanceId, agentId);
    metrics.channelsOpen.dec();
  });
}

/** The token's `exp` in epoch ms (already verified, so decoding without checking is safe here). */
function tokenExpiry(query: ChannelQuery, request: FastifyRequest): number {
  const token = query.access_token ?? bearerOf(request) ?? '';
  const payload = token.split('.')[1];
  try {
    const exp: unknown = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')).exp;
    return typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
