import {
  type CallRecord,
  type ServerFrame,
  WEBCALL_PATH,
  WebCallCloseCode,
  type WebCallServerFrame,
} from '@openhotline/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerConfig } from '../../../config.js';
import { maskCallRecord } from '../../../services/masking.js';
import { api } from '../../../test-support/api.js';
import { type CallCenter, startCallCenter, type TestAgent } from '../../../test-support/call-center.js';
import { BrowserLikeClient, waitFor } from '../../media/test-support/browser-like-client.js';
import { toneEnergy } from '../../media/tone.js';

/**
 * The customer web call through the real server: the web caller is a werift peer on the public socket saying
 * 1200 Hz, the agent's "browser" a werift peer on the live channel saying 440 Hz. Each must hear the other.
 */
const AGENT_HZ = 440;
const CALLER_HZ = 1200;
const HOTLINE = '4008001000';

function share(pcm: Int16Array, hz: number): number {
  let total = 0;
  let windows = 0;
  for (let start = 0; start + 800 <= pcm.length; start += 800, windows++) {
    total += toneEnergy(pcm.subarray(start, start + 800), 8000, hz);
  }
  return windows === 0 ? 0 : total / windows;
}
const listen = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A customer's browser on the web-call socket: frames in and out, and a werift peer for the audio. */
class WebCaller {
  readonly frames: WebCallServerFrame[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly socket: WebSocket;
  readonly opened: Promise<void>;
  audio: BrowserLikeClient | undefined;

  constructor(wsUrl: string) {
    this.socket = new WebSocket(`${wsUrl}${WEBCALL_PATH}`);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as WebCallServerFrame;
      this.frames.push(frame);
      if (frame.type === 'answer') void this.audio?.answer(frame.sdp);
      if (frame.type === 'candidate') void this.audio?.addRemoteCandidate(frame.candidate);
    });
    this.socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Calls the number with audio: call, offer, trickle; resolves when the call is in the queue. */
  async call(to = HOTLINE): Promise<void> {
    await this.opened;
    this.audio = new BrowserLikeClient(CALLER_HZ);
    this.send({ type: 'call', to });
    const offer = await this.audio.offer();
    this.send({ type: 'offer', sdp: offer });
    this.audio.trickleTo((candidate) => this.send({ type: 'candidate', candidate }));
    await waitFor(() => this.states().some((s) => s === 'queued' || s === 'ringing'), 'web call queued');
    this.audio.startSending();
  }

  states(): string[] {
    return this.frames.flatMap((f) => (f.type === 'state' ? [f.state] : []));
  }

  /** The queue positions announced, in order. */
  positions(): (number | undefined)[] {
    return this.frames.flatMap((f) => (f.type === 'state' && f.state === 'queued' ? [f.position] : []));
  }

  errors(): string[] {
    return this.frames.flatMap((f) => (f.type === 'error' ? [f.code] : []));
  }

  caller(): string {
    const state = this.frames.find((f) => f.type === 'state');
    return state?.type === 'state' ? state.caller : '';
  }

  ended(): Extract<WebCallServerFrame, { state: 'ended' }> | undefined {
    const frame = this.frames.find((f) => f.type === 'state' && f.state === 'ended');
    return frame as Extract<WebCallServerFrame, { state: 'ended' }> | undefined;
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.audio?.close();
  }
}

let center: CallCenter | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await center?.close();
  center = undefined;
});

async function start(options: { checkIn?: string[]; config?: Partial<ServerConfig> } = {}): Promise<CallCenter> {
  center = await startCallCenter({
    checkIn: options.checkIn ?? ['1001'],
    config: { media: { enabled: true, announcedAddress: '127.0.0.1' }, ...options.config },
  });
  return center;
}

function webCaller(c: CallCenter): WebCaller {
  const caller = new WebCaller(c.server.wsUrl);
  cleanups.push(() => caller.close());
  return caller;
}

/** Opens the agent's media line the way the SDK does, over the live channel. */
async function openAgentLine(agent: TestAgent): Promise<BrowserLikeClient> {
  const browser = new BrowserLikeClient(AGENT_HZ);
  cleanups.push(() => browser.close());
  agent.channel.socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as ServerFrame;
    if (frame.type === 'media.answer') void browser.answer(frame.sdp);
    if (frame.type === 'media.candidate') void browser.addRemoteCandidate(frame.candidate);
  });
  agent.channel.send({ type: 'media.offer', sdp: await browser.offer() });
  browser.trickleTo((candidate) => agent.channel.send({ type: 'media.candidate', candidate }));
  await waitFor(() => browser.connectionState === 'connected', 'agent media line connected');
  browser.startSending();
  return browser;
}

async function recordOf(c: CallCenter, connId: string): Promise<CallRecord> {
  const { body } = await c.admin<CallRecord>('GET', `/v1/admin/instances/demo/records/${connId}`);
  return body;
}

describe('a customer calls a hotline number from the browser', () => {
  it('rings a ready agent; after answer each side hears the other; the agent hangs up', async () => {
    const c = await start();
    const alice = c.agents['1001'] as TestAgent;
    const agentAudio = await openAgentLine(alice);
    const caller = webCaller(c);

    await caller.call();
    const ringing = await alice.waitFor('AgentRinging');
    const offeredAt = Date.now();
    const connId = ringing.data.connId;
    // The caller is `web:` and letters: no digits to mask, no number to place.
    expect(ringing.data.ani).toMatch(/^web:[a-z]{8}$/);
    expect(ringing.data.ani).toBe(caller.caller());
    expect(ringing.data.location).toMatchObject({ known: false, province: '', city: '' });
    await waitFor(() => caller.states().includes('ringing'), 'caller sees ringing');
    // Told when the call changes, not at the next periodic refresh (every 5 s).
    expect(Date.now() - offeredAt).toBeLessThan(1_000);

    expect((await alice.post(`/v1/agent/calls/${connId}/answer`)).status).toBe(200);
    await waitFor(() => caller.states().includes('connected'), 'caller sees connected');

    await listen(600);
    agentAudio.clearHeard();
    caller.audio?.clearHeard();
    await listen(1200);
    expect(share(agentAudio.heard(), CALLER_HZ)).toBeGreaterThan(0.5);
    expect(share(caller.audio?.heard() ?? new Int16Array(), AGENT_HZ)).toBeGreaterThan(0.5);

    // Hold: the caller is told, and hears music rather than the agent.
    const holdAt = Date.now();
    await alice.post(`/v1/agent/calls/${connId}/hold`);
    await waitFor(() => caller.states().at(-1) === 'held', 'caller sees held');
    expect(Date.now() - holdAt).toBeLessThan(1_000);
    await listen(400);
    caller.audio?.clearHeard();
    await listen(800);
    expect(share(caller.audio?.heard() ?? new Int16Array(), AGENT_HZ)).toBeLessThan(0.1);
    await alice.post(`/v1/agent/calls/${connId}/retrieve`);
    await waitFor(() => caller.states().at(-1) === 'connected', 'caller sees connected again');

    await alice.post(`/v1/agent/calls/${connId}/hangup`);
    await waitFor(() => caller.closeCode !== undefined, 'socket closed');
    expect(caller.ended()?.reason).toBe('agent-hangup');
    expect(caller.closeCode).toBe(WebCallCloseCode.Ended);
    const record = await recordOf(c, connId);
    expect(record).toMatchObject({ disposition: 'answered', releasedBy: 'agent', ani: caller.caller() });
    expect(record.legs.find((leg) => leg.role === 'customer')).toMatchObject({ kind: 'webrtc' });
    // Masking leaves a web caller id as it is: nothing in it is a number.
    expect(maskCallRecord(record, false).ani).toBe(caller.caller());
  }, 40_000);

  it('the caller hangs up: the agent is told the customer hung up, the record says so', async () => {
    const c = await start();
    const alice = c.agents['1001'] as TestAgent;
    await openAgentLine(alice);
    const caller = webCaller(c);
    await caller.call();
    const connId = (await alice.waitFor('AgentRinging')).data.connId;
    await alice.post(`/v1/agent/calls/${connId}/answer`);
    await waitFor(() => caller.states().includes('connected'), 'connected');

    const before = alice.messages().length;
    caller.send({ type: 'hangup' });
    const release = await alice.waitFor('AgentCallRelease', before);
    expect(release.data).toMatchObject({ connId, releasedBy: 'customer', releaseReason: 'customer-hangup' });
    await waitFor(() => caller.closeCode !== undefined, 'socket closed');
    expect(caller.ended()?.reason).toBe('caller-hangup');
    expect(await recordOf(c, connId)).toMatchObject({ disposition: 'answered', releasedBy: 'customer' });
    expect(c.server.hotline.webCallers?.size).toBe(0);
  }, 30_000);

  it('queues with a position while no agent is ready; closing the page abandons the call', async () => {
    const c = await start({ checkIn: [] });
    const first = webCaller(c);
    const second = webCaller(c);
    await first.call();
    await second.call();
    await waitFor(() => second.positions().includes(2), 'second in line');
    expect(first.frames.find((f) => f.type === 'state' && f.state === 'queued')).toMatchObject({ position: 1 });

    const live = c.server.hotline.calls.liveCalls('demo');
    const connId = live.find((call) => call.ani === first.caller())?.connId ?? '';
    expect(live.map((call) => call.legs.find((leg) => leg.role === 'customer')?.kind)).toEqual(['webrtc', 'webrtc']);
    const leftAt = Date.now();
    first.socket.close();
    // The second caller moves up, as soon as the first leaves the queue.
    await waitFor(() => second.positions().at(-1) === 1, 'second moves up');
    expect(Date.now() - leftAt).toBeLessThan(1_000);
    expect(await recordOf(c, connId)).toMatchObject({ disposition: 'abandoned', releasedBy: 'customer' });
  }, 30_000);
});

describe('the web-call socket refuses what it must', () => {
  it('an unknown number: HotlineNumberNotFound, then the socket closes', async () => {
    const c = await start({ checkIn: [] });
    const caller = webCaller(c);
    await caller.opened;
    caller.send({ type: 'call', to: '4000000000' });
    await waitFor(() => caller.closeCode !== undefined, 'socket closed');
    expect(caller.errors()).toEqual(['HotlineNumberNotFound']);
    expect(caller.closeCode).toBe(WebCallCloseCode.Refused);
    expect(c.server.hotline.webCallers?.size).toBe(0);
  });

  it('bad frames get catalogue errors and the call goes on', async () => {
    const c = await start({ checkIn: [] });
    const caller = webCaller(c);
    await caller.opened;
    caller.send('not json');
    caller.send({ type: 'teleport' });
    caller.send({ type: 'call', to: 'four' });
    caller.send({ type: 'call', to: HOTLINE, extra: 1 });
    caller.send({ type: 'offer', sdp: 'v=0' });
    await waitFor(() => caller.errors().length === 5, 'five errors');
    expect(caller.errors()).toEqual([
      'InvalidJson',
      'UnknownMessageType',
      'ValidationFailed',
      'ValidationFailed',
      'IllegalCallAction',
    ]);
    caller.send({ type: 'call', to: HOTLINE });
    caller.send({ type: 'offer', sdp: 'not an sdp' });
    await waitFor(() => caller.errors().length === 6, 'the bad offer refused');
    expect(caller.errors().at(-1)).toBe('ValidationFailed');
    expect(caller.states()).toEqual(['connecting']);
    expect(caller.closeCode).toBeUndefined();
  });

  it('caps concurrent web calls per address and overall with WebCallLimit', async () => {
    const c = await start({ checkIn: [], config: { webcall: { maxConcurrent: 5, maxPerAddress: 1 } } });
    const first = webCaller(c);
    await first.opened;
    const second = webCaller(c);
    await waitFor(() => second.closeCode !== undefined, 'second refused');
    expect(second.frames[0]).toMatchObject({ type: 'error', code: 'WebCallLimit', details: { scope: 'address' } });
    expect(second.closeCode).toBe(WebCallCloseCode.Refused);
    // A slot comes back when a call ends.
    first.socket.close();
    await waitFor(() => c.server.hotline.webCallers?.size === 0, 'slot released');
    const third = webCaller(c);
    await third.opened;
    third.send({ type: 'call', to: HOTLINE });
    await waitFor(() => third.states().includes('connecting'), 'third accepted');
  });

  it('caps the whole server', async () => {
    const c = await start({ checkIn: [], config: { webcall: { maxConcurrent: 1, maxPerAddress: 5 } } });
    await webCaller(c).opened;
    const second = webCaller(c);
    await waitFor(() => second.closeCode !== undefined, 'second refused');
    expect(second.frames[0]).toMatchObject({ type: 'error', code: 'WebCallLimit', details: { scope: 'server' } });
  });

  it('lists the hotline numbers of an instance for the page, and serves the page', async () => {
    const c = await start({ checkIn: [] });
    const listed = await api<{ numbers: { number: string }[] }>(c.server, 'GET', '/v1/webcall/numbers?instance=demo');
    expect(listed.status).toBe(200);
    expect(listed.body.numbers.map((n) => n.number)).toContain(HOTLINE);
    const unknown = await api<{ code: string }>(c.server, 'GET', '/v1/webcall/numbers?instance=nope');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'InstanceNotFound']);
    const missing = await api<{ code: string }>(c.server, 'GET', '/v1/webcall/numbers');
    expect([missing.status, missing.body.code]).toEqual([400, 'ValidationFailed']);
    const plain = await api<{ code: string }>(c.server, 'GET', WEBCALL_PATH);
    expect([plain.status, plain.body.code]).toEqual([426, 'UpgradeRequired']);

    const page = await fetch(`${c.server.url}/webcall`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/webcall/webcall.js');
    // Bodies are read: an unread response keeps its connection busy, and the server's close would wait for it.
    const script = await fetch(`${c.server.url}/webcall/webcall.js`);
    expect(script.status).toBe(200);
    await script.text();
    const outside = await fetch(`${c.server.url}/webcall/..%2Fpackage.json`);
    expect(outside.status).toBe(404);
    await outside.text();
  });

  it('is off when web calls are disabled', async () => {
    const c = await start({ checkIn: [], config: { webcall: { enabled: false } } });
    const caller = webCaller(c);
    await waitFor(() => caller.closeCode !== undefined, 'refused');
    expect(caller.errors()).toEqual(['ServiceUnavailable']);
    const listed = await api<{ code: string }>(c.server, 'GET', '/v1/webcall/numbers?instance=demo');
    expect(listed.status).toBe(503);
  });
});
