import type { Clock, Timer } from '../../services/clock.js';
import type { CarrierLeg, CarrierLegEvents } from './carrier.js';

export interface VirtualCallerScript {
  /** The caller hangs up this many seconds after being answered (talk time); none = stays until others end. */
  readonly hangupAfterSeconds?: number;
  /** The caller gives up this many seconds after calling if nobody answered (abandon). */
  readonly abandonAfterSeconds?: number;
}

/**
 * A virtual customer calling a hotline number: the inbound side of the virtual carrier. It behaves like any
 * other customer leg (the call service sees only CarrierLeg and CarrierLegEvents), so a SIP or WebRTC caller
 * can take its place without changing the call logic.
 */
export class VirtualCaller implements CarrierLeg {
  private events: CarrierLegEvents | undefined;
  private timer: Timer | undefined;
  private ended = false;
  readonly receivedDtmf: string[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly script: VirtualCallerScript = {},
    /** Told once when the leg ends, from either side. */
    private readonly onEnded: () => void = () => {},
  ) {}

  /** Connects the caller to the call service's events for this leg and starts its abandon clock. */
  attach(events: CarrierLegEvents): void {
    this.events = events;
    if (this.script.abandonAfterSeconds !== undefined) {
      this.timer = this.clock.setTimer(() => this.hangUpFromCaller(), this.script.abandonAfterSeconds * 1000);
    }
  }

  connected(): void {
    if (this.ended) return;
    this.timer?.cancel();
    this.timer = undefined;
    if (this.script.hangupAfterSeconds !== undefined) {
      this.timer = this.clock.setTimer(() => this.hangUpFromCaller(), this.script.hangupAfterSeconds * 1000);
    }
  }

  /** The customer hangs up (first). */
  hangUpFromCaller(): void {
    if (this.ended) return;
    this.ended = true;
    this.timer?.cancel();
    this.events?.hungUp();
    this.onEnded();
  }

  /** Digits the customer presses (reported to the call as DTMF from the far end). */
  pressDigits(digits: string): void {
    if (!this.ended) this.events?.dtmf?.(digits);
  }

  hangup(): void {
    if (this.ended) return;
    this.ended = true;
    this.timer?.cancel();
    this.onEnded();
  }

  sendDtmf(digits: string): void {
    this.receivedDtmf.push(digits);
  }

  get isEnded(): boolean {
    return this.ended;
  }
}
