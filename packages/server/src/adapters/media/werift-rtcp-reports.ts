import {
  compactNtp,
  type RTCRtpTransceiver,
  type RtcpPacket,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSenderInfo,
  RtcpSourceDescriptionPacket,
  RtcpSrPacket,
  SourceDescriptionChunk,
  SourceDescriptionItem,
  timestampSeconds,
} from 'werift';
import { sendRtcpPackets } from './werift-direct-rtp.js';

/**
 * RTCP reports for werift transceivers (the engine's lines, the benchmark's peers), sent from one timer for all of
 * them instead of werift's loops.
 *
 * werift runs two report loops per transceiver, the sender's (SR and SDES) and the receiver's (RR), each an async
 * loop awaiting an abortable `timers/promises` timeout of 0.5–1.5 s. Every turn of every loop makes a promise, an
 * abort listener and a timer with a duration of its own, and all of them live through the second: the young
 * generation promotes them, and the old one fills up and is collected with a pause. At 100 calls, with werift's loops
 * switched off in the engine and the load generator, the relay's p99 went from +6.9 / +10.2 / +8.2 ms to +5.1 /
 * +2.8 / +2.0 ms in the same alternation, and with this module instead from +13.8 / +15.1 / +9.3 ms to +2.7 /
 * +4.6 / +7.9 ms (docs/media-benchmark.md).
 *
 * Here, one interval timer looks at every reported transceiver, and each is due after werift's interval
 * (uniformly 0.5–1.5 s, RFC 3550 §6.3.1's randomisation). A report is one compound packet, as RFC 3550 §6.1 asks
 * (werift sends two): an SR when the line sent RTP since its last report, an RR with a reception report block
 * for each stream received, then SDES with the CNAME. The blocks are what werift's receiver would report: the
 * same per-SSRC statistics (which the direct receive path keeps up to date), and LSR/DLSR from the last sender
 * report received, so the other side can compute the round-trip time. They go straight to the socket, encrypted by
 * our AES-CM transform, as the line's RTP does (werift-direct-rtp.ts).
 */

const TICK_MS = 100;
const MIN_INTERVAL_MS = 500;
const INTERVAL_SPREAD_MS = 1000;

/** What the reports are made of: public fields of werift's sender and receiver (not in its type declarations). */
interface SenderInternals {
  readonly ssrc: number;
  readonly cname?: string;
  readonly stopped: boolean;
  readonly ntpTimestamp: bigint;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
  /** Read by werift when a report block comes back, for the round-trip time. */
  lastSRtimestamp: number;
  lastSentSRTimestamp: number;
  rtcpRunning: boolean;
  readonly dtlsTransport?: { readonly state: string };
}

interface StreamStatistics {
  /** The fraction lost since the previous call (the getter moves its reference point, as a report should). */
  readonly fraction_lost: number;
  readonly packets_lost: number;
  readonly max_seq: number;
  readonly jitter: number;
}

interface ReceiverInternals {
  readonly remoteStreams: Record<number, StreamStatistics | undefined>;
  /** Per SSRC: the middle 32 bits of the last SR's NTP time, and when it arrived (seconds). */
  readonly lastSRtimestamp: Record<number, number | undefined>;
  readonly receiveLastSRTimestamp: Record<number, number | undefined>;
  rtcpRunning: boolean;
}

interface Reported {
  readonly transceiver: RTCRtpTransceiver;
  /** performance.now() at which the next report is due. */
  due: number;
  /** The sender's packet count at the last report: more since, and the report is an SR. */
  packetsAtLastReport: number;
}

const reported = new Set<Reported>();
let timer: NodeJS.Timeout | undefined;

/** Transceivers reported from here now, for the tests (a closed line's must be gone). */
export const reportedTransceivers = (): number => reported.size;

const nextInterval = () => MIN_INTERVAL_MS + Math.random() * INTERVAL_SPREAD_MS;

/**
 * From now on, this transceiver's RTCP reports are sent from here, and werift's own report loops never start (it
 * starts them only while `rtcpRunning` is false). Returns what stops the reports; they stop by themselves when
 * werift stops the sender (the peer connection closed).
 */
export function reportRtcp(transceiver: RTCRtpTransceiver): () => void {
  (transceiver.sender as unknown as SenderInternals).rtcpRunning = true;
  (transceiver.receiver as unknown as ReceiverInternals).rtcpRunning = true;
  const entry: Reported = { transceiver, due: performance.now() + nextInterval(), packetsAtLastReport: 0 };
  reported.add(entry);
  // Unreferenced: reports alone never keep a process alive.
  timer ??= setInterval(tick, TICK_MS).unref();
  return () => {
    reported.delete(entry);
    stopWhenIdle();
  };
}

function stopWhenIdle(): void {
  if (reported.size > 0 || !timer) return;
  clearInterval(timer);
  timer = undefined;
}

function tick(): void {
  const now = performance.now();
  for (const entry of reported) {
    const sender = entry.transceiver.sender as unknown as SenderInternals;
    if (sender.stopped || sender.dtlsTransport?.state === 'closed') {
      reported.delete(entry);
      continue;
    }
    if (now < entry.due) continue;
    entry.due = now + nextInterval();
    if (sender.dtlsTransport?.state === 'connected') sendReport(entry, sender);
  }
  stopWhenIdle();
}

function sendReport(entry: Reported, sender: SenderInternals): void {
  const receiver = entry.transceiver.receiver as unknown as ReceiverInternals;
  const nowSeconds = timestampSeconds();
  const blocks: RtcpReceiverInfo[] = [];
  for (const key in receiver.remoteStreams) {
    const ssrc = Number(key);
    const stream = receiver.remoteStreams[ssrc];
    if (!stream) continue;
    const lsr = receiver.lastSRtimestamp[ssrc] ?? 0;
    const receivedAt = receiver.receiveLastSRTimestamp[ssrc];
    const delay = lsr && receivedAt !== undefined ? nowSeconds - receivedAt : 0;
    blocks.push(
      new RtcpReceiverInfo({
        ssrc,
        fractionLost: stream.fraction_lost,
        packetsLost: stream.packets_lost,
        highestSequence: stream.max_seq,
        jitter: stream.jitter,
        lsr,
        // In 1/65536 s (RFC 3550 §6.4.1); 0 when no SR came yet, or when the delay makes no sense.
        dlsr: delay > 0 && delay < 65_536 ? Math.trunc(delay * 65_536) : 0,
      }),
    );
  }
  const packets: RtcpPacket[] = [];
  if (sender.packetCount !== entry.packetsAtLastReport && sender.ntpTimestamp !== 0n) {
    packets.push(
      new RtcpSrPacket({
        ssrc: sender.ssrc,
        senderInfo: new RtcpSenderInfo({
          ntpTimestamp: sender.ntpTimestamp,
          rtpTimestamp: sender.rtpTimestamp,
          packetCount: sender.packetCount,
          octetCount: sender.octetCount,
        }),
      }),
    );
    sender.lastSRtimestamp = compactNtp(sender.ntpTimestamp);
    sender.lastSentSRTimestamp = nowSeconds;
  }
  entry.packetsAtLastReport = sender.packetCount;
  // The blocks go in an RR even after an SR (RFC 3550 §6.1 allows report packets to follow): werift routes an SR
  // to its receiver only, so a werift peer's sender would never see blocks carried in the SR itself.
  packets.push(new RtcpRrPacket({ ssrc: sender.ssrc, reports: blocks }));
  if (sender.cname) {
    packets.push(
      new RtcpSourceDescriptionPacket({
        chunks: [
          new SourceDescriptionChunk({
            source: sender.ssrc,
            items: [new SourceDescriptionItem({ type: 1, text: sender.cname })],
          }),
        ],
      }),
    );
  }
  const transport = entry.transceiver.sender.dtlsTransport;
  if (transport) sendRtcpPackets(transport, packets);
}
