import { AgentBarStatus, EnumLocale } from '@openhotline/sdk';
import { describe, expect, it } from 'vitest';
import {
  acwSecondsLeft,
  controlsFor,
  customerNumber,
  filterTargets,
  formatDuration,
  locationText,
  maskNumber,
  normalizeDialed,
  phaseOf,
  qualityLevel,
  qualityNews,
  signalBars,
} from './model';

const STATUSES = Object.values(AgentBarStatus).filter((v): v is AgentBarStatus => typeof v === 'number');

describe('what each agent status lets the agent do', () => {
  it('gives every status of the guide a phase', () => {
    expect(STATUSES).toHaveLength(19);
    expect(new Set(STATUSES.map(phaseOf))).toEqual(
      new Set([
        'checkedOut',
        'idle',
        'acw',
        'ringing',
        'answering',
        'dialing',
        'talking',
        'held',
        'consultRinging',
        'consulting',
        'retrieving',
        'conference',
      ]),
    );
  });

  it('offers answer only while ringing, and dialing only when free', () => {
    for (const status of STATUSES) {
      const c = controlsFor(phaseOf(status));
      expect(c.answer, AgentBarStatus[status]).toBe(status === AgentBarStatus.AgentRinging);
      expect(c.dial, AgentBarStatus[status]).toBe(
        [AgentBarStatus.AgentCheckin, AgentBarStatus.AgentReady, AgentBarStatus.AgentBreak].includes(status),
      );
    }
  });

  it('walks a consultation: cancel while it rings, complete or conference once the third party talks', () => {
    expect(controlsFor(phaseOf(AgentBarStatus.AgentCallConferenceWaitAnswer))).toMatchObject({
      consultCancel: true,
      consultComplete: false,
      conference: false,
    });
    expect(controlsFor(phaseOf(AgentBarStatus.AgentCallThirdConsult))).toMatchObject({
      consultCancel: true,
      consultComplete: true,
      conference: true,
    });
    expect(controlsFor(phaseOf(AgentBarStatus.AgentCallConference))).toMatchObject({
      consultCancel: true,
      hangUp: true,
    });
  });

  it('holds a talking call and retrieves a held one, never both', () => {
    expect(controlsFor('talking')).toMatchObject({ hold: true, retrieve: false, transfer: true, mute: true });
    expect(controlsFor('held')).toMatchObject({ hold: false, retrieve: true, transfer: true });
  });

  it('lets the agent check out only when not on a call', () => {
    expect(STATUSES.filter((s) => controlsFor(phaseOf(s)).checkOut).map((s) => AgentBarStatus[s])).toEqual([
      'AgentCheckin',
      'AgentReady',
      'AgentBreak',
      'AgentCallRelease',
      'AgentAcw',
    ]);
  });
});

describe('showing numbers', () => {
  it('masks as the server does: 3 + 4 of a mobile number, last 4 of a landline, all of a short one', () => {
    expect(maskNumber('13812345678')).toBe('138****5678');
    expect(maskNumber('4008001000')).toBe('******1000');
    expect(maskNumber('12345')).toBe('*****');
    expect(maskNumber('+8613812345678')).toBe('+86138****5678');
    expect(maskNumber('138-1234-5678')).toBe('138-****-5678');
  });

  it('leaves a number the server already masked, and text without digits, as they are', () => {
    expect(maskNumber('139****1111')).toBe('139****1111');
    expect(maskNumber('anonymous')).toBe('anonymous');
  });

  it("shows the customer's end: the caller of an inbound call, the callee of an outbound one", () => {
    expect(customerNumber({ ani: '139', dnis: '400', callDirection: 'inbound' })).toBe('139');
    expect(customerNumber({ ani: '021', dnis: '138', callDirection: 'outbound' })).toBe('138');
  });

  it('writes 归属地 once per place, with the carrier in the reader’s language', () => {
    const beijing = { province: '北京', city: '北京', carrier: '中国移动', known: true };
    expect(locationText(beijing, EnumLocale['zh-CN'])).toBe('北京 中国移动');
    expect(locationText(beijing, EnumLocale.en)).toBe('北京 China Mobile');
    expect(locationText({ province: '广东', city: '深圳', carrier: '', known: true }, EnumLocale.en)).toBe('广东 深圳');
    expect(locationText({ province: '', city: '', carrier: '', known: false }, EnumLocale.en)).toBeUndefined();
    expect(locationText(null, EnumLocale.en)).toBeUndefined();
  });
});

describe('timers and input', () => {
  it('formats durations as a call timer does', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(7_900)).toBe('0:07');
    expect(formatDuration(754_000)).toBe('12:34');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(-5)).toBe('0:00');
  });

  it('counts after-call work down in whole seconds, rounding up, and stops at 0', () => {
    expect(acwSecondsLeft(undefined, 0)).toBeUndefined();
    expect(acwSecondsLeft(3000, 0)).toBe(3);
    expect(acwSecondsLeft(3000, 2001)).toBe(1);
    expect(acwSecondsLeft(3000, 5000)).toBe(0);
  });

  it('accepts what people type as a number, and refuses what is not one', () => {
    expect(normalizeDialed(' 138-0013 8000 ')).toBe('13800138000');
    expect(normalizeDialed('(021) 6000.0001')).toBe('02160000001');
    expect(normalizeDialed('+8613800138000')).toBe('+8613800138000');
    expect(normalizeDialed('')).toBeUndefined();
    expect(normalizeDialed('12ab')).toBeUndefined();
  });
});

describe('call quality in words', () => {
  it('is good from MOS 4, fair from 3.6, poor below, and poor whenever audio flows one way', () => {
    expect(qualityLevel({ mos: 4.4, oneWayAudio: 'none' })).toBe('good');
    expect(qualityLevel({ mos: 4, oneWayAudio: 'none' })).toBe('good');
    expect(qualityLevel({ mos: 3.99, oneWayAudio: 'none' })).toBe('fair');
    expect(qualityLevel({ mos: 3.6, oneWayAudio: 'none' })).toBe('fair');
    expect(qualityLevel({ mos: 3.59, oneWayAudio: 'none' })).toBe('poor');
    expect(qualityLevel({ mos: 4.4, oneWayAudio: 'outbound-missing' })).toBe('poor');
    expect([signalBars('good'), signalBars('fair'), signalBars('poor')]).toEqual([3, 2, 1]);
  });

  it('is news when the level or the one-way state changes, and at the start only when bad', () => {
    const q = (mos: number, oneWayAudio: 'none' | 'inbound-missing' = 'none') => ({ mos, oneWayAudio });
    expect(qualityNews(undefined, q(4.4))).toBe(false);
    expect(qualityNews(undefined, q(3.7))).toBe(true);
    expect(qualityNews(q(4.4), q(4.1))).toBe(false);
    expect(qualityNews(q(4.4), q(3.9))).toBe(true);
    expect(qualityNews(q(2), q(2, 'inbound-missing'))).toBe(true);
    expect(qualityNews(q(2, 'inbound-missing'), q(2, 'inbound-missing'))).toBe(false);
  });
});

describe('searching transfer targets', () => {
  const targets = {
    agents: [
      { id: '1002', name: '李娜 Li Na', status: 3, statusDesc: { 'zh-CN': '空闲', en: 'Ready' }, available: true },
      {
        id: '1003',
        name: '王芳 Wang Fang',
        status: 1,
        statusDesc: { 'zh-CN': '签出', en: 'Checked out' },
        available: false,
      },
    ],
    skillGroups: [
      { id: 'support', name: '客服 Support', readyAgents: 1, waiting: 0 },
      { id: 'sales', name: '销售 Sales', readyAgents: 0, waiting: 2 },
    ],
  };
  it('matches names and ids, ignoring case and surrounding spaces, in both scripts', () => {
    expect(filterTargets(targets, '  li na ').agents.map((a) => a.id)).toEqual(['1002']);
    expect(filterTargets(targets, '1003').agents.map((a) => a.id)).toEqual(['1003']);
    expect(filterTargets(targets, '销售').skillGroups.map((g) => g.id)).toEqual(['sales']);
    expect(filterTargets(targets, 'SUPPORT')).toEqual({ agents: [], skillGroups: [targets.skillGroups[0]] });
    expect(filterTargets(targets, '')).toBe(targets);
  });
});
