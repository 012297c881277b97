import {
  type AgentBarStatus,
  ALL_AGENT_BAR_STATUSES,
  EnumWSEventType as E,
  AgentBarStatus as S,
} from '@openhotline/protocol';
import { describe, expect, it } from 'vitest';
import {
  type AgentCommand,
  type AgentCommandType,
  type AgentEffect,
  type AgentState,
  COMMAND_TYPES,
  INITIAL_AGENT_STATE,
  RULES,
  type TransitionResult,
  transition,
} from './agent-machine.js';

// ---- helpers ----

/** Freezes a state deeply so that any mutation inside `transition` throws instead of passing unnoticed. */
function frozen(state: AgentState): AgentState {
  Object.freeze(state.activeSkillGroupIds);
  return Object.freeze(state);
}

type Accepted = Extract<TransitionResult, { ok: true }>;

function accept(state: AgentState, command: AgentCommand, now: number): Accepted {
  const result = transition(frozen(state), command, now);
  if (!result.ok) throw new Error(`${command.type} rejected in ${S[state.status]}: ${JSON.stringify(result.error)}`);
  return result;
}

/** Applies a command and its followUp effects, like the agent service does; returns the final state. */
function settle(state: AgentState, command: AgentCommand, now: number): AgentState {
  const result = accept(state, command, now);
  let next = result.state;
  for (const effect of result.effects) {
    if (effect.kind === 'followUp') next = settle(next, effect.command, now);
  }
  return next;
}

/** Applies commands in order, one millisecond apart from `start`, each of which must be accepted. */
function run(commands: readonly AgentCommand[], start = 1_000, from: AgentState = INITIAL_AGENT_STATE): AgentState {
  return commands.reduce((state, command, i) => settle(state, command, start + i), from);
}

const checkin = (readyOnCheckin = true, skillGroupIds: readonly string[] = ['sales']): AgentCommand => ({
  type: 'checkin',
  skillGroupIds,
  acwSeconds: 30,
  readyOnCheckin,
});
const c = <T extends AgentCommandType>(type: T): Extract<AgentCommand, { type: T }> =>
  sampleCommand(type) as Extract<AgentCommand, { type: T }>;

/** A representative command of each type: the machine only looks at the arguments of a few of them. */
function sampleCommand(type: AgentCommandType): AgentCommand {
  switch (type) {
    case 'checkin':
      return checkin();
    case 'break':
      return { type, reasonCode: 'lunch' };
    case 'ringTimeout':
      return { type, reasonCode: 'NO_ANSWER' };
    case 'forceCheckout':
      return { type, reason: 'admin' };
    case 'beginAcw':
      return { type, acwSeconds: 30 };
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

const notifies = (effects: readonly AgentEffect[]) => effects.filter((e) => e.kind === 'notify');

const READY = [checkin(true)];
const INBOUND = [...READY, c('offerCall'), c('answerRequest'), c('inboundEstablished')];
const OUTBOUND = [...READY, c('dialOut'), c('outboundEstablished')];
const INTERNAL = [...READY, c('offerCall'), c('internalEstablished')];
const CONSULTED = [...READY, c('offerCall'), c('consultEstablished')];

/** The established call statuses, each with a real path that reaches it. */
const ESTABLISHED_PATHS: readonly (readonly [S, readonly AgentCommand[], E])[] = [
  [S.AgentCallInboundEstablish, INBOUND, E.AgentCallInboundEstablish],
  [S.AgentCallOutBoundEstablish, OUTBOUND, E.AgentCallOutBoundEstablish],
  [S.AgentCallInternalBoundEstablish, INTERNAL, E.AgentCallInternalBoundEstablish],
  [S.AgentCallConsultEstablish, CONSULTED, E.AgentCallConsultEstablish],
];

const HOLDING: readonly S[] = [
  S.AgentCallHeld,
  S.AgentCallConferenceWaitAnswer,
  S.AgentCallThirdConsult,
  S.AgentThirdRetrieveRequest,
  S.AgentCallConference,
];

// ---- scenarios ----

describe('the guide flow: check in and go ready', () => {
  it('checks in, notifies AgentCheckin, then asks for a followUp ready', () => {
    const result = accept(INITIAL_AGENT_STATE, checkin(true, ['sales', 'vip']), 1_000);
    expect(result.state).toMatchObject({
      status: S.AgentCheckin,
      since: 1_000,
      activeSkillGroupIds: ['sales', 'vip'],
      acwSeconds: 30,
      idleSince: null,
    });
    // The notification of this step comes first, so the channel sees AgentCheckin before AgentReady.
    expect(result.effects).toEqual([
      { kind: 'notify', code: E.AgentCheckin, status: S.AgentCheckin },
      { kind: 'followUp', command: { type: 'ready' } },
    ]);
  });

  it('the followUp ready makes the agent ready and idle from the same instant', () => {
    const checkedIn = accept(INITIAL_AGENT_STATE, checkin(true), 1_000).state;
    const ready = accept(checkedIn, { type: 'ready' }, 1_000);
    expect(ready.state).toMatchObject({ status: S.AgentReady, since: 1_000, idleSince: 1_000 });
    expect(ready.effects).toEqual([{ kind: 'notify', code: E.AgentReady, status: S.AgentReady }]);
  });

  it('without readyOnCheckin the agent stays checked in until ready', () => {
    const result = accept(INITIAL_AGENT_STATE, checkin(false), 1_000);
    expect(result.state.status).toBe(S.AgentCheckin);
    expect(result.effects.some((e) => e.kind === 'followUp')).toBe(false);
    expect(accept(result.state, c('ready'), 2_000).state).toMatchObject({ status: S.AgentReady, idleSince: 2_000 });
  });

  it('checks in again after a checkout', () => {
    const out = run([...READY, c('checkout')]);
    expect(settle(out, checkin(true, ['support']), 5_000)).toMatchObject({
      status: S.AgentReady,
      activeSkillGroupIds: ['support'],
    });
  });

  it('a repeated check-in keeps the status and since but updates the skill groups and acw seconds', () => {
    const ready = run(READY);
    const again = accept(
      ready,
      { type: 'checkin', skillGroupIds: ['vip'], acwSeconds: 0, readyOnCheckin: true },
      9_000,
    );
    expect(again.state).toEqual({ ...ready, activeSkillGroupIds: ['vip'], acwSeconds: 0 });
    expect(again.effects).toEqual([]);
  });
});

describe('checking out', () => {
  it('leaves ready, notifies AgentCheckout and forgets the check-in choices', () => {
    const result = accept(run(READY), c('checkout'), 3_000);
    expect(result.state).toMatchObject({
      status: S.AgentCheckout,
      since: 3_000,
      activeSkillGroupIds: [],
      acwSeconds: null,
      idleSince: null,
    });
    expect(result.effects).toEqual([{ kind: 'notify', code: E.AgentCheckout, status: S.AgentCheckout }]);
  });

  it('is idempotent: a second checkout is accepted, returns the same state and pushes nothing', () => {
    const out = accept(run(READY), c('checkout'), 3_000).state;
    const again = accept(out, c('checkout'), 4_000);
    expect(again.state).toBe(out);
    expect(again.effects).toEqual([]);
  });

  it('is allowed before the first check-in', () => {
    expect(accept(INITIAL_AGENT_STATE, c('checkout'), 1).state.status).toBe(S.AgentCheckout);
  });

  it('is refused on a call', () => {
    const result = transition(run(INBOUND), c('checkout'), 9_000);
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'IllegalTransition', from: S.AgentCallInboundEstablish },
    });
  });
});

describe('ready and break with reasons', () => {
  it('goes on break with the reason and stops being idle', () => {
    const result = accept(run(READY), { type: 'break', reasonCode: 'lunch' }, 5_000);
    expect(result.state).toMatchObject({ status: S.AgentBreak, breakReason: 'lunch', since: 5_000, idleSince: null });
    expect(result.effects).toEqual([{ kind: 'notify', code: E.AgentBreak, status: S.AgentBreak }]);
  });

  it('a break while on break changes the reason, keeps since, and pushes AgentBreak again', () => {
    const onBreak = accept(run(READY), { type: 'break', reasonCode: 'lunch' }, 5_000).state;
    const result = accept(onBreak, { type: 'break', reasonCode: 'meeting' }, 7_000);
    expect(result.state).toMatchObject({ status: S.AgentBreak, breakReason: 'meeting', since: 5_000 });
    expect(result.effects).toEqual([{ kind: 'notify', code: E.AgentBreak, status: S.AgentBreak }]);
  });

  it('ready after a break clears the reason and starts the idle time', () => {
    const onBreak = accept(run(READY), { type: 'break', reasonCode: 'lunch' }, 5_000).state;
    const result = accept(onBreak, c('ready'), 8_000);
    expect(result.state).toMatchObject({ status: S.AgentReady, breakReason: '', since: 8_000, idleSince: 8_000 });
  });

  it('a break straight from check-in is allowed', () => {
    const result = accept(run([checkin(false)]), { type: 'break', reasonCode: 'training' }, 2_000);
    expect(result.state).toMatchObject({ status: S.AgentBreak, breakReason: 'training' });
  });
});

describe('after-call work', () => {
  const released = () => accept(run(INBOUND), c('callReleased'), 10_000);

  it('callReleased leaves the call and notifies AgentCallRelease', () => {
    const result = released();
    expect(result.state).toMatchObject({ status: S.AgentCallRelease, since: 10_000, resumeStatus: null });
    expect(result.effects).toEqual([{ kind: 'notify', code: E.AgentCallRelease, status: S.AgentCallRelease }]);
  });

  it('a repeated callReleased is a no-op', () => {
    const once = released().state;
    expect(accept(once, c('callReleased'), 11_000)).toEqual({ ok: true, state: once, effects: [] });
  });

  it('beginAcw with acwSeconds > 0 arms the timer at now + s × 1000', () => {
    const result = accept(released().state, { type: 'beginAcw', acwSeconds: 45 }, 10_500);
    expect(result.state).toMatchObject({ status: S.AgentAcw, since: 10_500 });
    expect(result.effects).toEqual([
      { kind: 'startAcwTimer', endsAt: 10_500 + 45_000 },
      { kind: 'notify', code: E.AgentAcw, status: S.AgentAcw },
    ]);
  });

  it('beginAcw with 0 seconds arms no timer: the agent leaves ACW by acting', () => {
    const result = accept(released().state, { type: 'beginAcw', acwSeconds: 0 }, 10_500);
    expect(result.state.status).toBe(S.AgentAcw);
    expect(result.effects.some((e) => e.kind === 'startAcwTimer')).toBe(false);
  });

  it('acwTimeout makes the agent ready and idle', () => {
    const acw = accept(released().state, { type: 'beginAcw', acwSeconds: 45 }, 10_500).state;
    const result = accept(acw, c('acwTimeout'), 55_500);
    expect(result.state).toMatchObject({ status: S.AgentReady, since: 55_500, idleSince: 55_500 });
    expect(notifies(result.effects)).toEqual([{ kind: 'notify', code: E.AgentReady, status: S.AgentReady }]);
  });

  it.each([S.AgentReady, S.AgentBreak, S.AgentCheckout, S.AgentCallInboundEstablish])(
    'a late acwTimeout in status %s changes nothing',
    (status) => {
      const paths: Partial<Record<S, readonly AgentCommand[]>> = {
        [S.AgentReady]: READY,
        [S.AgentBreak]: [...READY, c('break')],
        [S.AgentCheckout]: [...READY, c('checkout')],
        [S.AgentCallInboundEstablish]: INBOUND,
      };
      const state = run(paths[status]!);
      expect(accept(state, c('acwTimeout'), 99_000)).toEqual({ ok: true, state, effects: [] });
    },
  );

  it.each([
    ['ready', S.AgentReady],
    ['break', S.AgentBreak],
    ['dialOut', S.AgentCallDialOut],
    ['checkout', S.AgentCheckout],
    ['forceCheckout', S.AgentCheckout],
  ] as const)('leaving ACW by %s cancels the timer first', (type, to) => {
    const acw = accept(released().state, { type: 'beginAcw', acwSeconds: 45 }, 10_500).state;
    const result = accept(acw, c(type), 12_000);
    expect(result.state.status).toBe(to);
    expect(result.effects[0]).toEqual({ kind: 'cancelAcwTimer' });
    expect(result.effects.filter((e) => e.kind === 'cancelAcwTimer')).toHaveLength(1);
  });
});

describe('hold and retrieve', () => {
  it.each(ESTABLISHED_PATHS)(
    'from %s, retrieve returns to that status and pushes its code again',
    (status, path, code) => {
      const talking = run(path);
      expect(talking.status).toBe(status);

      const held = accept(talking, c('hold'), 20_000);
      expect(held.state).toMatchObject({ status: S.AgentCallHeld, resumeStatus: status, since: 20_000 });
      expect(held.effects).toEqual([{ kind: 'notify', code: E.AgentCallHeld, status: S.AgentCallHeld }]);

      const back = accept(held.state, c('retrieve'), 25_000);
      expect(back.state).toMatchObject({ status, resumeStatus: null, since: 25_000 });
      expect(back.effects).toEqual([{ kind: 'notify', code, status }]);
    },
  );

  it('hold while held is a no-op', () => {
    const held = run([...OUTBOUND, c('hold')]);
    expect(accept(held, c('hold'), 30_000)).toEqual({ ok: true, state: held, effects: [] });
  });

  it('retrieve without hold is refused', () => {
    expect(transition(run(OUTBOUND), c('retrieve'), 30_000).ok).toBe(false);
  });
});

describe('consultation and conference', () => {
  it('consult, conference, and the third leaving returns to the two-party status', () => {
    const outbound = run(OUTBOUND);
    const waiting = accept(outbound, c('consultStart'), 20_000);
    expect(waiting.state).toMatchObject({
      status: S.AgentCallConferenceWaitAnswer,
      resumeStatus: S.AgentCallOutBoundEstablish,
    });
    expect(waiting.effects).toEqual([
      { kind: 'notify', code: E.AgentCallConferenceWaitAnswer, status: S.AgentCallConferenceWaitAnswer },
    ]);

    const consulting = accept(waiting.state, c('thirdAnswered'), 21_000);
    expect(consulting.state).toMatchObject({
      status: S.AgentCallThirdConsult,
      resumeStatus: S.AgentCallOutBoundEstablish,
    });

    const conference = accept(consulting.state, c('conference'), 22_000);
    expect(conference.state).toMatchObject({
      status: S.AgentCallConference,
      resumeStatus: S.AgentCallOutBoundEstablish,
    });
    expect(conference.effects).toEqual([
      { kind: 'notify', code: E.AgentCallConference, status: S.AgentCallConference },
    ]);

    const back = accept(conference.state, c('thirdLeft'), 23_000);
    expect(back.state).toMatchObject({ status: S.AgentCallOutBoundEstablish, resumeStatus: null, since: 23_000 });
    expect(back.effects).toEqual([
      { kind: 'notify', code: E.AgentCallOutBoundEstablish, status: S.AgentCallOutBoundEstablish },
    ]);
  });

  it('a consultation started from hold returns to the status before hold', () => {
    const held = run([...INBOUND, c('hold')]);
    const waiting = accept(held, c('consultStart'), 20_000).state;
    expect(waiting.resumeStatus).toBe(S.AgentCallInboundEstablish);
    expect(accept(waiting, c('thirdLeft'), 21_000).state.status).toBe(S.AgentCallInboundEstablish);
  });

  it('cancelling the consultation goes through AgentThirdRetrieveRequest back to the caller', () => {
    const consulting = run([...INTERNAL, c('consultStart'), c('thirdAnswered')]);
    const retrieving = accept(consulting, c('thirdRetrieveRequest'), 20_000);
    expect(retrieving.state).toMatchObject({
      status: S.AgentThirdRetrieveRequest,
      resumeStatus: S.AgentCallInternalBoundEstablish,
    });
    expect(accept(retrieving.state, c('thirdLeft'), 21_000).state).toMatchObject({
      status: S.AgentCallInternalBoundEstablish,
      resumeStatus: null,
    });
  });

  it.each([
    S.AgentCallConferenceWaitAnswer,
    S.AgentCallThirdConsult,
    S.AgentThirdRetrieveRequest,
    S.AgentCallConference,
  ])('thirdLeft from %s returns to the two-party status', (status) => {
    const paths: Partial<Record<S, readonly AgentCommand[]>> = {
      [S.AgentCallConferenceWaitAnswer]: [...CONSULTED, c('consultStart')],
      [S.AgentCallThirdConsult]: [...CONSULTED, c('consultStart'), c('thirdAnswered')],
      [S.AgentThirdRetrieveRequest]: [...CONSULTED, c('consultStart'), c('thirdRetrieveRequest')],
      [S.AgentCallConference]: [...CONSULTED, c('consultStart'), c('thirdAnswered'), c('conference')],
    };
    const state = run(paths[status]!);
    expect(state.status).toBe(status);
    expect(accept(state, c('thirdLeft'), 50_000).state.status).toBe(S.AgentCallConsultEstablish);
  });

  it('the call ending in a conference forgets the two-party status', () => {
    const conference = run([...INBOUND, c('consultStart'), c('thirdAnswered'), c('conference')]);
    expect(accept(conference, c('callReleased'), 30_000).state).toMatchObject({
      status: S.AgentCallRelease,
      resumeStatus: null,
    });
  });
});

describe('a call that is not answered', () => {
  it.each([
    ['ringing', [...READY, c('offerCall')]],
    ['answering', [...READY, c('offerCall'), c('answerRequest')]],
  ] as const)('ringTimeout while %s puts the agent on break with the reason', (_, path) => {
    const result = accept(run(path), { type: 'ringTimeout', reasonCode: 'NO_ANSWER' }, 40_000);
    expect(result.state).toMatchObject({ status: S.AgentBreak, breakReason: 'NO_ANSWER', since: 40_000 });
    expect(result.effects).toEqual([{ kind: 'notify', code: E.AgentBreak, status: S.AgentBreak }]);
  });
});

describe('forced checkout', () => {
  it('from a call releases the calls, then notifies AgentCheckout', () => {
    const result = accept(run(INBOUND), { type: 'forceCheckout', reason: 'channels gone' }, 60_000);
    expect(result.state).toMatchObject({
      status: S.AgentCheckout,
      activeSkillGroupIds: [],
      acwSeconds: null,
      resumeStatus: null,
    });
    expect(result.effects).toEqual([
      { kind: 'releaseCalls', reason: 'channels gone' },
      { kind: 'notify', code: E.AgentCheckout, status: S.AgentCheckout },
    ]);
  });

  it('from a held consultation also releases the calls', () => {
    const result = accept(run([...INBOUND, c('hold'), c('consultStart')]), c('forceCheckout'), 60_000);
    expect(result.state.resumeStatus).toBeNull();
    expect(result.effects).toContainEqual({ kind: 'releaseCalls', reason: 'admin' });
  });

  it('outside a call releases nothing', () => {
    const result = accept(run(READY), c('forceCheckout'), 60_000);
    expect(result.effects).toEqual([{ kind: 'notify', code: E.AgentCheckout, status: S.AgentCheckout }]);
  });

  it('when already checked out is a no-op', () => {
    const out = run([...READY, c('checkout')]);
    expect(accept(out, c('forceCheckout'), 60_000)).toEqual({ ok: true, state: out, effects: [] });
  });
});

describe('idle time for the ACD', () => {
  it('idleSince is set on becoming ready and kept while ready', () => {
    const ready = run(READY, 5_000);
    expect(ready.idleSince).toBe(5_000);
    const stillReady = [
      accept(ready, c('ready'), 9_000).state,
      accept(ready, c('acwTimeout'), 9_000).state,
      accept(ready, checkin(true, ['vip']), 9_000).state,
    ];
    for (const state of stillReady)
      expect(state).toMatchObject({ status: S.AgentReady, idleSince: 5_000, since: 5_000 });
  });

  it('idleSince is cleared when the agent is offered a call and set again after the next ACW', () => {
    const ringing = accept(run(READY, 5_000), c('offerCall'), 6_000).state;
    expect(ringing.idleSince).toBeNull();
    const acw = run([c('inboundEstablished'), c('callReleased'), { type: 'beginAcw', acwSeconds: 10 }], 7_000, ringing);
    expect(acw.idleSince).toBeNull();
    expect(accept(acw, c('acwTimeout'), 19_000).state.idleSince).toBe(19_000);
  });
});

describe('illegal transitions', () => {
  const cases: readonly (readonly [string, readonly AgentCommand[], AgentCommand])[] = [
    ['offerCall on break', [...READY, c('break')], c('offerCall')],
    ['hold while ready', READY, c('hold')],
    ['checkout on a call', INBOUND, c('checkout')],
    ['retrieve while talking', INBOUND, c('retrieve')],
    ['conference before the third answered', [...INBOUND, c('consultStart')], c('conference')],
    ['beginAcw while ready', READY, c('beginAcw')],
    ['ready before any check-in', [], c('ready')],
    ['dialOut while dialing', [...READY, c('dialOut')], c('dialOut')],
    ['break on a call', OUTBOUND, c('break')],
    ['thirdLeft without a third party', OUTBOUND, c('thirdLeft')],
  ];

  it.each(cases)('%s is refused with IllegalTransition and leaves the state as it was', (_, path, command) => {
    const state = run(path);
    const before = structuredClone(state);
    const result = transition(frozen(state), command, 99_000);
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'IllegalTransition',
        command: command.type,
        from: state.status,
        allowedFrom: RULES[command.type].from,
      },
    });
    expect(state).toEqual(before);
  });
});

describe('the rules table', () => {
  it('from and noopFrom never overlap (a noop would shadow the rule)', () => {
    for (const type of COMMAND_TYPES) {
      const { from, noopFrom = [] } = RULES[type];
      expect(
        from.filter((s) => noopFrom.includes(s)),
        type,
      ).toEqual([]);
    }
  });

  it('forceCheckout is accepted in every status, so an agent can always be taken out', () => {
    const { from, noopFrom = [] } = RULES.forceCheckout;
    expect([...from, ...noopFrom].sort((a, b) => a - b)).toEqual([...ALL_AGENT_BAR_STATUSES].sort((a, b) => a - b));
  });
});

describe('every status × every command', () => {
  /** A consistent state in each status, as the machine itself would leave it. */
  function stateIn(status: AgentBarStatus): AgentState {
    const checkedIn = status !== S.Unregistered && status !== S.AgentCheckout;
    return frozen({
      ...INITIAL_AGENT_STATE,
      status,
      since: 500,
      breakReason: status === S.AgentBreak ? 'lunch' : '',
      activeSkillGroupIds: checkedIn ? ['sales'] : [],
      acwSeconds: checkedIn ? 30 : null,
      idleSince: status === S.AgentReady ? 500 : null,
      resumeStatus: HOLDING.includes(status) ? S.AgentCallOutBoundEstablish : null,
    });
  }

  const legal = new Set<number>(ALL_AGENT_BAR_STATUSES);
  const pairs = ALL_AGENT_BAR_STATUSES.flatMap((status) =>
    COMMAND_TYPES.map((type) => [S[status], type, status] as const),
  );

  it('covers 19 statuses and every command type', () => {
    expect(ALL_AGENT_BAR_STATUSES).toHaveLength(19);
    expect(pairs).toHaveLength(19 * COMMAND_TYPES.length);
  });

  it.each(pairs)('%s × %s', (_, type, status) => {
    const rule = RULES[type];
    const state = stateIn(status);
    const before = structuredClone(state);
    const result = transition(state, sampleCommand(type), 1_000);
    const isFrom = rule.from.includes(status);
    const isNoop = rule.noopFrom?.includes(status) ?? false;

    expect(result.ok).toBe(isFrom || isNoop);
    if (!result.ok) {
      expect(result.error).toEqual({ code: 'IllegalTransition', command: type, from: status, allowedFrom: rule.from });
      expect(state).toEqual(before);
      return;
    }
    expect(legal.has(result.state.status)).toBe(true);
    for (const effect of notifies(result.effects)) expect(effect.status).toBe(result.state.status);

    if (isNoop) {
      expect(result.state.status).toBe(status);
      expect(result.state.since).toBe(state.since);
      // The one exception: a repeated check-in of an agent still in AgentCheckin goes on to ready.
      const repeatedCheckin = type === 'checkin' && status === S.AgentCheckin;
      expect(result.effects).toEqual(repeatedCheckin ? [{ kind: 'followUp', command: { type: 'ready' } }] : []);
    } else {
      const expected = rule.to === 'resume' ? state.resumeStatus : rule.to === 'unchanged' ? status : rule.to;
      expect(result.state.status).toBe(expected);
      // Every change of status is pushed, so a client's view never drifts from the server's.
      expect(notifies(result.effects)).toHaveLength(1);
    }
  });

  it('accepts a command in exactly the statuses of its rule and nowhere else', () => {
    for (const type of COMMAND_TYPES) {
      const accepted = ALL_AGENT_BAR_STATUSES.filter((s) => transition(stateIn(s), sampleCommand(type), 1_000).ok);
      const { from, noopFrom = [] } = RULES[type];
      expect(accepted, type).toEqual(ALL_AGENT_BAR_STATUSES.filter((s) => from.includes(s) || noopFrom.includes(s)));
    }
  });
});
