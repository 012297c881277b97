import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type HotlineApp } from '../app.js';
import { loadConfig, type ServerConfig } from '../config.js';
import { createHotline, type Hotline } from '../hotline.js';
import { silentLogger } from '../services/logger.js';

export interface TestServer {
  readonly url: string;
  readonly wsUrl: string;
  readonly hotline: Hotline;
  readonly app: HotlineApp;
  readonly adminKey: string;
  readonly dataDir: string;
  /** Stops the server; keeps the data directory so a test can start another server on it (restart). */
  stop(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  close(): Promise<void>;
}

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';

/**
 * Starts the real server (SQLite on a temporary directory, real HTTP and WebSocket) on an ephemeral port.
 * Pass `dataDir` to start on the data of a previous server (a restart).
 */
export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'openhotline-test-'));
  const config = loadConfig({
    overrides: {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      seedDemo: false,
      adminKey: TEST_ADMIN_KEY,
      // Node test peers connect over loopback; tests that need no audio pay nothing for an idle engine.
      media: { enabled: true, announcedAddress: '127.0.0.1' },
      ...overrides,
      dataDir,
    },
  });
  const hotline = createHotline(config, { log: silentLogger });
  const app = await buildApp(hotline);
  await app.listen({ host: config.host, port: config.port });
  const { port } = app.server.address() as AddressInfo;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const closing = app.close();
    // Teardown: a connection a test left busy (an unread response body, a socket mid-request) must not hold the
    // close up until the keep-alive timeout, past a suite's hook timeout.
    app.server.closeAllConnections();
    await closing;
    await hotline.close();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    hotline,
    app,
    adminKey: hotline.adminKey,
    dataDir,
    stop,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
