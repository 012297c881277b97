import { ALL_AGENT_BAR_STATUSES, AgentBarStatus as S } from '@openhotline/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AgentCommand,
  type AgentCommandType,
  type AgentState,
  COMMAND_TYPES,
  INITIAL_AGENT_STATE,
  RULES,
  transition,
} from './agent-machine.js';

// ---- arbitraries ----

/** The arguments any command may need; each command takes the ones it has. */
interface Args {
  readonly skillGroupIds: readonly string[];
  readonly checkinAcwSeconds: number | null;
  readonly readyOnCheckin: boolean;
  readonly reasonCode: string;
  readonly acwSeconds: number;
  readonly reason: string;
}

const argsArb: fc.Arbitrary<Args> = fc.record({
  skillGroupIds: fc.uniqueArray(fc.constantFrom('sales', 'support', 'vip', 'billing'), { maxLength: 3 }),
  checkinAcwSeconds: fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
  readyOnCheckin: fc.boolean(),
  // Non-empty codes: the service rejects unknown (and so empty) break reasons before they reach the machine.
  reasonCode: fc.constantFrom('lunch', 'meeting', 'training', 'NO_ANSWER', 'SYS_RING_TIMEOUT'),
  acwSeconds: fc.integer({ min: 0, max: 300 }),
  reason: fc.constantFrom('admin', 'channels gone'),
});

function build(type: AgentCommandType, args: Args): AgentCommand {
  switch (type) {
    case 'checkin':
      return {
        type,
        skillGroupIds: args.skillGroupIds,
        acwSeconds: args.checkinAcwSeconds,
        readyOnCheckin: args.readyOnCheckin,
      };
    case 'break':
    case 'ringTimeout':
      return { type, reasonCode: args.reasonCode };
    case 'forceCheckout':
      return { type, reason: args.reason };
    case 'beginAcw':
      return { type, acwSeconds: args.acwSeconds };
    case 'checkout':
    case 'ready':
    case 'acwTimeout':
    case 'offerCall':
    case 'answerRequest':
    case 'inboundEstablished':
    case 'dialOut':
    case 'outboundEstablished':
    case 'internalEstablished':
    case 'consultEstablished':
    case 'hold':
    case 'retrieve':
    case 'consultStart':
    case 'thirdAnswered':
    case 'thirdRetrieveRequest':
    case 'conference':
    case 'thirdLeft':
    case 'callReleased':
      return { type };
  }
}

/** Any command, every type equally likely, with random arguments. */
const commandArb: fc.Arbitrary<AgentCommand> = fc
  .tuple(fc.constantFrom(...COMMAND_TYPES), argsArb)
  .map(([type, args]) => build(type, args));

/**
 * A step of a guided walk: `pick` chooses among the commands that change the current status, so the walk goes
 * deep into calls (consultation, conference) that uniform commands seldom reach; now and then a random command.
 */
interface Pick {
  readonly pick: number;
  readonly args: Args;
}
type Step = AgentCommand | Pick;

/** Each step with how long after the previous one it arrives (0 = the same millisecond). */
type Timed = readonly [Step, number];

// size 'max': the default size keeps arrays near ten steps, too short to get deep into a call.
const uniformSteps = fc.array(fc.tuple(commandArb, fc.nat({ max: 120_000 })), { maxLength: 60, size: 'max' });
const pickArb: fc.Arbitrary<Step> = fc.record({ pick: fc.nat(), args: argsArb });
const randomArb: fc.Arbitrary<Step> = commandArb;
const guidedSteps = fc.array(
  fc.tuple(fc.oneof({ weight: 5, arbitrary: pickArb }, { weight: 1, arbitrary: randomArb }), fc.nat({ max: 5_000 })),
  { maxLength: 60, size: 'max' },
);

function resolve(step: Step, state: AgentState): AgentCommand {
  if (!('pick' in step)) return step;
  // forceCheckout is left to the random steps: accepted everywhere, it would end a walk too often.
  const changing = COMMAND_TYPES.filter((type) => type !== 'forceCheckout' && RULES[type].from.includes(state.status));
  return build(changing[step.pick % changing.length]!, step.args);
}

// ---- the invariants ----

/**
 * A bare assertion for the hot path: tens of thousands of steps run per test, and vitest's `expect` costs too much
 * there to keep the file fast. fast-check reports the failing sequence, shrunk, with this message.
 */
function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new Error(message());
}

const LEGAL = new Set<number>(ALL_AGENT_BAR_STATUSES);
const HOLDING: readonly S[] = [
  S.AgentCallHeld,
  S.AgentCallConferenceWaitAnswer,
  S.AgentCallThirdConsult,
  S.AgentThirdRetrieveRequest,
  S.AgentCallConference,
];
const ESTABLISHED: readonly S[] = [
  S.AgentCallInboundEstablish,
  S.AgentCallOutBoundEstablish,
  S.AgentCallInternalBoundEstablish,
  S.AgentCallConsultEstablish,
];

function checkInvariants(state: AgentState, now: number): void {
  // (a) exactly one legal status: a single field, and one of the guide's values.
  check(LEGAL.has(state.status), () => `illegal status ${state.status}`);
  // (b) a break reason exactly while on break.
  check(
    (state.breakReason !== '') === (state.status === S.AgentBreak),
    () => `breakReason '${state.breakReason}' in ${S[state.status]}`,
  );
  // (c) a status to resume only while held or consulting, and then always an established call status.
  check(
    HOLDING.includes(state.status)
      ? state.resumeStatus !== null && ESTABLISHED.includes(state.resumeStatus)
      : state.resumeStatus === null,
    () => `resumeStatus ${state.resumeStatus} in ${S[state.status]}`,
  );
  // The ACD ranks agents by idleSince, so it must exist exactly while ready.
  check(
    (state.idleSince !== null) === (state.status === S.AgentReady),
    () => `idleSince ${state.idleSince} in ${S[state.status]}`,
  );
  check(state.since <= now, () => `since ${state.since} after now ${now}`);
  if (state.status === S.Unregistered || state.status === S.AgentCheckout) {
    check(
      state.activeSkillGroupIds.length === 0 && state.acwSeconds === null,
      () => `check-in choices kept in ${S[state.status]}`,
    );
  }
}

/**
 * The shortest way out by ordinary commands (no forceCheckout), computed from RULES by a breadth-first search
 * over the fixed targets; 'resume' edges are left out since their target depends on the state.
 */
const GRACEFUL_EXIT: ReadonlyMap<S, readonly AgentCommandType[]> = (() => {
  const exits = new Map<S, AgentCommandType[]>([[S.AgentCheckout, []]]);
  let frontier: S[] = [S.AgentCheckout];
  while (frontier.length > 0) {
    const next: S[] = [];
    for (const target of frontier) {
      for (const type of COMMAND_TYPES) {
        const rule = RULES[type];
        if (type === 'forceCheckout' || rule.to !== target) continue;
        for (const from of rule.from) {
          if (exits.has(from)) continue;
          exits.set(from, [type, ...exits.get(target)!]);
          next.push(from);
        }
      }
    }
    frontier = next;
  }
  return exits;
})();

/** The arguments of the exit steps: no ACW timer, so the agent can check out at once. */
const EXIT_ARGS: Args = {
  skillGroupIds: [],
  checkinAcwSeconds: null,
  readyOnCheckin: false,
  reasonCode: 'NO_ANSWER',
  acwSeconds: 0,
  reason: 'admin',
};

/** (d) Walks the computed way out from `state` and checks that it ends checked out, and that forceCheckout does too. */
function checkCanReachCheckout(state: AgentState, now: number): void {
  const plan = GRACEFUL_EXIT.get(state.status);
  check(plan !== undefined && plan.length <= 3, () => `no short way out of ${S[state.status]}`);
  let s = state;
  for (const type of plan) {
    const r = transition(s, build(type, EXIT_ARGS), now);
    check(r.ok, () => `${type} refused in ${S[s.status]} on the way out of ${S[state.status]}`);
    s = r.state;
  }
  check(s.status === S.AgentCheckout, () => `the way out of ${S[state.status]} ends in ${S[s.status]}`);

  const forced = transition(state, { type: 'forceCheckout', reason: 'admin' }, now);
  check(forced.ok && forced.state.status === S.AgentCheckout, () => `forceCheckout fails in ${S[state.status]}`);
}

// ---- the fold ----

/** Applies one command and, like the agent service, its followUp effects right away; records the statuses seen. */
function apply(state: AgentState, command: AgentCommand, now: number, reached: Set<S>): AgentState {
  const before = JSON.stringify(state);
  const result = transition(state, command, now);
  if (!result.ok) {
    // (e) a refused command changes nothing, not even by mutating its input.
    check(JSON.stringify(state) === before, () => `refused ${command.type} changed the state`);
    check(result.error.from === state.status, () => `error.from ${result.error.from} in ${S[state.status]}`);
    return state;
  }
  const next = result.state;
  // (f) since never goes back in time.
  check(next.since >= state.since, () => `since went from ${state.since} to ${next.since} on ${command.type}`);
  for (const effect of result.effects) {
    if (effect.kind === 'notify') {
      check(
        effect.status === next.status,
        () => `notify ${effect.status} but status ${next.status} on ${command.type}`,
      );
    }
  }
  checkInvariants(next, now);
  reached.add(next.status);

  let settled = next;
  for (const effect of result.effects) {
    if (effect.kind !== 'followUp') continue;
    const from = settled;
    check(
      transition(from, effect.command, now).ok,
      () => `followUp ${effect.command.type} refused in ${S[from.status]}`,
    );
    settled = apply(from, effect.command, now, reached);
  }
  return settled;
}

function fold(steps: readonly Timed[], reached: Set<S>): void {
  let state = INITIAL_AGENT_STATE;
  let now = 1_000;
  checkInvariants(state, now);
  reached.add(state.status);
  for (const [step, delta] of steps) {
    now += delta;
    state = apply(state, resolve(step, state), now, reached);
    checkCanReachCheckout(state, now);
  }
}

/** The properties are only as good as the states they visit: every status must have been reached. */
function expectEveryStatus(reached: Set<S>): void {
  expect([...reached].sort((a, b) => a - b)).toEqual([...ALL_AGENT_BAR_STATUSES].sort((a, b) => a - b));
}

describe('random command sequences from the initial state', () => {
  it('keep every invariant and can always reach AgentCheckout', () => {
    // No coverage check here: uniform commands seldom get deep into a call; the guided walks below do.
    fc.assert(
      fc.property(uniformSteps, (steps) => {
        fold(steps, new Set());
      }),
      { numRuns: 1_000 },
    );
  });

  it('guided walks through the accepted commands keep the invariants and visit every status', () => {
    const reached = new Set<S>();
    fc.assert(
      fc.property(guidedSteps, (steps) => {
        fold(steps, reached);
      }),
      { numRuns: 1_000 },
    );
    expectEveryStatus(reached);
  });
});

describe('the computed way out', () => {
  it('exists for every status and is at most three commands', () => {
    for (const status of ALL_AGENT_BAR_STATUSES) {
      const plan = GRACEFUL_EXIT.get(status);
      expect(plan, S[status]).toBeDefined();
      expect(plan!.length, S[status]).toBeLessThanOrEqual(3);
    }
    expect(GRACEFUL_EXIT.get(S.AgentCallConference)).toEqual(['callReleased', 'beginAcw', 'checkout']);
  });
});
