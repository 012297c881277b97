import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaEngine } from '../adapters/media/media-engine.js';
import { MediaSwitch } from '../adapters/media/media-switch.js';
import { ManualMediaClock } from '../adapters/media/test-support/manual-clock.js';
import { dominantFrequency } from '../adapters/media/tone.js';
import { readWav, wavHeader } from '../adapters/media/wav.js';
import { openSqliteStorage } from '../adapters/storage/sqlite.js';
import type { Storage, StoredCallRecording } from '../adapters/storage/storage.js';
import { loadConfig, recordingSettings } from '../config.js';
import { CallRecordings, finishInterruptedRecordings, recordingPath } from './call-recordings.js';
import { ManualClock } from './clock.js';
import { DEFAULT_INSTANCE_SETTINGS } from './directory-service.js';
import { silentLogger } from './logger.js';

/**
 * The segment rules on the real media switch (the engine werift runs on) with virtual parties standing in for agent
 * lines, a manual media clock (one tick = 20 ms) and SQLite in memory: what each WAV file holds, channel by channel.
 */
const SECOND = 50;
const ALICE_HZ = 440;
const BOB_HZ = 700;
const CUSTOMER_HZ = 1000;
const TONES = [ALICE_HZ, BOB_HZ, CUSTOMER_HZ];
const CALL = { connId: 'conn_1', instanceId: 'demo' };
const alice = { agentId: '1001', endpointId: 'line-alice' };
const bob = { agentId: '1002', endpointId: 'line-bob' };

let dir: string;
let storage: Storage;
let mediaClock: ManualMediaClock;
let engine: MediaEngine;
let recordings: CallRecordings;
let counter: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'openhotline-recordings-'));
  storage = openSqliteStorage(':memory:');
  storage.instances.create({
    id: 'demo',
    name: 'Demo',
    settings: DEFAULT_INSTANCE_SETTINGS,
    createdAt: '2024-01-01T00:00:00Z',
  });
  mediaClock = new ManualMediaClock();
  engine = new MediaSwitch({
    clock: mediaClock,
    lines: () => {
      throw new Error('no WebRTC lines in this test');
    },
  });
  engine.createVirtualParty(alice.endpointId, { prompt: { toneHz: ALICE_HZ } });
  engine.createVirtualParty(bob.endpointId, { prompt: { toneHz: BOB_HZ } });
  engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
  counter = 0;
  recordings = new CallRecordings({
    engine,
    storage,
    clock: new ManualClock(Date.UTC(2024, 4, 1, 9)),
    ids: (prefix) => `${prefix}_${++counter}`,
    dir,
    log: silentLogger,
  });
});

afterEach(async () => {
  await recordings.close();
  await engine.close();
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The engine opens files asynchronously: wait until it records as many streams as expected, then let time pass. */
async function talkFor(seconds: number, streams: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (engine.stats().recordings !== streams) {
    if (Date.now() > deadline) throw new Error(`expected ${streams} recordings, have ${engine.stats().recordings}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  mediaClock.tick(seconds * SECOND);
}

/** The dominant tone of each channel of a recording's file (the first 100 ms skipped: jitter buffer warm-up). */
function channels(recording: StoredCallRecording): { left?: number; right?: number; seconds: number } {
  const path = recordingPath(dir, recording);
  if (!path) throw new Error('no path');
  const wav = readWav(readFileSync(path));
  const left = wav.samples.filter((_, i) => i % 2 === 0).subarray(800);
  const right = wav.samples.filter((_, i) => i % 2 === 1).subarray(800);
  return {
    left: dominantFrequency(left, 8000, TONES),
    right: dominantFrequency(right, 8000, TONES),
    seconds: wav.samples.length / 2 / 8000,
  };
}

const segments = () => storage.callRecordings.listByCall('demo', CALL.connId);

describe('one segment per stretch of talk', () => {
  it('records the agent left and the customer right, named by the server, until the call ends', async () => {
    engine.bridge(alice.endpointId, 'customer');
    recordings.talking(CALL, 'customer', [alice]);
    await talkFor(2, 1);
    expect(segments()).toMatchObject([{ segment: 1, agentId: '1001', state: 'recording', durationMs: null }]);
    recordings.ended(CALL.connId);
    await recordings.settled();

    const [only] = segments();
    if (!only) throw new Error('no segment');
    expect(only).toMatchObject({
      id: 'rec_1',
      segment: 1,
      agentId: '1001',
      participantIds: ['1001'],
      fileName: '2024-05-01/rec_1.wav',
      startedAt: Date.UTC(2024, 4, 1, 9),
      durationMs: 2000,
      bytes: 44 + 2 * 2 * 16_000,
      state: 'done',
    });
    expect(channels(only)).toEqual({ left: ALICE_HZ, right: CUSTOMER_HZ, seconds: 2 });
    expect(engine.stats().recordings).toBe(0);
  });

  it('pauses on hold and starts a new segment with the same agent on retrieve', async () => {
    engine.bridge(alice.endpointId, 'customer');
    recordings.talking(CALL, 'customer', [alice]);
    await talkFor(1, 1);
    recordings.pause(CALL.connId);
    await recordings.settled();
    mediaClock.tick(3 * SECOND); // on hold: nothing is written anywhere
    recordings.resume(CALL.connId);
    await talkFor(2, 1);
    recordings.ended(CALL.connId);
    await recordings.settled();

    expect(segments().map((s) => [s.segment, s.agentId, s.durationMs, s.state])).toEqual([
      [1, '1001', 1000, 'done'],
      [2, '1001', 2000, 'done'],
    ]);
    for (const segment of segments()) expect(channels(segment)).toMatchObject({ left: ALICE_HZ, right: CUSTOMER_HZ });
  });

  it('does not split a segment when told again about the same agent', async () => {
    engine.bridge(alice.endpointId, 'customer');
    recordings.talking(CALL, 'customer', [alice]);
    recordings.talking(CALL, 'customer', [alice]);
    await talkFor(1, 1);
    expect(recordings.openSegments(CALL.connId)).toBe(1);
    recordings.ended(CALL.connId);
    await recordings.settled();
    expect(segments()).toHaveLength(1);
  });

  it('gives a transfer a new segment with the new agent on the left', async () => {
    const first = engine.bridge(alice.endpointId, 'customer');
    recordings.talking(CALL, 'customer', [alice]);
    await talkFor(1, 1);
    first.close();
    engine.bridge(bob.endpointId, 'customer');
    recordings.talking(CALL, 'customer', [bob]);
    await recordings.settled();
    await talkFor(1, 1);
    recordings.ended(CALL.connId);
    await recordings.settled();

    const [one, two] = segments();
    if (!one || !two) throw new Error('two segments expected');
    expect([one.agentId, one.participantIds, two.agentId, two.participantIds]).toEqual([
      '1001',
      ['1001'],
      '1002',
      ['1002'],
    ]);
    expect(channels(one)).toMatchObject({ left: ALICE_HZ, right: CUSTOMER_HZ, seconds: 1 });
    expect(channels(two)).toMatchObject({ left: BOB_HZ, right: CUSTOMER_HZ, seconds: 1 });
  });

  it('records a conference as one file per agent, each with the customer on the right', async () => {
    engine.conference([alice.endpointId, bob.endpointId, 'customer']);
    recordings.talking(CALL, 'customer', [alice, bob]);
    await talkFor(1, 2);
    recordings.ended(CALL.connId);
    await recordings.settled();

    const [one, two] = segments();
    if (!one || !two) throw new Error('two segments expected');
    expect(one).toMatchObject({ segment: 1, agentId: '1001', participantIds: ['1001', '1002'] });
    expect(two).toMatchObject({ segment: 2, agentId: '1002', participantIds: ['1001', '1002'] });
    expect(channels(one)).toMatchObject({ left: ALICE_HZ, right: CUSTOMER_HZ });
    expect(channels(two)).toMatchObject({ left: BOB_HZ, right: CUSTOMER_HZ });
  });

  it('marks a segment that could not start as failed and goes on', async () => {
    recordings.talking(CALL, 'customer', [{ agentId: '1003', endpointId: 'no-such-line' }]);
    await recordings.close();
    expect(segments()).toMatchObject([{ agentId: '1003', state: 'failed', bytes: 0 }]);
  });
});

describe('after a restart', () => {
  const row = (id: string, fileName: string) => ({
    id,
    instanceId: 'demo',
    connId: 'conn_9',
    segment: Number(id.slice(-1)),
    agentId: '1001',
    participantIds: ['1001'],
    fileName,
    startedAt: 0,
  });

  it('repairs the header of a file the engine never finished and marks missing files failed', () => {
    // What the engine leaves on disk when the process dies: a header with size 0, then whole and half frames.
    mkdirSync(join(dir, '2024-05-01'));
    const frames = 8000 * 3;
    writeFileSync(
      join(dir, '2024-05-01/rec_1.wav'),
      Buffer.concat([wavHeader(0, 8000, 2), Buffer.alloc(frames * 4 + 2, 1)]),
    );
    storage.callRecordings.create(row('rec_1', '2024-05-01/rec_1.wav'));
    storage.callRecordings.create(row('rec_2', '2024-05-01/rec_2.wav'));

    expect(finishInterruptedRecordings(storage, dir, silentLogger)).toBe(2);
    expect(storage.callRecordings.listUnfinished()).toEqual([]);
    const [repaired, missing] = storage.callRecordings.listByCall('demo', 'conn_9');
    expect(repaired).toMatchObject({ state: 'interrupted', durationMs: 3000, bytes: 44 + frames * 4 });
    expect(missing).toMatchObject({ state: 'failed', bytes: 0 });
    const bytes = readFileSync(join(dir, '2024-05-01/rec_1.wav'));
    expect(bytes.readUInt32LE(40)).toBe(frames * 4);
    expect(bytes.readUInt32LE(4)).toBe(36 + frames * 4);
    expect(readWav(bytes).samples.length).toBe(frames * 2);
  });

  it('never follows a stored file name out of the recordings folder', () => {
    writeFileSync(join(dir, '..', 'outside.wav'), Buffer.alloc(100));
    storage.callRecordings.create(row('rec_1', '../outside.wav'));
    expect(recordingPath(dir, { fileName: '../outside.wav' })).toBeUndefined();
    expect(recordingPath(dir, { fileName: '/etc/passwd' })).toBe(join(dir, 'etc/passwd'));
    finishInterruptedRecordings(storage, dir, silentLogger);
    expect(storage.callRecordings.get('demo', 'rec_1')).toMatchObject({ state: 'failed' });
    expect(readFileSync(join(dir, '..', 'outside.wav')).length).toBe(100);
    rmSync(join(dir, '..', 'outside.wav'));
  });
});

describe('configuration', () => {
  it('records when media is on, into <dataDir>/recordings, unless told otherwise', () => {
    const base = { dataDir: '/srv/hotline' };
    expect(recordingSettings(loadConfig({ overrides: base }))).toEqual({
      enabled: true,
      dir: '/srv/hotline/recordings',
    });
    expect(recordingSettings(loadConfig({ overrides: { ...base, media: { enabled: false } } })).enabled).toBe(false);
    const fromEnv = loadConfig({
      env: { OPENHOTLINE_RECORDING: 'false', OPENHOTLINE_RECORDING_DIR: '/mnt/recordings' },
      overrides: base,
    });
    expect(recordingSettings(fromEnv)).toEqual({ enabled: false, dir: '/mnt/recordings' });
    expect(() => loadConfig({ env: { OPENHOTLINE_RECORDING: 'maybe' } })).toThrow(
      /OPENHOTLINE_RECORDING must be true or false/,
    );
    expect(existsSync('/srv/hotline')).toBe(false);
  });
});
