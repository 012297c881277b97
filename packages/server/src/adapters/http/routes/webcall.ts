import {
  WEBCALL_CLIENT_FRAME_TYPES,
  WEBCALL_NUMBERS_PATH,
  WEBCALL_PATH,
  type WebCallClientFrame,
  WebCallClientFrameSchema,
  WebCallCloseCode,
  WebCallNumbersQuerySchema,
  type WebCallNumbersResponse,
  WebCallNumbersResponseSchema,
  type WebCallServerFrame,
} from '@openhotline/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { HotlineError } from '../../../errors.js';
import type { Hotline } from '../../../hotline.js';
import type { WebCall } from '../../../services/web-callers.js';
import { frameParser } from '../frame-parser.js';
import { cutOffWhenSilent } from '../heartbeat.js';

const parseFrame = frameParser(WebCallClientFrameSchema, WEBCALL_CLIENT_FRAME_TYPES);
/** A call needs a handful of frames (call, offer, some candidates, keys): far more is abuse. */
const MAX_FRAMES_PER_CALL = 400;
/** Refused frames tolerated before the socket is closed. */
const MAX_REFUSED_FRAMES = 20;

/**
 * The public customer web call (no token: anyone may call a hotline number, as with a phone). The frame size is the
 * server's `maxFrameBytes` (the WebSocket closes with 1009 above it); the number of calls is capped overall and
 * per client address by the web-call service.
 */
export async function webcallRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  app.get<{ Querystring: { instance: string } }>(
    WEBCALL_NUMBERS_PATH,
    {
      schema: {
        tags: ['webcall'],
        summary: "An instance's hotline numbers, for the public web-call page",
        security: [],
        querystring: WebCallNumbersQuerySchema,
        response: { 200: WebCallNumbersResponseSchema },
      },
    },
    async (request): Promise<WebCallNumbersResponse> => {
      if (!hotline.webCallers) throw unavailable();
      const { instance } = request.query;
      if (!hotline.storage.instances.get(instance)) throw new HotlineError('InstanceNotFound');
      const numbers = hotline.storage.hotlineNumbers.list(instance).map(({ number, name }) => ({ number, name }));
      return { instanceId: instance, numbers };
    },
  );

  app.route({
    method: 'GET',
    url: WEBCALL_PATH,
    schema: { hide: true },
    // A plain HTTP GET (no Upgrade) gets a catalogue error instead of an empty 404.
    handler: async () => {
      throw new HotlineError('UpgradeRequired');
    },
    wsHandler: (socket, request) => openWebCall(socket, request, hotline),
  });
}

function unavailable(): HotlineError {
  return new HotlineError('ServiceUnavailable', 'Web calls are off on this server (they need media).');
}

function openWebCall(socket: WebSocket, request: FastifyRequest, hotline: Hotline): void {
  const send = (frame: WebCallServerFrame) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  const sendError = (error: HotlineError) =>
    send({
      type: 'error',
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
    });

  let call: WebCall;
  try {
    if (!hotline.webCallers) throw unavailable();
    call = hotline.webCallers.open(request.ip, {
      send,
      close: (code, reason) => socket.close(code, reason),
    });
  } catch (error) {
    const refusal = error instanceof HotlineError ? error : new HotlineError('InternalError');
    sendError(refusal);
    socket.close(WebCallCloseCode.Refused, refusal.code);
    return;
  }

  let frames = 0;
  let refused = 0;
  const refuse = (error: unknown) => {
    const failure = error instanceof HotlineError ? error : mediaRefusal(error);
    sendError(failure);
    refused += 1;
    // A call that cannot start (no such number) is over; so is a client that keeps sending nonsense.
    if (failure.code === 'HotlineNumberNotFound') call.abort(WebCallCloseCode.Refused, failure.code);
    else if (refused > MAX_REFUSED_FRAMES) call.abort(WebCallCloseCode.Abuse, 'TooManyRefusedFrames');
  };

  socket.on('message', (data: unknown) => {
    frames += 1;
    if (frames > MAX_FRAMES_PER_CALL) {
      call.abort(WebCallCloseCode.Abuse, 'TooManyFrames');
      return;
    }
    const frame = parseFrame(data);
    if (frame instanceof HotlineError) {
      refuse(frame);
      return;
    }
    try {
      handle(call, frame, refuse);
    } catch (error) {
      refuse(error);
    }
  });

  // A caller whose network died is hung up like one who closed the page.
  cutOffWhenSilent(socket, hotline.config.heartbeatIntervalMs);
  socket.once('close', () => call.hangup());
}

function handle(call: WebCall, frame: WebCallClientFrame, refuse: (error: unknown) => void): void {
  switch (frame.type) {
    case 'call':
      call.call(frame.to);
      break;
    case 'offer':
      call.offer(frame.sdp).catch(refuse);
      break;
    case 'candidate':
      call.candidate(frame.candidate);
      break;
    case 'dtmf':
      call.dtmf(frame.digits);
      break;
    case 'hangup':
      call.hangup();
      break;
  }
}

/** The engine refused the offer (bad SDP, no PCMU): a validation error for the client, not a server failure. */
function mediaRefusal(error: unknown): HotlineError {
  const message = error instanceof Error ? error.message : String(error);
  return new HotlineError('ValidationFailed', `The offer was refused: ${message}`);
}
