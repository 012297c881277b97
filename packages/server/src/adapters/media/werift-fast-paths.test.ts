import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader } from 'werift';
import {
  applyWeriftFastPaths,
  parseRtpHeader,
  weriftCodecArray,
  weriftCodecName,
  weriftRtpHeaderParser,
} from './werift-fast-paths.js';

/** Raw RTP headers of every shape werift parses, some cut short, with payload and padding bytes after them. */
const rawHeaders = fc
  .record({
    first: fc.integer({ min: 0, max: 255 }),
    second: fc.integer({ min: 0, max: 255 }),
    fixed: fc.uint8Array({ minLength: 10, maxLength: 10 }),
    csrc: fc.uint8Array({ minLength: 0, maxLength: 60 }),
    profile: fc.oneof(fc.constant(0xbede), fc.constant(0x1000), fc.integer({ min: 0, max: 0xffff })),
    extensionWords: fc.integer({ min: 0, max: 8 }),
    extension: fc.uint8Array({ minLength: 0, maxLength: 40 }),
    rest: fc.uint8Array({ minLength: 0, maxLength: 40 }),
    cut: fc.option(fc.integer({ min: 0, max: 140 })),
  })
  .map(({ first, second, fixed, csrc, profile, extensionWords, extension, rest, cut }) => {
    const cc = first & 0x0f;
    const csrcBytes = Buffer.alloc(cc * 4);
    csrcBytes.set(csrc.subarray(0, cc * 4));
    const head = Buffer.from([first, second, ...fixed]);
    const parts = [head, csrcBytes];
    if (first & 0x10) {
      const ext = Buffer.alloc(4 + extensionWords * 4);
      ext.writeUInt16BE(profile, 0);
      ext.writeUInt16BE(extensionWords, 2);
      ext.set(extension.subarray(0, extensionWords * 4), 4);
      parts.push(ext);
    }
    parts.push(Buffer.from(rest));
    const raw = Buffer.concat(parts);
    return cut === null ? raw : raw.subarray(0, Math.min(cut, raw.length));
  });

function outcome(parse: (raw: Buffer) => RtpHeader, raw: Buffer) {
  try {
    return { header: parse(raw) };
  } catch (error) {
    // The kind differs where werift fails on its own bugs (a TypeError on an empty buffer); the callers inside
    // werift treat any throw alike (an SRTP authentication failure, a dropped packet).
    return { failed: error instanceof Error };
  }
}

describe('the fast RTP header parser', () => {
  it('gives what werift’s own parser gives, field for field, and fails where it fails', () => {
    fc.assert(
      fc.property(rawHeaders, (raw) => {
        const ours = outcome(parseRtpHeader, raw);
        const theirs = outcome(weriftRtpHeaderParser, raw);
        expect(ours).toEqual(theirs);
        if (ours.header) expect(ours.header).toBeInstanceOf(RtpHeader);
      }),
      { numRuns: 5_000 },
    );
  });

  it('parses a browser’s Opus packet with a one-byte extension (audio level) as werift does', () => {
    const raw = Buffer.from([
      0x90, 0xef, 0x12, 0x34, 0x00, 0x01, 0x86, 0xa0, 0xde, 0xad, 0xbe, 0xef, 0xbe, 0xde, 0x00, 0x01, 0x10, 0x8a, 0x00,
      0x00, 0xf8, 0xff, 0xfe,
    ]);
    const header = parseRtpHeader(raw);
    expect(header).toMatchObject({
      version: 2,
      marker: true,
      payloadType: 111,
      sequenceNumber: 0x1234,
      timestamp: 100_000,
      ssrc: 0xdeadbeef,
      extensionProfile: 0xbede,
      payloadOffset: 20,
    });
    expect(header.extensions).toEqual([{ id: 1, payload: Buffer.from([0x8a]) }]);
    expect(header).toEqual(weriftRtpHeaderParser(raw));
  });

  it('is what werift calls once applied', () => {
    applyWeriftFastPaths();
    expect(RtpHeader.deSerialize).toBe(parseRtpHeader);
  });
});

describe('the memoised codec getters', () => {
  const codec = (payloadType: number, mimeType: string) =>
    new RTCRtpCodecParameters({ payloadType, mimeType, clockRate: 48_000 });

  it('give what werift’s getters give, and follow a change of the receiver’s codecs', async () => {
    applyWeriftFastPaths();
    const pc = new RTCPeerConnection({});
    try {
      const { receiver: typed } = pc.addTransceiver('audio');
      // codecArray is private in werift's types; the engine's hot path reads it through werift itself.
      const receiver = typed as unknown as {
        prepareReceive(params: never): void;
        readonly codecArray: RTCRtpCodecParameters[];
      };
      const table = [codec(111, 'audio/opus'), codec(0, 'audio/PCMU'), codec(110, 'audio/telephone-event')];
      receiver.prepareReceive({ codecs: table, encodings: [], headerExtensions: [] } as never);
      expect(receiver.codecArray).toEqual(weriftCodecArray?.call(receiver));
      expect(receiver.codecArray.map((c) => c.payloadType)).toEqual([0, 110, 111]);
      expect(receiver.codecArray).toBe(receiver.codecArray);
      // A renegotiation adds a codec: the memo is dropped, the new table shows.
      receiver.prepareReceive({ codecs: [codec(8, 'audio/PCMA')], encodings: [], headerExtensions: [] } as never);
      expect(receiver.codecArray.map((c) => c.payloadType)).toEqual([0, 8, 110, 111]);
      expect(() => (receiver.codecArray as unknown as unknown[]).push(1)).toThrow(TypeError);
    } finally {
      await pc.close();
    }
  });

  it('name a codec by its current MIME type', () => {
    applyWeriftFastPaths();
    const opus = codec(111, 'audio/opus');
    expect(opus.name).toBe('opus');
    expect(opus.name).toBe(weriftCodecName?.call(opus));
    opus.mimeType = 'audio/PCMU';
    expect(opus.name).toBe('PCMU');
  });
});
