/**
 * The phone network as the call service sees it: place a call to a number and learn what became of it.
 * The embedded default is the virtual carrier (a documented demo dial plan); a SIP trunk implements the same
 * interface later, so the call logic never knows which one it talks to.
 */
export type DialFailure = 'busy' | 'no-answer' | 'rejected' | 'invalid-number';

export interface DialRequest {
  /** The call this leg belongs to (for logs). */
  readonly connId: string;
  /** Number to call. */
  readonly to: string;
  /** Caller id presented. */
  readonly from: string;
}

/** What the network reports about a leg it placed. Exactly one of answered/failed comes first; hungUp may follow. */
export interface CarrierLegEvents {
  /** The far end is ringing (ringback). */
  ringing(): void;
  answered(): void;
  failed(reason: DialFailure): void;
  /** The far end hung up after answering. */
  hungUp(): void;
  /** DTMF digits received from the far end (RFC 4733 when media lands). */
  dtmf?(digits: string): void;
}

export interface CarrierLeg {
  /** Ends the leg from our side; no event follows. Safe to call twice. */
  hangup(): void;
  sendDtmf(digits: string): void;
  /** An inbound caller's leg is told when someone answered it (so a virtual caller can start its script). */
  connected?(): void;
}

export interface Carrier {
  dial(request: DialRequest, events: CarrierLegEvents): CarrierLeg;
  /** Stops every timer and leg (server shutdown). */
  close(): void;
}
