/**
 * The media benchmark's load generator, a child process of the benchmark (so the server's CPU figure, read with
 * `process.cpuUsage()` in the parent, never includes it). Its endpoints play the parties of calls: WebRTC peers
 * (werift, as the agents' browsers) and plain RTP sockets (for the rtpengine comparison). Each speaking endpoint
 * sends one 20 ms frame every 20 ms, in the negotiated codec's RTP clock (Opus between WebRTC peers, as browsers
 * negotiate it; PCMU on plain RTP), whose payload carries its number, a counter and the send time, and each
 * receiving endpoint checks what arrives: loss from the counters, latency from the send time (both ends are in
 * this process, so one clock). The protocol is in media-messages.ts.
 */
import { createSocket, type Socket } from 'node:dgram';
import { type MediaStreamTrack, RTCPeerConnection, type RTCRtpTransceiver, type RtpPacket } from 'werift';
import type { IceCandidateInit } from '../packages/server/src/adapters/media/index.js';
import { receiveRtpDirectly, sendRtpPacket } from '../packages/server/src/adapters/media/werift-direct-rtp.js';
import { weriftPeerConfig, withoutDefaultStun } from '../packages/server/src/adapters/media/werift-line.js';
import { reportRtcp } from '../packages/server/src/adapters/media/werift-rtcp-reports.js';
import { type FromLoad, type MediaPath, PAYLOAD, type PathReport, type ToLoad } from './media-messages.js';
import { threadTimes } from './thread-times.js';

const FRAME_MS = 20;
/**
 * Speakers are spread over the 20 ms frame in this many slots, as independent browsers would be: sending every
 * frame of every call at the same instant would measure a burst, not a steady load.
 */
const SLOTS = 10;
const DRAIN_MS = 400;
/** A send timer later than this (a stall) restarts the schedule from now. */
const MAX_LATE_MS = 100;

const send = (message: FromLoad) => process.send?.(message);
const fatal = (message: string) => send({ type: 'fatal', message });

/** Something that sends frames and hands what it receives to `heard`. */
interface LoadEndpoint {
  readonly index: number;
  send(payload: Buffer): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- receiving -----------------------------------

/** What one receiving endpoint has heard from its partner since the repetition started. */
class Reception {
  first = -1;
  last = -1;
  unique = 0;
  firstAt = 0;
  private seen = new Uint8Array(4096);

  note(counter: number): boolean {
    if (this.first < 0) {
      this.first = counter;
      this.firstAt = performance.timeOrigin + performance.now();
    }
    const offset = counter - this.first;
    if (offset < 0) return false;
    if (offset >= this.seen.length) {
      const grown = new Uint8Array(Math.max(this.seen.length * 2, offset + 1));
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.seen[offset]) return false;
    this.seen[offset] = 1;
    this.unique++;
    if (counter > this.last) this.last = counter;
    return true;
  }
}

/** Latency samples, ms, growing without reallocating on every push. */
class Samples {
  private values = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);

// ---------------------------------------------------------------- the load ------------------------------------

interface Speaker {
  readonly endpoint: LoadEndpoint;
  readonly partner: number;
  readonly path: MediaPath;
  /** The counter of the last frame sent before this repetition, and of the last frame sent. */
  readonly startCounter: number;
  lastSent: number;
}

const endpoints = new Map<number, LoadEndpoint>();
const peers = new Map<number, WebRtcPeer>();
const sockets = new Map<number, UdpEndpoint>();
let speakers: Speaker[] = [];
/** Who hears whom: receiver → the speaker it hears, for the speakers of the current repetition. */
const heardFrom = new Map<number, Speaker>();
const receptions = new Map<number, Reception>();
const latency = new Map<MediaPath, Samples>();
let measuring = false;
let markCpu = process.cpuUsage();
let markWaitNs = 0;
let markAt = 0;
let sendLag = new Samples();
let stopClock: (() => void) | undefined;
/**
 * Each endpoint's frame counter. It keeps rising across repetitions, so a late packet of the last one is never
 * taken for a new one.
 */
const counters = new Map<number, number>();

function heard(receiver: number, payload: Uint8Array): void {
  if (payload.length < PAYLOAD.sentAt + 8) return;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const speakerIndex = view.getUint32(PAYLOAD.speaker);
  const speaker = heardFrom.get(receiver);
  // Someone else's audio (or a late packet of a previous pairing) would be a switching bug, not loss: ignored.
  if (!speaker || speaker.endpoint.index !== speakerIndex) return;
  const counter = view.getUint32(PAYLOAD.counter);
  // A late frame of an earlier repetition is neither this one's first audio nor its loss.
  if (counter <= speaker.startCounter) return;
  let reception = receptions.get(receiver);
  if (!reception) {
    reception = new Reception();
    receptions.set(receiver, reception);
  }
  const fresh = reception.note(counter);
  if (fresh && measuring) {
    let samples = latency.get(speaker.path);
    if (!samples) {
      samples = new Samples();
      latency.set(speaker.path, samples);
    }
    samples.push(performance.now() - view.getFloat64(PAYLOAD.sentAt));
  }
}

function frameFor(speaker: Speaker): Buffer {
  const payload = Buffer.alloc(PAYLOAD.bytes, 0xff);
  const counter = (counters.get(speaker.endpoint.index) ?? 0) + 1;
  counters.set(speaker.endpoint.index, counter);
  speaker.lastSent = counter;
  payload.writeUInt32BE(speaker.endpoint.index, PAYLOAD.speaker);
  payload.writeUInt32BE(counter, PAYLOAD.counter);
  payload.writeDoubleBE(performance.now(), PAYLOAD.sentAt);
  return payload;
}

/** Every speaker sends a frame every 20 ms, in its slot; scheduled against the ideal timeline, never drifting. */
function startClock(): () => void {
  const slotMs = FRAME_MS / SLOTS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let slot = 0;
  let due = performance.now() + slotMs;
  const run = () => {
    if (stopped) return;
    let now = performance.now();
    // A generator starved of CPU skips the frames it could not send in time (as a browser's audio clock would)
    // instead of sending them all at once: a burst that overflows socket buffers would be its own loss.
    if (now - due > MAX_LATE_MS) {
      if (measuring) sendLag.push(now - due);
      due += Math.floor((now - due) / slotMs) * slotMs;
    }
    while (now >= due) {
      if (measuring) sendLag.push(now - due);
      for (let i = slot; i < speakers.length; i += SLOTS) {
        const speaker = speakers[i]!;
        speaker.endpoint.send(frameFor(speaker));
      }
      slot = (slot + 1) % SLOTS;
      due += slotMs;
      now = performance.now();
    }
    timer = setTimeout(run, Math.max(0, due - now));
  };
  timer = setTimeout(run, slotMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function start(message: Extract<ToLoad, { type: 'start' }>): void {
  stopClock?.();
  heardFrom.clear();
  receptions.clear();
  latency.clear();
  speakers = message.speakers.map(({ endpoint, partner, path }) => {
    const found = endpoints.get(endpoint);
    if (!found) throw new Error(`no endpoint ${endpoint}`);
    const startCounter = counters.get(endpoint) ?? 0;
    return { endpoint: found, partner, path, startCounter, lastSent: startCounter };
  });
  for (const speaker of speakers) heardFrom.set(speaker.partner, speaker);
  stopClock = startClock();
  send({ type: 'started' });
}

function mark(): void {
  latency.clear();
  sendLag = new Samples();
  measuring = true;
  markCpu = process.cpuUsage();
  markWaitNs = threadTimes().waitNs;
  markAt = performance.now();
  send({ type: 'marked' });
}

async function stop(): Promise<void> {
  stopClock?.();
  stopClock = undefined;
  const cpu = process.cpuUsage(markCpu);
  const waitMs = (threadTimes().waitNs - markWaitNs) / 1e6;
  const windowMs = performance.now() - markAt;
  measuring = false;
  // Late frames still count as received (they are not lost, their latency is already known to be high).
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
  const byPath = new Map<MediaPath, { expected: number; received: number; silent: number }>();
  const firstHeard: { endpoint: number; at: number }[] = [];
  for (const speaker of speakers) {
    const totals = byPath.get(speaker.path) ?? { expected: 0, received: 0, silent: 0 };
    byPath.set(speaker.path, totals);
    const reception = receptions.get(speaker.partner);
    if (!reception || reception.first < 0) {
      totals.silent++;
      totals.expected += speaker.lastSent - speaker.startCounter;
      continue;
    }
    totals.expected += speaker.lastSent - reception.first + 1;
    totals.received += reception.unique;
    firstHeard.push({ endpoint: speaker.partner, at: reception.firstAt });
  }
  const paths: PathReport[] = [];
  for (const [path, totals] of byPath) {
    const sorted = latency.get(path)?.sorted() ?? new Float64Array();
    paths.push({
      path,
      expected: totals.expected,
      received: totals.received,
      silentReceivers: totals.silent,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length > 0 ? (sorted[sorted.length - 1] ?? 0) : Number.NaN,
      samples: sorted.length,
    });
  }
  const lag = sendLag.sorted();
  send({
    type: 'report',
    paths,
    firstHeard,
    cpuMs: (cpu.user + cpu.system) / 1000,
    windowMs,
    waitMs,
    sendLagP99: percentile(lag, 99),
  });
  speakers = [];
}

// ---------------------------------------------------------------- WebRTC peers --------------------------------

/**
 * A party's browser: a werift peer offering Opus first, then PCMU, as the SDK's RTCPeerConnection does. Its payloads
 * are not real Opus: the engine relays Opus between two Opus lines without decoding, and the check that each frame
 * arrives intact (speaker, counter) is the proof that it did.
 */
class WebRtcPeer implements LoadEndpoint {
  readonly pc: RTCPeerConnection;
  private readonly transceiver: RTCRtpTransceiver;
  private sequence = 0;
  private timestamp = 0;
  private haveRemote = false;
  private pendingRemote: (IceCandidateInit | null)[] = [];
  private readonly stopReports: () => void;

  constructor(
    readonly index: number,
    onCandidate: (candidate: IceCandidateInit | null) => void,
  ) {
    this.pc = new RTCPeerConnection(
      weriftPeerConfig({ iceServers: [], announcedAddress: '127.0.0.1', ipv6: false }) as ConstructorParameters<
        typeof RTCPeerConnection
      >[0],
    );
    this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    // Reported as the engine's lines are (werift-rtcp-reports.ts), for the same reason as the direct receive below.
    this.stopReports = reportRtcp(this.transceiver);
    withoutDefaultStun(this.pc, []);
    const receive = (rtp: RtpPacket) => heard(index, rtp.payload);
    this.transceiver.onTrack.subscribe((track: MediaStreamTrack) => {
      track.onReceiveRtp.subscribe(receive);
    });
    this.pc.onIceCandidate.subscribe((candidate) => onCandidate(candidate ? { ...candidate.toJSON() } : null));
    this.pc.connectionStateChange.subscribe((state) => {
      if (state !== 'connected') return;
      // Received the way the engine's lines receive (werift-direct-rtp.ts): the generator shares the machine's cores
      // with the engine, and the CPU it spends in werift's plumbing is contention the engine's latency picks up.
      receiveRtpDirectly(this.pc, this.transceiver, receive);
      send({ type: 'connected', endpoint: index });
    });
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription!.sdp;
  }

  async acceptOffer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.remoteSet();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.pc.localDescription!.sdp;
  }

  async acceptAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await this.remoteSet();
  }

  /** Candidates wait for the remote description, as a browser's must. */
  async addRemoteCandidate(candidate: IceCandidateInit | null): Promise<void> {
    if (!this.haveRemote) {
      this.pendingRemote.push(candidate);
      return;
    }
    const init = candidate
      ? {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? undefined,
          sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
          usernameFragment: candidate.usernameFragment ?? undefined,
        }
      : null;
    await this.pc.addIceCandidate(init).catch(() => undefined);
  }

  send(payload: Buffer): void {
    const codec = this.transceiver.sender.codec;
    if (!codec) return;
    this.sequence = (this.sequence + 1) & 0xffff;
    // 20 ms in the negotiated codec's clock: 960 ticks for Opus, 160 for PCMU.
    this.timestamp = (this.timestamp + codec.clockRate / 50) >>> 0;
    // The engine's own lean send path: a browser's sending costs it native code, not werift's per-packet extras.
    sendRtpPacket(this.transceiver, codec.payloadType, {
      sequenceNumber: this.sequence,
      timestamp: this.timestamp,
      marker: false,
      payload,
    })?.catch(() => undefined);
  }

  async close(): Promise<void> {
    this.stopReports();
    await this.pc.close();
  }

  private async remoteSet(): Promise<void> {
    this.haveRemote = true;
    for (const candidate of this.pendingRemote.splice(0)) await this.addRemoteCandidate(candidate);
  }
}

/** A plain RTP/AVP socket (no ICE, no SRTP), as a SIP phone or carrier would send. */
class UdpEndpoint implements LoadEndpoint {
  target: number | undefined;
  private sequence = 0;
  private timestamp = 0;
  private readonly ssrc = (Math.random() * 0x1_0000_0000) >>> 0;

  constructor(
    readonly index: number,
    readonly socket: Socket,
  ) {
    socket.on('message', (packet) => {
      if (packet.length < 12) return;
      const csrcs = packet[0]! & 0x0f;
      let offset = 12 + 4 * csrcs;
      if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
      heard(index, packet.subarray(offset));
    });
  }

  send(payload: Buffer): void {
    if (this.target === undefined) return;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + 160) >>> 0;
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 0; // PCMU
    header.writeUInt16BE(this.sequence, 2);
    header.writeUInt32BE(this.timestamp, 4);
    header.writeUInt32BE(this.ssrc, 8);
    this.socket.send([header, payload], this.target, '127.0.0.1');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function bindUdp(index: number): Promise<UdpEndpoint> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(new UdpEndpoint(index, socket)));
  });
}

// ---------------------------------------------------------------- the messages --------------------------------

async function handle(message: ToLoad): Promise<void> {
  switch (message.type) {
    case 'open-line': {
      const peer = new WebRtcPeer(message.endpoint, (candidate) =>
        send({ type: 'candidate', endpoint: message.endpoint, candidate }),
      );
      peers.set(message.endpoint, peer);
      endpoints.set(message.endpoint, peer);
      send({ type: 'offer', endpoint: message.endpoint, sdp: await peer.offer() });
      return;
    }
    case 'close-endpoint': {
      const endpoint = endpoints.get(message.endpoint);
      endpoints.delete(message.endpoint);
      peers.delete(message.endpoint);
      await endpoint?.close();
      return;
    }
    case 'answer':
      await peers.get(message.endpoint)?.acceptAnswer(message.sdp);
      return;
    case 'candidate':
      await peers.get(message.endpoint)?.addRemoteCandidate(message.candidate);
      return;
    case 'open-webrtc-pair': {
      const [a, b] = message.endpoints;
      const first: WebRtcPeer = new WebRtcPeer(a, (candidate) => void second.addRemoteCandidate(candidate));
      const second: WebRtcPeer = new WebRtcPeer(b, (candidate) => void first.addRemoteCandidate(candidate));
      for (const peer of [first, second]) {
        peers.set(peer.index, peer);
        endpoints.set(peer.index, peer);
      }
      await first.acceptAnswer(await second.acceptOffer(await first.offer()));
      await waitConnected([first, second]);
      send({ type: 'opened', endpoints: [a, b] });
      return;
    }
    case 'open-udp-pair': {
      const opened = await Promise.all(message.endpoints.map((index) => bindUdp(index)));
      for (const endpoint of opened) {
        sockets.set(endpoint.index, endpoint);
        endpoints.set(endpoint.index, endpoint);
      }
      send({
        type: 'opened',
        endpoints: opened.map((e) => e.index),
        ports: opened.map((e) => e.socket.address().port),
      });
      return;
    }
    case 'udp-target': {
      const socket = sockets.get(message.endpoint);
      if (socket) socket.target = message.port;
      return;
    }
    case 'start':
      start(message);
      return;
    case 'mark':
      mark();
      return;
    case 'stop':
      await stop();
      return;
    case 'close':
      stopClock?.();
      await Promise.allSettled([...endpoints.values()].map((endpoint) => endpoint.close()));
      send({ type: 'closed' });
      process.disconnect?.();
      return;
  }
}

async function waitConnected(pair: readonly WebRtcPeer[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pair.every((peer) => peer.pc.connectionState === 'connected')) {
    if (Date.now() > deadline) throw new Error('a direct WebRTC pair did not connect within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

process.on('message', (message: ToLoad) => {
  handle(message).catch((error: unknown) => fatal(`${message.type}: ${(error as Error).stack ?? String(error)}`));
});
