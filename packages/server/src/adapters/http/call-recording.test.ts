import { join } from 'node:path';
import type { CallRecord, ServerFrame } from '@openhotline/protocol';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { agentToken, api } from '../../test-support/api.js';
import { type CallCenter, startCallCenter, type TestAgent } from '../../test-support/call-center.js';
import { startTestServer } from '../../test-support/test-server.js';
import { BrowserLikeClient, sleep, waitFor } from '../media/test-support/browser-like-client.js';
import { dominantFrequency } from '../media/tone.js';
import { readWav } from '../media/wav.js';

/**
 * Recording through the real server: agents' "browsers" are werift peers saying their own tone over media lines
 * negotiated on the live channel, the virtual customer says 1000 Hz. After the call, the record links its
 * recordings and the download routes serve 2-channel WAVs: the agent's tone on the left, the customer's on the
 * right — to the agents who talked in them and to the instance's admins, to nobody else.
 */
const ALICE_HZ = 440;
const BOB_HZ = 700;
const CUSTOMER_HZ = 1000;
const TONES = [ALICE_HZ, BOB_HZ, CUSTOMER_HZ];

let center: CallCenter | undefined;
const clients: BrowserLikeClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await center?.close();
  center = undefined;
}, 60_000);

async function start(): Promise<CallCenter> {
  center = await startCallCenter({
    checkIn: ['1001', '1002'],
    config: { media: { enabled: true, announcedAddress: '127.0.0.1' } },
  });
  return center;
}

function agentOf(c: CallCenter, id: string): TestAgent {
  const agent = c.agents[id];
  if (!agent) throw new Error(`no agent ${id}`);
  return agent;
}

/** Opens the agent's media line as the SDK does (offer, trickle, answer on the live channel); it says `hz`. */
async function openLine(agent: TestAgent, hz: number): Promise<void> {
  const browser = new BrowserLikeClient(hz);
  clients.push(browser);
  agent.channel.socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as ServerFrame;
    if (frame.type === 'media.answer') void browser.answer(frame.sdp);
    if (frame.type === 'media.candidate') void browser.addRemoteCandidate(frame.candidate);
  });
  const offer = await browser.offer();
  agent.channel.send({ type: 'media.offer', sdp: offer });
  browser.trickleTo((candidate) => agent.channel.send({ type: 'media.candidate', candidate }));
  await waitFor(() => browser.connectionState === 'connected', 'media line connected');
  await agent.waitFor('AgentJoinChannel');
  browser.startSending();
}

/**
 * Waits until the call's customer hears `hz` in its last 200 ms: audio really flows before the test moves the call
 * on (on a loaded machine a line's first packets can come late, and a short segment would then hold silence).
 */
async function customerHears(c: CallCenter, connId: string, hz: number): Promise<void> {
  await waitFor(() => {
    const heard = c.server.hotline.media?.partyOf(connId)?.heard();
    return heard !== undefined && heard.length >= 1600 && dominantFrequency(heard.subarray(-1600), 8000, TONES) === hz;
  }, `the customer hears ${hz} Hz`);
}

/** The record as this agent reads it, once `count` recordings are listed (they finish just after the call). */
async function recordWithRecordings(agent: TestAgent, connId: string, count: number): Promise<CallRecord> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const record = (await agent.get<CallRecord>(`/v1/agent/records/${connId}`)).body;
    if ((record.recordings?.length ?? 0) >= count || Date.now() > deadline) return record;
    await sleep(50);
  }
}

async function download(
  server: { readonly url: string },
  url: string,
  token: string,
  headers: Record<string, string> = {},
) {
  return fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
}

/** The dominant tone of each channel of a WAV (the first 200 ms skipped: jitter buffers fill). */
function tones(bytes: ArrayBuffer): { left?: number; right?: number; channels: number; sampleRate: number } {
  const wav = readWav(new Uint8Array(bytes));
  const left = wav.samples.filter((_, i) => i % 2 === 0).subarray(1600);
  const right = wav.samples.filter((_, i) => i % 2 === 1).subarray(1600);
  return {
    left: dominantFrequency(left, 8000, TONES),
    right: dominantFrequency(right, 8000, TONES),
    channels: wav.channels,
    sampleRate: wav.sampleRate,
  };
}

describe('a call is recorded and downloadable like its record', () => {
  it('links a stereo WAV per stretch of talk: agent left, customer right; others get 404 or 403', async () => {
    const c = await start();
    const alice = agentOf(c, '1001');
    const bob = agentOf(c, '1002');
    await openLine(alice, ALICE_HZ);

    const connId = await c.placeCall('13812345678');
    await alice.waitFor('AgentRinging');
    await alice.post(`/v1/agent/calls/${connId}/answer`);
    await sleep(1500);
    // Hold ends the first segment; retrieve starts the second.
    await alice.post(`/v1/agent/calls/${connId}/hold`);
    await sleep(500);
    await alice.post(`/v1/agent/calls/${connId}/retrieve`);
    await sleep(1200);
    expect(await c.callerHangsUp(connId)).toBe(204);

    const record = await recordWithRecordings(alice, connId, 2);
    const recordings = record.recordings ?? [];
    expect(recordings.map((r) => [r.segment, r.agentId, r.interrupted])).toEqual([
      [1, '1001', false],
      [2, '1001', false],
    ]);
    const [first, second] = recordings;
    if (!first || !second) throw new Error('two recordings expected');
    expect(record.recordingUrl).toBe(first.url);
    expect(first.url).toBe(`/v1/agent/records/${connId}/recordings/${first.id}`);
    expect(first.durationMs).toBeGreaterThan(1000);
    expect(first.durationMs).toBeLessThan(2500);

    const response = await download(c.server, first.url, alice.token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/wav');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(Number(response.headers.get('content-length'))).toBe(first.bytes);
    const wav = await response.arrayBuffer();
    expect(wav.byteLength).toBe(first.bytes);
    expect(tones(wav)).toEqual({ left: ALICE_HZ, right: CUSTOMER_HZ, channels: 2, sampleRate: 8000 });
    expect(tones(await (await download(c.server, second.url, alice.token)).arrayBuffer())).toMatchObject({
      left: ALICE_HZ,
      right: CUSTOMER_HZ,
    });

    // A browser's <audio> seeks with Range.
    const part = await download(c.server, first.url, alice.token, { range: 'bytes=44-143' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 44-143/${first.bytes}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(Buffer.from(wav.slice(44, 144)));
    const beyond = await download(c.server, first.url, alice.token, { range: `bytes=${first.bytes}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${first.bytes}`);
    expect(((await beyond.json()) as { code: string }).code).toBe('RangeNotSatisfiable');

    // Another agent of the same instance: as if it did not exist.
    const stranger = await download(c.server, first.url, bob.token);
    expect(stranger.status).toBe(404);
    expect(((await stranger.json()) as { code: string }).code).toBe('RecordingNotFound');
    // Unknown ids, and ids that are no file names, never reach the disk.
    const unknown = await download(c.server, `/v1/agent/records/${connId}/recordings/rec_nope`, alice.token);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('RecordingNotFound');
    const traversal = await download(
      c.server,
      `/v1/agent/records/${connId}/recordings/..%2F..%2Fopenhotline.db`,
      alice.token,
    );
    expect(traversal.status).toBe(400);
    const wrongCall = await download(c.server, `/v1/agent/records/conn_other/recordings/${first.id}`, alice.token);
    expect(wrongCall.status).toBe(404);

    // The admin key reads the record with admin URLs and downloads the same bytes.
    const admin = await c.admin<CallRecord>('GET', `/v1/admin/instances/demo/records/${connId}`);
    const adminUrl = `/v1/admin/instances/demo/records/${connId}/recordings/${first.id}`;
    expect(admin.body.recordingUrl).toBe(adminUrl);
    expect(admin.body.recordings?.map((r) => r.id)).toEqual([first.id, second.id]);
    const asAdmin = await download(c.server, adminUrl, c.server.adminKey);
    expect(Buffer.from(await asAdmin.arrayBuffer())).toEqual(Buffer.from(wav));
    const listed = await c.admin<{ items: CallRecord[] }>('GET', '/v1/admin/instances/demo/records');
    expect(listed.body.items.find((r) => r.connId === connId)?.recordingUrl).toBe(adminUrl);
    // An agent token is no admin; a backend token of another instance is forbidden here.
    expect((await download(c.server, adminUrl, alice.token)).status).toBe(403);
    const { directory } = c.server.hotline;
    directory.createInstance({ id: 'elsewhere', name: 'Elsewhere' });
    directory.createApiClient('elsewhere', {
      name: 'Elsewhere backend',
      clientId: 'elsewhere-client',
      clientSecret: 'elsewhere-secret-0123456',
    });
    const foreign = await api<{ access_token: string }>(c.server, 'POST', '/oauth2/token', {
      body: {
        grant_type: 'client_credentials',
        client_id: 'elsewhere-client',
        client_secret: 'elsewhere-secret-0123456',
      },
    });
    const foreignToken = foreign.body.access_token;
    expect((await download(c.server, adminUrl, foreignToken)).status).toBe(403);
    // ... and its own instance has no such recording.
    const own = await download(
      c.server,
      `/v1/admin/instances/elsewhere/records/${connId}/recordings/${first.id}`,
      foreignToken,
    );
    expect(own.status).toBe(404);
    expect(((await own.json()) as { code: string }).code).toBe('RecordingNotFound');
  }, 90_000);

  it('gives an attended transfer a segment per agent, each downloadable only by the agent in it', async () => {
    const c = await start();
    const alice = agentOf(c, '1001');
    const bob = agentOf(c, '1002');
    await openLine(alice, ALICE_HZ);
    await openLine(bob, BOB_HZ);

    const connId = await c.placeCall('13812345678');
    await alice.waitFor('AgentRinging');
    await alice.post(`/v1/agent/calls/${connId}/answer`);
    await customerHears(c, connId, ALICE_HZ);
    await sleep(1200);
    const b0 = bob.messages().length;
    await alice.post(`/v1/agent/calls/${connId}/consult`, { target: { type: 'agent', agentId: '1002' } });
    await bob.waitFor('AgentRinging', b0);
    await bob.post(`/v1/agent/calls/${connId}/answer`);
    await alice.waitFor('AgentCallThirdConsult');
    await sleep(300);
    await alice.post(`/v1/agent/calls/${connId}/consult/complete`);
    await customerHears(c, connId, BOB_HZ);
    await sleep(1200);
    await bob.post(`/v1/agent/calls/${connId}/hangup`);

    const asAlice = await recordWithRecordings(alice, connId, 1);
    const asBob = await recordWithRecordings(bob, connId, 1);
    expect(asAlice.recordings?.map((r) => [r.segment, r.agentId])).toEqual([[1, '1001']]);
    expect(asBob.recordings?.map((r) => [r.segment, r.agentId])).toEqual([[2, '1002']]);
    const aliceSegment = asAlice.recordings?.[0];
    const bobSegment = asBob.recordings?.[0];
    if (!aliceSegment || !bobSegment) throw new Error('recordings expected');
    expect(tones(await (await download(c.server, aliceSegment.url, alice.token)).arrayBuffer())).toMatchObject({
      left: ALICE_HZ,
      right: CUSTOMER_HZ,
    });
    expect(tones(await (await download(c.server, bobSegment.url, bob.token)).arrayBuffer())).toMatchObject({
      left: BOB_HZ,
      right: CUSTOMER_HZ,
    });
    // A new token changes nothing: the rule is the agent, not the session.
    const again = await download(c.server, bobSegment.url, await agentToken(c.server, '1002'));
    expect(again.status).toBe(200);
    expect((await again.arrayBuffer()).byteLength).toBe(bobSegment.bytes);
    // Both read the record; neither downloads the other's segment. (Ending on plain responses lets the server close
    // at once: one closed the instant a streamed body arrived may wait for that connection's keep-alive timeout.)
    expect((await download(c.server, bobSegment.url, alice.token)).status).toBe(404);
    expect((await download(c.server, aliceSegment.url, bob.token)).status).toBe(404);
  }, 90_000);

  it('finishes the recording of a call the server stopped in, and keeps it downloadable after the restart', async () => {
    const c = await start();
    const alice = agentOf(c, '1001');
    await openLine(alice, ALICE_HZ);
    const connId = await c.placeCall('13812345678');
    await alice.waitFor('AgentRinging');
    await alice.post(`/v1/agent/calls/${connId}/answer`);
    await sleep(1500);
    // Stopping waits for the recording to be finished and its row written, before storage closes: the database
    // the stopped server left says so (before any restart could repair it).
    await c.server.stop();
    const left = new Database(join(c.server.dataDir, 'openhotline.db'), { readonly: true });
    try {
      expect(left.prepare('SELECT state FROM call_recordings WHERE conn_id = ?').pluck().all(connId)).toEqual([
        'interrupted',
      ]);
    } finally {
      left.close();
    }

    const restarted = await startTestServer({ dataDir: c.server.dataDir });
    try {
      const admin = await api<CallRecord>(restarted, 'GET', `/v1/admin/instances/demo/records/${connId}`, {
        token: restarted.adminKey,
      });
      expect(admin.body.disposition).toBe('interrupted');
      const [only, ...more] = admin.body.recordings ?? [];
      expect(more).toEqual([]);
      expect(only).toMatchObject({ segment: 1, agentId: '1001', interrupted: true });
      if (!only) throw new Error('a recording expected');
      expect(only.durationMs).toBeGreaterThan(1000);
      const response = await download(restarted, only.url, restarted.adminKey);
      expect(response.status).toBe(200);
      const wav = await response.arrayBuffer();
      expect(wav.byteLength).toBe(only.bytes);
      expect(tones(wav)).toMatchObject({ left: ALICE_HZ, right: CUSTOMER_HZ });
      // The last request on the connection is an ordinary one: a server closed the instant a streamed response
      // reached the client may not count that connection idle yet and wait for its keep-alive timeout.
      const again = await api<CallRecord>(restarted, 'GET', `/v1/admin/instances/demo/records/${connId}`, {
        token: restarted.adminKey,
      });
      expect(again.body.recordings).toEqual(admin.body.recordings);
    } finally {
      await restarted.stop();
    }
  }, 90_000);
});
