import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { rms, sineWave, toneEnergy } from '../packages/server/src/adapters/media/tone.js';
import { encodeWav } from '../packages/server/src/adapters/media/wav.js';
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

/** Evaluates `code` in the page (a string, so it can use the page's globals: APIs, window.SoftPhoneSDK). */
export const run = <T = unknown>(page: Page, code: string) => page.evaluate(code) as Promise<T>;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

// ---------------------------------------------------------------- audio by frequency

/** Writes a WAV of a pure tone that Chromium's fake microphone plays in a loop (48 kHz mono, as its capture runs). */
export async function writeToneWav(path: string, hz: number): Promise<string> {
  await writeFile(path, encodeWav({ sampleRate: 48_000, channels: 1, samples: sineWave(hz, 48_000 * 10, 48_000) }));
  return path;
}

/** A browser whose fake microphone says `hz`: each party of a test needs its own launch (one capture file each). */
export function launchBrowserSaying(wavPath: string, extraArgs: string[] = []): Promise<Browser> {
  return launchBrowser([`--use-file-for-fake-audio-capture=${wavPath}`, ...extraArgs]);
}

/** Where a page's probe listens: the SDK's <audio> element, or the receiver track of the page's latest peer connection. */
export type AudioSource = 'sdk-audio' | 'peer-connection';

/**
 * What one party heard of one tone (or of several tones together: a melody), by Goertzel over short windows. Two
 * averages of the same windows, because "hears" and "does not hear" need different ones:
 * - `audibleShare` skips silent windows (quieter than -50 dBFS): a loaded machine delivers network audio with gaps,
 *   and a gap says nothing about who is heard. For presence ("X hears Y").
 * - `overallShare` counts silent windows as 0: a party that hears silence plus one window with a residue of a tone
 *   (a jitter buffer playing out what came before) heard almost none of it, while its `audibleShare` is about 1.
 *   For absence ("X hears nothing of Y").
 * One bin per frequency: two tones mixed in one signal (a conference) show about half each, other tones about 0.
 * Both shares are -1 when there is nothing to listen to yet (no <audio> element or no receiver track).
 */
export interface Hearing {
  readonly audibleShare: number;
  readonly overallShare: number;
  readonly windows: number;
  readonly audibleWindows: number;
}

/**
 * In the page (a test probe, not SDK or page code): keeps the page's RTCPeerConnections in
 * `window.__peerConnections`, and `window.__hears(hz, ms, source)` measures a tone in what the page plays or receives
 * (see `pageHears`). Put it before the page creates its peer connections: in the page's script ahead of the SDK's
 * check-in, or as an init script.
 */
export const AUDIO_PROBE = `
{
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config) {
      super(config);
      (window.__peerConnections ??= []).push(this);
    }
  };
}
window.__hears = async (hz, ms, source) => {
  let input;
  if (source === 'peer-connection') {
    const pc = (window.__peerConnections ?? []).at(-1);
    const track = pc?.getReceivers().find((r) => r.track?.kind === 'audio')?.track;
    if (track) input = { key: track, stream: () => new MediaStream([track]) };
  } else {
    const audio = document.querySelector('audio[data-openhotline-audio]');
    if (audio?.srcObject) input = { key: audio.srcObject, stream: () => audio.srcObject };
  }
  if (!input) return { audibleShare: -1, overallShare: -1, windows: 0, audibleWindows: 0 };
  const context = (window.__probeContext ??= new AudioContext());
  await context.resume();
  // One analyser per stream or track, made when it first shows up (a new call line, a reloaded page).
  const analysers = (window.__probeAnalysers ??= new WeakMap());
  let analyser = analysers.get(input.key);
  if (!analyser) {
    analyser = context.createAnalyser();
    analyser.fftSize = 4096;
    context.createMediaStreamSource(input.stream()).connect(analyser);
    analysers.set(input.key, analyser);
  }
  const samples = new Float32Array(analyser.fftSize);
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / context.sampleRate);
  let total = 0;
  let windows = 0;
  let audibleWindows = 0;
  for (const end = Date.now() + ms; Date.now() < end; ) {
    await new Promise((r) => setTimeout(r, 60));
    analyser.getFloatTimeDomainData(samples);
    windows++;
    let energy = 0, s1 = 0, s2 = 0;
    for (const x of samples) {
      energy += x * x;
      const s0 = x + coefficient * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    // Quieter than -50 dBFS is silence (the receiver's loss concealment fades out the last sound it heard).
    if (energy / samples.length < 1e-5) continue;
    audibleWindows++;
    total += (2 * (s1 * s1 + s2 * s2 - coefficient * s1 * s2)) / (samples.length * energy);
  }
  return {
    audibleShare: audibleWindows === 0 ? 0 : total / audibleWindows,
    overallShare: windows === 0 ? 0 : total / windows,
    windows,
    audibleWindows,
  };
};
`;

/**
 * In the page (a test probe): getUserMedia without the microphone's processing. Noise suppression takes a steady
 * test tone for noise and turns it down by some 15-20 dB (a voice it leaves alone): harmless when one tone is
 * heard alone, but in a conference mix the agents' tones would drown under the customer's. Tests that compare
 * levels across parties switch it off, as an integrator does with `createMediaSession(host, { processing })`.
 */
export const RAW_MICROPHONE = `
{
  const devices = navigator.mediaDevices;
  const native = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) =>
    native(constraints && constraints.audio
      ? { ...constraints, audio: { ...(constraints.audio === true ? {} : constraints.audio), echoCancellation: false, noiseSuppression: false, autoGainControl: false } }
      : constraints);
}
`;

/**
 * What the page hears of `hz` over `ms` (see `Hearing`, `AUDIO_PROBE`): by default what the SDK's <audio> element
 * plays; `source: 'peer-connection'` for a page without the SDK (the web-call page), what its peer connection receives.
 */
export function pageHears(
  page: Page,
  hz: number,
  { ms = 1000, source = 'sdk-audio' }: { ms?: number; source?: AudioSource } = {},
): Promise<Hearing> {
  return page.evaluate(
    ([f, t, from]) =>
      (window as unknown as { __hears(hz: number, ms: number, source: AudioSource): Promise<Hearing> }).__hears(
        f,
        t,
        from,
      ),
    [hz, ms, source] as const,
  );
}

/**
 * What a virtual party heard (8 kHz PCM) of a tone, or of several tones together (a melody: one note at a time), in
 * 100 ms windows; silence is quieter than -50 dBFS, as in the page (see `Hearing`).
 */
export function pcmHears(pcm: Int16Array, hz: number | readonly number[]): Hearing {
  const tones = typeof hz === 'number' ? [hz] : hz;
  let total = 0;
  let windows = 0;
  let audibleWindows = 0;
  for (let start = 0; start + 800 <= pcm.length; start += 800) {
    const window = pcm.subarray(start, start + 800);
    windows++;
    if (rms(window) < 0.003) continue;
    audibleWindows++;
    for (const tone of tones) total += toneEnergy(window, 8000, tone);
  }
  return {
    audibleShare: audibleWindows === 0 ? 0 : total / audibleWindows,
    overallShare: windows === 0 ? 0 : total / windows,
    windows,
    audibleWindows,
  };
}

/**
 * The guide's setup and answer demo for one agent (instance, host and token changed), the audio probe, and
 * `window.__errors` filled from actionError. `checkInOnLoad`: the page checks in as it loads, as the guide's full
 * demo does (and does again after a reload).
 */
export function guideAudioAgent(options: {
  token: string;
  apiHost: string;
  checkInOnLoad?: boolean;
  /** The microphone without echo cancellation, noise suppression and gain control (see RAW_MICROPHONE). */
  rawMicrophone?: boolean;
  /** Answer every ringing call at once, as the guide's answer demo does (default); false leaves it ringing. */
  answerOnRing?: boolean;
}): string {
  return `${AUDIO_PROBE}${options.rawMicrophone ? RAW_MICROPHONE : ''}
const { SoftPhone, APIs, EnumEventName } = window.SoftPhoneSDK;
const softPhone = SoftPhone.getInstance();
softPhone.setConfig({ InstanceId: 'demo', BearerToken: ${JSON.stringify(options.token)}, apiHost: ${JSON.stringify(options.apiHost)} });
softPhone.register(EnumEventName.actionError, (e) => window.__errors.push(e.data));
${
  options.answerOnRing === false
    ? ''
    : `// The guide's answer demo.
softPhone.register(EnumEventName.AgentRinging, (eventData, prevConfig, data) => {
  const { data: { connId, jobId, acid, aid } } = eventData;
  APIs.callAnswer(connId, jobId, acid, aid);
});`
}
${options.checkInOnLoad ? 'APIs.agentCheckin();' : ''}`;
}
