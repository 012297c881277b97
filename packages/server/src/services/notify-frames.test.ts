import {
  AGENT_BASIC_CODE_TEXT,
  AgentBarStatus,
  AgentBasicCode,
  EnumWSEventType,
  type HotlineEventData,
  type HotlineMessage,
  SceneType,
  WS_EVENT_TEXT,
} from '@openhotline/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameTemplates, frameOf, TEMPLATES_PER_STREAM, type UnsequencedMessage } from './notify-frames.js';

/** What the encoder must give: the frame object through JSON.stringify, as UTF-8. */
const expected = (message: UnsequencedMessage, seq: number) => JSON.stringify(frameOf(message, seq));

const descriptions = {
  'zh-CN': {
    agentBasicDesc: AGENT_BASIC_CODE_TEXT.AgentBreak['zh-CN'],
    agentCallDesc: WS_EVENT_TEXT.AgentBreak['zh-CN'],
  },
  en: { agentBasicDesc: AGENT_BASIC_CODE_TEXT.AgentBreak.en, agentCallDesc: WS_EVENT_TEXT.AgentBreak.en },
};

/** A hotline-message as the agent service builds it: one literal, fixed key order. */
function message(at: number, fields: Partial<HotlineEventData> = {}): Omit<HotlineMessage, 'seq'> {
  const eventTime = String(at);
  const data: HotlineEventData = {
    acid: '',
    agentBasicCode: AgentBasicCode.AgentBreak,
    agentBasicDesc: descriptions['zh-CN'].agentBasicDesc,
    agentCallCode: EnumWSEventType.AgentBreak,
    agentCallDesc: descriptions['zh-CN'].agentCallDesc,
    aid: '',
    ani: '',
    appName: '演示',
    cmd: 'break',
    connId: '',
    departmentId: '',
    dnis: '',
    eventTime,
    holdConnId: '',
    jobId: '',
    mid: '',
    name: '',
    status: AgentBarStatus.AgentBreak,
    subSessionId: '',
    supportNewFunction: '1',
    time: new Date(at).toISOString(),
    callDirection: '',
    releasedBy: '',
    releaseReason: '',
    location: null,
    instanceId: 'demo',
    agentId: 'a1',
    breakReason: 'lunch',
    descriptions,
    ...fields,
  };
  return {
    sceneType: SceneType.HotlineMessage,
    head: { agentCallCode: data.agentCallCode, agentBasicCode: data.agentBasicCode, status: data.status, eventTime },
    data,
  };
}

describe('notify frames', () => {
  it('gives the bytes JSON.stringify gives, for repeated shapes, changed fields and strings that need escaping', () => {
    const strings = fc.oneof(
      fc.constantFrom('', 'lunch', 'rest', '小休', 'a"b', 'back\\slash', 'line\nbreak', '\u0000', '\u2028', '😀'),
      fc.string({ maxLength: 6 }),
    );
    // Each run has a few shapes, each the base message with one field changed, and sends them in a random order:
    // shapes repeat (a template must be used) and differ from each other in one field (it must not be misused).
    const oneField = fc.oneof(
      fc.record({
        key: fc.constantFrom('acid', 'cmd', 'breakReason', 'agentId', 'appName', 'ani', 'mid'),
        value: strings,
      }),
      // The first fields of data and of the head (which copies it).
      fc.record({
        key: fc.constant('agentCallCode'),
        value: fc.constantFrom(EnumWSEventType.AgentBreak, EnumWSEventType.AgentReady, EnumWSEventType.AgentAcw),
      }),
      fc.record({ key: fc.constant('connId'), value: fc.constantFrom('', 'c-1') }),
      fc.record({
        key: fc.constant('status'),
        value: fc.constantFrom(AgentBarStatus.AgentReady, AgentBarStatus.AgentBreak, AgentBarStatus.AgentAcw),
      }),
      fc.record({
        key: fc.constant('location'),
        value: fc.constantFrom(null, { province: '广东', city: '深圳', carrier: '' }),
      }),
      // The last field left out: the message's keys are then a prefix of the others'.
      fc.record({ key: fc.constant('descriptions'), value: fc.constant(undefined) }),
    );
    // Times: ordinary epoch ms, and odd ones (a negative year's ISO date, the first millisecond before 1970).
    const at = fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constantFrom(-1, -62_198_755_200_000));
    // Now and then an eventTime or time that is not plain (the template must not write it in unescaped).
    const eventTime = fc.option(strings, { nil: undefined, freq: 8 });
    const step = fc.tuple(fc.nat(), at, fc.integer({ min: 0, max: 2 ** 53 - 1 }), eventTime);
    let templated = 0;
    fc.assert(
      fc.property(
        fc.array(oneField, { minLength: 1, maxLength: 6 }),
        fc.array(step, { maxLength: 30 }),
        (shapes, steps) => {
          const templates = new FrameTemplates();
          const seen = new Set<number>();
          // The base message itself is always one of the shapes.
          shapes.push({ key: 'cmd', value: 'break' });
          for (const [pick, time, seq, oddTime] of steps) {
            const shape = pick % shapes.length;
            const { key, value } = shapes[shape] as { key: string; value: unknown };
            const m = message(time, { [key]: value } as Partial<HotlineEventData>);
            if (value === undefined) delete (m.data as Partial<HotlineEventData>)[key as keyof HotlineEventData];
            // Into data.time, the head's eventTime alone, or both eventTimes.
            if (oddTime !== undefined && seq % 3 === 0) Object.assign(m.data, { time: oddTime });
            if (oddTime !== undefined && seq % 3 !== 0) Object.assign(m.head, { eventTime: oddTime });
            if (oddTime !== undefined && seq % 3 === 2) Object.assign(m.data, { eventTime: oddTime });
            if (seen.has(shape)) templated++;
            seen.add(shape);
            expect(templates.encode(m, seq).toString()).toBe(expected(m, seq));
          }
        },
      ),
      // No shrinking: a failing run is reported as found (shrinking thirty steps of strings can take minutes).
      { numRuns: 300, endOnFailure: true },
    );
    expect(templated).toBeGreaterThan(500);
  });

  it('fills a template when only the time and the sequence number changed, and keeps only its newest shapes', () => {
    const templates = new FrameTemplates();
    const first = message(1_765_000_000_000);
    templates.encode(first, 1);
    const again = message(1_765_000_012_345);
    expect(templates.encode(again, 2).toString()).toBe(expected(again, 2));
    expect(JSON.parse(templates.encode(again, 3).toString())).toMatchObject({
      seq: 3,
      data: { time: again.data.time },
    });
    // A field that differs, even in order only, is not taken from the template.
    const reordered = message(1_765_000_020_000);
    const { cmd, ...rest } = reordered.data;
    const moved = { ...reordered, data: { cmd, ...rest } as HotlineEventData };
    expect(templates.encode(moved, 4).toString()).toBe(expected(moved, 4));
    // Nor does a message whose fields are only the first of a template's.
    const fewer = message(1_765_000_021_000);
    delete (fewer.data as Partial<HotlineEventData>).descriptions;
    expect(templates.encode(fewer, 5).toString()).toBe(expected(fewer, 5));
    for (let i = 0; i < TEMPLATES_PER_STREAM + 2; i++) {
      const other = message(1_765_000_030_000 + i, { breakReason: `reason-${i}` });
      expect(templates.encode(other, 10 + i).toString()).toBe(expected(other, 10 + i));
    }
    const late = message(1_765_000_040_000);
    expect(templates.encode(late, 99).toString()).toBe(expected(late, 99));
  });

  it('serializes voice-to-text messages in full', () => {
    const templates = new FrameTemplates();
    const text = {
      sceneType: SceneType.VoiceToText,
      head: { connId: 'c1', eventTime: '1' },
      data: { connId: 'c1', speaker: 'agent', text: '你好', final: true, beginTime: 0, endTime: 10 },
    } as const;
    expect(templates.encode(text, 7).toString()).toBe(expected(text, 7));
  });
});
