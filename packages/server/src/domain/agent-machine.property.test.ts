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

// Non-empty codes: the service rejects unknown (and empty) break reasons before they reach the machine.
const reasonCode = fc.constantFrom('lunch', 'meeting', 'training', 'NO_ANSWER', 'SYS_RING_TIMEOUT');
const skillGroupIds = fc.uniqueArray(fc.constantFrom('sales', 'support', 'vip', 'billing'), { maxLength: 3 });

const commandArb: fc.Arbitrary<AgentCommand> = fc.oneof(
  fc.record({
    type: fc.constant('checkin' as const),
    skillGroupIds,
    acwSeconds: fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
    readyOnCheckin: fc.boolean(),
  }),
  fc.record({ type: fc.constant('break' as const), reasonCode }),
  fc.record({ type: fc.constant('ringTimeout' as const), reasonCode }),
  fc.record({ type: fc.constant('forceCheckout' as const), reason: fc.constantFrom('admin', 'channels gone') }),
  fc.record({ type: fc.constant('beginAcw' as const), acwSeconds: fc.integer({ min: 0, max: 300 }) }),
  fc.constantFrom<AgentCommand>(
    ...(
      [
        'checkout',
        'ready',
        'acwTimeout',
        'offerCall',
        'answerRequest',
        'inboundEstablished',
        'dialOut',
        'outboundEstablished',
        'internalEstablished',
        'consultEstablished',
        'hold',
        'retrieve',
        'consultStart',
        'thirdAnswered',
        'thirdRetrieveRequest',
        'conference',
        'thirdLeft',
        'callReleased',
      ] as const
    ).map((type) => ({ type })),
  ),
);

/** Each step: a command and how long after the previous step it arrives (0 = the same millisecond). */
// size 'max': the default size keeps arrays near ten steps, too short to get deep into a call.
const stepsArb = fc.array(fc.tuple(commandArb, fc.nat({ max: 120_000 })), { maxLength: 60, size: 'max' });

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

/** The command the service would send for each exit step (no ACW timer: the agent checks out at once). */
function exitCommand(type: AgentCommandType): AgentCommand {
  if (type === 'beginAcw') return { type, acwSeconds: 0 };
  if (type === 'ringTimeout') return { type, reasonCode: 'NO_ANSWER' };
  return { type } as AgentCommand;
}

/** (d) Walks the computed way out from `state` and checks that it ends checked out, and that forceCheckout does too. */
function checkCanReachCheckout(state: AgentState, now: number): void {
  const plan = GRACEFUL_EXIT.get(state.status);
  check(plan !== undefined && plan.length <= 3, () => `no short way out of ${S[state.status]}`);
  let s = state;
  for (const type of plan) {
    const r = transition(s, exitCommand(type), now);
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

function fold(steps: readonly (readonly [AgentCommand, number])[], reached: Set<S>): void {
  let state = INITIAL_AGENT_STATE;
  let now = 1_000;
  checkInvariants(state, now);
  reached.add(state.status);
  for (const [command, delta] of steps) {
    now += delta;
    state = apply(state, command, now, reached);
    checkCanReachCheckout(state, now);
  }
}

/** The properties are only as good as the states they visit: every status must have been reached. */
function expectEveryStatus(reached: Set<S>): void {
  expect([...reached].sort((a, b) => a - b)).toEqual([...ALL_AGENT_BAR_STATUSES].sort((a, b) => a - b));
}

describe('random command sequences from the initial state', () => {
  it('keep every invariant and can always reach AgentCheckout', () => {
    // No coverage check here: uniform commands seldom get deep into a call; the biased sequences below do.
    fc.assert(
      fc.property(stepsArb, (steps) => {
        fold(steps, new Set());
      }),
      { numRuns: 1_000 },
    );
  });

  it('sequences biased towards calls keep the invariants too', () => {
    // Uniform commands rarely get deep into a call (ready → offer → established → consult → conference), so here
    // most steps are call commands, to visit the hold and conference states often.
    const callCommand = fc.constantFrom<AgentCommand>(
      { type: 'ready' },
      { type: 'offerCall' },
      { type: 'inboundEstablished' },
      { type: 'dialOut' },
      { type: 'outboundEstablished' },
      { type: 'hold' },
      { type: 'retrieve' },
      { type: 'consultStart' },
      { type: 'thirdAnswered' },
      { type: 'thirdRetrieveRequest' },
      { type: 'conference' },
      { type: 'thirdLeft' },
      { type: 'answerRequest' },
      { type: 'internalEstablished' },
      { type: 'consultEstablished' },
      { type: 'callReleased' },
      { type: 'beginAcw', acwSeconds: 0 },
    );
    const biased = fc.array(
      fc.tuple(fc.oneof({ arbitrary: callCommand, weight: 4 }, { arbitrary: commandArb, weight: 1 }), fc.nat(5_000)),
      { maxLength: 60, size: 'max' },
    );
    const reached = new Set<S>();
    fc.assert(
      fc.property(biased, (steps) => {
        const checkin: AgentCommand = { type: 'checkin', skillGroupIds: [], acwSeconds: null, readyOnCheckin: true };
        fold([[checkin, 0], ...steps], reached);
      }),
      { numRuns: 500 },
    );
    expectEveryStatus(reached);
  });
});

describe('the computed way out', () => {
  it('exists for every status and is at most three commands', () => {
    for (const status of ALL_AGENT_BAR_STATUSES) {
      expect(GRACEFUL_EXIT.get(status)?.length, S[status]).toBeLessThanOrEqual(3);
    }
  });
});
