import type { AudioCodecName } from './codec.js';
import type { IceCandidateInit, LineState, OpenAgentLineOptions } from './media-engine.js';
import type { OutgoingPacket, SourcedPacket } from './outbound-stream.js';

/**
 * What the media switch needs from an agent's line and how the line reports back: the seam between the switch
 * (media-switch.ts, no WebRTC in it) and a transport (werift-line.ts by default; the switch's tests use a fake).
 */

/** A packet an agent line received from the browser (payload already copied out of werift's buffers). */
export interface InboundPacket extends SourcedPacket {
  /** The sender's SSRC: a new one (a reloaded page) starts a new source for the receivers' streams. */
  readonly ssrc: number;
}

/** What the switch needs from an agent line's transport. */
export interface AgentLineTransport {
  /**
   * The audio codec the line sends and receives: the one of its latest answer. The switch reads it for every packet
   * it makes or relays, so a renegotiation that changes it (a reload offering other codecs) takes effect at once.
   */
  readonly codec: AudioCodecName;
  /** Applies an offer, returns the answer SDP. Rejects with a MediaError. */
  negotiate(offerSdp: string, options: OpenAgentLineOptions): Promise<string>;
  addRemoteCandidate(candidate: IceCandidateInit | null): void;
  /** Sends a packet to the browser (dropped while the transport is not connected, or not in its codec). */
  write(packet: OutgoingPacket): void;
  close(): Promise<void>;
}

/** How an agent line reports back to the switch. */
export interface AgentLineHooks {
  packet(packet: InboundPacket): void;
  state(state: Exclude<LineState, 'closed'>): void;
  localCandidate(candidate: IceCandidateInit | null): void;
  warning(code: string, message: string): void;
}

export type AgentLineFactory = (lineId: string, hooks: AgentLineHooks) => AgentLineTransport;
