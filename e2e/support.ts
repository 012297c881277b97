import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type CallCenter, startCallCenter } from '../packages/server/src/test-support/call-center.js';

/**
 * The browser-test stack: the real hotline server (with the demo instance and the fast test dial plan), a
 * business-system ("CRM") page server on another origin, a TCP proxy in front of the hotline server that a test
 * can cut, and one headless Chromium per test file.
 */

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** The business system: serves whatever pages a test registers, on its own port (another origin). */
export class CrmServer {
  private readonly pages = new Map<string, string>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<CrmServer> {
    let crm: CrmServer | undefined;
    const server = createServer((request, response) => {
      const html = crm?.pages.get((request.url ?? '/').split('?')[0] ?? '/');
      if (html === undefined) {
        response.writeHead(404).end('not found');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    crm = new CrmServer(server);
    return crm;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  page(path: string, html: string): string {
    this.pages.set(path, html);
    return this.url(path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A TCP proxy to the hotline server that can drop every connection and refuse new ones: a network outage. */
export class CuttableProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private down = false;
  private constructor(private readonly server: ReturnType<typeof createTcpServer>) {}

  static async start(targetPort: number): Promise<CuttableProxy> {
    let proxy: CuttableProxy | undefined;
    const server = createTcpServer((client) => {
      if (!proxy || proxy.down) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      proxy.pairs.add(pair);
      const end = () => {
        client.destroy();
        upstream.destroy();
        proxy?.pairs.delete(pair);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CuttableProxy(server);
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Cuts every open connection (no close handshake: what a dead network looks like) and refuses new ones. */
  cut(): void {
    this.down = true;
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface Stack {
  readonly center: CallCenter;
  readonly crm: CrmServer;
  readonly proxy: CuttableProxy;
  readonly browser: Browser;
  /** `host:port` of the hotline server as the page reaches it (through the proxy). */
  readonly apiHost: string;
  /** Where the page loads the SDK from, as the guide's CDN script tag. */
  readonly sdkUrl: string;
  close(): Promise<void>;
}

/** Nobody checked in: the page's agent (1001) checks in itself, others as a test needs. */
export async function startStack(options: { browserArgs?: string[] } = {}): Promise<Stack> {
  const center = await startCallCenter({ checkIn: [] });
  const serverPort = Number(new URL(center.server.url).port);
  const [crm, proxy, browser] = await Promise.all([
    CrmServer.start(),
    CuttableProxy.start(serverPort),
    launchBrowser(options.browserArgs),
  ]);
  return {
    center,
    crm,
    proxy,
    browser,
    apiHost: `127.0.0.1:${proxy.port}`,
    sdkUrl: `${center.server.url}/sdk/sdk.js`,
    async close() {
      await browser.close();
      await Promise.all([crm.close(), proxy.close()]);
      await center.close();
    },
  };
}

/**
 * A CRM page: the SDK's script tag (the guide's CDN script, pointed at our server), the test's helpers that the
 * guide's demos assume (safeConsole, sleep: the demos use them without defining them), then the guide's code.
 */
export function crmPage(stack: Pick<Stack, 'sdkUrl'>, guideCode: string, options: { head?: string } = {}): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>CRM</title>${options.head ?? ''}</head>
<body>
<div id="app">CRM</div>
<div id="phone-container" class="statusbar"></div>
<script src="${stack.sdkUrl}"></script>
<script>
  // Test helpers: what the guide's demos call but never define, recording into window.__log.
  window.__log = [];
  window.__errors = [];
  function safeConsole(label, e) {
    window.__log.push({ label: label, type: e && e.type, data: e && e.data });
  }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }
</script>
<script>
${guideCode}
</script>
</body></html>`;
}

export async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('[page error]', error.message));
  await page.goto(url);
  return page;
}

/** Waits until `window.__log` has an entry with this label (after `after` entries); returns it. */
export async function waitForLog(
  page: Page,
  label: string,
  after = 0,
  timeoutMs = 10_000,
): Promise<{ label: string; type?: string; data?: Record<string, unknown> }> {
  await page.waitForFunction(
    ([l, a]) =>
      (window as unknown as { __log: { label: string }[] }).__log.slice(a as number).some((e) => e.label === l),
    [label, after] as const,
    { timeout: timeoutMs },
  );
  return page.evaluate(
    ([l, a]) =>
      (window as unknown as { __log: { label: string }[] }).__log.slice(a as number).find((e) => e.label === l),
    [label, after] as const,
  ) as Promise<{ label: string; type?: string; data?: Record<string, unknown> }>;
}

export function logLabels(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __log: { label: string }[] }).__log.map((e) => e.label));
}
