import type { RTCRtpTransceiver } from 'werift';
import { RtpHeader } from 'werift';
import {
  AesCmSrtpTransform,
  MAX_SRTCP_INDEX,
  type RtpHeaderFields,
  SRTP_AES128_CM_HMAC_SHA1_80,
} from './srtp-aes-cm.js';

/**
 * werift's SRTP and SRTCP sessions, with our AES-CM transform (srtp-aes-cm.ts) doing the cryptography whenever the
 * DTLS handshake settled on AES_CM_128_HMAC_SHA1_80: werift derives the session keys and keeps the rollover
 * counters and SRTCP indexes, we encrypt and decrypt without a native cipher object per packet. With another
 * profile, werift's own session does it. Used by the direct paths (werift-direct-rtp.ts).
 */

/** werift's per-SSRC rollover state (RFC 3711 §3.3.1), which both its transform and ours keep up to date. */
interface RolloverState {
  ssrc: number;
  rolloverCounter: number;
  lastSequenceNumber: number;
  rolloverHasProcessed?: boolean;
}

/** One direction of werift's SRTP session (its `SrtpContext`: session keys derived, rollover state per SSRC). */
interface WeriftSrtpContext {
  readonly profile: number;
  readonly srtpSessionKey: Buffer;
  readonly srtpSessionSalt: Buffer;
  readonly srtpSessionAuthTag: Buffer;
  readonly srtpSSRCStates: Record<number, RolloverState | undefined>;
  getSrtpSsrcState(ssrc: number): RolloverState;
  updateRolloverCount(sequenceNumber: number, state: RolloverState): void;
}

/** One direction of werift's SRTCP session (its `SrtcpContext`: SRTCP session keys, SRTCP index per SSRC). */
interface WeriftSrtcpContext {
  readonly profile: number;
  readonly srtcpSessionKey: Buffer;
  readonly srtcpSessionSalt: Buffer;
  readonly srtcpSessionAuthTag: Buffer;
  getSrtcpSsrcState(ssrc: number): { srtcpIndex: number };
}

/** werift's SRTCP session of a DTLS transport. */
export interface WeriftSrtcpSession {
  readonly localContext: WeriftSrtcpContext;
  readonly remoteContext: WeriftSrtcpContext;
  encrypt(compound: Buffer): Buffer;
  decrypt(packet: Buffer): Buffer;
}

/** werift's SRTP session of a DTLS transport. */
export interface WeriftSrtpSession {
  readonly localContext: WeriftSrtpContext;
  readonly remoteContext: WeriftSrtpContext;
  encrypt(payload: Buffer, header: RtpHeader): Buffer;
  decrypt(packet: Buffer): Buffer;
}

/** Our AES-CM transform per werift context (null: another profile, left to werift); a new handshake, new contexts. */
const aesCmTransforms = new WeakMap<WeriftSrtpContext | WeriftSrtcpContext, AesCmSrtpTransform | null>();

/** Packets protected or unprotected by our AES-CM transform, for the tests (werift's would work as well). */
let aesCmPackets = 0;
export const aesCmSrtpPackets = (): number => aesCmPackets;

/** The transform of a werift context, made with the keys `keys` picks from it on first use. */
function aesCmTransform<C extends WeriftSrtpContext | WeriftSrtcpContext>(
  context: C,
  keys: (context: C) => readonly [key: Buffer, salt: Buffer, authKey: Buffer],
): AesCmSrtpTransform | null {
  let transform = aesCmTransforms.get(context);
  if (transform === undefined) {
    transform = context.profile === SRTP_AES128_CM_HMAC_SHA1_80 ? new AesCmSrtpTransform(...keys(context)) : null;
    aesCmTransforms.set(context, transform);
  }
  return transform;
}

const srtpKeys = (c: WeriftSrtpContext) => [c.srtpSessionKey, c.srtpSessionSalt, c.srtpSessionAuthTag] as const;
const srtcpKeys = (c: WeriftSrtcpContext) => [c.srtcpSessionKey, c.srtcpSessionSalt, c.srtcpSessionAuthTag] as const;
const aesCmTransformOf = (context: WeriftSrtpContext) => aesCmTransform(context, srtpKeys);
export const aesCmRtcpTransformOf = (context: WeriftSrtcpContext) => aesCmTransform(context, srtcpKeys);

/**
 * The DTLS handshake of this transceiver's transport will offer (or, as the server, accept) AES_CM_128_HMAC_SHA1_80
 * alone, the profile every WebRTC endpoint must implement (RFC 8827 §6.5), so that its packets go through
 * srtp-aes-cm.ts instead of a native cipher object per packet. werift offers AES-GCM first, and a DTLS server that
 * prefers it (werift itself, as the tests' and the benchmark's peers are) picks it. Call before the transport
 * starts (after the remote description is set); a connected transport keeps its profile until its next handshake.
 */
export function negotiateAesCmSrtp(transceiver: RTCRtpTransceiver): void {
  (transceiver.dtlsTransport as unknown as { srtpProfiles: number[] }).srtpProfiles = [SRTP_AES128_CM_HMAC_SHA1_80];
}

/** Encrypts as werift's session would, with the same per-SSRC rollover state, through ours for AES-CM. */
export function encryptRtp(srtp: WeriftSrtpSession, payload: Buffer, header: RtpHeaderFields): Buffer {
  const context = srtp.localContext;
  const transform = aesCmTransformOf(context);
  if (!transform) return srtp.encrypt(payload, new RtpHeader(header));
  const state = context.getSrtpSsrcState(header.ssrc);
  context.updateRolloverCount(header.sequenceNumber, state);
  aesCmPackets++;
  return transform.protect(header, payload, state.rolloverCounter);
}

/**
 * Decrypts as werift's session would, through ours for AES-CM: the rollover state moves on only for a packet that
 * authenticates (a forged one must not move it). Undefined for a packet to drop.
 */
export function decryptRtp(srtp: WeriftSrtpSession, data: Buffer): Buffer | undefined {
  const context = srtp.remoteContext;
  const transform = aesCmTransformOf(context);
  if (!transform) {
    try {
      return srtp.decrypt(data);
    } catch {
      return undefined;
    }
  }
  const ssrc = data.readUInt32BE(8);
  const state = context.srtpSSRCStates[ssrc] ?? { ssrc, rolloverCounter: 0, lastSequenceNumber: 0 };
  const { rolloverCounter, lastSequenceNumber, rolloverHasProcessed } = state;
  context.updateRolloverCount(data.readUInt16BE(2), state);
  const plain = transform.unprotect(data, state.rolloverCounter);
  if (!plain) {
    state.rolloverCounter = rolloverCounter;
    state.lastSequenceNumber = lastSequenceNumber;
    state.rolloverHasProcessed = rolloverHasProcessed;
    return undefined;
  }
  context.srtpSSRCStates[ssrc] = state;
  aesCmPackets++;
  return plain;
}

/** Encrypts a compound RTCP packet as werift's session would: the next SRTCP index of its SSRC, kept in werift's state. */
export function encryptRtcp(srtcp: WeriftSrtcpSession, compound: Buffer): Buffer {
  const context = srtcp.localContext;
  const transform = aesCmRtcpTransformOf(context);
  if (!transform || compound.length < 8) return srtcp.encrypt(compound);
  const state = context.getSrtcpSsrcState(compound.readUInt32BE(4));
  state.srtcpIndex = state.srtcpIndex >= MAX_SRTCP_INDEX ? 0 : state.srtcpIndex + 1;
  aesCmPackets++;
  return transform.protectRtcp(compound, state.srtcpIndex);
}

/** Decrypts an SRTCP packet as werift's session would, through ours for AES-CM. Undefined for a packet to drop. */
export function decryptRtcp(srtcp: WeriftSrtcpSession, data: Buffer): Buffer | undefined {
  const transform = aesCmRtcpTransformOf(srtcp.remoteContext);
  if (!transform) {
    try {
      return srtcp.decrypt(data);
    } catch {
      return undefined;
    }
  }
  const plain = transform.unprotectRtcp(data);
  if (plain) aesCmPackets++;
  return plain;
}
