import type { Socket } from 'node:dgram';
import { isIP } from 'node:net';
import {
  ntpTime,
  type RTCDtlsTransport,
  type RTCPeerConnection,
  type RTCRtpTransceiver,
  type RtcpPacket,
  RtcpPacketConverter,
  RtpHeader,
  RtpPacket,
  StunProtocol,
} from 'werift';
import type { RtpHeaderFields } from './srtp-aes-cm.js';
import {
  aesCmRtcpTransformOf,
  decryptRtcp,
  decryptRtp,
  encryptRtcp,
  encryptRtp,
  type WeriftSrtcpSession,
  type WeriftSrtpSession,
} from './werift-srtp.js';

/**
 * RTP in and out of a werift transceiver without werift's per-packet plumbing, for an audio line that negotiated
 * nothing but a codec and telephone-event (no header extensions, no RTX, RED, NACK or transport-wide congestion
 * control): the engine's lines, and the benchmark's load generator (the tests' browser-like client sends this way but
 * receives through werift, so the engine's tests talk to an unmodified werift receiver).
 *
 * werift hands a received packet through seven layers (UDP transport, STUN protocol, ICE connection, DTLS transport, RTP
 * router, receiver, track), each an event whose dispatch also starts an async function, and the receiver copies
 * the packet and calls an async function per packet to keep its RTCP loop alive. At a hundred calls that plumbing
 * cost more of the engine's CPU than the decryption, and its promises ran as microtasks behind every packet. Both
 * directions here keep werift's state as werift would: the same SRTP sessions, the byte and packet counters of the
 * DTLS transport and of the nominated candidate pair, the receiver's per-SSRC statistics its receiver reports are
 * made of, the sender report's counters. Anything not as expected falls back to werift's own path. SRTCP takes the
 * same ways: received reports are decrypted here and handed to werift's RTP router, and the reports of
 * werift-rtcp-reports.ts go straight to the socket. The cryptography is werift-srtp.ts's.
 *
 * The werift version is pinned exactly. werift-direct-rtp.test.ts checks the receive path against a real werift
 * peer (forged packets, receiver reports, ICE restart, reload); every engine test with a line uses both paths.
 */

// ---- sending ------------------------------------------------------------------------------------------------

/** What an RTCP sender report of werift's RTCRtpSender is made from (private in its types, plain fields in fact). */
interface SenderReportState {
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  octetCount: number;
  packetCount: number;
}

/** The sender report's NTP/RTP timestamp pair is taken from one packet in this many (see sendRtpPacket). */
const SR_CLOCK_EVERY = 16;

/**
 * Sends one RTP packet (audio, or a telephone-event with its own payload type) on the transceiver's sender the
 * lean way: straight to its DTLS transport (SRTP, then ICE), with the sender's SSRC, keeping what the sender's RTCP
 * reports are made of. werift's own `RTCRtpSender.sendRtp` forces the first codec's payload type and, per packet,
 * builds and sorts header extensions (none are negotiated here), keeps the packet for NACK retransmission (not
 * negotiated for audio; keeping every packet pushed it into the old generation of the heap), feeds video bandwidth
 * estimation, and reads the NTP clock by formatting a number as a string: at a hundred calls most of the engine's
 * garbage. The sender report's timestamp pair (one instant in NTP and RTP time) is refreshed every SR_CLOCK_EVERY
 * packets, so it is at most a third of a second old when a report goes out; werift's is up to one packet old.
 *
 * Returns werift's promise when the packet went werift's way, and nothing when it was sent (or dropped, before the
 * line is connected) here: no promise per packet to settle.
 */
export function sendRtpPacket(
  transceiver: RTCRtpTransceiver,
  payloadType: number,
  packet: { sequenceNumber: number; timestamp: number; marker: boolean; payload: Buffer },
): Promise<unknown> | undefined {
  const { sender } = transceiver;
  const dtls = sender.dtlsTransport;
  if (dtls?.state !== 'connected') return undefined;
  const header: RtpHeaderFields = {
    payloadType,
    sequenceNumber: packet.sequenceNumber,
    timestamp: packet.timestamp,
    marker: packet.marker,
    ssrc: sender.ssrc,
  };
  const report = sender as unknown as SenderReportState;
  report.packetCount = (report.packetCount + 1) >>> 0;
  report.octetCount += packet.payload.length;
  if (report.packetCount % SR_CLOCK_EVERY === 1 || report.ntpTimestamp === 0n) {
    report.ntpTimestamp = ntpTime();
    report.rtpTimestamp = packet.timestamp;
  }
  // werift starts a sender's report loop from its sendRtp; the loop runs once, until the sender stops.
  if (!sender.rtcpRunning) void sender.runRtcp();
  if (sendSrtp(dtls as unknown as DtlsInternals, packet.payload, header)) return undefined;
  return dtls.sendRtp(packet.payload, new RtpHeader(header));
}

/** The parts of werift's DTLS transport, ICE connection and candidate pair the direct send path touches. */
interface DtlsInternals {
  srtp?: WeriftSrtpSession;
  srtcp?: WeriftSrtcpSession;
  bytesSent: number;
  packetsSent: number;
  iceTransport?: {
    connection?: {
      nominated?: {
        remoteAddr: readonly [string, number];
        packetsSent: number;
        bytesSent: number;
        protocol?: { transport?: { type?: string; closed?: boolean; socket?: Socket } };
      };
      canSendApplicationData?: () => boolean;
    };
  };
}

/**
 * Encrypts and sends one RTP packet on the line's nominated UDP pair, as werift's `RTCDtlsTransport.sendRtp` does
 * (same SRTP session, same counters on the transport and the pair) but without the four nested async functions
 * between it and the socket (transport, ICE connection, STUN protocol, UDP transport): a promise chain per packet
 * that cost more than the encryption. Returns false, for werift's own path, whenever anything is not as expected
 * (see `canSendDirectly`).
 */
function sendSrtp(dtls: DtlsInternals, payload: Buffer, header: RtpHeaderFields): boolean {
  if (!dtls.srtp || !canSendDirectly(dtls)) return false;
  sendOnNominatedPair(dtls, encryptRtp(dtls.srtp, payload, header));
  return true;
}

/**
 * Sends a compound RTCP packet on a DTLS transport's nominated UDP pair, encrypted as werift's `sendRtcp` would (same
 * SRTCP session and index), through our AES-CM transform when that is the profile; through werift otherwise.
 */
export function sendRtcpPackets(transport: RTCDtlsTransport, packets: RtcpPacket[]): void {
  const dtls = transport as unknown as DtlsInternals;
  if (dtls.srtcp && canSendDirectly(dtls)) {
    sendOnNominatedPair(dtls, encryptRtcp(dtls.srtcp, Buffer.concat(packets.map((packet) => packet.serialize()))));
    return;
  }
  // A report that cannot go out (the transport closing) is simply not sent: the next one is a second away.
  transport.sendRtcp(packets).catch(() => undefined);
}

/**
 * Whether a datagram can go straight to the socket of the DTLS transport's nominated pair: not when anything is not
 * as expected (no nominated pair yet, consent not fresh, a TCP or TURN pair, a host name instead of an address).
 */
function canSendDirectly(dtls: DtlsInternals): boolean {
  const connection = dtls.iceTransport?.connection;
  const pair = connection?.nominated;
  const transport = pair?.protocol?.transport;
  if (!pair || !transport?.socket || transport.type !== 'udp' || transport.closed) return false;
  if (connection.canSendApplicationData?.() !== true) return false;
  return isIP(pair.remoteAddr[0]) !== 0;
}

/** Sends on the nominated pair (after `canSendDirectly`), counting as werift counts on the transport and the pair. */
function sendOnNominatedPair(dtls: DtlsInternals, datagram: Buffer): void {
  const pair = dtls.iceTransport!.connection!.nominated!;
  const [address, port] = pair.remoteAddr;
  dtls.bytesSent += datagram.length;
  dtls.packetsSent++;
  pair.packetsSent++;
  pair.bytesSent += datagram.length;
  // No callback, as werift sends to an address: Node then drops a failed send silently, like a lost packet.
  pair.protocol!.transport!.socket!.send(datagram, port, address);
}

// ---- receiving ----------------------------------------------------------------------------------------------

/** The parts of werift's receiver, router and DTLS transport the direct receive path reads and keeps up to date. */
interface ReceiveInternals {
  readonly router: { readonly ssrcTable: Record<number, unknown> };
  readonly receiver: {
    readonly stopped: boolean;
    readonly codecs: Record<number, { readonly name: string } | undefined>;
    readonly trackBySSRC: Record<number, unknown>;
    readonly remoteStreams: Record<number, { add(packet: RtpPacket): void } | undefined>;
    readonly receiverTWCC?: unknown;
    /** What werift's `twccEnabled` getter reads (through a lookup that allocates on every call). */
    readonly codecArray: readonly { readonly rtcpFeedback: readonly { readonly type: string }[] }[];
    rtcpRunning: boolean;
    runRtcp(): Promise<void>;
  };
  readonly dtls: {
    readonly state: string;
    readonly srtp?: WeriftSrtpSession;
    readonly srtcp?: WeriftSrtcpSession;
    bytesReceived: number;
    packetsReceived: number;
    readonly iceTransport?: { readonly connection?: IceConnectionInternals };
    /** Where werift's DTLS transport hands each RTCP packet it received (to its RTP router). */
    readonly onRtcp: { execute(packet: RtcpPacket): void };
  };
  /** The DTLS transport's ICE connection, whose nominated pair counts what arrives on its socket. */
  readonly connection: IceConnectionInternals;
}

interface IceConnectionInternals {
  readonly protocols?: readonly object[];
  readonly nominated?: { readonly protocol?: object; packetsReceived: number; bytesReceived: number };
}

/** A direct receiver per werift STUN protocol (one per local socket): true when it took the datagram. */
const directReceivers = new WeakMap<object, (data: Buffer) => boolean>();
let receiveHookApplied = false;

/** Counts packets taken by the direct path, for the tests (a path never taken would still deliver through werift). */
let directlyReceived = 0;
export const directlyReceivedPackets = (): number => directlyReceived;

/**
 * werift's STUN protocol gets every datagram of its socket first (`datagramReceived`): RTP and SRTCP with a direct
 * receiver for the socket go there, everything else (STUN, DTLS, what the receiver refuses) on to werift as before.
 */
function applyReceiveHook(): void {
  if (receiveHookApplied) return;
  receiveHookApplied = true;
  const proto = StunProtocol.prototype as unknown as { datagramReceived(data: Buffer, addr: unknown): void };
  const weriftDatagramReceived = proto.datagramReceived;
  proto.datagramReceived = function (this: object, data: Buffer, addr: unknown) {
    const direct = directReceivers.get(this);
    if (direct?.(data) === true) return;
    weriftDatagramReceived.call(this, data, addr);
  };
}

/**
 * From now on, RTP that `pc` receives for `transceiver` goes from the socket to `onRtp` directly (decrypted and
 * parsed, as werift's track would deliver it), except the first packet of each SSRC (werift's receiver sets up the
 * stream's statistics), packets with header extensions, and anything werift would route elsewhere: those still
 * come through werift to the track's `onReceiveRtp`, so its subscriber must stay. Covers the sockets the peer has
 * now; call again when ICE connects after a restart gathered new ones (sockets already covered are not doubled).
 */
export function receiveRtpDirectly(
  pc: RTCPeerConnection,
  transceiver: RTCRtpTransceiver,
  onRtp: (rtp: RtpPacket) => void,
): void {
  applyReceiveHook();
  const dtls = transceiver.dtlsTransport as unknown as ReceiveInternals['dtls'];
  const connection = dtls.iceTransport?.connection;
  if (!connection) return;
  const internals: ReceiveInternals = {
    router: (pc as unknown as { router: ReceiveInternals['router'] }).router,
    receiver: transceiver.receiver as unknown as ReceiveInternals['receiver'],
    dtls,
    connection,
  };
  for (const protocol of connection.protocols ?? []) {
    if (!(protocol instanceof StunProtocol) || directReceivers.has(protocol)) continue;
    directReceivers.set(protocol, (data) => receiveDirect(internals, protocol, data, onRtp));
  }
}

/** Codecs werift unwraps before the track (retransmissions, redundant audio): left to werift. */
const RTX_OR_RED = /^(rtx|red)$/i;
const isTransportCc = (feedback: { readonly type: string }) => feedback.type === 'transport-cc';

function receiveDirect(
  { router, receiver, dtls, connection }: ReceiveInternals,
  protocol: object,
  data: Buffer,
  onRtp: (rtp: RtpPacket) => void,
): boolean {
  if (data.length < 12) return false;
  const first = data[0] as number;
  const second = data[1] as number;
  // RTP and RTCP as werift tells them apart (RFC 5764 §5.1.2: first byte 128–191; RTCP: second byte 192–208).
  if (first < 128 || first > 191) return false;
  if (second >= 192 && second <= 208) return receiveRtcpDirect(dtls, connection, protocol, data);
  // RTP with no header extension (none is negotiated; one would need werift's extension parser).
  if ((first & 0x10) !== 0) return false;
  if (dtls.state !== 'connected' || !dtls.srtp || receiver.stopped) return false;
  // The SSRC and payload type are in the clear in SRTP: checked before decrypting, because a packet handed back
  // to werift after its SRTP index moved on would be refused as a replay.
  const ssrc = data.readUInt32BE(8);
  const stream = receiver.remoteStreams[ssrc];
  const codec = receiver.codecs[second & 0x7f];
  if (router.ssrcTable[ssrc] !== receiver || !receiver.trackBySSRC[ssrc] || !stream || !codec) return false;
  if (receiver.receiverTWCC || receiver.codecArray[0]?.rtcpFeedback.some(isTransportCc)) return false;
  if (RTX_OR_RED.test(codec.name)) return false;

  countReceived(dtls, connection, protocol, data);
  // Failed authentication or a malformed packet: dropped, as werift drops it.
  const plain = decryptRtp(dtls.srtp, data);
  if (!plain) return true;
  let rtp: RtpPacket;
  try {
    rtp = RtpPacket.deSerialize(plain);
  } catch {
    return true;
  }
  stream.add(rtp);
  // werift calls this for every packet to start the receiver's RTCP report loop; it runs once, until stopped.
  if (!receiver.rtcpRunning) void receiver.runRtcp();
  directlyReceived++;
  onRtp(rtp);
  return true;
}

/** What werift counts on the way in: the nominated pair (when the packet came on its socket) and the transport. */
function countReceived(
  dtls: ReceiveInternals['dtls'],
  connection: IceConnectionInternals,
  protocol: object,
  data: Buffer,
): void {
  const pair = connection.nominated;
  if (pair && pair.protocol === protocol) {
    pair.packetsReceived++;
    pair.bytesReceived += data.length;
  }
  dtls.bytesReceived += data.length;
  dtls.packetsReceived++;
}

/** Counts RTCP packets taken by the direct path, for the tests. */
let directlyReceivedRtcp = 0;
export const directlyReceivedRtcpPackets = (): number => directlyReceivedRtcp;

/**
 * An SRTCP packet of a line whose session is AES-CM: decrypted by our transform and handed, packet by packet, to
 * where werift's DTLS transport hands what it decrypts (its RTP router: sender and receiver reports, feedback). With
 * another profile it goes to werift untouched.
 */
function receiveRtcpDirect(
  dtls: ReceiveInternals['dtls'],
  connection: IceConnectionInternals,
  protocol: object,
  data: Buffer,
): boolean {
  if (dtls.state !== 'connected' || !dtls.srtcp || !aesCmRtcpTransformOf(dtls.srtcp.remoteContext)) return false;
  countReceived(dtls, connection, protocol, data);
  // Failed authentication, a replay or a malformed packet: dropped, as werift drops it.
  const plain = decryptRtcp(dtls.srtcp, data);
  if (!plain) return true;
  let packets: RtcpPacket[];
  try {
    packets = RtcpPacketConverter.deSerialize(plain);
  } catch {
    return true;
  }
  directlyReceivedRtcp++;
  for (const packet of packets) {
    try {
      dtls.onRtcp.execute(packet);
    } catch {
      // As werift: one packet a handler could not take does not stop the others.
    }
  }
  return true;
}
