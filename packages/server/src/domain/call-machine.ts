/**
 * The call state machine: which events a call accepts in which phase, and where they lead. Pure, like the agent
 * machine beside it: no I/O, no timers, no ids. The call service asks it before changing a call, so a call can
 * never reach a phase the table does not name, and an action in the wrong phase is refused with the phase it
 * was in. `docs/call-states.md` is generated from CALL_RULES.
 *
 * What each transition does to the agents involved (AgentBarStatus) is the call service's job; the mapping is
 * documented in docs/call-states.md as well.
 */
export type CallPhase =
  /** Waiting in a skill group queue for a ready agent. */
  | 'queued'
  /** Offered to an agent, whose phone rings. */
  | 'ringing'
  /** An outbound or internal call is being placed; the far end has not answered. */
  | 'dialing'
  /** Two parties talk (customer and agent, or customer and an external transfer target). */
  | 'talking'
  /** The agent put the customer on hold. */
  | 'held'
  /** The customer waits on hold while the agent calls a third party (attended transfer, step 1). */
  | 'consulting'
  /** Customer, agent and third party all talk. */
  | 'conference'
  /** Over; terminal. */
  | 'ended';

export type CallEvent =
  | 'offer'
  | 'ringTimeout'
  | 'reject'
  | 'answer'
  | 'remoteAnswered'
  | 'overflow'
  | 'hold'
  | 'retrieve'
  | 'mute'
  | 'dtmf'
  | 'blindTransferToQueue'
  | 'blindTransferToAgent'
  | 'blindTransferToNumber'
  | 'consultStart'
  | 'thirdAnswered'
  | 'thirdGone'
  | 'consultCancel'
  | 'consultComplete'
  | 'conference'
  | 'agentLeaves'
  | 'hangup';

export interface CallRule {
  readonly from: readonly CallPhase[];
  /** 'same' keeps the phase (mute, dtmf, and events whose effect is on legs only). */
  readonly to: CallPhase | 'same';
  readonly note: string;
}

const LIVE: readonly CallPhase[] = ['queued', 'ringing', 'dialing', 'talking', 'held', 'consulting', 'conference'];

export const CALL_RULES: Readonly<Record<CallEvent, CallRule>> = {
  offer: { from: ['queued'], to: 'ringing', note: 'The ACD offers the call to the longest-idle ready agent.' },
  ringTimeout: {
    from: ['ringing'],
    to: 'queued',
    note: 'Not answered in time: back to the front of the queue; the agent goes on break (ringTimeout).',
  },
  reject: {
    from: ['ringing'],
    to: 'queued',
    note: 'The ringing agent hangs up (the guide\'s "呼入不接起挂断"): the next agent gets the call.',
  },
  answer: { from: ['ringing'], to: 'talking', note: 'The agent answers.' },
  remoteAnswered: { from: ['dialing'], to: 'talking', note: 'The callee of an outbound or internal call answers.' },
  overflow: { from: ['queued'], to: 'queued', note: 'Queue full or timed out: moved to the overflow group.' },
  hold: { from: ['talking'], to: 'held', note: 'The customer hears music on hold.' },
  retrieve: { from: ['held'], to: 'talking', note: 'Back to the conversation.' },
  mute: { from: ['talking', 'held', 'consulting', 'conference'], to: 'same', note: "The agent's audio stops." },
  dtmf: { from: ['dialing', 'talking', 'held', 'conference'], to: 'same', note: 'Digits sent to the far end.' },
  blindTransferToQueue: {
    from: ['talking', 'held'],
    to: 'queued',
    note: 'The agent leaves; the call waits for an agent of the target group.',
  },
  blindTransferToAgent: {
    from: ['talking', 'held'],
    to: 'ringing',
    note: 'The agent leaves; the target agent rings.',
  },
  blindTransferToNumber: {
    from: ['talking', 'held'],
    to: 'dialing',
    note: 'The agent leaves; the customer is connected to an external number.',
  },
  consultStart: {
    from: ['talking', 'held'],
    to: 'consulting',
    note: 'The customer goes on hold while the agent calls a third party.',
  },
  thirdAnswered: { from: ['consulting'], to: 'consulting', note: 'The third party answered: the agent consults.' },
  thirdGone: {
    from: ['consulting', 'conference'],
    to: 'talking',
    note: 'The third party hung up, or the consultation was cancelled: agent and customer talk again.',
  },
  consultCancel: { from: ['consulting'], to: 'talking', note: 'Drop the third party, take the customer back.' },
  consultComplete: {
    from: ['consulting'],
    to: 'talking',
    note: 'Attended transfer: the agent leaves, the customer talks with the third party.',
  },
  conference: { from: ['consulting'], to: 'conference', note: 'All three talk.' },
  agentLeaves: {
    from: ['conference'],
    to: 'talking',
    note: 'The agent leaves a conference: customer and third party go on.',
  },
  hangup: {
    from: LIVE,
    to: 'ended',
    note: 'The call ends: a hang-up on either side, a failed dial (busy, no answer...), or a queue timeout or full queue that overflows to hang-up.',
  },
};

export type CallTransition =
  | { readonly ok: true; readonly phase: CallPhase }
  | {
      readonly ok: false;
      readonly phase: CallPhase;
      readonly event: CallEvent;
      readonly allowedFrom: readonly CallPhase[];
    };

export function callTransition(phase: CallPhase, event: CallEvent): CallTransition {
  const rule = CALL_RULES[event];
  if (!rule.from.includes(phase)) return { ok: false, phase, event, allowedFrom: rule.from };
  return { ok: true, phase: rule.to === 'same' ? phase : rule.to };
}

export const CALL_EVENTS = Object.keys(CALL_RULES) as CallEvent[];
export const CALL_PHASES: readonly CallPhase[] = [...LIVE, 'ended'];
