import type { FastifyInstance } from 'fastify';
import type { Hotline } from '../../../hotline.js';

/** Liveness, Prometheus metrics and the OpenAPI document. */
export async function systemRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => {
    // A cheap query proves the database answers, not just the process.
    hotline.storage.instances.list();
    return { status: 'ok', epoch: hotline.streams.epoch, uptimeSeconds: Math.round(process.uptime()) };
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    hotline.metrics.refresh();
    reply.header('content-type', hotline.metrics.registry.contentType);
    return hotline.metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
