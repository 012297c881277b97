import {
  AgentBarStatus,
  type CallQuality,
  EnumLocale,
  type HotlineEventData,
  type TransferTargets,
} from '@openhotline/sdk';
import { carrierName } from './i18n';

/**
 * What the dial bar shows, derived from the agent's status alone (pure functions, unit-tested without a DOM).
 * The status is the server's: the bar never guesses a state of its own, it only offers what that state allows.
 */

export type Phase =
  | 'checkedOut'
  | 'idle'
  | 'acw'
  | 'ringing'
  | 'answering'
  | 'dialing'
  | 'talking'
  | 'held'
  | 'consultRinging'
  | 'consulting'
  | 'retrieving'
  | 'conference';

export function phaseOf(status: AgentBarStatus): Phase {
  switch (status) {
    case AgentBarStatus.Unregistered:
    case AgentBarStatus.AgentCheckout:
      return 'checkedOut';
    case AgentBarStatus.AgentCheckin:
    case AgentBarStatus.AgentReady:
    case AgentBarStatus.AgentBreak:
      return 'idle';
    // Released is a moment on the way into after-call work: show it as after-call work at once.
    case AgentBarStatus.AgentCallRelease:
    case AgentBarStatus.AgentAcw:
      return 'acw';
    case AgentBarStatus.AgentRinging:
      return 'ringing';
    case AgentBarStatus.AgentCallAnswerRequest:
      return 'answering';
    case AgentBarStatus.AgentCallDialOut:
      return 'dialing';
    case AgentBarStatus.AgentCallInboundEstablish:
    case AgentBarStatus.AgentCallOutBoundEstablish:
    case AgentBarStatus.AgentCallInternalBoundEstablish:
    case AgentBarStatus.AgentCallConsultEstablish:
      return 'talking';
    case AgentBarStatus.AgentCallHeld:
      return 'held';
    case AgentBarStatus.AgentCallConferenceWaitAnswer:
      return 'consultRinging';
    case AgentBarStatus.AgentCallThirdConsult:
      return 'consulting';
    case AgentBarStatus.AgentThirdRetrieveRequest:
      return 'retrieving';
    case AgentBarStatus.AgentCallConference:
      return 'conference';
    default:
      return 'checkedOut';
  }
}

/** A call the agent is on (any phase from ringing to conference). */
export function isOnCall(phase: Phase): boolean {
  return phase !== 'checkedOut' && phase !== 'idle' && phase !== 'acw';
}

/** Connected: audio flows (or would), so mute and the DTMF keypad make sense. */
export function isConnected(phase: Phase): boolean {
  return phase === 'talking' || phase === 'consulting' || phase === 'conference' || phase === 'held';
}

/** The controls each phase offers; the server has the last word and refuses anything else with a clear code. */
export interface Controls {
  readonly answer: boolean;
  readonly hangUp: boolean;
  readonly hold: boolean;
  readonly retrieve: boolean;
  readonly mute: boolean;
  readonly dtmf: boolean;
  readonly transfer: boolean;
  readonly consultComplete: boolean;
  readonly conference: boolean;
  readonly consultCancel: boolean;
  readonly dial: boolean;
  readonly checkIn: boolean;
  readonly checkOut: boolean;
  readonly finishAcw: boolean;
  readonly statusSwitch: boolean;
}

export function controlsFor(phase: Phase): Controls {
  return {
    answer: phase === 'ringing',
    hangUp: isOnCall(phase) && phase !== 'retrieving',
    hold: phase === 'talking',
    retrieve: phase === 'held',
    mute: phase === 'talking' || phase === 'consulting' || phase === 'conference',
    dtmf: phase === 'talking' || phase === 'conference',
    // Consulting starts from a call or from hold (the server's consultStart); a blind transfer from the same.
    transfer: phase === 'talking' || phase === 'held',
    consultComplete: phase === 'consulting',
    conference: phase === 'consulting',
    consultCancel: phase === 'consultRinging' || phase === 'consulting' || phase === 'conference',
    dial: phase === 'idle',
    checkIn: phase === 'checkedOut',
    checkOut: phase === 'idle' || phase === 'acw',
    finishAcw: phase === 'acw',
    statusSwitch: phase === 'idle' || phase === 'acw',
  };
}

/** The customer's number of a call: the caller of an inbound call, the callee of an outbound one. */
export function customerNumber(call: Pick<HotlineEventData, 'ani' | 'dnis' | 'callDirection'>): string {
  return call.callDirection === 'outbound' ? call.dnis : call.ani;
}

/**
 * Masks a number for display when `needDesensitize` is on, with the server's rule (docs/calls.md): 11 or more
 * digits keep the first 3 and last 4 (`138****5678`), 7 to 10 keep the last 4, shorter ones are hidden entirely.
 * A leading `+` and two digits after it (the country) stay. Separators stay where they are; a number the server
 * already masked is left as it is.
 */
export function maskNumber(number: string): string {
  if (number.includes('*')) return number;
  const digits = number.replace(/[^0-9]/g, '');
  if (digits === '') return number;
  const country = number.startsWith('+') ? Math.min(2, digits.length) : 0;
  const national = digits.length - country;
  const [head, tail] = national >= 11 ? [3, 4] : national >= 7 ? [0, 4] : [0, 0];
  const shownBefore = country + head;
  const shownFrom = digits.length - tail;
  let index = 0;
  return number.replace(/[0-9]/g, (digit) => {
    const position = index++;
    return position < shownBefore || position >= shownFrom ? digit : '*';
  });
}

export function displayNumber(number: string, needDesensitize: boolean): string {
  return needDesensitize ? maskNumber(number) : number;
}

export interface NumberLocation {
  readonly province: string;
  readonly city: string;
  readonly carrier: string;
  readonly known: boolean;
}

/** 归属地 as one line: "北京 中国移动", "广东 深圳 中国联通"; undefined when unknown. */
export function locationText(location: NumberLocation | null | undefined, locale: EnumLocale): string | undefined {
  if (!location?.known) return undefined;
  const parts = [location.province, location.city === location.province ? '' : location.city];
  if (location.carrier) parts.push(carrierName(location.carrier, locale));
  const text = parts.filter(Boolean).join(' ');
  return text === '' ? undefined : text;
}

/** 0:07, 12:34, 1:02:03 — what a call timer looks like. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return hours > 0 ? `${hours}:${two(minutes)}:${two(seconds)}` : `${minutes}:${two(seconds)}`;
}

/** Seconds left of after-call work, rounded up (so "1 s" shows until the very end); 0 when over. */
export function acwSecondsLeft(endsAt: number | undefined, now: number): number | undefined {
  if (endsAt === undefined) return undefined;
  return Math.max(0, Math.ceil((endsAt - now) / 1000));
}

/** A number the agent typed: spaces, dashes, dots and brackets dropped; undefined when it is not a phone number. */
export function normalizeDialed(input: string): string | undefined {
  const number = input.replace(/[\s\-.()]/g, '');
  return /^\+?[0-9]{1,32}$/.test(number) ? number : undefined;
}

/** The locale the bar speaks: the configured one when it knows it, else the guide's default. */
export function localeOf(value: string): EnumLocale {
  return value === EnumLocale.en ? EnumLocale.en : EnumLocale['zh-CN'];
}

// ------------------------------------------------------------------ call quality

/** How a call sounds, in the three words an agent can act on. */
export type QualityLevel = 'good' | 'fair' | 'poor';

/**
 * MOS 4.0 and above is toll quality (a clean line); 3.6–4.0 is understandable with effort; below 3.6 callers start
 * asking "pardon?". One-way audio is poor whatever the score says: one side hears nothing.
 */
export function qualityLevel(quality: Pick<CallQuality, 'mos' | 'oneWayAudio'>): QualityLevel {
  if (quality.oneWayAudio !== 'none') return 'poor';
  if (quality.mos >= 4) return 'good';
  if (quality.mos >= 3.6) return 'fair';
  return 'poor';
}

/** Bars lit in the signal icon (of three). */
export function signalBars(level: QualityLevel): 1 | 2 | 3 {
  return level === 'good' ? 3 : level === 'fair' ? 2 : 1;
}

/**
 * Whether a new reading is news for the aria-live region: the level or the one-way state changed. The first
 * reading of a call is news only when it is bad (a good line needs no announcement).
 */
export function qualityNews(
  before: Pick<CallQuality, 'mos' | 'oneWayAudio'> | undefined,
  after: Pick<CallQuality, 'mos' | 'oneWayAudio'>,
): boolean {
  const level = qualityLevel(after);
  if (!before) return level !== 'good';
  return level !== qualityLevel(before) || before.oneWayAudio !== after.oneWayAudio;
}

// ------------------------------------------------------------------ transfer targets

/** Colleagues and groups whose name or id contains the query (case and surrounding spaces ignored). */
export function filterTargets(targets: TransferTargets, query: string): TransferTargets {
  const q = query.trim().toLocaleLowerCase();
  if (q === '') return targets;
  const hit = (t: { id: string; name: string }) =>
    t.name.toLocaleLowerCase().includes(q) || t.id.toLocaleLowerCase().includes(q);
  return { agents: targets.agents.filter(hit), skillGroups: targets.skillGroups.filter(hit) };
}
