import { randomInt } from 'node:crypto';
import {
  type CallRecord,
  WebCallCloseCode,
  type WebCallEndReason,
  type WebCallServerFrame,
  type WebCallState,
} from '@openhotline/protocol';
import type { CarrierLeg, CarrierLegEvents } from '../adapters/carrier/carrier.js';
import type { IceCandidateInit, LineState, MediaEngine } from '../adapters/media/media-engine.js';
import type { Storage } from '../adapters/storage/storage.js';
import type { CallPhase } from '../domain/call-machine.js';
import { HotlineError } from '../errors.js';
import type { CallService } from './calls/call-service.js';
import type { Clock, IdGenerator, Timer } from './clock.js';
import type { Logger } from './logger.js';

export interface WebCallLimits {
  /** Web calls (open sockets) at once on the server. */
  readonly maxConcurrent: number;
  /** Web calls at once from one client address. */
  readonly maxPerAddress: number;
  readonly maxCallSeconds: number;
}

/** The caller's end of a web call: the socket, as the service sees it. */
export interface WebCallerLink {
  send(frame: WebCallServerFrame): void;
  /** The call is over: the transport closes with this code. */
  close(code: WebCallCloseCode, reason: string): void;
}

export interface WebCallersDeps {
  readonly calls: CallService;
  readonly engine: MediaEngine;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly log: Logger;
  readonly limits: WebCallLimits;
}

/** Time from opening the socket to a working audio transport: past it, the call fails as `media-failed`. */
const SETUP_TIMEOUT_MS = 20_000;
/**
 * A caller's view (queue position, ringing, hold) follows the call's phase changes, and those of the calls ahead of
 * it in the queue; besides, it is brought up to date this often, in case a change reached it by no phase change.
 */
const REFRESH_MS = 5_000;
/** Letters only: the caller id never looks like a phone number, so masking leaves it alone and location says unknown. */
const CALLER_LETTERS = 'abcdefghjkmnpqrstuvwxyz';

/**
 * Customers who call a hotline number from a browser. Each web call is a WebRTC endpoint in the media engine, opened
 * under the id of the call's customer leg, so the media service bridges it to the agent like any customer; the call
 * itself is an ordinary inbound call (`kind: 'webrtc'`) in the hotline number's queue. The service enforces the
 * limits (concurrent calls overall and per address, longest call) and tells each caller where its call stands.
 */
export class WebCallers {
  private readonly live = new Set<WebCall>();
  private readonly byLeg = new Map<string, WebCall>();
  private readonly perAddress = new Map<string, number>();
  private readonly unsubscribe: (() => void)[];
  private closed = false;
  /** Instances with a call that changed phase this turn: their web calls are brought up to date on the next. */
  private readonly changedInstances = new Set<string>();

  constructor(private readonly deps: WebCallersDeps) {
    const { engine } = deps;
    this.unsubscribe = [
      engine.on('localCandidate', ({ lineId, candidate }) => this.byLeg.get(lineId)?.localCandidate(candidate)),
      engine.on('lineState', ({ lineId, state }) => this.byLeg.get(lineId)?.lineState(state)),
      engine.on('dtmf', ({ endpointId, digit }) => this.byLeg.get(endpointId)?.keyHeard(digit)),
      deps.calls.onPhaseChange((instanceId) => this.phaseChanged(instanceId)),
    ];
  }

  /**
   * A call of the instance changed phase: its web callers' views may have changed (their own call, or their place in
   * the queue). They are brought up to date once the change is over, once per turn however many calls moved.
   */
  private phaseChanged(instanceId: string): void {
    if (this.live.size === 0 || this.closed) return;
    if (this.changedInstances.size === 0) {
      setImmediate(() => {
        const instances = [...this.changedInstances];
        this.changedInstances.clear();
        for (const call of this.live) if (instances.includes(call.instance)) call.refresh();
      });
    }
    this.changedInstances.add(instanceId);
  }

  /** Web calls in progress (sockets open). */
  get size(): number {
    return this.live.size;
  }

  /** A caller connected. Throws WebCallLimit when the server or this address has no room for another call. */
  open(address: string, link: WebCallerLink): WebCall {
    const { limits } = this.deps;
    if (this.closed) throw new HotlineError('ServiceUnavailable');
    if (this.live.size >= limits.maxConcurrent) {
      throw new HotlineError('WebCallLimit', undefined, { scope: 'server', limit: limits.maxConcurrent });
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= limits.maxPerAddress) {
      throw new HotlineError('WebCallLimit', undefined, { scope: 'address', limit: limits.maxPerAddress });
    }
    this.perAddress.set(address, fromAddress + 1);
    const legId = this.deps.ids('leg');
    const call = new WebCall(this.deps, legId, callerId(), link, () => {
      this.live.delete(call);
      this.byLeg.delete(legId);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    this.live.add(call);
    this.byLeg.set(legId, call);
    return call;
  }

  /** Server shutdown: every caller is told, every socket closes. */
  close(): void {
    this.closed = true;
    for (const call of [...this.live]) call.shutdown();
    for (const off of this.unsubscribe) off();
  }
}

/** `web:` and eight letters: how agents, records and the caller see a web caller. */
function callerId(): string {
  let id = '';
  for (let i = 0; i < 8; i++) id += CALLER_LETTERS[randomInt(CALLER_LETTERS.length)];
  return `web:${id}`;
}

type Stage = 'idle' | 'connecting' | 'live' | 'ended';

/** One web call, from the socket opening to its end. */
export class WebCall {
  private stage: Stage = 'idle';
  private to = '';
  private instanceId = '';
  private offered = false;
  private connId = '';
  private events: CarrierLegEvents | undefined;
  private shown: { state: WebCallState; position: number } | undefined;
  private setupTimer: Timer | undefined;
  private refreshTimer: Timer | undefined;
  private lengthTimer: Timer | undefined;
  private endingByHotline = false;

  constructor(
    private readonly deps: WebCallersDeps,
    readonly legId: string,
    readonly caller: string,
    private readonly link: WebCallerLink,
    private readonly released: () => void,
  ) {
    this.setupTimer = deps.clock.setTimer(
      () => this.finish(this.stage === 'idle' ? 'failed' : 'media-failed'),
      SETUP_TIMEOUT_MS,
    );
  }

  /** `call`: checks the number and waits for the offer. */
  call(to: string): void {
    if (this.stage !== 'idle') throw this.illegal('call');
    const hotline = this.deps.storage.hotlineNumbers.findByNumber(to);
    if (!hotline) throw new HotlineError('HotlineNumberNotFound', `No hotline number "${to}".`);
    this.to = to;
    this.instanceId = hotline.instanceId;
    this.stage = 'connecting';
    this.show('connecting', 0);
  }

  /** `offer`: opens the caller's endpoint; the call enters the queue once its audio transport is up. */
  async offer(sdp: string): Promise<void> {
    if (this.stage !== 'connecting' || this.offered) throw this.illegal('offer');
    this.offered = true;
    let answerSdp: string;
    try {
      ({ answerSdp } = await this.deps.engine.openAgentLine(this.legId, sdp));
    } catch (error) {
      // A refused offer (bad SDP, no PCMU) may be followed by a better one.
      this.offered = false;
      throw error;
    }
    // The caller may have hung up while the engine worked: the endpoint it just opened goes too.
    if (this.isEnded()) {
      void this.deps.engine.closeEndpoint(this.legId).catch(() => {});
      return;
    }
    this.link.send({ type: 'answer', sdp: answerSdp });
  }

  candidate(candidate: IceCandidateInit | null): void {
    if (this.stage === 'idle' || this.stage === 'ended') throw this.illegal('candidate');
    this.deps.engine.addRemoteCandidate(this.legId, candidate);
  }

  /** `dtmf` frame: keys the page could not send in the audio; they go into the call record. */
  dtmf(digits: string): void {
    if (this.stage !== 'live') throw this.illegal('dtmf');
    this.events?.dtmf?.(digits);
  }

  /** The caller hung up: `hangup` frame, or the socket closed. */
  hangup(): void {
    this.finish('caller-hangup');
  }

  /** The call cannot go on (no such number, a client breaking the protocol): it ends, the socket closes with `code`. */
  abort(code: WebCallCloseCode, why: string): void {
    this.finish('failed', { close: [code, why] });
  }

  shutdown(): void {
    this.finish('server-shutdown', { close: [WebCallCloseCode.ServerShutdown, 'ServerShutdown'] });
  }

  // ------------------------------------------------------------------ engine events

  localCandidate(candidate: IceCandidateInit | null): void {
    if (this.stage !== 'ended') this.link.send({ type: 'candidate', candidate });
  }

  lineState(state: LineState): void {
    // The call service closes the endpoint as it ends the call: that is the end it reports, not a media failure.
    if (this.endingByHotline) return;
    if (state === 'connected' && this.stage === 'connecting') this.enterQueue();
    // `disconnected` may recover by itself; `failed` and an unexpected `closed` do not (the page does no ICE restart).
    else if (state === 'failed' || state === 'closed') this.finish('media-failed');
  }

  /** A key the caller pressed in the audio (RFC 4733): the agent heard it; the record keeps it. */
  keyHeard(digit: string): void {
    if (this.stage === 'live') this.events?.dtmf?.(digit);
  }

  // ------------------------------------------------------------------ internals

  private isEnded(): boolean {
    return this.stage === 'ended';
  }

  private enterQueue(): void {
    this.setupTimer?.cancel();
    this.setupTimer = undefined;
    this.stage = 'live';
    const leg: CarrierLeg = {
      hangup: () => this.endedByHotline(),
      // The media service already plays an agent's keys into this endpoint (RFC 4733): nothing else to do.
      sendDtmf: () => {},
      connected: () => this.refresh(),
    };
    try {
      const accepted = this.deps.calls.acceptInbound({
        from: this.caller,
        to: this.to,
        kind: 'webrtc',
        leg,
        legId: this.legId,
      });
      this.connId = accepted.connId;
      this.events = accepted.events;
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.isEnded()) return;
    this.lengthTimer = this.deps.clock.setTimer(() => this.finish('too-long'), this.deps.limits.maxCallSeconds * 1000);
    this.deps.log.info({ connId: this.connId, caller: this.caller, to: this.to }, 'web call queued');
    this.refresh();
  }

  /** The instance of the number it called ('' before it called). */
  get instance(): string {
    return this.instanceId;
  }

  /** Brings the caller's view up to date, and what it hears while it waits (music in the queue, ringback). */
  refresh(): void {
    this.refreshTimer?.cancel();
    this.refreshTimer = undefined;
    if (this.stage !== 'live') return;
    const current = this.deps.calls.customerState(this.connId);
    if (!current) return;
    const state = viewOf(current.phase);
    if (state !== this.shown?.state) {
      const waiting = state === 'queued' ? 'music' : state === 'ringing' ? 'ringback' : undefined;
      if (waiting) this.engineSafely(() => this.deps.engine.setWaitingAudio(this.legId, waiting));
    }
    this.show(state, state === 'queued' ? current.position : 0);
    this.refreshTimer = this.deps.clock.setTimer(() => this.refresh(), REFRESH_MS);
  }

  private show(state: Exclude<WebCallState, 'ended'>, position: number): void {
    if (this.shown?.state === state && this.shown.position === position) return;
    this.shown = { state, position };
    this.link.send({ type: 'state', state, caller: this.caller, ...(state === 'queued' ? { position } : {}) });
  }

  /** The call service ended the call (agent hung up, queue timed out, ...): its record says why. */
  private endedByHotline(): void {
    if (this.stage === 'ended' || this.endingByHotline) return;
    this.endingByHotline = true;
    // The record is written right after the legs are hung up, in the same turn.
    queueMicrotask(() => {
      const record = this.connId ? this.deps.storage.callRecords.get(this.instanceId, this.connId) : undefined;
      this.finish(endReasonOf(record), { byHotline: true });
    });
  }

  private fail(error: unknown): void {
    if (error instanceof HotlineError) {
      this.link.send({ type: 'error', code: error.code, message: error.message });
      this.finish('failed');
    } else {
      this.deps.log.warn({ err: error, legId: this.legId }, 'web call failed');
      this.finish('media-failed');
    }
  }

  /** The one way out: the call service hears of it (unless it ended the call), the endpoint closes, the socket too. */
  private finish(
    reason: WebCallEndReason,
    {
      byHotline = false,
      close = [WebCallCloseCode.Ended, reason],
    }: { byHotline?: boolean; close?: [WebCallCloseCode, string] } = {},
  ): void {
    if (this.stage === 'ended') return;
    const wasLive = this.stage === 'live';
    this.stage = 'ended';
    for (const timer of [this.setupTimer, this.refreshTimer, this.lengthTimer]) timer?.cancel();
    // At shutdown the call is left as it is: the next start closes its record as interrupted.
    if (wasLive && !byHotline && reason !== 'server-shutdown') this.events?.hungUp();
    void this.deps.engine.closeEndpoint(this.legId).catch(() => {});
    this.link.send({ type: 'state', state: 'ended', caller: this.caller, reason });
    this.link.close(...close);
    if (wasLive) this.deps.log.info({ connId: this.connId, caller: this.caller, reason }, 'web call ended');
    this.released();
  }

  private engineSafely(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.deps.log.warn({ err: error, legId: this.legId }, 'web call media operation failed');
    }
  }

  private illegal(action: string): HotlineError {
    return new HotlineError('IllegalCallAction', `A web call cannot "${action}" now.`, {
      state: this.stage,
      action,
    });
  }
}

function viewOf(phase: CallPhase): Exclude<WebCallState, 'ended'> {
  switch (phase) {
    case 'queued':
      return 'queued';
    case 'ringing':
      return 'ringing';
    case 'held':
    case 'consulting':
      return 'held';
    default:
      return 'connected';
  }
}

function endReasonOf(record: CallRecord | undefined): WebCallEndReason {
  if (!record) return 'failed';
  switch (record.releasedBy) {
    case 'customer':
      return 'caller-hangup';
    case 'agent':
    case 'third':
      return 'agent-hangup';
    default:
      return record.releaseReason.startsWith('queue-') ? 'no-agent' : 'failed';
  }
}
