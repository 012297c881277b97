import { AgentBarStatus, type CallRecord, isCallStatus, type ServerFrame } from '@openhotline/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type CallCenter, startCallCenter, type TestAgent } from '../../test-support/call-center.js';
import { DEFAULT_RINGBACK, MUSIC_ON_HOLD_NOTES_HZ } from '../media/audio-sources.js';
import { BrowserLikeClient, waitFor } from '../media/test-support/browser-like-client.js';
import { toneEnergy } from '../media/tone.js';

/**
 * Real audio through the real server: the agent's "browser" is a werift peer that says 440 Hz over a media line
 * negotiated on the live channel; the virtual customer says 1000 Hz. Each side must hear the other's frequency.
 * (Headless Chromium against the same engine is covered by the media engine's own browser test.)
 */
const AGENT_HZ = 440;
const CUSTOMER_HZ = 1000;

/** A tone's share of the signal, averaged over 100 ms windows (network audio has the odd late packet). */
function share(pcm: Int16Array, hz: number): number {
  let total = 0;
  let windows = 0;
  for (let start = 0; start + 800 <= pcm.length; start += 800, windows++) {
    total += toneEnergy(pcm.subarray(start, start + 800), 8000, hz);
  }
  return windows === 0 ? 0 : total / windows;
}
const musicShare = (pcm: Int16Array) => Math.max(...MUSIC_ON_HOLD_NOTES_HZ.map((hz) => share(pcm, hz)));
const listen = (ms: number) => new Promise((r) => setTimeout(r, ms));

let center: CallCenter | undefined;
let client: BrowserLikeClient | undefined;
afterEach(async () => {
  await client?.close();
  await center?.close();
  center = undefined;
  client = undefined;
});

/** Opens the agent's media line the way the SDK does: offer, trickle, answer, all over the live channel. */
async function openLine(agent: TestAgent): Promise<BrowserLikeClient> {
  const browser = new BrowserLikeClient(AGENT_HZ);
  const seen = new Set<ServerFrame>();
  agent.channel.socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as ServerFrame;
    if (seen.has(frame)) return;
    seen.add(frame);
    if (frame.type === 'media.answer') void browser.answer(frame.sdp);
    if (frame.type === 'media.candidate') void browser.addRemoteCandidate(frame.candidate);
  });
  const offer = await browser.offer();
  agent.channel.send({ type: 'media.offer', sdp: offer });
  browser.trickleTo((candidate) => agent.channel.send({ type: 'media.candidate', candidate }));
  await waitFor(() => browser.connectionState === 'connected', 'media line connected');
  browser.startSending();
  return browser;
}

/** The call center with media on, agent 1001 checked in and its media line open from a werift "browser". */
async function aliceOnTheLine(
  settings: Record<string, unknown> = {},
): Promise<{ alice: TestAgent; center: CallCenter; client: BrowserLikeClient }> {
  const started = await startCallCenter({
    checkIn: ['1001'],
    config: { media: { enabled: true, announcedAddress: '127.0.0.1' } },
    settings,
  });
  center = started;
  const alice = started.agents['1001'];
  if (!alice) throw new Error('no agent');
  const line = await openLine(alice);
  client = line;
  return { alice, center: started, client: line };
}

describe('a call carries audio both ways', () => {
  it('connects the agent line to the virtual customer on answer, with music on hold and mute', async () => {
    // Shadows the shared variables (which afterEach closes) with their narrowed values.
    const { alice, center, client } = await aliceOnTheLine();
    const joined = await alice.waitFor('AgentJoinChannel');
    expect(joined.data.status).toBe(3);

    const connId = await center.placeCall('13812345678');
    await alice.waitFor('AgentRinging');
    await alice.post(`/v1/agent/calls/${connId}/answer`);
    const party = center.server.hotline.media?.partyOf(connId);
    if (!party) throw new Error('no customer endpoint');

    await listen(600);
    client.clearHeard();
    party.clearHeard();
    await listen(1200);
    expect(share(client.heard(), CUSTOMER_HZ)).toBeGreaterThan(0.5);
    expect(share(party.heard(), AGENT_HZ)).toBeGreaterThan(0.5);

    // Hold: the customer hears music, the agent hears nothing of the customer.
    await alice.post(`/v1/agent/calls/${connId}/hold`);
    await listen(400);
    client.clearHeard();
    party.clearHeard();
    await listen(1200);
    expect(musicShare(party.heard())).toBeGreaterThan(0.3);
    expect(share(party.heard(), AGENT_HZ)).toBeLessThan(0.1);
    expect(share(client.heard(), CUSTOMER_HZ)).toBeLessThan(0.1);

    // Retrieve, then mute: the customer no longer hears the agent, the agent still hears the customer.
    await alice.post(`/v1/agent/calls/${connId}/retrieve`);
    await alice.post(`/v1/agent/calls/${connId}/mute`, { muted: true });
    await listen(400);
    client.clearHeard();
    party.clearHeard();
    await listen(1200);
    expect(share(party.heard(), AGENT_HZ)).toBeLessThan(0.1);
    expect(share(client.heard(), CUSTOMER_HZ)).toBeGreaterThan(0.5);

    await alice.post(`/v1/agent/calls/${connId}/hangup`);
    expect(center.server.hotline.media?.partyOf(connId)).toBeUndefined();

    // Checking out closes the line: AgentLeaveChannel.
    await alice.post('/v1/agent/checkout');
    await alice.waitFor('AgentLeaveChannel');
  }, 30_000);
});

describe('an agent whose live channel is lost in a call', () => {
  /** Alice answers a virtual customer's call, with a grace period of one second for lost channels. */
  async function aliceInACall() {
    const setup = await aliceOnTheLine({ channelGraceSeconds: 1 });
    const connId = await setup.center.placeCall('13812345678');
    await setup.alice.waitFor('AgentRinging');
    await setup.alice.post(`/v1/agent/calls/${connId}/answer`);
    const party = setup.center.server.hotline.media?.partyOf(connId);
    if (!party) throw new Error('no customer endpoint');
    return { ...setup, connId, party };
  }
  const statusOf = (center: CallCenter) => center.server.hotline.agents.state('demo', '1001').status;

  it('keeps the call past the grace period while the agent can still hear and be heard', async () => {
    const { alice, center, connId, party } = await aliceInACall();
    alice.channel.close();
    await listen(2_500);
    expect(isCallStatus(statusOf(center))).toBe(true);
    expect(center.server.hotline.calls.liveCalls('demo').map((call) => call.connId)).toEqual([connId]);
    party.clearHeard();
    await listen(1_000);
    expect(share(party.heard(), AGENT_HZ)).toBeGreaterThan(0.5);
  }, 30_000);

  it('leaves the call and checks the agent out once neither its channel nor its audio is there', async () => {
    const { alice, center, client, connId } = await aliceInACall();
    // The laptop is gone: no channel, and the browser stops answering (no goodbye: ICE consent runs out, 30 s).
    alice.channel.close();
    await client.close();
    await waitFor(() => statusOf(center) === AgentBarStatus.AgentCheckout, 'agent checked out', 45_000);
    expect(center.server.hotline.calls.liveCalls('demo')).toEqual([]);
    const { body: record } = await center.admin<CallRecord>('GET', `/v1/admin/instances/demo/records/${connId}`);
    expect(record).toMatchObject({ disposition: 'answered', releasedBy: 'agent', releaseReason: 'channel-lost' });
    const history = center.server.hotline.agents.history('demo', '1001', 1);
    expect(history[0]).toMatchObject({ cmd: 'channel-lost', to: AgentBarStatus.AgentCheckout });
  }, 60_000);
});

describe('a call transferred to an external number', () => {
  it('unlinks the departing agent: it hears nothing of the customer, and its next call bridges', async () => {
    // Shadows the shared variables (which afterEach closes) with their narrowed values.
    const { alice, center, client } = await aliceOnTheLine();
    await alice.waitFor('AgentJoinChannel');

    const first = await center.placeCall('13812345678');
    await alice.waitFor('AgentRinging');
    await alice.post(`/v1/agent/calls/${first}/answer`);
    const customer = center.server.hotline.media?.partyOf(first);
    if (!customer) throw new Error('no customer endpoint');
    await listen(600);

    const transferred = await alice.post(`/v1/agent/calls/${first}/transfer`, {
      target: { type: 'number', number: '13900001111' },
    });
    expect(transferred.status).toBe(200);
    // The number answers after 50 ms; from then on the agent is out of the call, in audio too.
    await listen(600);
    client.clearHeard();
    customer.clearHeard();
    await listen(1200);
    expect(share(client.heard(), CUSTOMER_HZ)).toBeLessThan(0.1);
    expect(share(customer.heard(), AGENT_HZ)).toBeLessThan(0.1);

    // The agent's line is free: the next call is bridged and carries audio both ways. (After-call work is 0 s
    // here, which means "until the agent acts".)
    const after = alice.messages().length;
    await alice.post('/v1/agent/ready');
    const second = await center.placeCall('13812345679');
    await alice.waitFor('AgentRinging', after, 15_000);
    await alice.post(`/v1/agent/calls/${second}/answer`);
    const next = center.server.hotline.media?.partyOf(second);
    if (!next) throw new Error('no customer endpoint for the second call');
    await listen(600);
    client.clearHeard();
    next.clearHeard();
    await listen(1200);
    expect(share(client.heard(), CUSTOMER_HZ)).toBeGreaterThan(0.5);
    expect(share(next.heard(), AGENT_HZ)).toBeGreaterThan(0.5);
  }, 40_000);
});

describe('an agent calling out', () => {
  it('hears ringback while the callee has not answered, silence once it hangs up, and the callee after an answer', async () => {
    // Shadows the shared variables (which afterEach closes) with their narrowed values.
    const { alice, client } = await aliceOnTheLine();
    await alice.waitFor('AgentJoinChannel');
    const ringbackHz = DEFAULT_RINGBACK.frequenciesHz[0] ?? 425;

    // A number that never answers: the tone plays its first second at once.
    client.clearHeard();
    const dialing = await alice.post<{ connId: string }>('/v1/agent/calls/outbound', { number: '13900000002' });
    expect(dialing.status).toBe(200);
    await listen(900);
    expect(share(client.heard(), ringbackHz)).toBeGreaterThan(0.3);

    // Hung up while dialing: the line falls silent (the next ringback burst would have come at 5 s).
    await alice.post(`/v1/agent/calls/${dialing.body.connId}/hangup`);
    await alice.post('/v1/agent/ready');
    await listen(300);
    client.clearHeard();
    await listen(1200);
    expect(share(client.heard(), ringbackHz)).toBeLessThan(0.05);

    // A number that answers after 50 ms: the customer, not the ringback, is what the agent hears.
    const answered = await alice.post<{ connId: string }>('/v1/agent/calls/outbound', { number: '13912345678' });
    expect(answered.status).toBe(200);
    await alice.waitFor('AgentCallOutBoundEstablish');
    await listen(600);
    client.clearHeard();
    await listen(1200);
    expect(share(client.heard(), CUSTOMER_HZ)).toBeGreaterThan(0.5);
    expect(share(client.heard(), ringbackHz)).toBeLessThan(0.05);
  }, 40_000);
});

describe('the media engine on /metrics', () => {
  /** One sample of a metric from the Prometheus text (no labels unless given), or undefined. */
  async function scrape(): Promise<(name: string) => number | undefined> {
    const text = await (await fetch(`${center?.server.url}/metrics`)).text();
    return (name) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? undefined : Number(line.slice(name.length + 1));
    };
  }

  it('shows the agent line, the call’s bridge and its packets, and the bridge gone after hang-up', async () => {
    const { alice, center } = await aliceOnTheLine();
    await alice.waitFor('AgentJoinChannel');
    const idle = await scrape();
    expect(idle('openhotline_media_agent_lines{state="connected"}')).toBe(1);
    expect(idle('openhotline_media_agent_lines{state="failed"}')).toBe(0);
    expect(idle('openhotline_media_bridges')).toBe(0);

    const connId = await center.placeCall('13812345678');
    await alice.waitFor('AgentRinging');
    await alice.post(`/v1/agent/calls/${connId}/answer`);
    await listen(500);
    const first = await scrape();
    await listen(1000);
    const second = await scrape();
    // The agent's line and the virtual customer, bridged; the browser's Opus transcoded to the customer's PCMU.
    expect(second('openhotline_media_endpoints')).toBe(2);
    expect(second('openhotline_media_bridges')).toBe(1);
    const received =
      (second('openhotline_media_packets_received_total') ?? 0) -
      (first('openhotline_media_packets_received_total') ?? 0);
    // Both ends speak 50 packets a second.
    expect(received).toBeGreaterThan(60);
    expect(second('openhotline_media_frames_decoded_total')).toBeGreaterThan(
      first('openhotline_media_frames_decoded_total') ?? 0,
    );
    expect(second('openhotline_media_frames_encoded_total')).toBeGreaterThan(0);
    // Node's own: the collector pauses every packet waits out.
    expect(second('nodejs_gc_duration_seconds_count{kind="minor"}')).toBeGreaterThan(0);

    await alice.post(`/v1/agent/calls/${connId}/hangup`);
    const after = await scrape();
    expect(after('openhotline_media_bridges')).toBe(0);
    expect(after('openhotline_media_endpoints')).toBe(1);
  }, 30_000);
});
