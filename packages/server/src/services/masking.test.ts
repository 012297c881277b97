import type { CallRecord } from '@openhotline/protocol';
import { describe, expect, it } from 'vitest';
import { maskCallRecord, maskNumber } from './masking.js';

describe('maskNumber: a number an agent without canSeeFullNumbers sees', () => {
  it.each([
    // 11+ digits: first 3 and last 4.
    ['13812345678', '138****5678'],
    ['02160000001', '021****0001'],
    ['123456789012345', '123********2345'],
    // 7 to 10 digits: last 4.
    ['4008001000', '******1000'],
    ['1234567', '***4567'],
    // Shorter: nothing.
    ['123456', '******'],
    ['110', '***'],
    ['7', '*'],
  ])('%s → %s', (number, masked) => {
    expect(maskNumber(number)).toBe(masked);
  });

  it.each([
    // The country code stays; the national digits follow the rule above.
    ['+8613812345678', '+86138****5678'],
    ['+12025550123', '+1******0123'],
    ['+74951234567', '+7******4567'],
    ['+35312345678', '+353****5678'],
    ['+4930100', '+49*****'],
    ['+86', '+86'],
  ])('keeps + and the country code: %s → %s', (number, masked) => {
    expect(maskNumber(number)).toBe(masked);
  });

  it('keeps separators in place and masks only digits', () => {
    expect(maskNumber('138-1234-5678')).toBe('138-****-5678');
    expect(maskNumber('+86 138 1234 5678')).toBe('+86 138 **** 5678');
  });

  it('leaves a value without digits alone', () => {
    expect(maskNumber('')).toBe('');
    expect(maskNumber('anonymous')).toBe('anonymous');
  });

  it('never shows more than 7 national digits, whatever the length', () => {
    for (let length = 1; length <= 32; length++) {
      const number = '9'.repeat(length);
      const shown = maskNumber(number).replace(/\*/g, '').length;
      expect(maskNumber(number)).toHaveLength(length);
      expect(shown, `${length} digits`).toBeLessThanOrEqual(length >= 11 ? 7 : length >= 7 ? 4 : 0);
    }
  });
});

function record(overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    connId: 'c1',
    instanceId: 'demo',
    direction: 'inbound',
    ani: '13812345678',
    dnis: '4008001000',
    callerIdUsed: '02160000001',
    skillGroupId: 'support',
    agentId: '1002',
    agentIds: ['1001', '1002'],
    disposition: 'answered',
    releasedBy: 'customer',
    releaseReason: '',
    offeredAt: 1_000,
    queuedAt: 1_001,
    ringingAt: 1_002,
    answeredAt: 1_003,
    endedAt: 1_100,
    memberId: 'm-1',
    memberName: 'Member',
    fromSource: '',
    taskId: '',
    channelId: '',
    caseId: '',
    legs: [
      { legId: 'l1', role: 'customer', party: '13812345678', kind: 'virtual', joinedAt: 1_000, leftAt: 1_100 },
      { legId: 'l2', role: 'agent', party: '1002', kind: 'agent', joinedAt: 1_003, leftAt: 1_100 },
      { legId: 'l3', role: 'third', party: '13987654321', kind: 'sip', joinedAt: 1_050, leftAt: 1_080 },
      { legId: 'l4', role: 'third', party: '1001', kind: 'agent', joinedAt: 1_060, leftAt: 1_070 },
    ],
    events: [
      { at: 1_000, type: 'offered', agentId: '', detail: '13812345678 → 4008001000' },
      { at: 1_002, type: 'ringing', agentId: '1002', detail: 'ring 20 s' },
      { at: 1_050, type: 'consult-started', agentId: '1002', detail: 'number +8613987654321' },
      { at: 1_060, type: 'dtmf-received', agentId: '', detail: '4321#' },
    ],
    recordingUrl: null,
    ...overrides,
  };
}

describe('maskCallRecord: what an agent reads in the records API', () => {
  it('returns the record untouched to a reader who may see full numbers', () => {
    const full = record();
    expect(maskCallRecord(full, true)).toEqual(full);
  });

  it("masks the customer's and third parties' numbers, and nothing that names an agent or the company", () => {
    const full = record();
    const masked = maskCallRecord(full, false);
    // Inbound: the caller is the customer; the dialled number is the company's hotline.
    expect(masked.ani).toBe('138****5678');
    expect(masked.dnis).toBe('4008001000');
    expect(masked.callerIdUsed).toBe('02160000001');
    expect(masked.legs.map((l) => l.party)).toEqual(['138****5678', '1002', '139****4321', '1001']);
    expect(masked.agentId).toBe('1002');
    expect(masked.agentIds).toEqual(['1001', '1002']);
    expect(masked.events.map((e) => [e.agentId, e.detail])).toEqual([
      ['', '138****5678 → 4008001000'],
      ['1002', 'ring 20 s'],
      ['1002', 'number +86139****4321'],
      ['', '****#'],
    ]);
    // The input is not changed: the caller may hand the same record to another reader.
    expect(full.ani).toBe('13812345678');
    expect(full.legs[0]?.party).toBe('13812345678');
    expect(full.events[0]?.detail).toBe('13812345678 → 4008001000');
  });

  it('masks the callee of an outbound call and keeps the caller id it went out with', () => {
    const masked = maskCallRecord(
      record({
        direction: 'outbound',
        ani: '02160000001',
        dnis: '13912345678',
        legs: [],
        events: [{ at: 1, type: 'dialing', agentId: '1001', detail: '02160000001 → 13912345678' }],
      }),
      false,
    );
    expect([masked.ani, masked.dnis, masked.callerIdUsed]).toEqual(['02160000001', '139****5678', '02160000001']);
    expect(masked.events[0]?.detail).toBe('02160000001 → 139****5678');
  });

  it('finds a customer number in a detail even when it is too short to look like one', () => {
    const masked = maskCallRecord(
      record({ ani: '12345', legs: [], events: [{ at: 1, type: 'offered', agentId: '', detail: '12345 → 110' }] }),
      false,
    );
    expect(masked.ani).toBe('*****');
    expect(masked.events[0]?.detail).toBe('***** → 110');
  });

  it('keeps ani and dnis of an internal call, whose ends are agents', () => {
    const masked = maskCallRecord(
      record({
        direction: 'internal',
        ani: '1001',
        dnis: '1002',
        legs: [],
        events: [{ at: 1, type: 'dialing', agentId: '1001', detail: 'agent 1002' }],
      }),
      false,
    );
    expect([masked.ani, masked.dnis]).toEqual(['1001', '1002']);
    expect(masked.events[0]?.detail).toBe('agent 1002');
  });
});
