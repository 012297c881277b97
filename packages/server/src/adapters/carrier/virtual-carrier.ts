import type { Clock, Timer } from '../../services/clock.js';
import type { Carrier, CarrierLeg, CarrierLegEvents, DialFailure, DialRequest } from './carrier.js';

/**
 * The virtual carrier: an embedded stand-in for the phone network, so that a server with no SIP trunk can still place
 * outbound calls in demos and tests. What becomes of a call is decided by a dial plan — an ordered list of rules
 * matched against the dialed number, first match wins — and reported over time through the injected Clock, exactly
 * as a real network would report it: ringing first, then answered or failed, maybe hungUp later.
 *
 * docs/virtual-carrier.md documents the default plan; a test keeps its table equal to `describeDialPlan`.
 */

export const DIAL_BEHAVIORS = ['answer', 'busy', 'no-answer', 'reject', 'invalid', 'answer-then-hangup'] as const;
export type DialBehavior = (typeof DIAL_BEHAVIORS)[number];

export interface DialPlanRule {
  /** RegExp source matched against the dialed number (visual separators removed, see `dialedDigits`). */
  readonly pattern: string;
  readonly behavior: DialBehavior;
  /**
   * How long the far end rings before it responds — answers, is busy or rejects. Default 1000. Not allowed for
   * 'no-answer' (it never responds) nor 'invalid' (it fails at once).
   */
  readonly answerAfterMs?: number;
  /** 'answer-then-hangup' only: how long after answering the far end hangs up. Default 10000. */
  readonly hangupAfterMs?: number;
  /** What the rule is for, shown in the docs table and in validation errors. */
  readonly description: string;
}

export const DEFAULT_ANSWER_AFTER_MS = 1_000;
export const DEFAULT_HANGUP_AFTER_MS = 10_000;
/** A day: beyond any demo, and far below the 2^31 ms where Node's setTimeout would overflow. */
export const MAX_DIAL_PLAN_DELAY_MS = 86_400_000;

/** The documented demo plan, keyed on the last four digits so any real-looking number can be used. */
export const DEFAULT_DIAL_PLAN: readonly DialPlanRule[] = Object.freeze([
  rule({ pattern: '^(?!\\+?[0-9]{3,32}$)', behavior: 'invalid', description: 'Not 3–32 digits (a leading + allowed)' }),
  rule({ pattern: '^\\+?000', behavior: 'invalid', description: 'Starts with 000' }),
  rule({ pattern: '0001$', behavior: 'busy', answerAfterMs: 1_000, description: 'Ends in 0001: busy' }),
  rule({
    pattern: '0002$',
    behavior: 'no-answer',
    description: "Ends in 0002: never answers; the call service's no-answer timeout ends the call",
  }),
  rule({ pattern: '0003$', behavior: 'reject', answerAfterMs: 2_000, description: 'Ends in 0003: rejected' }),
  rule({ pattern: '0004$', behavior: 'answer', answerAfterMs: 5_000, description: 'Ends in 0004: slow answer' }),
  rule({
    pattern: '0005$',
    behavior: 'answer-then-hangup',
    answerAfterMs: 1_000,
    hangupAfterMs: 10_000,
    description: 'Ends in 0005: the customer hangs up',
  }),
  rule({ pattern: '.*', behavior: 'answer', answerAfterMs: 1_000, description: 'Any other number: answers' }),
]);

function rule(r: DialPlanRule): DialPlanRule {
  return Object.freeze(r);
}

/** A dial plan that failed validation; `problems` name the rule (by position and description) and the field. */
export class DialPlanError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid dial plan:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'DialPlanError';
  }
}

const RULE_KEYS: ReadonlySet<string> = new Set([
  'pattern',
  'behavior',
  'answerAfterMs',
  'hangupAfterMs',
  'description',
]);

/**
 * Checks a dial plan from configuration (any JSON) and returns it typed and frozen; throws a DialPlanError listing
 * every problem. Unknown fields are errors so that a typo ("answerAfter") does not silently fall back to a default.
 */
export function validateDialPlan(rules: unknown): DialPlanRule[] {
  if (!Array.isArray(rules)) throw new DialPlanError([`must be an array of rules (got ${describeValue(rules)})`]);
  if (rules.length === 0) throw new DialPlanError(['must have at least one rule (no rule matching fails every call)']);
  const problems: string[] = [];
  const valid: DialPlanRule[] = [];
  rules.forEach((raw: unknown, index) => {
    const before = problems.length;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`rule ${index + 1}: must be an object (got ${describeValue(raw)})`);
      return;
    }
    const fields = raw as Record<string, unknown>;
    const description = fields.description;
    const name = `rule ${index + 1}${typeof description === 'string' && description ? ` ("${description}")` : ''}`;
    for (const key of Object.keys(fields)) {
      if (!RULE_KEYS.has(key)) problems.push(`${name}: unknown field "${key}"`);
    }
    if (typeof description !== 'string' || description.trim() === '') {
      problems.push(`${name}: description must be a non-empty string`);
    }
    const { pattern, behavior, answerAfterMs, hangupAfterMs } = fields;
    if (typeof pattern !== 'string') {
      problems.push(`${name}: pattern must be a string (got ${describeValue(pattern)})`);
    } else {
      try {
        new RegExp(pattern);
      } catch (error) {
        problems.push(
          `${name}: pattern ${JSON.stringify(pattern)} is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`,
        );
      }
    }
    if (typeof behavior !== 'string' || !(DIAL_BEHAVIORS as readonly string[]).includes(behavior)) {
      problems.push(`${name}: behavior must be one of ${DIAL_BEHAVIORS.join(', ')} (got ${describeValue(behavior)})`);
    } else {
      if (answerAfterMs !== undefined) {
        if (behavior === 'no-answer' || behavior === 'invalid') {
          problems.push(`${name}: answerAfterMs does not apply to behavior ${behavior}`);
        } else if (!isDelay(answerAfterMs)) {
          problems.push(
            `${name}: answerAfterMs must be an integer from 0 to ${MAX_DIAL_PLAN_DELAY_MS} (got ${describeValue(answerAfterMs)})`,
          );
        }
      }
      if (hangupAfterMs !== undefined) {
        if (behavior !== 'answer-then-hangup') {
          problems.push(`${name}: hangupAfterMs applies only to behavior answer-then-hangup`);
        } else if (!isDelay(hangupAfterMs)) {
          problems.push(
            `${name}: hangupAfterMs must be an integer from 0 to ${MAX_DIAL_PLAN_DELAY_MS} (got ${describeValue(hangupAfterMs)})`,
          );
        }
      }
    }
    if (problems.length === before) {
      valid.push(
        Object.freeze({
          pattern: pattern as string,
          behavior: behavior as DialBehavior,
          ...(answerAfterMs === undefined ? {} : { answerAfterMs: answerAfterMs as number }),
          ...(hangupAfterMs === undefined ? {} : { hangupAfterMs: hangupAfterMs as number }),
          description: description as string,
        }),
      );
    }
  });
  if (problems.length > 0) throw new DialPlanError(problems);
  return valid;
}

function isDelay(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_DIAL_PLAN_DELAY_MS;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * The number the dial plan sees: what was dialed with spaces, dashes, dots and parentheses removed, so that
 * "138-0013-0001" behaves like "13800130001". Anything else (letters, '*') is kept and fails the default plan.
 */
export function dialedDigits(to: string): string {
  return to.replace(/[\s\-.()]/g, '');
}

/** A Markdown table of a dial plan, for docs/virtual-carrier.md (a test keeps the doc equal to it). */
export function describeDialPlan(plan: readonly DialPlanRule[]): string {
  const rows = plan.map(
    (r, i) =>
      `| ${i + 1} | \`${r.pattern.replace(/\|/g, '\\|')}\` | ${describeOutcome(r)} | ${r.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| # | Pattern | What happens | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function describeOutcome(r: DialPlanRule): string {
  const ring = `rings ${formatDelay(r.answerAfterMs ?? DEFAULT_ANSWER_AFTER_MS)}`;
  switch (r.behavior) {
    case 'answer':
      return `${ring}, then answers`;
    case 'busy':
      return `${ring}, then fails: \`busy\``;
    case 'reject':
      return `${ring}, then fails: \`rejected\``;
    case 'no-answer':
      return 'rings and never answers (no event after ringing)';
    case 'invalid':
      return 'fails at once: `invalid-number` (no ringing)';
    case 'answer-then-hangup':
      return `${ring}, answers, hangs up ${formatDelay(r.hangupAfterMs ?? DEFAULT_HANGUP_AFTER_MS)} later`;
  }
}

function formatDelay(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${ms / 1_000} s`;
}

export interface VirtualCarrierOptions {
  readonly clock: Clock;
  /** Rules from configuration (`virtualCarrier.dialPlan`); validated here, DEFAULT_DIAL_PLAN when absent. */
  readonly dialPlan?: readonly DialPlanRule[];
}

interface CompiledRule {
  readonly rule: DialPlanRule;
  readonly regex: RegExp;
}

type LegState = 'dialing' | 'ringing' | 'answered' | 'ended';

class VirtualLeg implements CarrierLeg {
  state: LegState = 'dialing';
  private timer: Timer | undefined;

  constructor(
    readonly connId: string,
    readonly rule: DialPlanRule,
    private readonly events: CarrierLegEvents,
    private readonly clock: Clock,
    private readonly onEnd: (leg: VirtualLeg) => void,
    private readonly onDtmf: (connId: string, digits: string) => void,
  ) {
    // Never synchronously: the caller must hold the leg handle (to hang up) before the first event arrives.
    this.schedule(0, () => this.start());
  }

  hangup(): void {
    this.end();
  }

  sendDtmf(digits: string): void {
    if (!/^[0-9*#A-D]+$/.test(digits))
      throw new Error(`invalid DTMF digits ${JSON.stringify(digits)}: use 0-9 * # A-D`);
    if (this.state !== 'ended') this.onDtmf(this.connId, digits);
  }

  /** The far end presses keys (tests of IVR-like flows). */
  receiveDtmf(digits: string): void {
    if (this.state === 'answered') this.events.dtmf?.(digits);
  }

  /** The far end hangs up now (tests), as answer-then-hangup does on its timer. */
  farEndHangup(): void {
    if (this.state !== 'answered') return;
    this.end();
    this.events.hungUp();
  }

  end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.timer?.cancel();
    this.timer = undefined;
    this.onEnd(this);
  }

  private start(): void {
    const { behavior } = this.rule;
    if (behavior === 'invalid') {
      this.fail('invalid-number');
      return;
    }
    this.state = 'ringing';
    const afterMs = this.rule.answerAfterMs ?? DEFAULT_ANSWER_AFTER_MS;
    // Each step schedules the next before reporting, so a handler that hangs up cancels what would follow.
    switch (behavior) {
      case 'answer':
      case 'answer-then-hangup':
        this.schedule(afterMs, () => this.answer());
        break;
      case 'busy':
        this.schedule(afterMs, () => this.fail('busy'));
        break;
      case 'reject':
        this.schedule(afterMs, () => this.fail('rejected'));
        break;
      case 'no-answer':
        // Rings until the call service's own no-answer timeout hangs up: the network says nothing more.
        break;
    }
    this.events.ringing();
  }

  private answer(): void {
    this.state = 'answered';
    if (this.rule.behavior === 'answer-then-hangup') {
      this.schedule(this.rule.hangupAfterMs ?? DEFAULT_HANGUP_AFTER_MS, () => this.farEndHangup());
    }
    this.events.answered();
  }

  private fail(reason: DialFailure): void {
    this.end();
    this.events.failed(reason);
  }

  private schedule(delayMs: number, fn: () => void): void {
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      if (this.state !== 'ended') fn();
    }, delayMs);
  }
}

export class VirtualCarrier implements Carrier {
  private readonly clock: Clock;
  private readonly rules: readonly CompiledRule[];
  /** Legs not yet ended; a connId may have several over time (redial), but at most one live at once in practice. */
  private readonly legs = new Set<VirtualLeg>();
  /** DTMF sent per connId, kept after the leg ends (tests look after hanging up), the oldest calls forgotten. */
  private readonly dtmfLog = new Map<string, string>();
  private closed = false;

  constructor(options: VirtualCarrierOptions) {
    this.clock = options.clock;
    this.rules = validateDialPlan(options.dialPlan ?? DEFAULT_DIAL_PLAN).map((r) => ({
      rule: r,
      regex: new RegExp(r.pattern),
    }));
  }

  /** The rule a number would meet (first match wins), or undefined if none: such a call fails as invalid-number. */
  ruleFor(to: string): DialPlanRule | undefined {
    const digits = dialedDigits(to);
    return this.rules.find((r) => r.regex.test(digits))?.rule;
  }

  dial(request: DialRequest, events: CarrierLegEvents): CarrierLeg {
    if (this.closed) throw new Error('the virtual carrier is closed');
    const matched = this.ruleFor(request.to) ?? NO_MATCH;
    const leg = new VirtualLeg(
      request.connId,
      matched,
      events,
      this.clock,
      (l) => this.legs.delete(l),
      (connId, digits) => this.recordDtmf(connId, digits),
    );
    this.legs.add(leg);
    return leg;
  }

  close(): void {
    this.closed = true;
    for (const leg of [...this.legs]) leg.end();
  }

  /** DTMF our side sent on a call's legs, in order ('' if none); kept for the last DTMF_LOG_CALLS calls. */
  sentDtmf(connId: string): string {
    return this.dtmfLog.get(connId) ?? '';
  }

  /** Makes the far end of an answered call press keys; false if there is no answered leg for connId. */
  pressKeys(connId: string, digits: string): boolean {
    const leg = this.answeredLeg(connId);
    leg?.receiveDtmf(digits);
    return leg !== undefined;
  }

  /** Makes the far end of an answered call hang up now; false if there is no answered leg for connId. */
  hangUpFarEnd(connId: string): boolean {
    const leg = this.answeredLeg(connId);
    leg?.farEndHangup();
    return leg !== undefined;
  }

  /** Number of legs not yet ended (tests, metrics). */
  get activeLegs(): number {
    return this.legs.size;
  }

  private recordDtmf(connId: string, digits: string): void {
    const sofar = this.dtmfLog.get(connId) ?? '';
    // Re-insert so the Map's order is by last use, and drop the oldest: a long-running server must not accumulate.
    this.dtmfLog.delete(connId);
    this.dtmfLog.set(connId, sofar + digits);
    if (this.dtmfLog.size > DTMF_LOG_CALLS) {
      const oldest = this.dtmfLog.keys().next().value;
      if (oldest !== undefined) this.dtmfLog.delete(oldest);
    }
  }

  private answeredLeg(connId: string): VirtualLeg | undefined {
    return [...this.legs].find((l) => l.connId === connId && l.state === 'answered');
  }
}

const DTMF_LOG_CALLS = 256;

/** What a number that no rule matches meets: a network has no route to it. */
const NO_MATCH: DialPlanRule = Object.freeze({
  pattern: '',
  behavior: 'invalid',
  description: 'No rule matched',
});
