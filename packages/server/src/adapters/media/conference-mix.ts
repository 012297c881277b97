import { frameTicks } from './codec.js';
import { FRAME_SAMPLES } from './media-clock.js';
import { type Conference, MediaError } from './media-engine.js';
import type { PcmFifo } from './pcm-fifo.js';
import type { Endpoint, PcmConsumer } from './switch-endpoint.js';

export interface ConferenceMember {
  readonly fifo: PcmFifo;
  readonly consumer: PcmConsumer;
  readonly frame: Int16Array;
}

/** What a conference asks of the switch that holds its endpoints. */
export interface ConferenceHost {
  joinConference(conference: ConferenceMix, endpointId: string): void;
  leaveConference(conference: ConferenceMix, endpoint: Endpoint): void;
  conferenceClosed(conference: ConferenceMix): void;
}

/** Three or more endpoints mixed on the media clock: each hears the others, in its own codec. */
export class ConferenceMix implements Conference {
  readonly members = new Map<Endpoint, ConferenceMember>();
  /** Mixes made so far: each member's timestamps are this count in its own codec's clock. */
  private mixes = 0;
  closed = false;

  constructor(
    readonly id: string,
    private readonly engine: ConferenceHost,
  ) {}

  participants(): readonly string[] {
    return [...this.members.keys()].map((endpoint) => endpoint.id);
  }

  add(endpointId: string): void {
    if (this.closed) throw new MediaError('InvalidArgument', `conference ${this.id} is closed`);
    this.engine.joinConference(this, endpointId);
  }

  remove(endpointId: string): void {
    const endpoint = [...this.members.keys()].find((candidate) => candidate.id === endpointId);
    if (endpoint) this.engine.leaveConference(this, endpoint);
  }

  close(): void {
    if (this.closed) return;
    for (const endpoint of [...this.members.keys()]) this.engine.leaveConference(this, endpoint);
    this.closed = true;
    this.engine.conferenceClosed(this);
  }

  /**
   * One tick: everyone's frame summed once, then each member gets the sum minus its own voice (N-1 mixing), encoded
   * in the member's codec (its own Opus encoder, or μ-law).
   */
  mix(): number {
    const sum = new Int32Array(FRAME_SAMPLES);
    for (const member of this.members.values()) {
      member.fifo.pull(member.frame);
      for (let i = 0; i < FRAME_SAMPLES; i++) sum[i]! += member.frame[i]!;
    }
    const mix = this.mixes++;
    const out = new Int16Array(FRAME_SAMPLES);
    let encoded = 0;
    for (const [endpoint, member] of this.members) {
      if (endpoint.held || endpoint.dtmfOut.active) continue;
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        out[i] = Math.max(-32_768, Math.min(32_767, sum[i]! - member.frame[i]!));
      }
      const { codec } = endpoint.out;
      endpoint.out.send(`conference:${this.id}`, {
        kind: 'audio',
        codec,
        timestamp: (mix * frameTicks(codec)) >>> 0,
        marker: false,
        payload: endpoint.encode(out)!,
      });
      encoded++;
    }
    return encoded;
  }
}
