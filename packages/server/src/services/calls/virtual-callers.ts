import { VirtualCaller } from '../../adapters/carrier/virtual-caller.js';
import type { Clock, Timer } from '../clock.js';
import type { CallService } from './call-service.js';

export interface VirtualCallRequest {
  readonly from: string;
  readonly to: string;
  readonly hangupAfterSeconds?: number;
  readonly abandonAfterSeconds?: number;
}

export interface GeneratorRequest {
  readonly to: string;
  readonly ratePerMinute: number;
  readonly count?: number;
  readonly hangupAfterSeconds?: number;
  readonly abandonAfterSeconds?: number;
}

interface Generator {
  timer: Timer | undefined;
  placed: number;
  readonly request: GeneratorRequest;
}

/**
 * The inbound half of the virtual carrier: virtual customers who call hotline numbers, on demand (one call) or
 * at a rate (a generator, for demos and load tests). Each caller is an ordinary customer leg of the call.
 */
export class VirtualCallers {
  private readonly callers = new Map<string, { instanceId: string; caller: VirtualCaller }>();
  private readonly generators = new Map<string, Generator>();
  private serial = 0;

  constructor(
    private readonly calls: CallService,
    private readonly clock: Clock,
  ) {}

  /** Places one virtual call; returns its connId. Throws HotlineNumberNotFound for an unknown number. */
  place(request: VirtualCallRequest): string {
    let connId = '';
    const caller = new VirtualCaller(
      this.clock,
      {
        ...(request.hangupAfterSeconds !== undefined ? { hangupAfterSeconds: request.hangupAfterSeconds } : {}),
        ...(request.abandonAfterSeconds !== undefined ? { abandonAfterSeconds: request.abandonAfterSeconds } : {}),
      },
      // However the call ends, the caller is forgotten (kept a little longer only for tests reading its DTMF).
      () => this.ended(connId),
    );
    const accepted = this.accept(request, caller);
    connId = accepted.connId;
    if (!caller.isEnded) this.callers.set(connId, { instanceId: accepted.instanceId, caller });
    caller.attach(accepted.events);
    return connId;
  }

  /** The virtual customer of a call hangs up. False when there is no such live virtual call in the instance. */
  hangUp(instanceId: string, connId: string): boolean {
    const entry = this.callers.get(connId);
    if (!entry || entry.instanceId !== instanceId || entry.caller.isEnded) return false;
    entry.caller.hangUpFromCaller();
    return true;
  }

  press(instanceId: string, connId: string, digits: string): boolean {
    const entry = this.callers.get(connId);
    if (!entry || entry.instanceId !== instanceId || entry.caller.isEnded) return false;
    entry.caller.pressDigits(digits);
    return true;
  }

  /** What the virtual customer heard as DTMF (for tests). */
  receivedDtmf(connId: string): readonly string[] {
    return this.callers.get(connId)?.caller.receivedDtmf ?? [];
  }

  startGenerator(instanceId: string, request: GeneratorRequest): { running: boolean; placed: number } {
    this.stopGenerator(instanceId);
    const generator: Generator = { timer: undefined, placed: 0, request };
    this.generators.set(instanceId, generator);
    const interval = 60_000 / request.ratePerMinute;
    const tick = () => {
      if (this.generators.get(instanceId) !== generator) return;
      this.serial += 1;
      // Callers from a recognisable demo range: 1390000xxxx.
      const from = `1390000${String(this.serial % 10_000).padStart(4, '0')}`;
      try {
        this.place({ ...request, from });
        generator.placed += 1;
      } catch {
        this.stopGenerator(instanceId);
        return;
      }
      if (request.count !== undefined && generator.placed >= request.count) {
        this.stopGenerator(instanceId);
        return;
      }
      generator.timer = this.clock.setTimer(tick, interval);
    };
    tick();
    return { running: this.generators.has(instanceId), placed: generator.placed };
  }

  stopGenerator(instanceId: string): { running: boolean; placed: number } {
    const generator = this.generators.get(instanceId);
    generator?.timer?.cancel();
    this.generators.delete(instanceId);
    return { running: false, placed: generator?.placed ?? 0 };
  }

  close(): void {
    for (const instanceId of [...this.generators.keys()]) this.stopGenerator(instanceId);
    for (const { caller } of this.callers.values()) caller.hangup();
    this.callers.clear();
  }

  private accept(request: VirtualCallRequest, caller: VirtualCaller) {
    const accepted = this.calls.acceptInbound({ from: request.from, to: request.to, kind: 'virtual', leg: caller });
    return { ...accepted, instanceId: this.calls.instanceOf(accepted.connId) ?? '' };
  }

  /** Ended callers stay readable (their DTMF) until 256 newer ones ended. */
  private readonly recentlyEnded: string[] = [];

  private ended(connId: string): void {
    if (!connId) return;
    this.recentlyEnded.push(connId);
    while (this.recentlyEnded.length > 256) {
      const old = this.recentlyEnded.shift();
      if (old !== undefined) this.callers.delete(old);
    }
  }
}
