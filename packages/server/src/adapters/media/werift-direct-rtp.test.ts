import { createSocket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RtcpPacket, RtcpRrPacket } from 'werift';
import type { MediaEngine } from './media-engine.js';
import { SRTP_AES128_CM_HMAC_SHA1_80 } from './srtp-aes-cm.js';
import { BrowserLikeClient, connectClient, sleep, waitFor } from './test-support/browser-like-client.js';
import { toneEnergy } from './tone.js';
import { directlyReceivedPackets } from './werift-direct-rtp.js';
import { createWeriftMediaEngine } from './werift-engine.js';
import { aesCmSrtpPackets } from './werift-srtp.js';

/**
 * The direct receive path of an agent line, against a real werift peer over loopback: packets take it once the line
 * is connected (and again after an ICE restart or a reload), the engine hears all of them, forged ones are dropped,
 * and the receiver reports the browser gets still count what arrived, as werift's own path would.
 */

const AGENT_HZ = 440;
const CUSTOMER_HZ = 1000;

let engine: MediaEngine;
let client: BrowserLikeClient;

beforeEach(async () => {
  engine = createWeriftMediaEngine({ announcedAddress: '127.0.0.1' });
  client = new BrowserLikeClient(AGENT_HZ);
  await connectClient(engine, 'agent-1', client);
  client.startSending();
});

afterEach(async () => {
  await client.close();
  await engine.close();
});

/**
 * Over `ms`, with the line as the engine's only speaking endpoint: every packet the engine received came the direct
 * way, about as many as the client sent (50 a second; a busy machine may delay a few past the window), and each was
 * decrypted by the engine's AES-CM transform (srtp-aes-cm.ts).
 */
async function expectAllDirect(ms: number): Promise<void> {
  const packetsIn = engine.stats().packetsIn;
  const direct = directlyReceivedPackets();
  const aesCm = aesCmSrtpPackets();
  await sleep(ms);
  const got = engine.stats().packetsIn - packetsIn;
  expect(got).toBeGreaterThan((ms / 20) * 0.6);
  expect(directlyReceivedPackets() - direct).toBe(got);
  expect(aesCmSrtpPackets() - aesCm).toBeGreaterThanOrEqual(got);
}

/**
 * Until the line's stream takes the direct path: its first packets go through werift (its receiver sets up the
 * stream's statistics), and how soon that is done depends on the machine, so no fixed wait is enough.
 */
async function untilDirect(): Promise<void> {
  const before = directlyReceivedPackets();
  await waitFor(() => directlyReceivedPackets() > before, 'a packet received the direct way');
}

/** The SRTP protection profile the client's DTLS handshake settled on (werift's, as the DTLS server here). */
function clientSrtpProfile(): number | undefined {
  const dtls = client.pc.getTransceivers()[0]?.dtlsTransport as unknown as {
    dtls?: { srtp: { srtpProfile?: number } };
  };
  return dtls.dtls?.srtp.srtpProfile;
}

describe('an agent line’s RTP, received directly', () => {
  it('arrives the direct way once the line is connected, and reaches whoever the line is bridged to', async () => {
    // werift offers AES-GCM first; the line's handshake settles on AES-CM all the same.
    expect(clientSrtpProfile()).toBe(SRTP_AES128_CM_HMAC_SHA1_80);
    await untilDirect();
    await expectAllDirect(1000);
    const customer = engine.createVirtualParty('customer', { prompt: { toneHz: CUSTOMER_HZ } });
    engine.bridge('agent-1', 'customer');
    await sleep(1000);
    const heard = customer.heard();
    expect(toneEnergy(heard.subarray(heard.length - 4000), 8000, AGENT_HZ)).toBeGreaterThan(0.6);
  });

  it('keeps arriving the direct way through an ICE restart and a new peer connection (a reload)', async () => {
    await connectClient(engine, 'agent-1', client, { iceRestart: true });
    await untilDirect();
    await expectAllDirect(800);

    await client.close();
    client = new BrowserLikeClient(AGENT_HZ);
    await connectClient(engine, 'agent-1', client);
    client.startSending();
    await untilDirect();
    await expectAllDirect(800);
  });

  it('drops a forged packet with the browser’s SSRC that fails SRTP authentication', async () => {
    const remote = client.pc.remoteDescription?.sdp ?? '';
    const candidate = /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(remote);
    expect(candidate).not.toBeNull();
    const port = Number(candidate?.[1]);
    const ssrc = client.pc.getTransceivers()[0]?.sender.ssrc ?? 0;
    client.stopSending();
    await sleep(200);
    const before = engine.stats().packetsIn;
    const socket = createSocket('udp4');
    try {
      for (let i = 0; i < 5; i++) {
        const forged = Buffer.alloc(12 + 40, 0x55);
        forged.writeUInt8(0x80, 0);
        forged.writeUInt8(111, 1);
        forged.writeUInt16BE(1000 + i, 2);
        forged.writeUInt32BE(960 * i, 4);
        forged.writeUInt32BE(ssrc, 8);
        await new Promise<void>((resolve, reject) =>
          socket.send(forged, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
        );
      }
      await sleep(200);
    } finally {
      socket.close();
    }
    expect(engine.stats().packetsIn).toBe(before);
    // The line is unharmed: the browser's next packets arrive, the direct way.
    client.startSending();
    await untilDirect();
    await expectAllDirect(600);
  });

  it('still counts what arrived in the receiver reports the browser gets (sequence moving on, nothing lost)', async () => {
    const sender = client.pc.getTransceivers()[0]?.sender;
    expect(sender).toBeDefined();
    const reports: { at: number; highestSequence: number; packetsLost: number }[] = [];
    sender?.onRtcp.subscribe((packet: RtcpPacket) => {
      if (!(packet instanceof RtcpRrPacket)) return;
      for (const report of packet.reports) {
        if (report.ssrc === sender.ssrc) {
          reports.push({
            at: performance.now(),
            highestSequence: report.highestSequence,
            packetsLost: report.packetsLost,
          });
        }
      }
    });
    // werift sends a receiver report every 0.5–1.5 s.
    await waitFor(() => reports.length >= 3, 'three receiver reports', 8000);
    const first = reports[1]!;
    const last = reports[reports.length - 1]!;
    const packets = (last.highestSequence - first.highestSequence + 0x1_0000) % 0x1_0000;
    // 50 packets a second went out between the two reports (each report counts up to the moment it was made).
    const expected = ((last.at - first.at) / 1000) * 50;
    expect(packets).toBeGreaterThan(expected * 0.7);
    expect(packets).toBeLessThan(expected * 1.3 + 10);
    expect(last.packetsLost).toBe(0);
  });
});
