import { type HotlineMessage, type NotifyMessage, SceneType, type VoiceToTextMessage } from '@openhotline/protocol';

/**
 * Encodes the frame of a pushed message: `{"type":"notify","sceneType":…,"head":…,"data":…,"seq":n}` as UTF-8
 * JSON, byte for byte what JSON.stringify gives for it.
 *
 * Serializing a hotline-message takes JSON.stringify about 3 µs (some 35 fields) and UTF-8 encoding another
 * microsecond, on a path every status change of every agent takes. Yet most messages of an agent differ from an
 * earlier one only in their time and sequence number: an agent going on break for the tenth time today gets the
 * same codes, texts and ids as the first time. So each stream keeps the frames of its recent message shapes as
 * templates: UTF-8 bytes with four slots (head.eventTime, data.eventTime, data.time and seq). A message whose
 * other fields are the template's, in the same order and identical (===), gets the template's bytes with its own
 * slot values written in, for a fraction of the cost. Anything else is serialized in full and becomes the newest
 * template.
 *
 * A template can only be used where it gives the same bytes: slot values are written in only when they need no
 * JSON escaping (digits, an ISO-8601 time), and fields are compared by identity and key order. A property test
 * holds the encoder to JSON.stringify.
 */

export type UnsequencedMessage = Omit<HotlineMessage, 'seq'> | Omit<VoiceToTextMessage, 'seq'>;

/**
 * How many shapes a stream keeps. An agent's day cycles through a handful (ready, a break reason or two,
 * after-call work, check-in and out); call events are not templated (their ids are new every call).
 */
export const TEMPLATES_PER_STREAM = 4;

/** Stand-ins for the slot values while a template is made; a message containing one is never templated. */
const SLOT_MARK = '\u0000openhotline-slot\u0000';
const EVENT_TIME_MARK = `${SLOT_MARK}E`;
const TIME_MARK = `${SLOT_MARK}T`;
const SEQ_MARK = `${SLOT_MARK}S`;
/** The stand-ins as they appear in serialized JSON, quotes included (NUL is written as \u0000). */
const SLOTS_IN_JSON = new RegExp(
  [EVENT_TIME_MARK, TIME_MARK, SEQ_MARK].map((mark) => escapeRegExp(JSON.stringify(mark))).join('|'),
  'g',
);

/** Slot values written in as they are: epoch milliseconds and an ISO-8601 time. */
const PLAIN_DIGITS = /^\d{1,20}$/;
const PLAIN_ISO_TIME = /^[0-9TZ:.+-]{1,40}$/;

/** The fields that are slots; every other field must match the template's. */
const HEAD_SLOTS = new Set<string>(['eventTime']);
const DATA_SLOTS = new Set<string>(['eventTime', 'time']);

/** An object's fields as a template compares them: keys in order, values by position, and which are slots. */
interface Fields {
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
  readonly isSlot: readonly boolean[];
}

interface Template {
  readonly head: Fields;
  readonly data: Fields;
  /** The bytes around the slots: before head.eventTime, before data.eventTime, before data.time, before seq, after. */
  readonly parts: readonly [Buffer, Buffer, Buffer, Buffer, Buffer];
}

/** The frame templates of one stream, newest first. */
export class FrameTemplates {
  private readonly templates: Template[] = [];

  /** The UTF-8 frame of `message` with sequence number `seq`. */
  encode(message: UnsequencedMessage, seq: number): Buffer {
    if (message.sceneType !== SceneType.HotlineMessage || !templatable(message, seq)) {
      return Buffer.from(JSON.stringify(frameOf(message, seq)));
    }
    const { head, data } = message;
    for (let i = 0; i < this.templates.length; i++) {
      const template = this.templates[i] as Template;
      if (matches(template, head, data)) return fill(template, data.eventTime, data.time, seq);
    }
    const template = makeTemplate(message);
    if (!template) return Buffer.from(JSON.stringify(frameOf(message, seq)));
    this.templates.unshift(template);
    if (this.templates.length > TEMPLATES_PER_STREAM) this.templates.pop();
    return fill(template, data.eventTime, data.time, seq);
  }
}

/** The frame as an object, in its key order: `type` first, the message's own fields, then `seq`. */
export function frameOf(message: UnsequencedMessage, seq: number): { type: 'notify' } & NotifyMessage {
  return { type: 'notify', sceneType: message.sceneType, head: message.head, data: message.data, seq } as {
    type: 'notify';
  } & NotifyMessage;
}

function templatable(message: Omit<HotlineMessage, 'seq'>, seq: number): boolean {
  const { head, data } = message;
  return (
    data.connId === '' &&
    head.eventTime === data.eventTime &&
    Number.isSafeInteger(seq) &&
    seq >= 0 &&
    PLAIN_DIGITS.test(data.eventTime) &&
    PLAIN_ISO_TIME.test(data.time)
  );
}

/** Same keys in the same order, and identical values outside the slots. */
function matches(template: Template, head: object, data: object): boolean {
  return sameFields(template.head, head) && sameFields(template.data, data);
}

/**
 * Walks the given object's own keys in order (for-in over an object of one shape reads its values from V8's enum
 * cache) against the template's keys and values by position: no keyed lookup into the template per field.
 */
function sameFields(template: Fields, given: object): boolean {
  const values = given as Record<string, unknown>;
  const { keys, values: expected, isSlot } = template;
  let i = 0;
  for (const key in values) {
    if (key !== keys[i]) return false;
    if (values[key] !== expected[i] && !isSlot[i]) return false;
    i++;
  }
  return i === keys.length;
}

function fieldsOf(object: Record<string, unknown>, slots: ReadonlySet<string>): Fields {
  const keys = Object.keys(object);
  return { keys, values: keys.map((key) => object[key]), isSlot: keys.map((key) => slots.has(key)) };
}

function makeTemplate(message: Omit<HotlineMessage, 'seq'>): Template | undefined {
  const head = message.head as unknown as Record<string, unknown>;
  const data = message.data as unknown as Record<string, unknown>;
  const text = JSON.stringify({
    type: 'notify',
    sceneType: message.sceneType,
    head: { ...head, eventTime: EVENT_TIME_MARK },
    data: { ...data, eventTime: EVENT_TIME_MARK, time: TIME_MARK },
    seq: SEQ_MARK,
  });
  const slots = [...text.matchAll(SLOTS_IN_JSON)].map((match) => match[0]);
  // Exactly the four slots in the order fill writes them (a field holding a mark would add one).
  const expected = [EVENT_TIME_MARK, EVENT_TIME_MARK, TIME_MARK, SEQ_MARK].map((mark) => JSON.stringify(mark));
  if (slots.join('|') !== expected.join('|')) return undefined;
  const pieces = text.split(SLOTS_IN_JSON);
  return {
    head: fieldsOf(head, HEAD_SLOTS),
    data: fieldsOf(data, DATA_SLOTS),
    parts: pieces.map((piece) => Buffer.from(piece)) as unknown as Template['parts'],
  };
}

const QUOTE = 0x22;

/**
 * The template's bytes with the slot values: `"eventTime"` twice, `"time"`, then seq as a number. Parts go in with
 * TypedArray#set and the slot values byte by byte: Buffer#copy and Buffer#write each cost an allocation or a
 * call into C++ per piece, more than the copy itself for pieces this small.
 */
function fill(template: Template, eventTime: string, time: string, seq: number): Buffer {
  const [p0, p1, p2, p3, p4] = template.parts;
  const seqText = String(seq);
  // The slot values are ASCII (templatable checked them): one byte per character, plus the quotes.
  const frame = Buffer.allocUnsafe(
    p0.length + p1.length + p2.length + p3.length + p4.length + 2 * eventTime.length + time.length + 6 + seqText.length,
  );
  frame.set(p0, 0);
  let at = writeQuoted(frame, p0.length, eventTime);
  frame.set(p1, at);
  at = writeQuoted(frame, at + p1.length, eventTime);
  frame.set(p2, at);
  at = writeQuoted(frame, at + p2.length, time);
  frame.set(p3, at);
  at = writeAscii(frame, at + p3.length, seqText);
  frame.set(p4, at);
  return frame;
}

function writeQuoted(frame: Buffer, at: number, value: string): number {
  frame[at] = QUOTE;
  const end = writeAscii(frame, at + 1, value);
  frame[end] = QUOTE;
  return end + 1;
}

function writeAscii(frame: Buffer, at: number, value: string): number {
  for (let i = 0; i < value.length; i++) frame[at + i] = value.charCodeAt(i);
  return at + value.length;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
