import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RtcpPacket, RtcpRrPacket, RtcpSourceDescriptionPacket, RtcpSrPacket } from 'werift';
import type { MediaEngine } from './media-engine.js';
import { BrowserLikeClient, connectClient, sleep, waitFor } from './test-support/browser-like-client.js';
import { directlyReceivedRtcpPackets } from './werift-direct-rtp.js';
import { createWeriftMediaEngine } from './werift-engine.js';
import { reportedTransceivers } from './werift-rtcp-reports.js';

/**
 * The RTCP reports of an agent line, as a real werift peer receives them: one compound packet every 0.5–1.5 s
 * (an SR while the line sends, an RR with the reception report, SDES), statistics that match what went each way,
 * a round-trip time the peer can compute, werift's own report loops silent, and nothing left after the line closes.
 */

let engine: MediaEngine;
let client: BrowserLikeClient;

interface Seen {
  at: number;
  packet: RtcpPacket;
}

beforeEach(async () => {
  engine = createWeriftMediaEngine({ announcedAddress: '127.0.0.1' });
  client = new BrowserLikeClient(440);
  await connectClient(engine, 'agent-1', client);
  client.startSending();
});

afterEach(async () => {
  await client.close();
  await engine.close();
});

/** Every RTCP packet the client's DTLS transport receives, decrypted, in order. */
function recordRtcp(): Seen[] {
  const seen: Seen[] = [];
  const dtls = client.pc.getTransceivers()[0]!.dtlsTransport;
  dtls.onRtcp.subscribe((packet: RtcpPacket) => seen.push({ at: performance.now(), packet }));
  return seen;
}

describe('an agent line’s RTCP reports', () => {
  it('come as one compound packet every 0.5–1.5 s, with sender and receiver statistics that match the media', async () => {
    // Bridged to a speaking party, the line sends RTP too.
    engine.createVirtualParty('customer', { prompt: { toneHz: 1000 } });
    engine.bridge('agent-1', 'customer');
    await sleep(1500);
    const seen = recordRtcp();
    await waitFor(
      () => seen.filter((s) => s.packet instanceof RtcpSrPacket).length >= 5,
      'five sender reports',
      10_000,
    );
    const lineSsrc = seen.find((s) => s.packet instanceof RtcpSrPacket)!.packet as RtcpSrPacket;
    const clientSsrc = client.pc.getTransceivers()[0]!.sender.ssrc;

    // Each SR arrives together with an RR and an SDES from the same source (one compound), never alone.
    const srs = seen.filter((s) => s.packet instanceof RtcpSrPacket);
    const rrs = seen.filter((s) => s.packet instanceof RtcpRrPacket);
    const sdes = seen.filter((s) => s.packet instanceof RtcpSourceDescriptionPacket);
    for (const sr of srs) {
      expect(rrs.some((rr) => Math.abs(rr.at - sr.at) < 1)).toBe(true);
      expect(sdes.some((d) => Math.abs(d.at - sr.at) < 1)).toBe(true);
    }
    // werift's own receiver loop would add RRs of its own between the compounds.
    expect(rrs.length).toBeLessThanOrEqual(srs.length + 1);
    const gaps = srs.slice(1).map((sr, i) => sr.at - srs[i]!.at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(350);
      expect(gap).toBeLessThan(1800);
    }

    // The SR counts what the line sent: 50 packets a second, so packet counts move with the time between reports.
    const first = srs[0]!.packet as RtcpSrPacket;
    const last = srs[srs.length - 1]!.packet as RtcpSrPacket;
    expect(first.ssrc).toBe(lineSsrc.ssrc);
    const sent = last.senderInfo.packetCount - first.senderInfo.packetCount;
    const expected = ((srs[srs.length - 1]!.at - srs[0]!.at) / 1000) * 50;
    expect(sent).toBeGreaterThan(expected * 0.6);
    expect(sent).toBeLessThan(expected * 1.4 + 20);
    expect(last.senderInfo.octetCount).toBeGreaterThan(first.senderInfo.octetCount);

    // The RR's block is about the client's stream: sequence moving on, nothing lost.
    const blocks = rrs.flatMap((rr) => (rr.packet as RtcpRrPacket).reports).filter((b) => b.ssrc === clientSsrc);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(blocks.at(-1)!.highestSequence).not.toBe(blocks[0]!.highestSequence);
    expect(blocks.at(-1)!.packetsLost).toBe(0);
  });

  it('answer the peer’s sender reports, so that the peer measures a round-trip time', async () => {
    const sender = client.pc.getTransceivers()[0]!.sender as unknown as { rtt?: number };
    // The peer's reports reach the line the direct way (decrypted by the line's AES-CM transform).
    const rtcpBefore = directlyReceivedRtcpPackets();
    // werift's sender computes the RTT from a block whose LSR names its last SR, with the DLSR taken off.
    await waitFor(() => sender.rtt !== undefined, 'a round-trip time from the line’s reports', 10_000);
    expect(sender.rtt).toBeGreaterThanOrEqual(0);
    expect(sender.rtt).toBeLessThan(0.2);
    expect(directlyReceivedRtcpPackets() - rtcpBefore).toBeGreaterThanOrEqual(1);
  });

  it('send an RR alone while the line is silent, and stop when the line closes', async () => {
    const before = reportedTransceivers();
    expect(before).toBeGreaterThanOrEqual(1);
    const seen = recordRtcp();
    await waitFor(() => seen.filter((s) => s.packet instanceof RtcpRrPacket).length >= 2, 'two receiver reports', 8000);
    expect(seen.some((s) => s.packet instanceof RtcpSrPacket)).toBe(false);

    await engine.closeEndpoint('agent-1');
    expect(reportedTransceivers()).toBe(before - 1);
    const count = seen.length;
    await sleep(1700);
    expect(seen.length).toBe(count);
  });
});
