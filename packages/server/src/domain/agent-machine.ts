import { EnumWSEventType as E, isCallStatus, AgentBarStatus as S } from '@openhotline/protocol';

/**
 * The agent state machine: one pure function, `transition(state, command, now)`, over an explicit table.
 *
 * No I/O and no timers here: time comes in as `now`, and everything that must happen outside (push an event,
 * arm the after-call-work timer, release calls) comes out as data in `effects`, for the agent service to carry
 * out. `docs/agent-states.md` is generated from RULES, and tests walk every (status × command) pair.
 */

export interface AgentState {
  readonly status: S;
  /** Epoch ms when the agent entered `status`. */
  readonly since: number;
  /** Break reason code while on break, else ''. */
  readonly breakReason: string;
  /** Skill groups served in the current check-in. */
  readonly activeSkillGroupIds: readonly string[];
  /** After-call work seconds chosen at check-in; null = the configured default. */
  readonly acwSeconds: number | null;
  /** Epoch ms when the agent last became ready; null when not ready. The ACD serves the longest idle first. */
  readonly idleSince: number | null;
  /** The established call status to return to after hold or a consultation; null outside those. */
  readonly resumeStatus: S | null;
}

export const INITIAL_AGENT_STATE: AgentState = {
  status: S.Unregistered,
  since: 0,
  breakReason: '',
  activeSkillGroupIds: [],
  acwSeconds: null,
  idleSince: null,
  resumeStatus: null,
};

export type AgentCommand =
  | {
      readonly type: 'checkin';
      readonly skillGroupIds: readonly string[];
      readonly acwSeconds: number | null;
      /** Go on to ready right away (the guide's flow); else stay checked in until `ready`. */
      readonly readyOnCheckin: boolean;
    }
  | { readonly type: 'checkout' }
  | { readonly type: 'ready' }
  | { readonly type: 'break'; readonly reasonCode: string }
  /** The after-call-work timer has run out. */
  | { readonly type: 'acwTimeout' }
  /** An administrator, or the server when the agent's channels stay gone, checks the agent out from anywhere. */
  | { readonly type: 'forceCheckout'; readonly reason: string }
  // ---- call commands: issued by the call service ----
  | { readonly type: 'offerCall' }
  | { readonly type: 'answerRequest' }
  | { readonly type: 'ringTimeout'; readonly reasonCode: string }
  | { readonly type: 'inboundEstablished' }
  | { readonly type: 'dialOut' }
  | { readonly type: 'outboundEstablished' }
  | { readonly type: 'internalEstablished' }
  | { readonly type: 'consultEstablished' }
  | { readonly type: 'hold' }
  | { readonly type: 'retrieve' }
  | { readonly type: 'consultStart' }
  | { readonly type: 'thirdAnswered' }
  | { readonly type: 'thirdRetrieveRequest' }
  | { readonly type: 'conference' }
  /** The third party is gone (retrieved, hung up, or the conference ended): back to the two-party call. */
  | { readonly type: 'thirdLeft' }
  /** The agent's part in the call is over; after-call work follows. */
  | { readonly type: 'callReleased' }
  /** Enter after-call work (follows callReleased). */
  | { readonly type: 'beginAcw'; readonly acwSeconds: number };

export type AgentCommandType = AgentCommand['type'];

export type AgentEffect =
  /** Push a `hotline-message` with this code; the status is the agent's status after the transition. */
  | { readonly kind: 'notify'; readonly code: E; readonly status: S }
  | { readonly kind: 'startAcwTimer'; readonly endsAt: number }
  | { readonly kind: 'cancelAcwTimer' }
  /** Hang up every call the agent is on (forced checkout in a call). */
  | { readonly kind: 'releaseCalls'; readonly reason: string }
  /** Apply this command right after, as part of the same action. */
  | { readonly kind: 'followUp'; readonly command: AgentCommand };

export type TransitionResult =
  | { readonly ok: true; readonly state: AgentState; readonly effects: readonly AgentEffect[] }
  | {
      readonly ok: false;
      readonly error: {
        readonly code: 'IllegalTransition';
        readonly command: AgentCommandType;
        readonly from: S;
        readonly allowedFrom: readonly S[];
      };
    };

/** Where a rule leads: a fixed status, the status the agent was in, or the call status saved before hold. */
export type RuleTarget = S | 'unchanged' | 'resume';

export interface Rule {
  /** Statuses in which the command changes the agent. */
  readonly from: readonly S[];
  readonly to: RuleTarget;
  /** The code pushed to the agent's channel when the rule applies, or null for none. */
  readonly notify: E | null;
  /** Statuses in which the command is accepted and changes nothing (idempotent repeats). */
  readonly noopFrom?: readonly S[];
  readonly note: string;
}

const ESTABLISHED = [
  S.AgentCallInboundEstablish,
  S.AgentCallOutBoundEstablish,
  S.AgentCallInternalBoundEstablish,
  S.AgentCallConsultEstablish,
] as const;
const CALL = [
  S.AgentCallRelease,
  S.AgentRinging,
  S.AgentCallAnswerRequest,
  S.AgentCallDialOut,
  ...ESTABLISHED,
  S.AgentCallHeld,
  S.AgentCallConferenceWaitAnswer,
  S.AgentCallThirdConsult,
  S.AgentThirdRetrieveRequest,
  S.AgentCallConference,
] as const;
/** Checked in and not on a call. */
const AVAILABLE_OR_PAUSED = [S.AgentCheckin, S.AgentReady, S.AgentBreak, S.AgentAcw] as const;
const ALL = [S.Unregistered, S.AgentCheckout, ...AVAILABLE_OR_PAUSED, ...CALL] as const;

export const RULES: Readonly<Record<AgentCommandType, Rule>> = {
  checkin: {
    from: [S.Unregistered, S.AgentCheckout],
    to: S.AgentCheckin,
    notify: E.AgentCheckin,
    noopFrom: [...AVAILABLE_OR_PAUSED, ...CALL],
    note: 'Starts serving the chosen skill groups; goes on to Ready when readyOnCheckin. A repeat check-in keeps the status.',
  },
  checkout: {
    from: [S.Unregistered, ...AVAILABLE_OR_PAUSED],
    to: S.AgentCheckout,
    notify: E.AgentCheckout,
    noopFrom: [S.AgentCheckout],
    note: 'Not allowed on a call: hang up first (or forceCheckout).',
  },
  ready: {
    from: [S.AgentCheckin, S.AgentBreak, S.AgentAcw],
    to: S.AgentReady,
    notify: E.AgentReady,
    noopFrom: [S.AgentReady],
    note: 'Ready to be offered calls; ends after-call work early.',
  },
  break: {
    from: [S.AgentCheckin, S.AgentReady, S.AgentBreak, S.AgentAcw],
    to: S.AgentBreak,
    notify: E.AgentBreak,
    note: 'Pause with a reason code; on break already, changes the reason.',
  },
  acwTimeout: {
    from: [S.AgentAcw],
    to: S.AgentReady,
    notify: E.AgentReady,
    noopFrom: [...ALL.filter((s) => s !== S.AgentAcw)],
    note: 'After-call work ran out (autoChangeOnLineTime). A late timer is ignored.',
  },
  forceCheckout: {
    from: [S.Unregistered, ...AVAILABLE_OR_PAUSED, ...CALL],
    to: S.AgentCheckout,
    notify: E.AgentCheckout,
    noopFrom: [S.AgentCheckout],
    note: 'From anywhere; releases the calls of an agent on a call.',
  },
  offerCall: {
    from: [S.AgentReady],
    to: S.AgentRinging,
    notify: E.AgentRinging,
    note: 'The ACD offers a call to a ready agent.',
  },
  answerRequest: {
    from: [S.AgentRinging],
    to: S.AgentCallAnswerRequest,
    notify: E.AgentCallAnswerRequest,
    note: 'The agent answers; the call is being connected.',
  },
  ringTimeout: {
    from: [S.AgentRinging, S.AgentCallAnswerRequest],
    to: S.AgentBreak,
    notify: E.AgentBreak,
    note: 'Not answered in time: the call moves on and the agent goes on break with a system reason.',
  },
  inboundEstablished: {
    from: [S.AgentRinging, S.AgentCallAnswerRequest],
    to: S.AgentCallInboundEstablish,
    notify: E.AgentCallInboundEstablish,
    note: 'Talking with an inbound caller.',
  },
  dialOut: {
    from: [S.AgentCheckin, S.AgentReady, S.AgentBreak, S.AgentAcw],
    to: S.AgentCallDialOut,
    notify: E.AgentCallDialOut,
    note: 'The agent places a call (not while on another call).',
  },
  outboundEstablished: {
    from: [S.AgentCallDialOut],
    to: S.AgentCallOutBoundEstablish,
    notify: E.AgentCallOutBoundEstablish,
    note: 'The callee answered.',
  },
  internalEstablished: {
    from: [S.AgentRinging, S.AgentCallAnswerRequest, S.AgentCallDialOut],
    to: S.AgentCallInternalBoundEstablish,
    notify: E.AgentCallInternalBoundEstablish,
    note: 'A call between two agents is connected.',
  },
  consultEstablished: {
    from: [S.AgentRinging, S.AgentCallAnswerRequest],
    to: S.AgentCallConsultEstablish,
    notify: E.AgentCallConsultEstablish,
    note: 'This agent is the consulted third party and answered.',
  },
  hold: {
    from: [...ESTABLISHED],
    to: S.AgentCallHeld,
    notify: E.AgentCallHeld,
    noopFrom: [S.AgentCallHeld],
    note: 'The other party hears music; the call status is kept to retrieve.',
  },
  retrieve: {
    from: [S.AgentCallHeld],
    to: 'resume',
    notify: null,
    note: 'Back to the call status before hold; pushes that status code again.',
  },
  consultStart: {
    from: [...ESTABLISHED, S.AgentCallHeld],
    to: S.AgentCallConferenceWaitAnswer,
    notify: E.AgentCallConferenceWaitAnswer,
    note: 'Calls a third party while the caller waits on hold.',
  },
  thirdAnswered: {
    from: [S.AgentCallConferenceWaitAnswer],
    to: S.AgentCallThirdConsult,
    notify: E.AgentCallThirdConsult,
    note: 'The third party answered: consulting.',
  },
  thirdRetrieveRequest: {
    from: [S.AgentCallConferenceWaitAnswer, S.AgentCallThirdConsult, S.AgentCallConference],
    to: S.AgentThirdRetrieveRequest,
    notify: E.AgentThirdRetrieveRequest,
    note: 'Cancel the consultation: drop the third party and take the caller back.',
  },
  conference: {
    from: [S.AgentCallThirdConsult],
    to: S.AgentCallConference,
    notify: E.AgentCallConference,
    note: 'All three talk.',
  },
  thirdLeft: {
    from: [
      S.AgentCallConferenceWaitAnswer,
      S.AgentCallThirdConsult,
      S.AgentThirdRetrieveRequest,
      S.AgentCallConference,
    ],
    to: 'resume',
    notify: null,
    note: 'Back to the two-party call.',
  },
  callReleased: {
    from: [...CALL.filter((s) => s !== S.AgentCallRelease)],
    to: S.AgentCallRelease,
    notify: E.AgentCallRelease,
    noopFrom: [S.AgentCallRelease],
    note: 'The call ended for this agent; after-call work follows at once.',
  },
  beginAcw: {
    from: [S.AgentCallRelease],
    to: S.AgentAcw,
    notify: E.AgentAcw,
    note: 'After-call work; back to Ready after acwSeconds, or when the agent acts if 0.',
  },
};

/** The code pushed when the agent returns to an established call status (retrieve, third left). */
const ESTABLISHED_CODE: Partial<Record<S, E>> = {
  [S.AgentCallInboundEstablish]: E.AgentCallInboundEstablish,
  [S.AgentCallOutBoundEstablish]: E.AgentCallOutBoundEstablish,
  [S.AgentCallInternalBoundEstablish]: E.AgentCallInternalBoundEstablish,
  [S.AgentCallConsultEstablish]: E.AgentCallConsultEstablish,
};

export function transition(state: AgentState, command: AgentCommand, now: number): TransitionResult {
  const rule = RULES[command.type];
  if (rule.noopFrom?.includes(state.status)) {
    // A repeated check-in still updates what the agent serves, without touching the status.
    if (command.type === 'checkin') {
      // An agent left in AgentCheckin (an earlier check-in without readyOnCheckin) still becomes ready when the
      // guide's flow checks in again, or the guide's own demo would never ring.
      const effects: AgentEffect[] =
        command.readyOnCheckin && state.status === S.AgentCheckin
          ? [{ kind: 'followUp', command: { type: 'ready' } }]
          : [];
      return {
        ok: true,
        state: withServing(state, [...command.skillGroupIds], command.acwSeconds),
        effects,
      };
    }
    return { ok: true, state, effects: [] };
  }
  if (!rule.from.includes(state.status)) {
    return {
      ok: false,
      error: { code: 'IllegalTransition', command: command.type, from: state.status, allowedFrom: rule.from },
    };
  }

  const to = targetOf(rule.to, state);
  const effects: AgentEffect[] = [];
  if (state.status === S.AgentAcw) effects.push({ kind: 'cancelAcwTimer' });

  // One literal of the state's fixed shape, not a spread (see withServing): every status change comes through here.
  let next: AgentState = {
    status: to,
    since: to === state.status ? state.since : now,
    breakReason: command.type === 'break' || command.type === 'ringTimeout' ? command.reasonCode : '',
    activeSkillGroupIds: state.activeSkillGroupIds,
    acwSeconds: state.acwSeconds,
    idleSince: to === S.AgentReady ? (state.status === S.AgentReady ? state.idleSince : now) : null,
    resumeStatus: resumeStatusAfter(state, to),
  };

  switch (command.type) {
    case 'checkin':
      next = withServing(next, [...command.skillGroupIds], command.acwSeconds);
      if (command.readyOnCheckin) effects.push({ kind: 'followUp', command: { type: 'ready' } });
      break;
    case 'checkout':
    case 'forceCheckout':
      next = withServing(next, [], null);
      if (command.type === 'forceCheckout' && isCallStatus(state.status)) {
        effects.push({ kind: 'releaseCalls', reason: command.reason });
      }
      break;
    case 'beginAcw':
      if (command.acwSeconds > 0) effects.push({ kind: 'startAcwTimer', endsAt: now + command.acwSeconds * 1000 });
      break;
    default:
      break;
  }

  const code = rule.notify ?? ESTABLISHED_CODE[to];
  if (code !== undefined) effects.push({ kind: 'notify', code, status: to });
  // Effects that continue the action come after the notification of this step, so events stay in order.
  // (Only check-in queues a follow-up before the notification; the sort is stable, so nothing else moves.)
  if (effects.length > 1 && effects.some((effect, i) => effect.kind === 'followUp' && i < effects.length - 1)) {
    effects.sort((a, b) => Number(a.kind === 'followUp') - Number(b.kind === 'followUp'));
  }
  return { ok: true, state: next, effects };
}

/**
 * The state with what the agent serves: the skill groups and after-call work a check-in chose (or a checkout
 * cleared). States are always built as one literal in the interface's field order, never spread: V8 then gives
 * them all one shape, and the spread form cost this module some twenty times more per transition.
 */
export function withServing(
  state: AgentState,
  activeSkillGroupIds: readonly string[],
  acwSeconds: number | null,
): AgentState {
  return {
    status: state.status,
    since: state.since,
    breakReason: state.breakReason,
    activeSkillGroupIds,
    acwSeconds,
    idleSince: state.idleSince,
    resumeStatus: state.resumeStatus,
  };
}

function targetOf(target: RuleTarget, state: AgentState): S {
  if (target === 'unchanged') return state.status;
  if (target === 'resume') return state.resumeStatus ?? S.AgentCallInboundEstablish;
  return target;
}

/** Keeps the two-party call status while the agent is in hold or consultation states, and forgets it after. */
function resumeStatusAfter(state: AgentState, to: S): S | null {
  const keeps =
    to === S.AgentCallHeld ||
    to === S.AgentCallConferenceWaitAnswer ||
    to === S.AgentCallThirdConsult ||
    to === S.AgentThirdRetrieveRequest ||
    to === S.AgentCallConference;
  if (!keeps) return null;
  return state.resumeStatus ?? state.status;
}

/** Every command type, in table order: for tests and docs. */
export const COMMAND_TYPES = Object.keys(RULES) as AgentCommandType[];
