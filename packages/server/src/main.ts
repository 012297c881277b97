import { parseArgs } from 'node:util';
import { ChannelCloseCode } from '@openhotline/protocol';
import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createHotline } from './hotline.js';
import { describeGc } from './launcher.js';
import { DEMO_CLIENT, DEMO_INSTANCE_ID, seedDemo } from './seed.js';

/** Tokens travel in the live channel's query string; they never reach a log line. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_token|token)=)[^&]*/gi, '$1[redacted]');
}

/**
 * Starts the server on its configuration (file + environment) in this process and runs until SIGINT or SIGTERM.
 * The process entry point is start.ts, which first gives the process the V8 flags it needs.
 */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env: process.env, ...(values.config ? { file: values.config } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`openhotline: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const logger = pino({
    level: config.logLevel,
    redact: ['req.headers.authorization', 'headers.authorization'],
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
      }),
    },
  });
  const hotline = createHotline(config, { log: logger });
  // Number location data takes a second or two to decode: pay it now, not when the first customer calls.
  hotline.locator.load?.();
  const seeded = config.seedDemo && seedDemo(hotline);
  const app = await buildApp(hotline, logger);
  await app.listen({ host: config.host, port: config.port });

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = config.publicUrl ?? `http://${shownHost}:${port}`;
  const demo = hotline.storage.instances.get(DEMO_INSTANCE_ID) ? DEMO_CLIENT : undefined;
  process.stdout.write(
    [
      '',
      `OpenHotline is listening on ${url}`,
      `  sandbox:    ${url}/   (the dial bar, every SDK option and API, a live event log)`,
      `  web call:   ${url}/webcall   (a customer calling a hotline from the browser)`,
      `  wallboard:  ${url}/wallboard   (agents, queues, calls, statistics; sign in with the admin key)`,
      `  API docs:   ${url}/docs   (OpenAPI: ${url}/openapi.json)`,
      `  admin key:  ${hotline.adminKey}`,
      `  data:       ${config.dataDir}${seeded ? '   (demo instance seeded)' : ''}`,
      `  runtime:    Node.js ${process.version}, garbage collection ${describeGc(process.env, process.execArgv)}`,
      ...(demo
        ? [
            `  demo:       InstanceId "${DEMO_INSTANCE_ID}", agents 1001 1002 1003, hotline 4008001000`,
            `              client_id "${demo.clientId}", client_secret "${demo.clientSecret}"`,
            `  token:      curl -s ${url}/oauth2/token -H 'content-type: application/json' \\`,
            `                -d '{"grant_type":"client_credentials","client_id":"${demo.clientId}","client_secret":"${demo.clientSecret}","agent_id":"1001"}'`,
          ]
        : []),
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    hotline.channels.closeAll(ChannelCloseCode.ServerShutdown, 'ServiceUnavailable');
    await app.close();
    // Recordings in progress are finished and their rows written before storage closes.
    await hotline.close();
    process.exit(0);
  };
  // `on`, not `once`: a second signal during shutdown (the launcher passing on the terminal's Ctrl-C, which the
  // server also got) must not kill the process before recordings are finished.
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
