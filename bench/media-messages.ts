import type { IceCandidateInit } from '../packages/server/src/adapters/media/index.js';

/**
 * What the media benchmark's server process and its load generator (`media-load.ts`, a child process so that its
 * CPU is never counted as the server's) say to each other over the IPC channel.
 *
 * Every endpoint of the generator has a number. It says a 20 ms μ-law frame whose payload carries that number, a
 * counter and the moment it was sent, so whoever receives it can tell loss and relay latency without decoding.
 */

/** How an endpoint's audio reaches its partner: which path is being measured. */
export type MediaPath =
  /** A WebRTC peer (ICE + DTLS-SRTP) whose line is bridged, in our media engine, to another generator peer. */
  | 'engine'
  /** Two WebRTC peers of the generator connected to each other: the same work in the generator, no server. */
  | 'webrtc-direct'
  /** A plain RTP/AVP socket whose stream rtpengine relays to another generator socket. */
  | 'rtpengine'
  /** Two plain RTP sockets sending to each other: the floor for the rtpengine path. */
  | 'udp-direct';

export type ToLoad =
  /** Opens a WebRTC peer for the engine's line `lineId`: replies `offer`, then trickles `candidate`s. */
  | { readonly type: 'open-line'; readonly endpoint: number; readonly lineId: string }
  /** Closes an endpoint's peer (a line that did not connect is retried with a new one). */
  | { readonly type: 'close-endpoint'; readonly endpoint: number }
  | { readonly type: 'answer'; readonly endpoint: number; readonly sdp: string }
  | { readonly type: 'candidate'; readonly endpoint: number; readonly candidate: IceCandidateInit | null }
  /** Opens two WebRTC peers connected to each other, numbered `endpoints`: replies `opened`. */
  | { readonly type: 'open-webrtc-pair'; readonly endpoints: readonly [number, number] }
  /** Opens two plain RTP sockets on 127.0.0.1: replies `opened` with their ports. */
  | { readonly type: 'open-udp-pair'; readonly endpoints: readonly [number, number] }
  /** Where a plain RTP socket sends (rtpengine's port for it, or the other socket's). */
  | { readonly type: 'udp-target'; readonly endpoint: number; readonly port: number }
  /**
   * Starts a repetition: these endpoints speak (the others fall silent), with `partner` the endpoint each one
   * hears. Receive counters are reset. Replies `started`.
   */
  | {
      readonly type: 'start';
      readonly speakers: readonly { readonly endpoint: number; readonly partner: number; readonly path: MediaPath }[];
    }
  /** The measured window begins: latency samples and the generator's CPU are taken from here. Replies `marked`. */
  | { readonly type: 'mark' }
  /** The window ends: speakers stop, late packets get a moment to arrive, then `report`. */
  | { readonly type: 'stop' }
  | { readonly type: 'close' };

export interface PathReport {
  readonly path: MediaPath;
  /** Packets the partners sent from the first one each receiver heard until the stop. */
  readonly expected: number;
  readonly received: number;
  /** Receivers that heard nothing at all (each counts as all of its partner's packets lost). */
  readonly silentReceivers: number;
  /** One-way latency, send → receive, in ms, over the measured window. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly samples: number;
}

export type FromLoad =
  | { readonly type: 'offer'; readonly endpoint: number; readonly sdp: string }
  | { readonly type: 'candidate'; readonly endpoint: number; readonly candidate: IceCandidateInit | null }
  | { readonly type: 'connected'; readonly endpoint: number }
  | { readonly type: 'opened'; readonly endpoints: readonly number[]; readonly ports?: readonly number[] }
  | { readonly type: 'started' }
  | { readonly type: 'marked' }
  | {
      readonly type: 'report';
      readonly paths: readonly PathReport[];
      /** Wall-clock time (ms since the epoch) of the first packet each speaker's partner heard from it. */
      readonly firstHeard: readonly { readonly endpoint: number; readonly at: number }[];
      /** The generator's CPU over the window, ms (user + system), and the window's length, ms. */
      readonly cpuMs: number;
      readonly windowMs: number;
      /** How long the generator's thread waited for a CPU in the window, ms (NaN where the system does not tell). */
      readonly waitMs: number;
      /** How late the generator's send timer fired, p99 in ms: high means the generator itself was the limit. */
      readonly sendLagP99: number;
    }
  | { readonly type: 'closed' }
  | { readonly type: 'fatal'; readonly message: string };

/** Payload layout of every frame the generator sends (the rest of the 160 bytes is μ-law silence). */
export const PAYLOAD = { speaker: 0, counter: 4, sentAt: 8, bytes: 160 } as const;
