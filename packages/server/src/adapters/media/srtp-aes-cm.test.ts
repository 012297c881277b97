import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSenderInfo,
  RtcpSrPacket,
  RtpHeader,
  SrtcpSession,
  SrtpSession,
} from 'werift';
import {
  AES_CM_AUTH_TAG_LENGTH,
  AesCmSrtpTransform,
  REPLAY_WINDOW,
  SRTP_AES128_CM_HMAC_SHA1_80,
} from './srtp-aes-cm.js';

/**
 * The AES-CM SRTP transform against RFC 3711's test vector, and against werift's own AES-CM transform (an
 * independent implementation) both ways, byte for byte, with the packets a line meets: CSRCs, a header extension,
 * padding, a marker, a rollover counter past zero. Anything altered in transit must fail authentication.
 */

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A werift session configuration with fresh random master keys, the same in both directions, for AES-CM. */
function sessionConfig() {
  const masterKey = randomBytes(16);
  const masterSalt = randomBytes(14);
  return {
    keys: {
      localMasterKey: masterKey,
      localMasterSalt: masterSalt,
      remoteMasterKey: masterKey,
      remoteMasterSalt: masterSalt,
    },
    profile: SRTP_AES128_CM_HMAC_SHA1_80,
  } as ConstructorParameters<typeof SrtpSession>[0];
}

/** A werift SRTP session with fresh master keys in both directions, and our transform on its derived keys. */
function pair() {
  const werift = new SrtpSession(sessionConfig());
  const context = werift.localContext as unknown as {
    srtpSessionKey: Buffer;
    srtpSessionSalt: Buffer;
    srtpSessionAuthTag: Buffer;
  };
  const fresh = () =>
    new AesCmSrtpTransform(context.srtpSessionKey, context.srtpSessionSalt, context.srtpSessionAuthTag);
  return { werift, ours: fresh(), fresh, authKey: context.srtpSessionAuthTag };
}

describe('AES_CM_128_HMAC_SHA1_80 SRTP transform', () => {
  it('makes RFC 3711’s AES-CM keystream (appendix B.2)', () => {
    // Session key, salt, SSRC 0, ROC 0, sequence 0: an all-zero payload encrypts to the keystream itself.
    const transform = new AesCmSrtpTransform(
      hex('2B7E151628AED2A6ABF7158809CF4F3C'),
      hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'),
      Buffer.alloc(20),
    );
    const packet = transform.protect(
      { payloadType: 0, sequenceNumber: 0, timestamp: 0, marker: false, ssrc: 0 },
      Buffer.alloc(48),
      0,
    );
    expect(packet.subarray(12, 60)).toEqual(
      hex(`E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB
           41E95B3BB0A2E8DD477901E4FCA894C0`),
    );
  });

  it('tags the header, the encrypted payload and the rollover counter with HMAC-SHA1, cut to 80 bits', () => {
    const { ours, authKey } = pair();
    const packet = ours.protect(
      { payloadType: 111, sequenceNumber: 7, timestamp: 960, marker: true, ssrc: 42 },
      randomBytes(80),
      3,
    );
    const end = packet.length - AES_CM_AUTH_TAG_LENGTH;
    const roc = Buffer.from([0, 0, 0, 3]);
    const expected = createHmac('sha1', authKey).update(packet.subarray(0, end)).update(roc).digest().subarray(0, 10);
    expect(packet.subarray(end)).toEqual(expected);
  });

  it('protects exactly as werift does, and werift unprotects it, across rollover counters and packet sizes', () => {
    const { werift, ours } = pair();
    // werift's rollover counter moves with the sequence numbers it sees: walk it through a wrap.
    let sequenceNumber = 65_530;
    let roc = 0;
    for (const size of [0, 1, 15, 16, 17, 160, 1000, 1400]) {
      const payload = randomBytes(size);
      const header = {
        payloadType: 111,
        sequenceNumber,
        timestamp: sequenceNumber * 960,
        marker: size === 16,
        ssrc: 0xdeadbeef,
      };
      const theirs = werift.encrypt(payload, new RtpHeader(header));
      expect(ours.protect(header, payload, roc)).toEqual(theirs);
      const [plain] = werift.remoteContext.decryptRtp(theirs) as unknown as [Buffer];
      expect(plain.subarray(12)).toEqual(payload);
      sequenceNumber = (sequenceNumber + 1) & 0xffff;
      if (sequenceNumber === 0) roc++;
    }
    expect(roc).toBe(1);
  });

  it('makes keystream per SSRC, rollover counter and sequence number, batched or not', () => {
    const { ours, fresh } = pair();
    const header = (sequenceNumber: number, ssrc = 1) => ({
      payloadType: 0,
      sequenceNumber,
      timestamp: 0,
      marker: false,
      ssrc,
    });
    // In an order that hits, misses and restarts the transform's keystream batch; each packet must be what a
    // transform that never saw another packet makes. Zero payloads encrypt to the keystream itself.
    const cases: [ReturnType<typeof header>, number, number][] = [
      [header(5), 0, 50],
      [header(6), 0, 50],
      [header(6, 2), 0, 50],
      [header(7), 0, 50],
      [header(4), 0, 50],
      [header(5), 1, 50],
      [header(5), 0, 300],
      [header(20), 0, 50],
    ];
    const keystreams = new Set<string>();
    for (const [fields, roc, size] of cases) {
      const packet = ours.protect(fields, Buffer.alloc(size), roc);
      expect(packet).toEqual(fresh().protect(fields, Buffer.alloc(size), roc));
      keystreams.add(packet.subarray(12, 62).toString('hex'));
    }
    // Index 5 at ROC 0 came twice (50 and 300 bytes): the same keystream.
    expect(keystreams.size).toBe(cases.length - 1);
  });

  it('unprotects what werift protects, CSRCs, header extension and padding included', () => {
    const { werift, ours } = pair();
    const payload = randomBytes(100);
    const header = new RtpHeader({
      payloadType: 0,
      sequenceNumber: 12,
      timestamp: 160,
      ssrc: 1234,
      marker: true,
      csrc: [1, 2],
      extension: true,
      extensionProfile: 0xbede,
      extensions: [{ id: 1, payload: Buffer.from([0x30]) }],
      padding: true,
      paddingSize: 4,
    });
    const srtp = werift.encrypt(Buffer.concat([payload, Buffer.from([0, 0, 0, 4])]), header);
    const plain = ours.unprotect(srtp, 0);
    expect(plain).toBeDefined();
    const parsed = RtpHeader.deSerialize(plain!);
    expect(parsed.csrc).toEqual([1, 2]);
    expect(parsed.extensions[0]?.payload).toEqual(Buffer.from([0x30]));
    expect(plain!.subarray(parsed.payloadOffset, parsed.payloadOffset + 100)).toEqual(payload);
    expect(plain!.length).toBe(srtp.length - AES_CM_AUTH_TAG_LENGTH);
  });

  it('refuses a packet altered anywhere, tagged for another rollover counter, or too short to be SRTP', () => {
    const { ours } = pair();
    const payload = randomBytes(60);
    const packet = ours.protect(
      { payloadType: 8, sequenceNumber: 99, timestamp: 1, marker: false, ssrc: 5 },
      payload,
      2,
    );
    expect(ours.unprotect(Buffer.from(packet), 2)?.subarray(12)).toEqual(payload);
    for (let i = 0; i < packet.length; i++) {
      const altered = Buffer.from(packet);
      altered[i] = (altered[i] as number) ^ 0x01;
      expect(ours.unprotect(altered, 2), `byte ${i} altered`).toBeUndefined();
    }
    expect(ours.unprotect(packet, 3)).toBeUndefined();
    expect(ours.unprotect(packet.subarray(0, 21), 2)).toBeUndefined();
    // A header whose CSRC count or extension length runs past the packet.
    const lying = Buffer.from(packet);
    lying[0] = 0x8f;
    expect(ours.unprotect(lying, 2)).toBeUndefined();
  });

  it('decrypts in place, and leaves a packet it refuses as it was', () => {
    const { ours } = pair();
    const payload = randomBytes(30);
    const packet = ours.protect(
      { payloadType: 0, sequenceNumber: 1, timestamp: 160, marker: false, ssrc: 9 },
      payload,
      0,
    );
    const refused = Buffer.from(packet);
    refused[refused.length - 1] = (refused[refused.length - 1] as number) ^ 0xff;
    const before = Buffer.from(refused);
    expect(ours.unprotect(refused, 0)).toBeUndefined();
    expect(refused).toEqual(before);
    const plain = ours.unprotect(packet, 0);
    expect(plain?.buffer).toBe(packet.buffer);
    expect(packet.subarray(12, 42)).toEqual(payload);
  });

  it('refuses a replayed packet and one older than the replay window, and takes late ones once', () => {
    const { ours } = pair();
    const sent = new Map<number, Buffer>();
    const protect = (sequenceNumber: number, roc = 0) => {
      const packet = ours.protect(
        { payloadType: 0, sequenceNumber, timestamp: 0, marker: false, ssrc: 77 },
        randomBytes(20),
        roc,
      );
      sent.set(roc * 0x1_0000 + sequenceNumber, packet);
      return Buffer.from(packet);
    };
    const again = (index: number) => Buffer.from(sent.get(index)!);
    expect(ours.unprotect(protect(100), 0)).toBeDefined();
    expect(ours.unprotect(again(100), 0)).toBeUndefined();
    // Out of order inside the window: each accepted once.
    expect(ours.unprotect(protect(105), 0)).toBeDefined();
    expect(ours.unprotect(protect(103), 0)).toBeDefined();
    expect(ours.unprotect(again(103), 0)).toBeUndefined();
    expect(ours.unprotect(again(105), 0)).toBeUndefined();
    // Far ahead, past a sequence wrap: what was behind the window is refused, what is inside still works.
    const far = 100 + REPLAY_WINDOW + 50;
    expect(ours.unprotect(protect(far), 0)).toBeDefined();
    expect(ours.unprotect(protect(101), 0)).toBeUndefined();
    expect(ours.unprotect(protect(far - 10), 0)).toBeDefined();
    // The slot index 100 had in the window now stands for 100 + REPLAY_WINDOW, never received.
    expect(ours.unprotect(protect(100 + REPLAY_WINDOW), 0)).toBeDefined();
    expect(ours.unprotect(protect(3, 1), 1)).toBeDefined();
    expect(ours.unprotect(protect(65_530, 0), 0)).toBeDefined();
    expect(ours.unprotect(again(65_530), 0)).toBeUndefined();
    // A forged packet does not move the window: the genuine packet of that index still gets in afterwards.
    const genuine = protect(10, 1);
    const forged = Buffer.from(genuine);
    forged[20] = (forged[20] as number) ^ 1;
    expect(ours.unprotect(forged, 1)).toBeUndefined();
    expect(ours.unprotect(genuine, 1)).toBeDefined();
    // Another SSRC has its own window.
    const other = ours.protect(
      { payloadType: 0, sequenceNumber: 100, timestamp: 0, marker: false, ssrc: 78 },
      randomBytes(20),
      0,
    );
    expect(ours.unprotect(other, 0)).toBeDefined();
  });

  it('protects RTCP exactly as werift’s SRTCP does, index and all, and each unprotects the other’s', () => {
    const werift = new SrtcpSession(sessionConfig());
    const keys = werift.localContext as unknown as {
      srtcpSessionKey: Buffer;
      srtcpSessionSalt: Buffer;
      srtcpSessionAuthTag: Buffer;
    };
    const ours = new AesCmSrtpTransform(keys.srtcpSessionKey, keys.srtcpSessionSalt, keys.srtcpSessionAuthTag);
    const compound = Buffer.concat([
      new RtcpSrPacket({
        ssrc: 0x1234_5678,
        senderInfo: new RtcpSenderInfo({
          ntpTimestamp: 1n << 40n,
          rtpTimestamp: 960,
          packetCount: 50,
          octetCount: 8000,
        }),
      }).serialize(),
      new RtcpRrPacket({
        ssrc: 0x1234_5678,
        reports: [
          new RtcpReceiverInfo({
            ssrc: 9,
            fractionLost: 0,
            packetsLost: 0,
            highestSequence: 77,
            jitter: 3,
            lsr: 0,
            dlsr: 0,
          }),
        ],
      }).serialize(),
    ]);
    // werift counts its index from 1 per SSRC.
    for (let index = 1; index <= 3; index++) {
      const theirs = werift.encrypt(compound);
      const mine = ours.protectRtcp(compound, index);
      expect(mine).toEqual(theirs);
      expect(werift.decrypt(Buffer.from(mine))).toEqual(compound);
      expect(ours.unprotectRtcp(Buffer.from(theirs))).toEqual(compound);
    }
    // Replayed, altered anywhere, or too short: refused.
    const packet = ours.protectRtcp(compound, 10);
    expect(ours.unprotectRtcp(Buffer.from(packet))).toEqual(compound);
    expect(ours.unprotectRtcp(Buffer.from(packet))).toBeUndefined();
    const next = ours.protectRtcp(compound, 11);
    for (let i = 0; i < next.length; i++) {
      const altered = Buffer.from(next);
      altered[i] = (altered[i] as number) ^ 0x80;
      expect(ours.unprotectRtcp(altered), `byte ${i} altered`).toBeUndefined();
    }
    expect(ours.unprotectRtcp(next.subarray(0, 21))).toBeUndefined();
    expect(() => ours.protectRtcp(compound, 2 ** 31)).toThrow(RangeError);
  });

  it('takes an SRTCP packet sent unencrypted (E flag clear), authenticated all the same', () => {
    const { ours, authKey } = pair();
    const compound = new RtcpRrPacket({
      ssrc: 42,
      reports: [
        new RtcpReceiverInfo({
          ssrc: 7,
          fractionLost: 0,
          packetsLost: 0,
          highestSequence: 5,
          jitter: 1,
          lsr: 0,
          dlsr: 0,
        }),
      ],
    }).serialize();
    const indexWord = Buffer.alloc(4);
    indexWord.writeUInt32BE(7);
    const authenticated = Buffer.concat([compound, indexWord]);
    const tag = createHmac('sha1', authKey).update(authenticated).digest().subarray(0, 10);
    expect(ours.unprotectRtcp(Buffer.concat([authenticated, tag]))).toEqual(compound);
    const forged = Buffer.concat([authenticated, Buffer.alloc(10)]);
    forged.writeUInt32BE(8, compound.length);
    expect(ours.unprotectRtcp(forged)).toBeUndefined();
  });

  it('refuses keys of the wrong length', () => {
    expect(() => new AesCmSrtpTransform(Buffer.alloc(15), Buffer.alloc(14), Buffer.alloc(20))).toThrow(RangeError);
    expect(() => new AesCmSrtpTransform(Buffer.alloc(16), Buffer.alloc(12), Buffer.alloc(20))).toThrow(RangeError);
    expect(() => new AesCmSrtpTransform(Buffer.alloc(16), Buffer.alloc(14), Buffer.alloc(16))).toThrow(RangeError);
  });
});
