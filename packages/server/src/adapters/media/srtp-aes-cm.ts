import { type Cipher, createCipheriv, hash } from 'node:crypto';

/**
 * SRTP and SRTCP with the AES_CM_128_HMAC_SHA1_80 protection profile (RFC 3711 §4.1.1 and §4.2.1; profile 0x0001
 * of RFC 5764), keeping one AES context per session for its whole life. One transform holds one direction's keys
 * of one of the two: SRTP and SRTCP have session keys of their own.
 *
 * Why not werift's own: Node binds an IV to the cipher object it is created with, so werift creates a native cipher
 * and a native HMAC per packet and per direction (for AES-GCM, a cipher). At a hundred relayed calls those are
 * 20,000 native objects a second, each released through a weak callback during a young-generation collection: 1–7
 * ms of every such pause. AES counter mode is AES of successive counter blocks, XORed with the data; AES of
 * independent blocks is what ECB mode computes, and it keeps no state from one block to the next, so one ECB
 * context made when the keys are known encrypts every packet's counter blocks. The HMAC is SHA-1 twice over
 * keys padded once (RFC 2104), with Node's one-shot hash, which makes no object either.
 *
 * Only the transform is here: the session keys (RFC 3711 §4.3), the rollover counter (§3.3.1) and the SRTCP index
 * come from the caller, which for a werift line are werift's, so both can be used on one stream.
 */

/** The protection profile's number in the DTLS use_srtp extension (RFC 5764 §4.1.2). */
export const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;

const SESSION_KEY_LENGTH = 16;
const SESSION_SALT_LENGTH = 14;
const AUTH_KEY_LENGTH = 20;
/** The tag is the HMAC's first 80 bits. */
export const AES_CM_AUTH_TAG_LENGTH = 10;
const RTP_HEADER_LENGTH = 12;
/** An RTCP packet's header up to its sender's SSRC: sent in the clear in SRTCP. */
const RTCP_CLEAR_LENGTH = 8;
/** The E flag (encrypted) and the 31-bit SRTCP index after an SRTCP packet's encrypted portion. */
const SRTCP_INDEX_LENGTH = 4;
const SRTCP_ENCRYPTED = 0x8000_0000;
export const MAX_SRTCP_INDEX = 0x7fff_ffff;
const AES_BLOCK = 16;
const SHA1_BLOCK = 64;
const SHA1_LENGTH = 20;
const ROC_LENGTH = 4;
/** Packets a receiver remembers per SSRC to refuse replays (RFC 3711 §3.3.2 asks for at least 64). */
export const REPLAY_WINDOW = 128;
/** SRTP packets whose keystream is made at once, and the blocks made for each (192 bytes: most audio payloads). */
const KEYSTREAM_BATCH = 16;
const KEYSTREAM_STRIDE = 12;
/** Room for any RTP packet of one UDP datagram; the scratch buffers grow up to this, once, when needed. */
const MAX_PACKET_LENGTH = 65_535;

/** What the sender puts in an RTP header this transform writes (version 2, no padding, extension or CSRC). */
export interface RtpHeaderFields {
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly ssrc: number;
}

export class AesCmSrtpTransform {
  private readonly aes: Cipher;
  private readonly salt: Buffer;
  /** Counter blocks of one batch of packets, written in place before each keystream; views of it by block count. */
  private counterBlocks = Buffer.alloc(AES_BLOCK * KEYSTREAM_BATCH * KEYSTREAM_STRIDE);
  private counterViews: Buffer[] = [];
  /** Keystream made for the packets of one SSRC and rollover counter from `batchSequence` on (see keystreamAt). */
  private keystream = Buffer.alloc(0);
  private batchSsrc = -1;
  private batchRollover = -1;
  private batchSequence = 0;
  private batchPackets = 0;
  private batchStride = 0;
  /**
   * The HMAC's inner input: the key XOR ipad, then the authenticated portion and the rollover counter; views of it
   * by length. Views are kept because a packet's lengths repeat, and a view made per packet was a good part of the
   * garbage at a hundred calls.
   */
  private innerInput = Buffer.alloc(SHA1_BLOCK + 1500);
  private innerViews: Buffer[] = [];
  /**
   * Per SSRC received: the highest index accepted (the packet index for SRTP, the SRTCP index for SRTCP), and
   * which of the last REPLAY_WINDOW indexes were.
   */
  private readonly replay = new Map<number, ReplayWindow>();
  /** The HMAC's outer input: the key XOR opad, then the inner digest. */
  private readonly outerInput = Buffer.alloc(SHA1_BLOCK + SHA1_LENGTH);

  constructor(sessionKey: Buffer, sessionSalt: Buffer, authKey: Buffer) {
    if (sessionKey.length !== SESSION_KEY_LENGTH) throw new RangeError('AES-CM session key must be 16 bytes');
    if (sessionSalt.length !== SESSION_SALT_LENGTH) throw new RangeError('AES-CM session salt must be 14 bytes');
    if (authKey.length !== AUTH_KEY_LENGTH) throw new RangeError('HMAC-SHA1 session key must be 20 bytes');
    this.aes = createCipheriv('aes-128-ecb', sessionKey, null);
    this.aes.setAutoPadding(false);
    this.salt = Buffer.from(sessionSalt);
    for (let i = 0; i < SHA1_BLOCK; i++) {
      const keyByte = i < AUTH_KEY_LENGTH ? (authKey[i] as number) : 0;
      this.innerInput[i] = keyByte ^ 0x36;
      this.outerInput[i] = keyByte ^ 0x5c;
    }
  }

  /** The SRTP packet of an RTP header with these fields and this payload, at the stream's rollover counter. */
  protect(header: RtpHeaderFields, payload: Buffer, rolloverCounter: number): Buffer {
    const end = RTP_HEADER_LENGTH + payload.length;
    if (end + AES_CM_AUTH_TAG_LENGTH > MAX_PACKET_LENGTH) throw new RangeError('RTP packet too large for SRTP');
    const packet = Buffer.allocUnsafe(end + AES_CM_AUTH_TAG_LENGTH);
    packet[0] = 0x80;
    packet[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
    packet.writeUInt16BE(header.sequenceNumber & 0xffff, 2);
    packet.writeUInt32BE(header.timestamp >>> 0, 4);
    packet.writeUInt32BE(header.ssrc >>> 0, 8);
    const at = this.keystreamAt(header.ssrc, rolloverCounter, header.sequenceNumber, payload.length, true);
    this.xorKeystream(at, payload, 0, packet, RTP_HEADER_LENGTH, payload.length);
    packet.write(this.authenticate(packet, end, rolloverCounter), end, AES_CM_AUTH_TAG_LENGTH, 'latin1');
    return packet;
  }

  /**
   * Decrypts an SRTP packet at the stream's rollover counter in place, and returns the RTP packet (a view of the
   * same memory without the tag); undefined, with the packet untouched, when it fails authentication, repeats a
   * packet index already accepted or older than the replay window (RFC 3711 §3.3.2), or is too short or malformed
   * to be SRTP. Authenticated before anything is decrypted, and remembered as received only once authenticated.
   */
  unprotect(packet: Buffer, rolloverCounter: number): Buffer | undefined {
    const end = packet.length - AES_CM_AUTH_TAG_LENGTH;
    if (end < RTP_HEADER_LENGTH || packet.length > MAX_PACKET_LENGTH) return undefined;
    const first = packet[0] as number;
    let payloadOffset = RTP_HEADER_LENGTH + 4 * (first & 0x0f);
    if ((first & 0x10) !== 0) {
      if (payloadOffset + 4 > end) return undefined;
      payloadOffset += 4 + 4 * packet.readUInt16BE(payloadOffset + 2);
    }
    if (payloadOffset > end) return undefined;
    const ssrc = packet.readUInt32BE(8);
    const sequenceNumber = packet.readUInt16BE(2);
    // The 48-bit packet index: exact in a double.
    const index = (rolloverCounter >>> 0) * 0x1_0000 + sequenceNumber;
    if (!this.accepts(packet, end, rolloverCounter, ssrc, index)) return undefined;
    const length = end - payloadOffset;
    const at = this.keystreamAt(ssrc, rolloverCounter, sequenceNumber, length, true);
    this.xorKeystream(at, packet, payloadOffset, packet, payloadOffset, length);
    return packet.subarray(0, end);
  }

  /**
   * The SRTCP packet of a compound RTCP packet at this SRTCP index (RFC 3711 §3.4): the first 8 bytes (header and
   * sender SSRC) in the clear, the rest encrypted, then the E flag with the index, then the tag over all of it.
   */
  protectRtcp(compound: Buffer, index: number): Buffer {
    if (compound.length < RTCP_CLEAR_LENGTH) throw new RangeError('RTCP packet shorter than its header');
    if (!Number.isInteger(index) || index < 0 || index > MAX_SRTCP_INDEX)
      throw new RangeError('SRTCP index out of range');
    const indexAt = compound.length;
    const end = indexAt + SRTCP_INDEX_LENGTH;
    if (end + AES_CM_AUTH_TAG_LENGTH > MAX_PACKET_LENGTH) throw new RangeError('RTCP packet too large for SRTCP');
    const packet = Buffer.allocUnsafe(end + AES_CM_AUTH_TAG_LENGTH);
    compound.copy(packet, 0, 0, RTCP_CLEAR_LENGTH);
    const length = indexAt - RTCP_CLEAR_LENGTH;
    const ssrc = compound.readUInt32BE(4);
    const at = this.keystreamAt(ssrc, index >>> 16, index & 0xffff, length, false);
    this.xorKeystream(at, compound, RTCP_CLEAR_LENGTH, packet, RTCP_CLEAR_LENGTH, length);
    packet.writeUInt32BE((SRTCP_ENCRYPTED | index) >>> 0, indexAt);
    packet.write(this.authenticate(packet, end, undefined), end, AES_CM_AUTH_TAG_LENGTH, 'latin1');
    return packet;
  }

  /**
   * The compound RTCP packet of an SRTCP packet, decrypted in place (a view of the same memory, without index and
   * tag); undefined, with the packet untouched, when it fails authentication, repeats an SRTCP index already
   * accepted for its SSRC or is older than the replay window, or is too short to be SRTCP.
   */
  unprotectRtcp(packet: Buffer): Buffer | undefined {
    const end = packet.length - AES_CM_AUTH_TAG_LENGTH;
    const indexAt = end - SRTCP_INDEX_LENGTH;
    if (indexAt < RTCP_CLEAR_LENGTH || packet.length > MAX_PACKET_LENGTH) return undefined;
    const indexWord = packet.readUInt32BE(indexAt);
    const index = indexWord & MAX_SRTCP_INDEX;
    const ssrc = packet.readUInt32BE(4);
    if (!this.accepts(packet, end, undefined, ssrc, index)) return undefined;
    if ((indexWord & SRTCP_ENCRYPTED) !== 0) {
      const length = indexAt - RTCP_CLEAR_LENGTH;
      const at = this.keystreamAt(ssrc, index >>> 16, index & 0xffff, length, false);
      this.xorKeystream(at, packet, RTCP_CLEAR_LENGTH, packet, RTCP_CLEAR_LENGTH, length);
    }
    return packet.subarray(0, indexAt);
  }

  /**
   * Whether a received packet (authenticated up to `end`, with the rollover counter for SRTP) is new for its SSRC
   * and authentic; if so it is remembered in the replay window. The window is looked at first, because it is cheap,
   * and moved on only for an authentic packet, so a forged one cannot shift it.
   */
  private accepts(
    packet: Buffer,
    end: number,
    rolloverCounter: number | undefined,
    ssrc: number,
    index: number,
  ): boolean {
    const window = this.replay.get(ssrc);
    if (window && isReplay(window, index)) return false;
    const digest = this.authenticate(packet, end, rolloverCounter);
    // Compared in time independent of where they differ.
    let difference = 0;
    for (let i = 0; i < AES_CM_AUTH_TAG_LENGTH; i++) difference |= digest.charCodeAt(i) ^ (packet[end + i] as number);
    if (difference !== 0) return false;
    if (window) accept(window, index);
    else this.replay.set(ssrc, firstAccepted(index));
    return true;
  }

  /** target[targetAt…] = source[sourceAt…] XOR the keystream from `at` on, for `length` bytes (in place if one). */
  private xorKeystream(
    at: number,
    source: Buffer,
    sourceAt: number,
    target: Buffer,
    targetAt: number,
    length: number,
  ): void {
    const keystream = this.keystream;
    for (let i = 0; i < length; i++) {
      target[targetAt + i] = (source[sourceAt + i] as number) ^ (keystream[at + i] as number);
    }
  }

  /**
   * Where the `length` bytes of keystream for one packet start in `this.keystream` (RFC 3711 §4.1.1): AES of the
   * counter blocks IV, IV + 1, …, where IV is the session salt XOR the SSRC (bits 64–95 from the right) XOR the
   * packet index (ROC and sequence number, shifted left 16 bits), and the low 16 bits count the block.
   *
   * A stream's next packets have the next sequence numbers, so SRTP keystream is made for KEYSTREAM_BATCH packets
   * at once (`batch`), each given `stride` blocks: one AES call and one buffer for a batch instead of one per packet
   * (each buffer Node returns holds native memory the young generation must sweep). A packet outside the batch, or
   * longer than its stride, starts a new batch at its own index.
   */
  private keystreamAt(
    ssrc: number,
    rolloverCounter: number,
    sequenceNumber: number,
    length: number,
    batch: boolean,
  ): number {
    const blocks = Math.max(1, Math.ceil(length / AES_BLOCK));
    const offset = sequenceNumber - this.batchSequence;
    if (
      ssrc === this.batchSsrc &&
      rolloverCounter === this.batchRollover &&
      offset >= 0 &&
      offset < this.batchPackets &&
      blocks <= this.batchStride
    ) {
      return offset * this.batchStride * AES_BLOCK;
    }
    // A batch never crosses a sequence number wrap: the packets after it have the next rollover counter.
    const packets = batch ? Math.min(KEYSTREAM_BATCH, 0x1_0000 - sequenceNumber) : 1;
    const stride = batch ? Math.max(blocks, KEYSTREAM_STRIDE) : blocks;
    const total = packets * stride;
    if (total * AES_BLOCK > this.counterBlocks.length) {
      this.counterBlocks = Buffer.alloc(total * AES_BLOCK);
      this.counterViews = [];
    }
    const counters = this.counterBlocks;
    const salt = this.salt;
    const ssrcWord = (salt.readUInt32BE(4) ^ ssrc) >>> 0;
    const rocWord = (salt.readUInt32BE(8) ^ rolloverCounter) >>> 0;
    for (let packet = 0; packet < packets; packet++) {
      const at = packet * stride * AES_BLOCK;
      const sequence = sequenceNumber + packet;
      counters[at] = salt[0] as number;
      counters[at + 1] = salt[1] as number;
      counters[at + 2] = salt[2] as number;
      counters[at + 3] = salt[3] as number;
      counters.writeUInt32BE(ssrcWord, at + 4);
      counters.writeUInt32BE(rocWord, at + 8);
      counters[at + 12] = (salt[12] as number) ^ ((sequence >>> 8) & 0xff);
      counters[at + 13] = (salt[13] as number) ^ (sequence & 0xff);
      counters[at + 14] = 0;
      counters[at + 15] = 0;
      for (let block = 1; block < stride; block++) {
        const blockAt = at + block * AES_BLOCK;
        for (let i = 0; i < 14; i++) counters[blockAt + i] = counters[at + i] as number;
        counters[blockAt + 14] = block >>> 8;
        counters[blockAt + 15] = block & 0xff;
      }
    }
    let view = this.counterViews[total];
    if (!view) {
      view = counters.subarray(0, total * AES_BLOCK);
      this.counterViews[total] = view;
    }
    this.keystream = this.aes.update(view);
    this.batchSsrc = ssrc;
    this.batchRollover = rolloverCounter;
    this.batchSequence = sequenceNumber;
    this.batchPackets = packets;
    this.batchStride = stride;
    return 0;
  }

  /**
   * HMAC-SHA1 (RFC 2104) of the packet's first `end` bytes, followed for SRTP by the rollover counter (RFC 3711
   * §4.2), as a latin1 string: Node makes a string of a digest several times faster than a buffer.
   */
  private authenticate(packet: Buffer, end: number, rolloverCounter: number | undefined): string {
    // The whole packet is copied (a copy of part of it would need a view); what follows `end` is not hashed.
    if (SHA1_BLOCK + packet.length + ROC_LENGTH > this.innerInput.length) {
      const grown = Buffer.alloc(SHA1_BLOCK + packet.length + ROC_LENGTH);
      this.innerInput.copy(grown, 0, 0, SHA1_BLOCK);
      this.innerInput = grown;
      this.innerViews = [];
    }
    const inner = this.innerInput;
    inner.set(packet, SHA1_BLOCK);
    let length = SHA1_BLOCK + end;
    if (rolloverCounter !== undefined) {
      inner.writeUInt32BE(rolloverCounter >>> 0, length);
      length += ROC_LENGTH;
    }
    let view = this.innerViews[length];
    if (!view) {
      view = inner.subarray(0, length);
      this.innerViews[length] = view;
    }
    // 'binary' is Node's other name for latin1: one character per byte.
    this.outerInput.write(hash('sha1', view, 'binary'), SHA1_BLOCK, SHA1_LENGTH, 'latin1');
    return hash('sha1', this.outerInput, 'binary');
  }
}

// ---- replay protection (RFC 3711 §3.3.2) ---------------------------------------------------------------------

interface ReplayWindow {
  highest: number;
  /** Indexed by packet index modulo REPLAY_WINDOW: 1 when that index was accepted. */
  seen: Uint8Array;
}

function firstAccepted(index: number): ReplayWindow {
  const window = { highest: index, seen: new Uint8Array(REPLAY_WINDOW) };
  window.seen[index % REPLAY_WINDOW] = 1;
  return window;
}

/** An index already accepted, or too far behind the highest to tell. */
function isReplay(window: ReplayWindow, index: number): boolean {
  if (index > window.highest) return false;
  if (window.highest - index >= REPLAY_WINDOW) return true;
  return window.seen[index % REPLAY_WINDOW] === 1;
}

function accept(window: ReplayWindow, index: number): void {
  if (index > window.highest) {
    // The slots between the old highest and this one are indexes not received (yet).
    const skipped = Math.min(index - window.highest, REPLAY_WINDOW);
    for (let i = 1; i < skipped; i++) window.seen[(index - i) % REPLAY_WINDOW] = 0;
    window.highest = index;
  }
  window.seen[index % REPLAY_WINDOW] = 1;
}
