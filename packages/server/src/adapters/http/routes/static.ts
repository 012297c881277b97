import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HotlineError } from '../../../errors.js';
import type { Hotline } from '../../../hotline.js';

const SDK_FILES: Record<string, string> = {
  'sdk.js': 'application/javascript; charset=utf-8',
  'sdk.js.map': 'application/json; charset=utf-8',
};

/**
 * The browser SDK, served like the guide's CDN script: `<script src="https://host/sdk/sdk.js">` sets
 * `window.SoftPhoneSDK`. Files are read on request (and cached by the browser with an ETag), so a rebuilt
 * SDK is served without a restart.
 */
export async function staticRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  app.get<{ Params: { file: string } }>('/sdk/:file', { schema: { hide: true } }, async (request, reply) => {
    const type = SDK_FILES[request.params.file];
    if (!type) throw new HotlineError('RouteNotFound', `No SDK file "${request.params.file}".`);
    const path = join(hotline.config.sdkDistDir, request.params.file);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      throw new HotlineError('ServiceUnavailable', 'The SDK bundle is not built; run `npm run build`.');
    }
    const etag = `"${info.size.toString(36)}-${info.mtimeMs.toString(36)}"`;
    reply.header('etag', etag).header('cache-control', 'no-cache').header('access-control-allow-origin', '*');
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    reply.type(type);
    return readFile(path);
  });
}
