import type { CallLegRecord, CallRecord } from '@openhotline/protocol';

/**
 * Phone-number masking for readers who may not see customers' numbers (agents without `canSeeFullNumbers`).
 *
 * The rule, on the digits of the number (any other character, such as a separator, stays where it is):
 * - a leading `+` and the E.164 country code after it stay visible: they say where the caller is, not who;
 * - of the remaining (national) digits, 11 or more keep the first 3 and the last 4: `13812345678` → `138****5678`
 *   (the mobile prefix shows the carrier, the tail lets an agent tell two callers apart);
 * - 7 to 10 digits keep the last 4: `4008001000` → `******1000`;
 * - fewer than 7 are all masked: too short for a partial view not to give the number away.
 * Each hidden digit becomes one `*`, so the length stays and a masked number still looks like a number.
 * A value without digits (empty, "anonymous") is returned as it is.
 */
export function maskNumber(number: string): string {
  const digits = number.replace(/[^0-9]/g, '');
  if (digits === '') return number;
  const countryCode = number.startsWith('+') ? countryCodeLength(digits) : 0;
  const national = digits.length - countryCode;
  const [head, tail] = national >= 11 ? [3, 4] : national >= 7 ? [0, 4] : [0, 0];
  const shownBefore = countryCode + head;
  const shownFrom = digits.length - tail;
  let index = 0;
  return number.replace(/[0-9]/g, (digit) => {
    const position = index++;
    return position < shownBefore || position >= shownFrom ? digit : '*';
  });
}

/**
 * E.164 country codes are prefix-free: 1 and 7 are one digit, the codes below are two, every other is three.
 * (ITU-T E.164 assignments; the spare two-digit codes of zones 2 to 9 are three-digit ranges.)
 */
const TWO_DIGIT_COUNTRY_CODES = new Set(
  (
    '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 ' +
    '55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'
  ).split(' '),
);

function countryCodeLength(digits: string): number {
  const length =
    digits.startsWith('1') || digits.startsWith('7') ? 1 : TWO_DIGIT_COUNTRY_CODES.has(digits.slice(0, 2)) ? 2 : 3;
  return Math.min(length, digits.length);
}

/** Runs of 7 or more digits (with an optional `+`) in free text: phone numbers, not counts or seconds. */
const NUMBER_IN_TEXT = /\+?[0-9]{7,}/g;

/** Events whose detail is what was keyed on the keypad: a PIN or an account number as often as not. */
const isDtmfEvent = (type: string) => type.startsWith('dtmf');

/**
 * A call record as a reader may see it. Without `canSeeFullNumbers` the numbers of customers and third parties
 * are masked:
 * - the customer's end of `ani`/`dnis`: the caller (`ani`) of an inbound call, the callee (`dnis`) of an
 *   outbound one. The other end is the company's own number (the hotline dialled, the caller id used), shown
 *   like `callerIdUsed`; an internal call's two ends are agents. This is the rule of the live call events, so a
 *   record shows an agent what it saw during the call;
 * - the `party` of customer and third-party legs, except a leg that is an agent (a consultation with a colleague);
 * - those numbers wherever they appear in an event's detail, any other run of 7+ digits there (a transfer
 *   target, say) that is not one of the company's numbers above, and every digit of a DTMF event's detail.
 * Agent ids (`agentId`, `agentIds`, agent legs, events' `agentId`) are never masked.
 */
export function maskCallRecord(record: CallRecord, canSeeFullNumbers: boolean): CallRecord {
  if (canSeeFullNumbers) return record;
  const maskAni = record.direction === 'inbound';
  const maskDnis = record.direction === 'outbound';
  const isAgentLeg = (leg: CallLegRecord) => leg.role === 'agent' || leg.kind === 'agent';
  // Exact numbers first, longest first, so that a customer number too short for the pattern is found too.
  const hidden = [
    ...(maskAni ? [record.ani] : []),
    ...(maskDnis ? [record.dnis] : []),
    ...record.legs.filter((leg) => !isAgentLeg(leg)).map((leg) => leg.party),
  ]
    .filter((number) => /[0-9]/.test(number))
    .sort((a, b) => b.length - a.length);
  // The company's own numbers stay readable in details too, as they do in their fields.
  const shown = new Set([record.callerIdUsed, ...(maskAni ? [] : [record.ani]), ...(maskDnis ? [] : [record.dnis])]);
  const maskDetail = (type: string, detail: string): string => {
    if (isDtmfEvent(type)) return detail.replace(/[0-9]/g, '*');
    let masked = detail;
    for (const number of hidden) masked = masked.split(number).join(maskNumber(number));
    return masked.replace(NUMBER_IN_TEXT, (number) => (shown.has(number) ? number : maskNumber(number)));
  };
  return {
    ...record,
    ani: maskAni ? maskNumber(record.ani) : record.ani,
    dnis: maskDnis ? maskNumber(record.dnis) : record.dnis,
    legs: record.legs.map((leg) => (isAgentLeg(leg) ? leg : { ...leg, party: maskNumber(leg.party) })),
    events: record.events.map((event) => ({ ...event, detail: maskDetail(event.type, event.detail) })),
  };
}
