import {
  AgentBarStatus,
  ALL_AGENT_BAR_STATUSES,
  CALL_STATUSES,
  type CallRecord,
  type CallView,
  isCallStatus,
  type TransferTarget,
} from '@openhotline/protocol';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type DialPlanRule, VirtualCarrier } from '../../adapters/carrier/virtual-carrier.js';
import { UNKNOWN_LOCATION } from '../../adapters/location/number-location.js';
import { openSqliteStorage } from '../../adapters/storage/sqlite.js';
import { loadConfig } from '../../config.js';
import { HotlineError } from '../../errors.js';
import { createHotline, type Hotline } from '../../hotline.js';
import { DEMO_INSTANCE_ID, seedDemo } from '../../seed.js';
import { ManualClock } from '../clock.js';
import type { Logger } from '../logger.js';

/**
 * Random interleavings of agent actions, caller actions, carrier outcomes and timeouts across several agents and
 * calls, run against the whole hotline in-process (SQLite in memory, a manual clock, the virtual carrier). Whatever
 * the order, no call may leak, no agent may stay in a call status without a call, and every call must leave
 * exactly one closed record.
 */

// Seeding hashes the demo API client's secret with scrypt, ~100 ms a run; API clients play no part in calls.
vi.mock('../token-service.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../token-service.js')>()),
  hashSecret: (secret: string) => `plain$${secret}`,
}));

const I = DEMO_INSTANCE_ID;
/** The seeded agents plus one more, so that two agents serve each group and transfers have somewhere to go. */
const AGENTS = ['1001', '1002', '1003', '1004'] as const;
type AgentId = (typeof AGENTS)[number];
const HOTLINE = '4008001000';

/** Short delays: a random `advance` of a few seconds reaches every outcome. Suffixes as in the default plan. */
const DIAL_PLAN: readonly DialPlanRule[] = [
  { pattern: '^\\+?000', behavior: 'invalid', description: 'invalid' },
  { pattern: '0001$', behavior: 'busy', answerAfterMs: 300, description: 'busy' },
  { pattern: '0002$', behavior: 'no-answer', description: 'never answers' },
  { pattern: '0003$', behavior: 'reject', answerAfterMs: 300, description: 'rejects' },
  {
    pattern: '0005$',
    behavior: 'answer-then-hangup',
    answerAfterMs: 300,
    hangupAfterMs: 4_000,
    description: 'answers, then hangs up',
  },
  { pattern: '.*', behavior: 'answer', answerAfterMs: 300, description: 'answers' },
];
/** One number per dial plan outcome, plus one the call service refuses as not dialable. */
const NUMBERS = ['13800000001', '13800000002', '13800000003', '13800000005', '13912345678', '000123', '12'] as const;
const ANSWERS = '13912345678';

/** The time each step takes; the dial plan's delays and the timeouts are a few steps to a few dozen long. */
const STEP_MS = 100;

const SETTINGS = {
  ringTimeoutSeconds: 2,
  queueTimeoutSeconds: 8,
  // Two waiting callers fill a queue, so overflows happen often.
  maxQueueLength: 2,
  acwSeconds: 1,
  outboundNoAnswerSeconds: 4,
  channelGraceSeconds: 5,
  readyOnCheckin: true,
} as const;

// ---- steps ----

type Target =
  | { readonly type: 'agent'; readonly agentId: AgentId }
  | { readonly type: 'skillGroup'; readonly skillGroupId: string }
  | { readonly type: 'number'; readonly number: string };

type CallOp =
  | { readonly op: 'answer'; readonly wrongIds: boolean }
  | { readonly op: 'hangup' }
  | { readonly op: 'hold' }
  | { readonly op: 'retrieve' }
  | { readonly op: 'mute'; readonly muted: boolean }
  | { readonly op: 'dtmf' }
  | { readonly op: 'transfer'; readonly target: Target }
  | { readonly op: 'consult'; readonly target: Target }
  | { readonly op: 'consultCancel' }
  | { readonly op: 'consultComplete' }
  | { readonly op: 'conference' };

type Step =
  /** Nothing happens: failing sequences shrink towards idle steps (see stepArb). */
  | { readonly kind: 'idle' }
  | { readonly kind: 'checkin'; readonly agent: AgentId; readonly acwSeconds: number | null }
  | { readonly kind: 'checkout' | 'ready' | 'break' | 'forceCheckout' | 'toggleChannel'; readonly agent: AgentId }
  | {
      readonly kind: 'place';
      readonly from: string;
      readonly hangupAfterSeconds: number | null;
      readonly abandonAfterSeconds: number | null;
    }
  /** The virtual customer of the pick-th inbound call hangs up. */
  | { readonly kind: 'callerHangUp'; readonly pick: number }
  /** The answered far end (outbound customer or external third party) of the pick-th call hangs up. */
  | { readonly kind: 'farEndHangUp'; readonly pick: number }
  /**
   * An agent acts on one of its calls: the first of `actions` that some agent's status allows, by the pick-th
   * (agent, call) pair among those agents. With `anyCall`, the first action by the pick-th of all pairs, whatever
   * the status, to try actions where they do not belong too.
   */
  | {
      readonly kind: 'control';
      readonly pick: number;
      readonly anyCall: boolean;
      readonly actions: readonly CallOp[];
    }
  | { readonly kind: 'dialOut'; readonly agent: AgentId; readonly number: string }
  | { readonly kind: 'callAgent'; readonly agent: AgentId; readonly target: AgentId }
  | { readonly kind: 'advance'; readonly ms: number };

const agentArb = fc.constantFrom(...AGENTS);
const targetArb: fc.Arbitrary<Target> = fc.oneof(
  agentArb.map((agentId) => ({ type: 'agent' as const, agentId })),
  fc.constantFrom('support', 'sales', 'no-such-group').map((skillGroupId) => ({
    type: 'skillGroup' as const,
    skillGroupId,
  })),
  // Mostly numbers that answer: a consultation needs a third party on the line to go any further.
  fc.constantFrom(ANSWERS, ANSWERS, ANSWERS, ...NUMBERS).map((number) => ({ type: 'number' as const, number })),
);

const callOpArb: fc.Arbitrary<CallOp> = fc.oneof(
  // Answering and hanging up drive most calls forward; the rest are tried while they last.
  { weight: 5, arbitrary: fc.constant({ op: 'answer' as const, wrongIds: false }) },
  { weight: 1, arbitrary: fc.constant({ op: 'answer' as const, wrongIds: true }) },
  { weight: 3, arbitrary: fc.constant({ op: 'hangup' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'hold' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'retrieve' as const }) },
  { weight: 1, arbitrary: fc.boolean().map((muted) => ({ op: 'mute' as const, muted })) },
  { weight: 1, arbitrary: fc.constant({ op: 'dtmf' as const }) },
  { weight: 2, arbitrary: targetArb.map((target) => ({ op: 'transfer' as const, target })) },
  // Consultations take several steps to set up: their actions come often, or they would rarely get that far.
  { weight: 5, arbitrary: targetArb.map((target) => ({ op: 'consult' as const, target })) },
  { weight: 3, arbitrary: fc.constant({ op: 'consultCancel' as const }) },
  { weight: 5, arbitrary: fc.constant({ op: 'consultComplete' as const }) },
  { weight: 5, arbitrary: fc.constant({ op: 'conference' as const }) },
);

const pickArb = fc.nat({ max: 7 });

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  // Sequences are at least 40 steps long, so shrinking cannot drop steps below that: it turns the steps that do not
  // matter into idle ones instead (cross-shrinking goes to the first arbitrary), which leaves the culprits visible.
  { withCrossShrink: true },
  { weight: 1, arbitrary: fc.constant({ kind: 'idle' as const }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(agentArb, fc.constantFrom(null, 0, 1))
      .map(([agent, acwSeconds]) => ({ kind: 'checkin' as const, agent, acwSeconds })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('checkout', 'ready', 'ready', 'ready', 'break', 'forceCheckout', 'toggleChannel'),
        agentArb,
      )
      .map(([kind, agent]) => ({ kind, agent })),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({
        from: fc.constantFrom('13811110001', '13822220002', '13833330003'),
        hangupAfterSeconds: fc.constantFrom(null, null, 3),
        abandonAfterSeconds: fc.constantFrom(null, null, 5),
      })
      .map((r) => ({ kind: 'place' as const, ...r })),
  },
  { weight: 2, arbitrary: pickArb.map((pick) => ({ kind: 'callerHangUp' as const, pick })) },
  { weight: 1, arbitrary: pickArb.map((pick) => ({ kind: 'farEndHangUp' as const, pick })) },
  {
    weight: 24,
    arbitrary: fc
      .record({
        pick: pickArb,
        anyCall: fc.constantFrom(false, false, false, false, false, true),
        actions: fc.array(callOpArb, { minLength: 1, maxLength: 3 }),
      })
      .map((r) => ({ kind: 'control' as const, ...r })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(agentArb, fc.constantFrom(...NUMBERS))
      .map(([agent, number]) => ({ kind: 'dialOut' as const, agent, number })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(agentArb, agentArb).map(([agent, target]) => ({ kind: 'callAgent' as const, agent, target })),
  },
  {
    weight: 5,
    arbitrary: fc
      .oneof({ weight: 5, arbitrary: fc.integer({ min: 100, max: 3_000 }) }, fc.integer({ min: 3_000, max: 12_000 }))
      .map((ms) => ({ kind: 'advance' as const, ms })),
  },
);

// ---- the world under test ----

/** Fixed secrets: createHotline would otherwise generate and store them on every run. */
const CONFIG = loadConfig({
  overrides: {
    seedDemo: false,
    adminKey: 'property-test-admin-key-0123456789',
    jwtSecret: 'property-test-jwt-secret-0123456789abcdef',
  },
});

/** Messages logged at error level: the services log there only what should never happen. */
interface RecordingLogger extends Logger {
  readonly errors: string[];
}

function recordingLogger(): RecordingLogger {
  const errors: string[] = [];
  return {
    errors,
    info() {},
    warn() {},
    debug() {},
    error(obj, msg) {
      errors.push(`${msg ?? ''} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`);
    },
  };
}

interface World {
  readonly hotline: Hotline;
  readonly clock: ManualClock;
  readonly carrier: VirtualCarrier;
  readonly log: RecordingLogger;
  /** Every call created (inbound, outbound, internal), by connId: each must leave exactly one record. */
  readonly created: string[];
  readonly inbound: string[];
  readonly online: Set<AgentId>;
  /** What each step did (which call an agent acted on, and how it went), for the failure messages. */
  readonly trace: string[];
  /** The step being run, to number the trace. */
  step: number;
}

function startWorld(): World {
  const clock = new ManualClock();
  let serial = 0;
  const ids = (prefix: string) => `${prefix}_${++serial}`;
  const carrier = new VirtualCarrier({ clock, dialPlan: DIAL_PLAN });
  const log = recordingLogger();
  const hotline = createHotline(CONFIG, {
    storage: openSqliteStorage(':memory:'),
    clock,
    ids,
    carrier,
    // No number lookups: they are beside the point here and cost time.
    locator: { locate: () => UNKNOWN_LOCATION },
    log,
  });
  seedDemo(hotline);
  hotline.directory.createAgent(I, {
    id: '1004',
    name: 'Zhao Lei',
    skillGroupIds: ['support', 'sales'],
    departmentId: 'dept-demo',
    numberGroupIds: ['outbound'],
  });
  hotline.directory.updateInstance(I, { settings: SETTINGS });
  // Overflow both ways: a full or timed-out support queue moves callers to sales and back, each group at most once.
  hotline.directory.updateSkillGroup(I, 'support', { queue: { overflow: { action: 'group', skillGroupId: 'sales' } } });
  hotline.directory.updateSkillGroup(I, 'sales', {
    queue: { timeoutSeconds: 5, maxLength: 1, overflow: { action: 'group', skillGroupId: 'support' } },
  });
  const world: World = {
    hotline,
    clock,
    carrier,
    log,
    created: [],
    inbound: [],
    online: new Set(),
    trace: [],
    step: 0,
  };
  // Everyone starts online and ready, so calls flow from the first step.
  for (const agent of AGENTS) {
    hotline.agents.channelOpened(I, agent);
    world.online.add(agent);
    hotline.agents.checkin(I, agent, {});
  }
  return world;
}

/** Lets the distribution the call service schedules with queueMicrotask run, as it would between requests. */
async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

/** Moves time in small slices, so that queued calls are distributed between timers as in real time. */
async function advance(world: World, ms: number, slice = 250): Promise<void> {
  for (let left = ms; left > 0; left -= slice) {
    world.clock.advance(Math.min(slice, left));
    await flush();
  }
}

/** An agent's request may be refused with a catalogue error; anything else is a bug. */
function tolerated(world: World, what: string, action: () => unknown): void {
  try {
    action();
    note(world, `${what}: ok`);
  } catch (error) {
    if (!(error instanceof HotlineError)) throw error;
    note(world, `${what}: ${error.code}`);
  }
}

function note(world: World, what: string): void {
  world.trace.push(`#${world.step} ${what}`);
}

/** The end of the trace, for a failure message. */
function recent(world: World): string {
  return world.trace.slice(-16).join('\n  ');
}

function targetText(target: Target): string {
  switch (target.type) {
    case 'agent':
      return `agent ${target.agentId}`;
    case 'skillGroup':
      return `group ${target.skillGroupId}`;
    case 'number':
      return target.number;
  }
}

const S = AgentBarStatus;
const ESTABLISHED = [
  S.AgentCallInboundEstablish,
  S.AgentCallOutBoundEstablish,
  S.AgentCallInternalBoundEstablish,
  S.AgentCallConsultEstablish,
];
/**
 * The agent statuses in which each action is worth trying: guided steps act only there, so that consultations and
 * conferences are reached often; `anyCall` steps try every action anywhere.
 */
const SUITS: Readonly<Record<CallOp['op'], readonly AgentBarStatus[]>> = {
  answer: [S.AgentRinging],
  hangup: CALL_STATUSES,
  hold: ESTABLISHED,
  retrieve: [S.AgentCallHeld],
  mute: [
    ...ESTABLISHED,
    S.AgentCallHeld,
    S.AgentCallConferenceWaitAnswer,
    S.AgentCallThirdConsult,
    S.AgentCallConference,
  ],
  dtmf: [S.AgentCallDialOut, ...ESTABLISHED, S.AgentCallHeld, S.AgentCallConference],
  transfer: [...ESTABLISHED, S.AgentCallHeld],
  consult: [...ESTABLISHED, S.AgentCallHeld],
  consultCancel: [S.AgentCallConferenceWaitAnswer, S.AgentCallThirdConsult],
  consultComplete: [S.AgentCallThirdConsult],
  conference: [S.AgentCallThirdConsult],
};

function at<T>(list: readonly T[], pick: number): T | undefined {
  return list.length === 0 ? undefined : list[pick % list.length];
}

function control(world: World, agentId: AgentId, view: CallView, action: CallOp): void {
  const { calls } = world.hotline;
  const connId = view.connId;
  switch (action.op) {
    case 'answer': {
      const ids = action.wrongIds
        ? { jobId: 'job_wrong', aid: view.aid, acid: view.acid }
        : { jobId: view.jobId, aid: view.aid, acid: view.acid };
      calls.answer(I, agentId, connId, ids);
      return;
    }
    case 'hangup':
      calls.hangup(I, agentId, connId, { jobId: view.jobId, aid: view.aid, acid: view.acid });
      return;
    case 'hold':
      calls.hold(I, agentId, connId);
      return;
    case 'retrieve':
      calls.retrieve(I, agentId, connId);
      return;
    case 'mute':
      calls.mute(I, agentId, connId, action.muted);
      return;
    case 'dtmf':
      calls.dtmf(I, agentId, connId, '1#');
      return;
    case 'transfer':
      calls.transfer(I, agentId, connId, action.target satisfies TransferTarget);
      return;
    case 'consult':
      calls.consult(I, agentId, connId, action.target);
      return;
    case 'consultCancel':
      calls.consultCancel(I, agentId, connId);
      return;
    case 'consultComplete':
      calls.consultComplete(I, agentId, connId);
      return;
    case 'conference':
      calls.conference(I, agentId, connId);
      return;
  }
}

async function run(world: World, step: Step): Promise<void> {
  const { hotline } = world;
  const { agents, calls, virtualCallers } = hotline;
  switch (step.kind) {
    case 'idle':
      break;
    case 'checkin':
      tolerated(world, `${step.agent} checkin`, () =>
        agents.checkin(I, step.agent, step.acwSeconds === null ? {} : { acwSeconds: step.acwSeconds }),
      );
      break;
    case 'checkout':
      tolerated(world, `${step.agent} checkout`, () => agents.checkout(I, step.agent));
      break;
    case 'ready':
      tolerated(world, `${step.agent} ready`, () => agents.ready(I, step.agent));
      break;
    case 'break':
      tolerated(world, `${step.agent} break`, () => agents.startBreak(I, step.agent, 'rest'));
      break;
    case 'forceCheckout':
      tolerated(world, `${step.agent} forced out`, () => agents.forceCheckout(I, step.agent, 'admin'));
      break;
    case 'toggleChannel':
      // The live channel layer reports opens and closes; neither may throw.
      if (world.online.delete(step.agent)) {
        note(world, `${step.agent} channel closed`);
        agents.channelClosed(I, step.agent);
      } else {
        world.online.add(step.agent);
        note(world, `${step.agent} channel opened`);
        agents.channelOpened(I, step.agent);
      }
      break;
    case 'place': {
      // A caller always gets through to the call service (a full queue ends the call, with a record).
      const connId = virtualCallers.place({
        from: step.from,
        to: HOTLINE,
        ...(step.hangupAfterSeconds !== null ? { hangupAfterSeconds: step.hangupAfterSeconds } : {}),
        ...(step.abandonAfterSeconds !== null ? { abandonAfterSeconds: step.abandonAfterSeconds } : {}),
      });
      world.created.push(connId);
      world.inbound.push(connId);
      note(world, `${step.from} calls in: ${connId}`);
      break;
    }
    case 'callerHangUp': {
      const connId = at(world.inbound, step.pick);
      if (connId) note(world, `caller of ${connId} hangs up: ${virtualCallers.hangUp(I, connId)}`);
      break;
    }
    case 'farEndHangUp': {
      const connId = at(world.created, step.pick);
      if (connId) note(world, `far end of ${connId} hangs up: ${world.carrier.hangUpFarEnd(connId)}`);
      break;
    }
    case 'control': {
      const pairsFor = (action: CallOp) =>
        AGENTS.filter((agentId) => step.anyCall || SUITS[action.op].includes(agents.state(I, agentId).status)).flatMap(
          (agentId) => calls.callsOf(I, agentId).map((view) => ({ agentId, view })),
        );
      for (const action of step.actions) {
        const pair = at(pairsFor(action), step.pick);
        if (!pair) continue;
        const to = 'target' in action ? ` to ${targetText(action.target)}` : '';
        const what = `${pair.agentId} ${action.op}${to} ${pair.view.connId} (${pair.view.state})`;
        tolerated(world, what, () => control(world, pair.agentId, pair.view, action));
        break;
      }
      break;
    }
    case 'dialOut':
      tolerated(world, `${step.agent} dials ${step.number}`, () =>
        world.created.push(calls.dialOut(I, step.agent, { number: step.number }).connId),
      );
      break;
    case 'callAgent':
      tolerated(world, `${step.agent} calls agent ${step.target}`, () =>
        world.created.push(calls.callAgent(I, step.agent, step.target).connId),
      );
      break;
    case 'advance':
      // Timers and carrier outcomes are not requests: nothing they run may throw, not even a HotlineError.
      note(world, `advance ${step.ms} ms`);
      await advance(world, step.ms);
      break;
  }
  // Every step takes a moment, as requests do: far ends answer and offers ring out while agents act.
  await advance(world, STEP_MS);
}

// ---- invariants ----

const LEGAL_STATUSES: ReadonlySet<AgentBarStatus> = new Set(ALL_AGENT_BAR_STATUSES);

/**
 * After every step: statuses are legal, an agent is in a call status exactly when it is on a live call, and the
 * live records' agent legs agree.
 */
function checkAgents(world: World): void {
  const after = `\n  ${recent(world)}`;
  const { agents, calls } = world.hotline;
  for (const agentId of AGENTS) {
    const status = agents.state(I, agentId).status;
    expect(LEGAL_STATUSES.has(status), `agent ${agentId} in unknown status ${status} after ${after}`).toBe(true);
    const on = calls.callsOf(I, agentId).map((c) => `${c.connId}:${c.state}`);
    if (isCallStatus(status)) {
      expect(on, `agent ${agentId} stuck in ${AgentBarStatus[status]} with no call after ${after}`).not.toEqual([]);
    } else {
      expect(on, `agent ${agentId} in ${AgentBarStatus[status]} yet on calls after ${after}`).toEqual([]);
    }
  }
  // The record's legs follow the agents: an agent's leg is open exactly while the agent is on the call.
  for (const record of calls.liveCalls(I)) {
    for (const leg of record.legs) {
      if (leg.kind !== 'agent' || leg.leftAt !== null) continue;
      const on = calls.callsOf(I, leg.party).some((view) => view.connId === record.connId);
      expect(on, `leg ${leg.legId} of agent ${leg.party} still open on ${record.connId} it left, after ${after}`).toBe(
        true,
      );
    }
  }
  expect(world.log.errors, `errors logged after ${after}`).toEqual([]);
}

function allRecords(world: World): CallRecord[] {
  const records: CallRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = world.hotline.storage.callRecords.list(I, { limit: 500, ...(cursor ? { cursor } : {}) });
    records.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return records;
}

/** Agents drop whatever they hold (a ringing agent rejects), round after round, while calls still reach them. */
async function agentsLetGo(world: World): Promise<void> {
  const { calls } = world.hotline;
  for (let round = 0; round < 8; round++) {
    const held = AGENTS.flatMap((agentId) => calls.callsOf(I, agentId).map((view) => ({ agentId, view })));
    if (held.length === 0) return;
    for (const { agentId, view } of held) {
      tolerated(world, `let go: ${agentId} cancels ${view.connId}`, () => calls.consultCancel(I, agentId, view.connId));
      tolerated(world, `let go: ${agentId} hangs up ${view.connId}`, () => calls.hangup(I, agentId, view.connId, {}));
    }
    await advance(world, 2_000);
  }
}

/**
 * With the agents gone and time run on, a call may only go on without the hotline: a customer talking with an
 * external party the call was transferred to. Anything else (a queue, a ringing phone, a dial that never ends)
 * has no one left to end it but the customer's patience.
 */
function checkUnattended(world: World): void {
  for (const record of world.hotline.calls.liveCalls(I)) {
    const open = record.legs.filter((leg) => leg.leftAt === null);
    const third = open.find((leg) => leg.role === 'third');
    const answered =
      third !== undefined && record.events.some((e) => e.type === 'third-answered' && e.at >= third.joinedAt);
    expect(
      { roles: open.map((leg) => leg.role).sort(), answered },
      `call ${record.connId} (${record.direction}) left waiting with nobody to end it: ${JSON.stringify(record.events.slice(-4))}\n  ${recent(world)}`,
    ).toEqual({ roles: ['customer', 'third'], answered: true });
  }
}

/** Everyone hangs up, agents drop whatever they still hold, and time runs past every timer. */
async function windDown(world: World): Promise<void> {
  const { calls, virtualCallers } = world.hotline;
  await agentsLetGo(world);
  // Ten minutes: past every timeout of SETTINGS, and far past the longest dial plan delay.
  await advance(world, 600_000, 2_000);
  checkAgents(world);
  checkUnattended(world);
  for (let round = 0; round < 4 && calls.liveCalls(I).length > 0; round++) {
    // Far ends that answered since the last round hang up too.
    for (const connId of world.inbound) virtualCallers.hangUp(I, connId);
    for (const connId of world.created) while (world.carrier.hangUpFarEnd(connId)) {}
    await flush();
    await agentsLetGo(world);
  }
  await advance(world, 120_000, 1_000);
}

/** How a queued call that no agent answered may end: the caller gave up, or the queue's overflow hung up. */
const UNANSWERED_ENDINGS: readonly CallRecord['disposition'][] = ['abandoned', 'queue-timeout', 'queue-full'];

function checkEnd(world: World): void {
  const { calls, agents } = world.hotline;
  const live = calls.liveCalls(I).map((c) => `${c.connId} ${c.direction} agent=${c.agentId}`);
  expect(live, 'calls left after everyone hung up').toEqual([]);
  const waiting = calls.queues(I, { canSeeFullNumbers: true }).flatMap((q) => q.waiting.map((w) => w.connId));
  expect(waiting, 'callers left in a queue').toEqual([]);
  expect(world.carrier.activeLegs, 'carrier legs left up').toBe(0);
  expect(world.clock.pendingTimers(), 'timers left armed').toBe(0);

  for (const agentId of AGENTS) {
    const status = agents.state(I, agentId).status;
    expect(isCallStatus(status), `agent ${agentId} left in ${AgentBarStatus[status]}`).toBe(false);
    expect(calls.callsOf(I, agentId), `agent ${agentId} still on calls`).toEqual([]);
  }

  const records = allRecords(world);
  expect(records.map((r) => r.connId).sort(), 'one record per call created, and no other').toEqual(
    [...world.created].sort(),
  );
  for (const connId of world.created) {
    const record = world.hotline.storage.callRecords.get(I, connId);
    expect(record, `record of ${connId}`).toBeDefined();
    if (!record) continue;
    const where = `record ${connId} (${record.direction}, ${record.disposition}, ${record.releaseReason})`;
    expect(record.disposition, where).not.toBe('active');
    expect(record.endedAt, where).not.toBeNull();
    expect(record.releasedBy, where).not.toBe('');
    expect(record.releaseReason, where).not.toBe('');
    if (record.queuedAt !== null) {
      // A queued caller was either answered by an agent, or the call ended for a stated reason.
      if (record.answeredAt === null) expect(UNANSWERED_ENDINGS, where).toContain(record.disposition);
      expect(record.queuedAt, where).toBeGreaterThanOrEqual(record.offeredAt);
    }
    if (record.ringingAt !== null) expect(record.ringingAt, where).toBeGreaterThanOrEqual(record.offeredAt);
    if (record.answeredAt !== null) {
      expect(record.answeredAt, where).toBeGreaterThanOrEqual(record.offeredAt);
      expect(record.endedAt ?? 0, where).toBeGreaterThanOrEqual(record.answeredAt);
    }
    expect(record.endedAt ?? 0, where).toBeGreaterThanOrEqual(record.offeredAt);
    if (record.agentId !== '') expect(record.agentIds, where).toContain(record.agentId);
    for (const leg of record.legs) expect(leg.leftAt, `${where}: leg ${leg.legId} never left`).not.toBeNull();
  }
}

// ---- the property ----

describe('calls under random interleavings of agents, callers and time', () => {
  it('leak no call, leave no agent in a call status, and close exactly one record per call', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 40, maxLength: 80 }), async (steps) => {
        // Runs never wait on real I/O: yield to the event loop once a run, so the test runner's own messages get through.
        await new Promise((resolve) => setImmediate(resolve));
        const world = startWorld();
        try {
          for (const [index, step] of steps.entries()) {
            world.step = index;
            await run(world, step);
            checkAgents(world);
          }
          world.step = steps.length;
          await windDown(world);
          checkAgents(world);
          checkEnd(world);
        } finally {
          await world.hotline.close();
        }
      }),
      { seed: 0x0c411, numRuns: 200, endOnFailure: false },
    );
  });
});
