import { AgentBarStatus, type CallRecord } from '@openhotline/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VirtualCarrier } from '../adapters/carrier/virtual-carrier.js';
import { UNKNOWN_LOCATION } from '../adapters/location/number-location.js';
import { openSqliteStorage } from '../adapters/storage/sqlite.js';
import { loadConfig } from '../config.js';
import { createHotline, type Hotline } from '../hotline.js';
import { DEMO_INSTANCE_ID, seedDemo } from '../seed.js';
import { ManualClock } from './clock.js';
import { silentLogger } from './logger.js';
import { CallStatistics, WALLBOARD_MIN_PUSH_INTERVAL_MS, WALLBOARD_REFRESH_MS, WallboardService } from './wallboard.js';

// Seeding hashes the demo client's secret with scrypt; these tests are about calls, not secrets.
vi.mock('./token-service.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./token-service.js')>()),
  hashSecret: (secret: string) => `plain$${secret}`,
}));

const I = DEMO_INSTANCE_ID;
const HOTLINE = '4008001000';
/** A minute boundary, so that bucket arithmetic in the tests reads plainly. */
const T0 = 1_700_000_040_000;

/** An inbound call record at a milestone, as the call service writes it. */
function inbound(connId: string, fields: Partial<CallRecord>): CallRecord {
  return {
    connId,
    instanceId: I,
    direction: 'inbound',
    ani: '13812345678',
    dnis: HOTLINE,
    callerIdUsed: '',
    skillGroupId: 'support',
    agentId: '',
    agentIds: [],
    disposition: 'active',
    releasedBy: '',
    releaseReason: '',
    offeredAt: T0,
    queuedAt: null,
    ringingAt: null,
    answeredAt: null,
    endedAt: null,
    memberId: '',
    memberName: '',
    fromSource: '',
    taskId: '',
    channelId: '',
    caseId: '',
    legs: [],
    events: [],
    recordingUrl: null,
    ...fields,
  } as CallRecord;
}

describe('call statistics', () => {
  it('counts each call once however often its record is written, and only inbound calls', () => {
    const clock = new ManualClock(T0);
    const stats = new CallStatistics(clock);
    stats.record(inbound('c1', {}));
    stats.record(inbound('c1', { queuedAt: T0 }));
    stats.record(inbound('c1', { answeredAt: T0 + 5_000 }));
    stats.record(inbound('c1', { answeredAt: T0 + 5_000 }));
    stats.record(inbound('o1', { direction: 'outbound', answeredAt: T0 + 1_000 }));
    clock.advance(65_000);
    stats.record(inbound('c1', { answeredAt: T0 + 5_000, endedAt: T0 + 65_000, disposition: 'answered' }));
    const summary = stats.summary(30, 20_000);
    expect(summary).toMatchObject({ offered: 1, answered: 1, abandoned: 0, unanswered: 0 });
    expect(summary.averageSpeedOfAnswerMs).toBe(5_000);
    expect(summary.averageHandleTimeMs).toBe(60_000);
  });

  it('gives the service level as answered within the target over calls that stopped waiting', () => {
    const clock = new ManualClock(T0 + 50_000);
    const stats = new CallStatistics(clock);
    // Answered after 10 s and after 30 s, one abandoned, one timed out in the queue.
    stats.record(inbound('fast', { answeredAt: T0 + 10_000 }));
    stats.record(inbound('slow', { answeredAt: T0 + 30_000 }));
    stats.record(inbound('gone', { endedAt: T0 + 40_000, disposition: 'abandoned' }));
    stats.record(inbound('late', { endedAt: T0 + 45_000, disposition: 'queue-timeout' }));
    // Still waiting: offered, but not in the service level yet.
    stats.record(inbound('wait', { offeredAt: T0 + 49_000 }));

    const at20 = stats.summary(30, 20_000);
    expect(at20).toMatchObject({ offered: 5, answered: 2, abandoned: 1, unanswered: 1, serviceLevelPercent: 25 });
    expect(at20.averageSpeedOfAnswerMs).toBe(20_000);
    // The target is asked for per snapshot: a looser one counts the slow answer too.
    expect(stats.summary(30, 30_000).serviceLevelPercent).toBe(50);
    expect(new CallStatistics(clock).summary(30, 20_000).serviceLevelPercent).toBeNull();
  });

  it('puts each milestone in the interval where it happened, oldest interval first', () => {
    const clock = new ManualClock(T0);
    const stats = new CallStatistics(clock);
    stats.record(inbound('a', {}));
    clock.advance(2 * 60_000);
    // Offered two minutes ago, answered now after 120 s: beyond a 20 s target.
    stats.record(inbound('a', { answeredAt: clock.now() }));
    stats.record(inbound('b', { offeredAt: clock.now() }));
    clock.advance(1_000);
    stats.record(inbound('b', { offeredAt: clock.now() - 1_000, answeredAt: clock.now() }));

    const minutes = stats.series(1, 30, 20_000);
    expect(minutes).toHaveLength(30);
    const last = minutes[29];
    const first = minutes[27];
    expect(last).toMatchObject({ start: T0 + 120_000, offered: 1, answered: 2, serviceLevelPercent: 50 });
    expect(minutes[28]).toMatchObject({ offered: 0, answered: 0, serviceLevelPercent: null });
    expect(first).toMatchObject({ start: T0, offered: 1, answered: 0 });

    const fives = stats.series(5, 24, 20_000);
    expect(fives).toHaveLength(24);
    expect(fives.at(-1)?.start).toBe(Math.floor(clock.now() / 300_000) * 300_000);
    expect(fives.reduce((sum, interval) => sum + interval.offered, 0)).toBe(2);
  });

  it('counts abandoned calls where the caller gave up, and forgets what is older than a day', () => {
    const clock = new ManualClock(T0);
    const stats = new CallStatistics(clock);
    stats.record(inbound('a', {}));
    clock.advance(90_000);
    stats.record(inbound('a', { endedAt: clock.now(), disposition: 'abandoned' }));
    expect(stats.series(1, 2, 20_000).map((i) => [i.offered, i.abandoned])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(stats.summary(24 * 60, 20_000)).toMatchObject({ offered: 1, abandoned: 1, serviceLevelPercent: 0 });
    clock.advance(24 * 60 * 60_000);
    stats.record(inbound('b', { offeredAt: clock.now() }));
    expect(stats.summary(24 * 60, 20_000)).toMatchObject({ offered: 1, abandoned: 0 });
  });

  it('leaves the handle time of a call cut by a restart out', () => {
    const clock = new ManualClock(T0 + 600_000);
    const stats = new CallStatistics(clock);
    stats.record(inbound('cut', { answeredAt: T0 + 1_000, endedAt: T0 + 599_000, disposition: 'interrupted' }));
    expect(stats.summary(30, 20_000)).toMatchObject({ answered: 1, averageHandleTimeMs: null });
  });
});

describe('the wallboard of a running hotline', () => {
  let clock: ManualClock;
  let hotline: Hotline;

  const settle = async () => {
    // Distribution runs in a microtask and status writes in the next turn: let both happen.
    await new Promise((resolve) => setImmediate(resolve));
  };

  beforeEach(() => {
    clock = new ManualClock(T0);
    let serial = 0;
    hotline = createHotline(
      loadConfig({ overrides: { seedDemo: false, adminKey: 'wallboard-test-admin-key-0123456789' } }),
      {
        storage: openSqliteStorage(':memory:'),
        clock,
        ids: (prefix) => `${prefix}_${++serial}`,
        carrier: new VirtualCarrier({ clock }),
        locator: { locate: () => UNKNOWN_LOCATION },
        log: silentLogger,
      },
    );
    seedDemo(hotline);
    hotline.directory.updateInstance(I, { settings: { acwSeconds: 0, ringTimeoutSeconds: 30 } });
  });

  afterEach(async () => {
    await hotline.close();
  });

  const checkIn = (agentId: string) => {
    hotline.agents.channelOpened(I, agentId);
    hotline.agents.checkin(I, agentId, {});
  };

  it('shows agents, a waiting caller with its wait, and the answered call in the statistics', async () => {
    checkIn('1002');
    hotline.agents.startBreak(I, '1002', 'meal');
    const connId = hotline.virtualCallers.place({ from: '13812345678', to: HOTLINE });
    await settle();
    clock.advance(12_000);

    let board = hotline.wallboard.snapshot(I);
    const lina = board.agents.find((a) => a.agentId === '1002');
    expect(lina).toMatchObject({ status: AgentBarStatus.AgentBreak, online: true, since: T0 });
    expect(lina?.breakReasonText).toEqual({ 'zh-CN': '用餐', en: 'Meal' });
    expect(board.agentCounts).toMatchObject({ AgentBreak: 1, AgentUnregistered: 2, AgentReady: 0 });
    expect(board.queues.find((q) => q.skillGroupId === 'support')).toMatchObject({
      waiting: 1,
      longestWaitMs: 12_000,
      oldestQueuedAt: T0,
      readyAgents: 0,
    });
    expect(board.calls).toEqual([
      expect.objectContaining({ connId, state: 'queued', number: '138****5678', durationMs: 12_000 }),
    ]);

    hotline.agents.ready(I, '1002');
    await settle();
    board = hotline.wallboard.snapshot(I);
    expect(board.calls[0]).toMatchObject({ state: 'ringing', agentId: '1002', agentName: '李娜 Li Na' });
    clock.advance(3_000);
    hotline.calls.answer(I, '1002', connId, {});
    board = hotline.wallboard.snapshot(I);
    expect(board.calls[0]).toMatchObject({ state: 'talking', agentId: '1002', number: '138****5678' });
    expect(board.agents.find((a) => a.agentId === '1002')?.status).toBe(AgentBarStatus.AgentCallInboundEstablish);

    hotline.calls.hold(I, '1002', connId);
    expect(hotline.wallboard.snapshot(I).calls[0]?.state).toBe('held');
    hotline.calls.retrieve(I, '1002', connId);
    clock.advance(40_000);
    hotline.calls.hangup(I, '1002', connId, {});
    await settle();

    board = hotline.wallboard.snapshot(I, 20);
    expect(board.calls).toEqual([]);
    expect(board.queues.every((q) => q.waiting === 0)).toBe(true);
    expect(board.summary.last30Minutes).toMatchObject({
      offered: 1,
      answered: 1,
      abandoned: 0,
      serviceLevelPercent: 100,
      averageSpeedOfAnswerMs: 15_000,
      averageHandleTimeMs: 40_000,
    });
    // A 10-second target was missed by this call.
    expect(hotline.wallboard.snapshot(I, 10).summary.last30Minutes.serviceLevelPercent).toBe(0);
  });

  it('counts a caller who gives up in the queue as abandoned', async () => {
    const connId = hotline.virtualCallers.place({ from: '13812345678', to: HOTLINE });
    await settle();
    clock.advance(8_000);
    hotline.virtualCallers.hangUp(I, connId);
    await settle();
    const board = hotline.wallboard.snapshot(I);
    expect(board.summary.last30Minutes).toMatchObject({
      offered: 1,
      answered: 0,
      abandoned: 1,
      serviceLevelPercent: 0,
    });
    expect(board.charts.perMinute.at(-1)).toMatchObject({ offered: 1, abandoned: 1 });
  });

  it('tells watchers of a change at most twice a second, and every 15 s when nothing happens', () => {
    const pushes: number[] = [];
    const stop = hotline.wallboard.watch(I, () => pushes.push(clock.now()));
    checkIn('1001');
    checkIn('1002');
    hotline.agents.startBreak(I, '1001', undefined);
    clock.advance(0);
    expect(pushes).toEqual([T0]);

    hotline.agents.ready(I, '1001');
    hotline.agents.startBreak(I, '1002', undefined);
    clock.advance(WALLBOARD_MIN_PUSH_INTERVAL_MS - 1);
    expect(pushes).toHaveLength(1);
    clock.advance(1);
    expect(pushes).toEqual([T0, T0 + WALLBOARD_MIN_PUSH_INTERVAL_MS]);

    clock.advance(WALLBOARD_REFRESH_MS);
    expect(pushes).toEqual([
      T0,
      T0 + WALLBOARD_MIN_PUSH_INTERVAL_MS,
      T0 + WALLBOARD_MIN_PUSH_INTERVAL_MS + WALLBOARD_REFRESH_MS,
    ]);

    stop();
    hotline.agents.checkout(I, '1001');
    clock.advance(WALLBOARD_REFRESH_MS * 2);
    expect(pushes).toHaveLength(3);
  });

  it('refuses to watch or show an instance that does not exist', () => {
    expect(() => hotline.wallboard.snapshot('nope')).toThrowError(
      expect.objectContaining({ code: 'InstanceNotFound' }),
    );
    expect(() => hotline.wallboard.watch('nope', () => {})).toThrowError(
      expect.objectContaining({ code: 'InstanceNotFound' }),
    );
  });

  it('counts the calls already in storage after a restart', async () => {
    const connId = hotline.virtualCallers.place({ from: '13812345678', to: HOTLINE });
    await settle();
    clock.advance(5_000);
    hotline.virtualCallers.hangUp(I, connId);
    await settle();
    const restarted = new WallboardService({
      storage: hotline.storage,
      clock,
      agents: hotline.agents,
      calls: hotline.calls,
      log: silentLogger,
    });
    expect(restarted.snapshot(I).summary.last24Hours).toMatchObject({ offered: 0 });
    restarted.recover();
    expect(restarted.snapshot(I).summary.last24Hours).toMatchObject({ offered: 1, abandoned: 1 });
    restarted.close();
  });
});
