import { describe, expect, it } from 'vitest';
import type { AudioCodecName } from './codec.js';
import { OutboundStream, type OutgoingPacket } from './outbound-stream.js';

function stream(codec: AudioCodecName = 'pcmu') {
  let now = 0;
  const sent: OutgoingPacket[] = [];
  const out = new OutboundStream(
    codec,
    () => now,
    (packet) => sent.push(packet),
  );
  const audio = (timestamp: number) => ({
    kind: 'audio' as const,
    codec,
    timestamp,
    marker: false,
    payload: Buffer.alloc(160),
  });
  return {
    out,
    sent,
    audio,
    advance: (samples: number) => {
      now += samples;
    },
  };
}

describe('one continuous outgoing stream whatever the source', () => {
  it('keeps sequence numbers consecutive and timestamps in step with time across source changes', () => {
    const { out, sent, audio, advance } = stream();
    for (let i = 0; i < 3; i++, advance(160)) out.send('customer', audio(5_000 + i * 160));
    advance(40 * 160); // 0.8 s of nothing (a hold without music, say)
    for (let i = 0; i < 3; i++, advance(160)) out.send('hold', audio(i * 160));
    for (let i = 0; i < 3; i++, advance(160)) out.send('other-customer', audio(3_000_000_000 + i * 160));

    const sequences = sent.map((packet) => packet.sequenceNumber);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBe((sequences[i - 1]! + 1) & 0xffff);
    const steps = sent.slice(1).map((packet, i) => (packet.timestamp - sent[i]!.timestamp) >>> 0);
    expect(steps).toEqual([160, 160, 41 * 160, 160, 160, 160, 160, 160]);
    expect(sent.map((packet) => packet.marker)).toEqual([true, false, false, true, false, false, true, false, false]);
  });

  it('keeps the spacing of the source, and the shared timestamp of DTMF event packets', () => {
    const { out, sent, audio } = stream();
    out.send('a', audio(1000));
    const dtmf = {
      kind: 'dtmf' as const,
      codec: 'pcmu' as const,
      timestamp: 1160,
      marker: true,
      payload: Buffer.alloc(4),
    };
    out.send('a', dtmf);
    out.send('a', { ...dtmf, marker: false });
    out.send('a', audio(1480));
    const base = sent[0]!.timestamp;
    expect(sent.map((packet) => (packet.timestamp - base) >>> 0)).toEqual([0, 160, 160, 480]);
    expect(sent.map((packet) => packet.marker)).toEqual([true, true, false, false]);
  });

  it('treats a jump of the source timestamp (a restarted sender) as a new source', () => {
    const { out, sent, audio, advance } = stream();
    out.send('a', audio(1000));
    advance(160);
    out.send('a', audio(900_000));
    expect((sent[1]!.timestamp - sent[0]!.timestamp) >>> 0).toBe(160);
  });

  it('runs in the Opus clock for an Opus receiver: 960 ticks a frame, also across a source change and a pause', () => {
    const { out, sent, audio, advance } = stream('opus');
    for (let i = 0; i < 3; i++, advance(960)) out.send('browser', audio(7_000 + i * 960));
    advance(10 * 960);
    for (let i = 0; i < 2; i++, advance(960)) out.send('hold', audio(i * 960));
    // Half a second (24,000 ticks) within one source is a pause, not a restart: the limit is a second in any clock.
    out.send('hold', audio(2 * 960 + 24_000));
    const steps = sent.slice(1).map((packet, i) => (packet.timestamp - sent[i]!.timestamp) >>> 0);
    expect(steps).toEqual([960, 960, 11 * 960, 960, 24_000 + 960]);
    expect(sent.map((packet) => packet.marker)).toEqual([true, false, false, true, false, false]);
    expect(sent.every((packet) => packet.codec === 'opus')).toBe(true);
  });
});
