import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { channelRoutes } from './adapters/http/channel.js';
import { installErrorHandling } from './adapters/http/error-handler.js';
import { adminRoutes } from './adapters/http/routes/admin.js';
import { agentRoutes } from './adapters/http/routes/agent.js';
import { callRoutes } from './adapters/http/routes/calls.js';
import { oauthRoutes } from './adapters/http/routes/oauth.js';
import { recordsRoutes } from './adapters/http/routes/records.js';
import { staticRoutes } from './adapters/http/routes/static.js';
import { systemRoutes } from './adapters/http/routes/system.js';
import { wallboardRoutes } from './adapters/http/routes/wallboard.js';
import { webcallRoutes } from './adapters/http/routes/webcall.js';
import { HotlineError } from './errors.js';
import type { Hotline } from './hotline.js';

export type HotlineApp = FastifyInstance;

const VERSION = '0.1.0';

/**
 * The HTTP and WebSocket face of a hotline: plugins and routes only, no listening socket. `main.ts` listens;
 * tests call `listen({ port: 0 })` on it directly.
 */
export async function buildApp(hotline: Hotline, logger?: FastifyBaseLogger): Promise<HotlineApp> {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: hotline.config.maxBodyBytes,
    genReqId: () => hotline.ids('req'),
    routerOptions: { maxParamLength: 256 },
    // Errors raised before routing (bad percent-encoding, over-long params) get the same JSON body as the rest.
    frameworkErrors: (error, request, reply) => {
      const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'ValidationFailed' : 'MalformedRequest';
      void (reply as unknown as FastifyReply)
        .status(400)
        .send(new HotlineError(code, error.message).toBody(request.id));
    },
    // Requests Node's HTTP parser refuses (unknown methods, huge headers) never reach Fastify's handlers.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return;
      const tooLarge = (error as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      const failure = new HotlineError(tooLarge ? 'HeadersTooLarge' : 'MalformedRequest');
      const body = JSON.stringify(failure.toBody());
      socket.end(
        `HTTP/1.1 ${failure.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `connection: close\r\n\r\n${body}`,
      );
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installErrorHandling(app);
  // Query strings and path params are text, so numbers there are coerced; a JSON body must carry the right types.
  const coercing = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false });
  const exact = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema));
  await app.register(cors, {
    origin: hotline.config.corsOrigins.includes('*') ? true : hotline.config.corsOrigins,
    credentials: false,
    // A bare OPTIONS without CORS headers is not a preflight; let it reach the router (404/405 JSON) instead.
    strictPreflight: false,
    allowedHeaders: ['authorization', 'content-type', 'x-instance-id'],
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    maxAge: 600,
  });
  await app.register(formbody, { bodyLimit: hotline.config.maxBodyBytes });
  await app.register(websocket, { options: { maxPayload: hotline.config.maxFrameBytes } });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'OpenHotline API',
        version: VERSION,
        description: 'The hotline server behind the softphone SDK. Errors carry a stable `code`; see docs/errors.md.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    hotline.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    hotline.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  await app.register(async (scope) => systemRoutes(scope, hotline));
  await app.register(async (scope) => oauthRoutes(scope, hotline));
  await app.register(async (scope) => agentRoutes(scope, hotline));
  await app.register(async (scope) => adminRoutes(scope, hotline));
  await app.register(async (scope) => callRoutes(scope, hotline));
  await app.register(async (scope) => recordsRoutes(scope, hotline));
  await app.register(async (scope) => channelRoutes(scope, hotline));
  await app.register(async (scope) => webcallRoutes(scope, hotline));
  await app.register(async (scope) => wallboardRoutes(scope, hotline));
  await app.register(async (scope) => staticRoutes(scope, hotline));
  return app;
}
