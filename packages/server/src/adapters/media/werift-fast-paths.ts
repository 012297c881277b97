import { RTCRtpCodecParameters, RTCRtpReceiver, RtpHeader } from 'werift';

/**
 * werift 0.24's RTP header parser (`RtpHeader.deSerialize`) reads each bit field by printing the byte in binary,
 * splitting the string into an array of characters, padding, slicing, joining and parsing it back: about 3 µs and
 * some thirty short-lived objects per header. It runs twice for every packet a line receives (to authenticate the
 * SRTP packet, then to parse the decrypted one), so at a hundred calls it cost more CPU than the decryption and
 * fed the garbage collector pauses that showed up as relay latency.
 *
 * `parseRtpHeader` is the same parser with the fields read by masks and shifts. It builds the same `RtpHeader`
 * object, field for field, and throws on the same short or malformed input (werift's callers treat any throw
 * alike: an SRTP authentication failure, a dropped packet), so werift cannot tell the difference: werift-fast-paths.test.ts checks that against werift's own parser on random headers of
 * every shape (CSRCs, one-byte, two-byte and other extensions, padding, truncation). werift calls it through the
 * class's static property, so replacing that property reaches every caller inside werift.
 *
 * Two getters werift reads for every received packet allocate as well, and are memoised the same careful way:
 * - `RTCRtpReceiver#codecArray` (behind `twccEnabled`, asked per packet) builds `Object.values(codecs)` and sorts it.
 *   The receiver's codec table changes only in `prepareReceive`, which now drops the memo first.
 * - `RTCRtpCodecParameters#name` splits the MIME type on every call (twice per packet); the memo is keyed by the
 *   MIME type it was made from, so a changed codec is never misnamed.
 * Together these were about a fifth of what the engine allocated at a hundred calls.
 *
 * The werift version is pinned exactly; an upgrade runs that test again before anything else relies on this.
 */

const ONE_BYTE_PROFILE = 0xbede;
const TWO_BYTE_PROFILE = 0x1000;

/** werift's own parser, kept for the equivalence test. */
export const weriftRtpHeaderParser: (raw: Buffer) => RtpHeader = RtpHeader.deSerialize.bind(RtpHeader);

export function parseRtpHeader(raw: Buffer): RtpHeader {
  const h = new RtpHeader();
  const first = raw[0] ?? 0;
  h.version = first >> 6;
  h.padding = (first & 0x20) !== 0;
  h.extension = (first & 0x10) !== 0;
  h.csrcLength = first & 0x0f;
  const second = raw[1] ?? 0;
  h.marker = (second & 0x80) !== 0;
  h.payloadType = second & 0x7f;
  h.sequenceNumber = raw.readUInt16BE(2);
  h.timestamp = raw.readUInt32BE(4);
  h.ssrc = raw.readUInt32BE(8);
  const csrc: number[] = new Array(h.csrcLength);
  for (let i = 0; i < h.csrcLength; i++) csrc[i] = raw.readUInt32BE(12 + 4 * i);
  h.csrc = csrc;
  let offset = 12 + 4 * h.csrcLength;
  if (h.extension) {
    // Any 16-bit value, as werift reads it (its type lists only the two profiles it understands).
    h.extensionProfile = raw.readUInt16BE(offset) as RtpHeader['extensionProfile'];
    offset += 2;
    const extensionLength = raw.readUInt16BE(offset) * 4;
    h.extensionLength = extensionLength;
    offset += 2;
    const extensions: { id: number; payload: Buffer }[] = [];
    const end = offset + extensionLength;
    const profile: number = h.extensionProfile;
    if (profile === ONE_BYTE_PROFILE) {
      while (offset < end) {
        const byte = raw[offset];
        if (byte === 0) {
          offset++;
          continue;
        }
        // As werift reads it: past the end of the buffer a missing byte counts as id 0 with one byte of data.
        const id = (byte ?? 0) >> 4;
        const length = ((byte ?? 0) & 0x0f) + 1;
        offset++;
        if (id === 15) break;
        extensions.push({ id, payload: raw.subarray(offset, offset + length) });
        offset += length;
      }
    } else if (profile === TWO_BYTE_PROFILE) {
      while (offset < end) {
        if (raw[offset] === 0) {
          offset++;
          continue;
        }
        const id = raw[offset] as number;
        offset++;
        const length = raw[offset] as number;
        offset++;
        extensions.push({ id, payload: raw.subarray(offset, offset + length) });
        offset += length;
      }
    } else {
      const payload = raw.subarray(offset, offset + extensionLength);
      extensions.push({ id: 0, payload });
      offset += payload.length;
    }
    h.extensions = extensions;
  }
  h.payloadOffset = offset;
  if (h.padding) h.paddingSize = raw[raw.length - 1] as number;
  return h;
}

/** werift's own getters, kept for the tests. */
export const weriftCodecArray = Object.getOwnPropertyDescriptor(RTCRtpReceiver.prototype, 'codecArray')?.get;
export const weriftCodecName = Object.getOwnPropertyDescriptor(RTCRtpCodecParameters.prototype, 'name')?.get;

const CODEC_ARRAY = Symbol('openhotline.codecArray');
const CODEC_NAME = Symbol('openhotline.codecName');

type MemoisedReceiver = RTCRtpReceiver & { [CODEC_ARRAY]?: RTCRtpCodecParameters[] };
type MemoisedCodec = RTCRtpCodecParameters & { [CODEC_NAME]?: { readonly mimeType: string; readonly name: string } };

let applied = false;

/** Puts the fast paths in place (once per process; every werift peer connection made after or before uses them). */
export function applyWeriftFastPaths(): void {
  if (applied) return;
  applied = true;
  RtpHeader.deSerialize = parseRtpHeader;

  const codecArray = weriftCodecArray;
  const prepareReceive = RTCRtpReceiver.prototype.prepareReceive;
  if (codecArray && typeof prepareReceive === 'function') {
    Object.defineProperty(RTCRtpReceiver.prototype, 'codecArray', {
      configurable: true,
      get(this: MemoisedReceiver) {
        let memo = this[CODEC_ARRAY];
        if (!memo) {
          // Frozen: werift only reads it (its first entry), and a caller that tried to change the shared list
          // would fail loudly rather than corrupt it.
          memo = Object.freeze(codecArray.call(this) as RTCRtpCodecParameters[]) as RTCRtpCodecParameters[];
          this[CODEC_ARRAY] = memo;
        }
        return memo;
      },
    });
    RTCRtpReceiver.prototype.prepareReceive = function (this: MemoisedReceiver, ...args) {
      this[CODEC_ARRAY] = undefined;
      return prepareReceive.apply(this, args);
    };
  }

  const codecName = weriftCodecName;
  if (codecName) {
    Object.defineProperty(RTCRtpCodecParameters.prototype, 'name', {
      configurable: true,
      get(this: MemoisedCodec) {
        const memo = this[CODEC_NAME];
        if (memo?.mimeType === this.mimeType) return memo.name;
        const name = codecName.call(this) as string;
        this[CODEC_NAME] = { mimeType: this.mimeType, name };
        return name;
      },
    });
  }
}
