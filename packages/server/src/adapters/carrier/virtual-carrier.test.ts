import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/clock.js';
import type { CarrierLeg, CarrierLegEvents } from './carrier.js';
import {
  DEFAULT_DIAL_PLAN,
  DialPlanError,
  type DialPlanRule,
  describeDialPlan,
  VirtualCarrier,
  validateDialPlan,
} from './virtual-carrier.js';

const START = 1_700_000_000_000;

/** Records every event with its time since the dial, e.g. "1000 answered". */
function recorder(clock: ManualClock, onEvent?: (event: string) => void): { log: string[]; events: CarrierLegEvents } {
  const log: string[] = [];
  const at = (event: string) => {
    log.push(`${clock.now() - START} ${event}`);
    onEvent?.(event);
  };
  return {
    log,
    events: {
      ringing: () => at('ringing'),
      answered: () => at('answered'),
      failed: (reason) => at(`failed:${reason}`),
      hungUp: () => at('hungUp'),
      dtmf: (digits) => at(`dtmf:${digits}`),
    },
  };
}

function setup(dialPlan?: readonly DialPlanRule[]) {
  const clock = new ManualClock(START);
  const carrier = new VirtualCarrier({ clock, ...(dialPlan ? { dialPlan } : {}) });
  const dial = (to: string, connId = 'conn_1') => {
    const { log, events } = recorder(clock);
    const leg = carrier.dial({ connId, to, from: '4008001234' }, events);
    return { log, leg };
  };
  return { clock, carrier, dial };
}

describe('VirtualCarrier with the default dial plan', () => {
  it('reports nothing synchronously: the caller holds the leg before ringing', () => {
    const { clock, dial } = setup();
    const { log } = dial('13800138000');
    expect(log).toEqual([]);
    clock.advance(0);
    expect(log).toEqual(['0 ringing']);
  });

  it.each([
    ['any other number answers after 1 s', '13800138000', ['0 ringing', '1000 answered']],
    ['0001 is busy after 1 s', '13800130001', ['0 ringing', '1000 failed:busy']],
    ['0002 rings and never answers', '13800130002', ['0 ringing']],
    ['0003 is rejected after 2 s', '13800130003', ['0 ringing', '2000 failed:rejected']],
    ['0004 answers after 5 s', '13800130004', ['0 ringing', '5000 answered']],
    ['0005 answers after 1 s and hangs up 10 s later', '13800130005', ['0 ringing', '1000 answered', '11000 hungUp']],
    ['a + number is valid', '+8613800138000', ['0 ringing', '1000 answered']],
    ['separators are ignored', '138-0013 (0001)', ['0 ringing', '1000 failed:busy']],
    ['letters are an invalid number, at once and without ringing', '1380013800a', ['0 failed:invalid-number']],
    ['fewer than 3 digits is invalid', '12', ['0 failed:invalid-number']],
    ['more than 32 digits is invalid', '1'.repeat(33), ['0 failed:invalid-number']],
    ['32 digits is valid', '1'.repeat(32), ['0 ringing', '1000 answered']],
    ['starting with 000 is invalid', '00012345678', ['0 failed:invalid-number']],
    ['+000 is invalid too', '+00012345678', ['0 failed:invalid-number']],
    ['empty is invalid', '', ['0 failed:invalid-number']],
  ])('%s', (_name, to, expected) => {
    const { clock, carrier, dial } = setup();
    const { log } = dial(to);
    clock.advance(60_000);
    expect(log).toEqual(expected);
    // A leg still ringing or talking stays up (until someone hangs up); a failed or hung-up one is gone. Either
    // way nothing is left to fire.
    const last = expected[expected.length - 1] ?? '';
    expect(carrier.activeLegs).toBe(/ (ringing|answered)$/.test(last) ? 1 : 0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('reports each event at its time, not before', () => {
    const { clock, dial } = setup();
    const { log } = dial('13800130005');
    clock.advance(999);
    expect(log).toEqual(['0 ringing']);
    clock.advance(1);
    expect(log).toEqual(['0 ringing', '1000 answered']);
    clock.advance(9_999);
    expect(log).toHaveLength(2);
    clock.advance(1);
    expect(log).toEqual(['0 ringing', '1000 answered', '11000 hungUp']);
  });

  it('names the rule a number meets', () => {
    const { carrier } = setup();
    expect(carrier.ruleFor('13800130003')?.behavior).toBe('reject');
    expect(carrier.ruleFor('abc')?.behavior).toBe('invalid');
    expect(carrier.ruleFor('13800138000')?.description).toBe('Any other number: answers');
  });
});

describe('VirtualCarrier legs', () => {
  it('hangup before ringing: no event ever follows', () => {
    const { clock, dial } = setup();
    const { log, leg } = dial('13800138000');
    leg.hangup();
    clock.advance(60_000);
    expect(log).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('hangup while ringing cancels the answer', () => {
    const { clock, carrier, dial } = setup();
    const { log, leg } = dial('13800130004');
    clock.advance(4_000);
    leg.hangup();
    clock.advance(60_000);
    expect(log).toEqual(['0 ringing']);
    expect(clock.pendingTimers()).toBe(0);
    expect(carrier.activeLegs).toBe(0);
  });

  it('hangup while talking cancels the far-end hangup; hangup twice is safe', () => {
    const { clock, dial } = setup();
    const { log, leg } = dial('13800130005');
    clock.advance(5_000);
    leg.hangup();
    leg.hangup();
    clock.advance(60_000);
    expect(log).toEqual(['0 ringing', '1000 answered']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('hangup of a never-answering leg ends it', () => {
    const { clock, carrier, dial } = setup();
    const { log, leg } = dial('13800130002');
    clock.advance(30_000);
    leg.hangup();
    expect(carrier.activeLegs).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(log).toEqual(['0 ringing']);
  });

  it('a handler that hangs up inside an event stops what would follow', () => {
    const clock = new ManualClock(START);
    const carrier = new VirtualCarrier({ clock });
    let leg: CarrierLeg | undefined;
    const { log, events } = recorder(clock, (event) => {
      if (event === 'answered') leg?.hangup();
    });
    leg = carrier.dial({ connId: 'conn_1', to: '13800130005', from: '1' }, events);
    clock.advance(60_000);
    expect(log).toEqual(['0 ringing', '1000 answered']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('legs are independent', () => {
    const { clock, dial } = setup();
    const a = dial('13800130001', 'conn_a');
    const b = dial('13800130004', 'conn_b');
    a.leg.hangup();
    clock.advance(60_000);
    expect(a.log).toEqual([]);
    expect(b.log).toEqual(['0 ringing', '5000 answered']);
  });

  it('close cancels every leg, and refuses new dials', () => {
    const { clock, carrier, dial } = setup();
    const a = dial('13800138000', 'conn_a');
    const b = dial('13800130005', 'conn_b');
    const c = dial('13800130002', 'conn_c');
    clock.advance(2_000);
    carrier.close();
    clock.advance(60_000);
    expect(a.log).toEqual(['0 ringing', '1000 answered']);
    expect(b.log).toEqual(['0 ringing', '1000 answered']);
    expect(c.log).toEqual(['0 ringing']);
    expect(carrier.activeLegs).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(() => dial('13800138000')).toThrow(/closed/);
  });

  it('records DTMF sent per call, also after the call ended', () => {
    const { clock, carrier, dial } = setup();
    const { leg } = dial('13800138000', 'conn_1');
    clock.advance(1_000);
    leg.sendDtmf('12');
    leg.sendDtmf('#');
    expect(carrier.sentDtmf('conn_1')).toBe('12#');
    leg.hangup();
    leg.sendDtmf('9');
    expect(carrier.sentDtmf('conn_1')).toBe('12#');
    expect(carrier.sentDtmf('conn_other')).toBe('');
    expect(() => leg.sendDtmf('1x')).toThrow(/invalid DTMF/);
  });

  it('forgets the DTMF of old calls', () => {
    const { carrier, dial } = setup();
    for (let i = 0; i < 300; i++) dial('13800138000', `conn_${i}`).leg.sendDtmf('1');
    expect(carrier.sentDtmf('conn_0')).toBe('');
    expect(carrier.sentDtmf('conn_299')).toBe('1');
  });

  it('lets tests make the far end press keys and hang up on an answered call', () => {
    const { clock, carrier, dial } = setup();
    const { log } = dial('13800138000', 'conn_1');
    expect(carrier.pressKeys('conn_1', '5')).toBe(false);
    clock.advance(1_000);
    expect(carrier.pressKeys('conn_1', '5')).toBe(true);
    expect(carrier.hangUpFarEnd('conn_1')).toBe(true);
    expect(carrier.hangUpFarEnd('conn_1')).toBe(false);
    expect(log).toEqual(['0 ringing', '1000 answered', '1000 dtmf:5', '1000 hungUp']);
    expect(carrier.activeLegs).toBe(0);
  });
});

describe('custom dial plans', () => {
  it('first match wins', () => {
    const { clock, dial } = setup([
      { pattern: '^139', behavior: 'busy', answerAfterMs: 300, description: 'All 139 numbers are busy' },
      { pattern: '0004$', behavior: 'reject', answerAfterMs: 0, description: 'Rejects at once' },
      { pattern: '', behavior: 'answer', description: 'Everything else' },
    ]);
    const a = dial('13900000004', 'a');
    const b = dial('13800000004', 'b');
    const c = dial('x', 'c');
    clock.advance(10_000);
    expect(a.log).toEqual(['0 ringing', '300 failed:busy']);
    expect(b.log).toEqual(['0 ringing', '0 failed:rejected']);
    expect(c.log).toEqual(['0 ringing', '1000 answered']);
  });

  it('uses the default timings when a rule gives none', () => {
    const { clock, dial } = setup([{ pattern: '.', behavior: 'answer-then-hangup', description: 'Short call' }]);
    const { log } = dial('123');
    clock.advance(60_000);
    expect(log).toEqual(['0 ringing', '1000 answered', '11000 hungUp']);
  });

  it('a number no rule matches fails as invalid-number', () => {
    const { clock, carrier, dial } = setup([{ pattern: '^1', behavior: 'answer', description: 'Ones' }]);
    const { log } = dial('200');
    clock.advance(1_000);
    expect(log).toEqual(['0 failed:invalid-number']);
    expect(carrier.ruleFor('200')).toBeUndefined();
  });

  it('a bad plan is refused at construction, naming the rule', () => {
    const clock = new ManualClock(START);
    expect(
      () => new VirtualCarrier({ clock, dialPlan: [{ pattern: '(', behavior: 'answer', description: 'Broken' }] }),
    ).toThrow(/rule 1 \("Broken"\): pattern "\(" is not a valid regular expression/);
  });
});

describe('validateDialPlan', () => {
  const problemsOf = (rules: unknown): readonly string[] => {
    try {
      validateDialPlan(rules);
    } catch (error) {
      if (error instanceof DialPlanError) return error.problems;
      throw error;
    }
    return [];
  };

  it('accepts the default plan and returns the rules unchanged', () => {
    expect(validateDialPlan(JSON.parse(JSON.stringify(DEFAULT_DIAL_PLAN)))).toEqual(DEFAULT_DIAL_PLAN);
  });

  it('refuses what is not a non-empty array', () => {
    expect(problemsOf({})).toEqual(['must be an array of rules (got {})']);
    expect(problemsOf(undefined)).toEqual(['must be an array of rules (got nothing)']);
    expect(problemsOf([])).toEqual(['must have at least one rule (no rule matching fails every call)']);
  });

  it('lists every problem, naming the rule and the field', () => {
    const problems = problemsOf([
      { pattern: '^1', behavior: 'answer', description: 'Fine' },
      'busy',
      { pattern: '[', behavior: 'ring', description: 'Two faults' },
      { pattern: 5, behavior: 'answer', answerAfter: 3, description: '' },
      { pattern: '^2', behavior: 'no-answer', answerAfterMs: 100, description: 'Silent' },
      { pattern: '^3', behavior: 'answer', hangupAfterMs: 100, description: 'Wrong field' },
      {
        pattern: '^4',
        behavior: 'answer-then-hangup',
        answerAfterMs: -1,
        hangupAfterMs: 1.5,
        description: 'Bad times',
      },
      { pattern: '^5', behavior: 'busy', answerAfterMs: 86_400_001, description: 'Too slow' },
    ]);
    expect(problems).toEqual([
      'rule 2: must be an object (got "busy")',
      expect.stringMatching(/^rule 3 \("Two faults"\): pattern "\[" is not a valid regular expression \(.+\)$/),
      'rule 3 ("Two faults"): behavior must be one of answer, busy, no-answer, reject, invalid, answer-then-hangup (got "ring")',
      'rule 4: unknown field "answerAfter"',
      'rule 4: description must be a non-empty string',
      'rule 4: pattern must be a string (got 5)',
      'rule 5 ("Silent"): answerAfterMs does not apply to behavior no-answer',
      'rule 6 ("Wrong field"): hangupAfterMs applies only to behavior answer-then-hangup',
      'rule 7 ("Bad times"): answerAfterMs must be an integer from 0 to 86400000 (got -1)',
      'rule 7 ("Bad times"): hangupAfterMs must be an integer from 0 to 86400000 (got 1.5)',
      'rule 8 ("Too slow"): answerAfterMs must be an integer from 0 to 86400000 (got 86400001)',
    ]);
  });

  it('drops nothing and adds nothing', () => {
    const [rule] = validateDialPlan([{ pattern: 'x', behavior: 'invalid', description: 'X' }]);
    expect(rule).toEqual({ pattern: 'x', behavior: 'invalid', description: 'X' });
    expect(Object.isFrozen(rule)).toBe(true);
  });
});

describe('describeDialPlan', () => {
  it('renders a Markdown table, escaping pipes', () => {
    expect(
      describeDialPlan([
        { pattern: '^(1|2)', behavior: 'reject', answerAfterMs: 500, description: 'One | two' },
        {
          pattern: '.',
          behavior: 'answer-then-hangup',
          answerAfterMs: 1_500,
          hangupAfterMs: 60_000,
          description: 'Rest',
        },
      ]),
    ).toBe(
      [
        '| # | Pattern | What happens | Description |',
        '| --- | --- | --- | --- |',
        '| 1 | `^(1\\|2)` | rings 500 ms, then fails: `rejected` | One \\| two |',
        '| 2 | `.` | rings 1.5 s, answers, hangs up 60 s later | Rest |',
      ].join('\n'),
    );
  });

  it('docs/virtual-carrier.md shows exactly the default plan', () => {
    const doc = readFileSync(new URL('../../../../../docs/virtual-carrier.md', import.meta.url), 'utf8');
    expect(doc).toContain(describeDialPlan(DEFAULT_DIAL_PLAN));
  });
});
