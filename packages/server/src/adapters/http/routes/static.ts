import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HotlineError } from '../../../errors.js';
import type { Hotline } from '../../../hotline.js';

const SDK_FILES: Record<string, string> = {
  'sdk.js': 'application/javascript; charset=utf-8',
  'sdk.js.map': 'application/json; charset=utf-8',
  'sdk.headless.js': 'application/javascript; charset=utf-8',
  'sdk.headless.js.map': 'application/json; charset=utf-8',
};

/** What the sandbox folder may serve, by extension; anything else is 404 (no directory listing, no dotfiles). */
const SANDBOX_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The sandbox page's folder: apps/sandbox of the checkout. This file sits in packages/server/src (or dist)
 * /adapters/http/routes, six levels below the repository root.
 */
export const DEFAULT_SANDBOX_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../../apps/sandbox');
/** The wallboard page's folder (apps/wallboard), found the same way. */
export const DEFAULT_WALLBOARD_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../../../apps/wallboard',
);
/** The customer web-call page's folder (apps/webcall), found the same way. */
export const DEFAULT_WEBCALL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../../apps/webcall');

/**
 * Static files, read on request (and cached by the browser with an ETag), so a rebuilt SDK or an edited page is
 * served without a restart:
 * - `/sdk/sdk.js` — the browser SDK with the dial bar, served like the guide's CDN script:
 *   `<script src="https://host/sdk/sdk.js">` sets `window.SoftPhoneSDK`; `/sdk/sdk.headless.js` without the bar.
 * - `/` and `/sandbox/*` — the sandbox: the guide's preview page for this server (apps/sandbox).
 */
export async function staticRoutes(
  app: FastifyInstance,
  hotline: Hotline,
  options: { sandboxDir?: string; wallboardDir?: string; webcallDir?: string } = {},
): Promise<void> {
  const sandboxDir = options.sandboxDir ?? DEFAULT_SANDBOX_DIR;

  app.get<{ Params: { file: string } }>('/sdk/:file', { schema: { hide: true } }, async (request, reply) => {
    const type = SDK_FILES[request.params.file];
    if (!type) throw new HotlineError('RouteNotFound', `No SDK file "${request.params.file}".`);
    reply.header('access-control-allow-origin', '*');
    return sendFile(request, reply, join(hotline.config.sdkDistDir, request.params.file), type, () => {
      throw new HotlineError('ServiceUnavailable', 'The SDK bundle is not built; run `npm run build`.');
    });
  });

  // The sandbox (the guide's preview page) at / and /sandbox/, the wallboard and the customer web-call page: each a
  // folder of static files served by the same rules (known extensions only, no sub-paths, ETag revalidation).
  const sandbox = appFolder(app, '/sandbox', sandboxDir, 'sandbox');
  app.get('/', { schema: { hide: true } }, sandbox);
  appFolder(app, '/wallboard', options.wallboardDir ?? DEFAULT_WALLBOARD_DIR, 'wallboard');
  appFolder(app, '/webcall', options.webcallDir ?? DEFAULT_WEBCALL_DIR, 'web-call');
}

/**
 * Serves the files of one app folder at `<prefix>/<file>`, and its index.html at `<prefix>` and `<prefix>/`. Returns
 * the index handler, for a page served at another path too.
 */
function appFolder(app: FastifyInstance, prefix: string, dir: string, page: string) {
  const index = (request: FastifyRequest, reply: FastifyReply) => folderFile(request, reply, dir, 'index.html', page);
  app.get(prefix, { schema: { hide: true } }, index);
  app.get(`${prefix}/`, { schema: { hide: true } }, index);
  app.get<{ Params: { file: string } }>(`${prefix}/:file`, { schema: { hide: true } }, (request, reply) =>
    folderFile(request, reply, dir, request.params.file, page),
  );
  return index;
}

function folderFile(request: FastifyRequest, reply: FastifyReply, dir: string, file: string, page: string) {
  const extension = /^[A-Za-z0-9][\w-]*(\.[A-Za-z0-9]+)$/.exec(file)?.[1] ?? '';
  const type = SANDBOX_TYPES[extension];
  const missing = (): never => {
    throw new HotlineError('RouteNotFound', `No ${page} file "${file}".`);
  };
  if (!type) missing();
  return sendFile(request, reply, join(dir, file), type ?? '', missing);
}

async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  type: string,
  missing: () => never,
): Promise<FastifyReply | Buffer> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    missing();
  }
  if (!info.isFile()) missing();
  const etag = `"${info.size.toString(36)}-${info.mtimeMs.toString(36)}"`;
  reply.header('etag', etag).header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === etag) return reply.status(304).send();
  reply.type(type);
  return readFile(path);
}
