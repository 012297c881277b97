import { randomInt } from 'node:crypto';
import {
  type MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
} from 'werift';
import { type AudioCodecName, clockRate, DEFAULT_LINE_CODECS, frameTicks } from '../codec.js';
import { decodeMulaw, encodeMulaw } from '../g711.js';
import { realtimeMediaClock } from '../media-clock.js';
import type { IceCandidateInit, LineState, MediaEngine } from '../media-engine.js';
import { OpusDecoder, OpusEncoder } from '../opus.js';
import { DtmfDetector, DtmfSendQueue, decodeTelephoneEvent, rescaleTelephoneEvent } from '../rfc4733.js';
import { originSessionId, withOrigin } from '../sdp.js';
import { sineWave } from '../tone.js';
import { sendRtpPacket } from '../werift-direct-rtp.js';
import { kickRestartedIce, weriftPeerConfig, withoutDefaultStun } from '../werift-line.js';

export interface BrowserLikeClientOptions {
  /** The audio codecs it offers, in order (default Opus then PCMU, as the SDK's browser does). */
  readonly codecs?: readonly AudioCodecName[];
  /**
   * The telephone-event clocks it offers (default one per codec: 48 kHz with Opus, 8 kHz with PCMU). `[8000]` with
   * Opus is what Firefox offers: keys at 8 kHz next to audio at 48 kHz.
   */
  readonly telephoneEventClocks?: readonly number[];
}

/** What the answer settled: the audio codec and payload types, as the engine numbered them back. */
interface Negotiated {
  readonly codec: AudioCodecName;
  readonly audioPayloadType: number;
  readonly dtmfPayloadTypes: ReadonlySet<number>;
  /** The telephone-event it sends keys with: the one in the audio's clock, else the only one. */
  readonly dtmfSendPayloadType: number | undefined;
  /** The clock of that telephone-event (its durations count in it; its timestamps stay in the audio's). */
  readonly dtmfSendClockRate: number;
}

/**
 * A stand-in for the agent's browser, made of a second werift peer: it offers Opus, PCMU and telephone-event at
 * 48 and 8 kHz as the SDK's browser does (or the codecs it is told), trickles its candidates, says a tone every
 * 20 ms in whatever codec the answer chose (its own Opus encoder at 8 kHz), and keeps what it hears (audio decoded
 * to 8 kHz PCM, RTP headers, DTMF). Loopback is allowed here (Node to Node); Chromium would need a real interface
 * address.
 */
export class BrowserLikeClient {
  readonly pc: RTCPeerConnection;
  private readonly transceiver: RTCRtpTransceiver;
  private readonly tone: Int16Array;
  private readonly encoder = new OpusEncoder();
  private readonly decoder = new OpusDecoder();
  private negotiated: Negotiated | undefined;
  private stopTimer: (() => void) | undefined;
  private toneFrame = 0;
  private sequence = randomInt(0x10000);
  private timestamp = randomInt(0x1_0000_0000);
  private readonly dtmfOut = new DtmfSendQueue();
  private readonly dtmfIn = new DtmfDetector();
  private heardChunks: Int16Array[] = [];
  /** Every audio packet's header as received, in arrival order. */
  readonly received: { sequenceNumber: number; timestamp: number; ssrc: number; marker: boolean }[] = [];
  digits = '';
  private readonly localCandidates: (IceCandidateInit | null)[] = [];
  private onLocalCandidate: ((candidate: IceCandidateInit | null) => void) | undefined;
  private pendingRemote: (IceCandidateInit | null)[] = [];
  private haveAnswer = false;
  private sessionId: string | undefined;
  private offers = 0;

  /** Durations of the key events it sent, in the clock it sent them in. */
  readonly sentKeyDurations: number[] = [];
  /** Durations of the end packets of the key events it received. */
  readonly receivedKeyDurations: number[] = [];

  constructor(toneHz: number, { codecs = DEFAULT_LINE_CODECS, telephoneEventClocks }: BrowserLikeClientOptions = {}) {
    const config = weriftPeerConfig({ iceServers: [], announcedAddress: '127.0.0.1', ipv6: false, codecs });
    if (telephoneEventClocks) {
      const audio = config.codecs.audio.filter((codec) => codec.mimeType !== 'audio/telephone-event');
      const events = telephoneEventClocks.map(
        (clockRate, i) =>
          new RTCRtpCodecParameters({
            mimeType: 'audio/telephone-event',
            clockRate,
            payloadType: 101 + i,
            parameters: '0-16',
          }),
      );
      config.codecs.audio = [...audio, ...events];
    }
    this.pc = new RTCPeerConnection(config as ConstructorParameters<typeof RTCPeerConnection>[0]);
    this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    withoutDefaultStun(this.pc, []);
    this.tone = sineWave(toneHz, 8000, 8000, 0.3);
    this.transceiver.onTrack.subscribe((track: MediaStreamTrack) => {
      track.onReceiveRtp.subscribe((rtp) => this.receive(rtp));
    });
    this.pc.onIceCandidate.subscribe((candidate) => {
      const init = candidate ? { ...candidate.toJSON() } : null;
      if (this.onLocalCandidate) this.onLocalCandidate(init);
      else this.localCandidates.push(init);
    });
  }

  /**
   * Creates an offer (an ICE restart when asked), returns its SDP. Like a browser, and unlike werift, it keeps the
   * o= session id of its first offer and counts the version up.
   */
  async offer(iceRestart = false): Promise<string> {
    this.haveAnswer = false;
    const offer = await this.pc.createOffer({ iceRestart });
    await this.pc.setLocalDescription(offer);
    const sdp = this.pc.localDescription!.sdp;
    this.sessionId ??= originSessionId(sdp);
    return withOrigin(sdp, this.sessionId ?? '0', this.offers++);
  }

  async answer(sdp: string, restarted = false): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.negotiated = readAnswer(this.transceiver);
    this.haveAnswer = true;
    if (restarted) kickRestartedIce(this.pc, () => undefined);
    for (const candidate of this.pendingRemote.splice(0)) await this.applyRemote(candidate);
  }

  /** Delivers this client's candidates (those gathered so far, then each new one) to `send`. */
  trickleTo(send: (candidate: IceCandidateInit | null) => void): void {
    this.onLocalCandidate = send;
    for (const candidate of this.localCandidates.splice(0)) send(candidate);
  }

  /** A server candidate: buffered until the answer is applied, as a browser must. */
  async addRemoteCandidate(candidate: IceCandidateInit | null): Promise<void> {
    if (!this.haveAnswer) this.pendingRemote.push(candidate);
    else await this.applyRemote(candidate);
  }

  /**
   * Starts saying the tone (and any queued DTMF instead of it), one packet per 20 ms on a drift-free clock, as a
   * browser's audio clock would (setInterval runs slow and would starve the engine's jitter buffers).
   */
  startSending(): void {
    this.stopTimer ??= realtimeMediaClock().start(() => this.sendFrame());
  }

  stopSending(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  sendDtmf(digits: string): void {
    this.dtmfOut.enqueue(digits);
  }

  heard(): Int16Array {
    const total = this.heardChunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const out = new Int16Array(total);
    let offset = 0;
    for (const chunk of this.heardChunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  clearHeard(): void {
    this.heardChunks = [];
    this.received.length = 0;
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  /** The audio codec the engine's answer chose (undefined before the answer). */
  get codec(): AudioCodecName | undefined {
    return this.negotiated?.codec;
  }

  async close(): Promise<void> {
    this.stopSending();
    await this.pc.close();
    this.encoder.delete();
    this.decoder.delete();
  }

  private sendFrame(): void {
    const negotiated = this.negotiated;
    if (!negotiated) return;
    const ticks = frameTicks(negotiated.codec);
    const now = this.timestamp;
    this.timestamp = (this.timestamp + ticks) >>> 0;
    const dtmf = this.dtmfOut.next(now, ticks);
    if (dtmf) {
      if (dtmf.packet && negotiated.dtmfSendPayloadType !== undefined) {
        this.sequence = (this.sequence + 1) & 0xffff;
        // Durations count in the telephone-event's own clock (Firefox's 8 kHz next to Opus), as a browser sends them.
        const payload = rescaleTelephoneEvent(
          dtmf.packet.payload,
          clockRate(negotiated.codec),
          negotiated.dtmfSendClockRate,
        );
        const sent = decodeTelephoneEvent(payload);
        if (sent?.end) this.sentKeyDurations.push(sent.duration);
        sendRtpPacket(this.transceiver, negotiated.dtmfSendPayloadType, {
          sequenceNumber: this.sequence,
          ...dtmf.packet,
          payload,
        })?.catch(() => undefined);
      }
      return;
    }
    const start = (this.toneFrame++ % 50) * 160;
    const pcm = this.tone.subarray(start, start + 160);
    const payload = negotiated.codec === 'opus' ? this.encoder.encode(pcm) : encodeMulaw(pcm);
    this.sequence = (this.sequence + 1) & 0xffff;
    const header = new RtpHeader({
      payloadType: negotiated.audioPayloadType,
      sequenceNumber: this.sequence,
      timestamp: now,
      marker: false,
    });
    this.transceiver.sender.sendRtp(new RtpPacket(header, payload)).catch(() => undefined);
  }

  private receive(rtp: RtpPacket): void {
    const { header } = rtp;
    const negotiated = this.negotiated;
    if (!negotiated) return;
    if (header.payloadType === negotiated.audioPayloadType) {
      this.received.push({
        sequenceNumber: header.sequenceNumber,
        timestamp: header.timestamp,
        ssrc: header.ssrc,
        marker: header.marker,
      });
      this.heardChunks.push(
        negotiated.codec === 'opus' ? this.decoder.decode(rtp.payload).slice() : decodeMulaw(rtp.payload),
      );
    } else if (negotiated.dtmfPayloadTypes.has(header.payloadType)) {
      this.digits += this.dtmfIn.push(header.timestamp, rtp.payload);
      const event = decodeTelephoneEvent(rtp.payload);
      if (event?.end) this.receivedKeyDurations.push(event.duration);
    }
  }

  private async applyRemote(candidate: IceCandidateInit | null): Promise<void> {
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
}

/** The codecs of an applied answer: werift's negotiated list holds what the answer kept, in its order. */
function readAnswer(transceiver: RTCRtpTransceiver): Negotiated {
  const codecs = transceiver.codecs;
  const audio = codecs.find((codec) => /^audio\/(opus|pcmu)$/i.test(codec.mimeType));
  if (!audio) throw new Error('the answer has no audio codec this client speaks');
  const codec: AudioCodecName = audio.mimeType.toLowerCase() === 'audio/opus' ? 'opus' : 'pcmu';
  const events = codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/telephone-event');
  const send = events.find((event) => event.clockRate === audio.clockRate) ?? events[0];
  return {
    codec,
    audioPayloadType: audio.payloadType,
    dtmfPayloadTypes: new Set(events.map((event) => event.payloadType)),
    dtmfSendPayloadType: send?.payloadType,
    dtmfSendClockRate: send?.clockRate ?? audio.clockRate,
  };
}

/**
 * Connects a client to the engine the way the live channel will: the client's candidates go to the engine as soon as
 * they exist (before the offer, so the engine's buffering is exercised), the offer goes to `openAgentLine`, the
 * engine's candidates come back after the answer. Resolves when both ends report connected.
 * Returns the engine's answer SDP.
 */
export async function connectClient(
  engine: MediaEngine,
  lineId: string,
  client: BrowserLikeClient,
  { iceRestart = false }: { iceRestart?: boolean } = {},
): Promise<string> {
  const offCandidates = engine.on('localCandidate', (event) => {
    if (event.lineId === lineId) void client.addRemoteCandidate(event.candidate);
  });
  const connected = lineConnected(engine, lineId);
  try {
    const offer = await client.offer(iceRestart);
    client.trickleTo((candidate) => engine.addRemoteCandidate(lineId, candidate));
    const { answerSdp } = await engine.openAgentLine(lineId, offer, { iceRestart });
    await client.answer(answerSdp, iceRestart);
    if (!iceRestart) await connected;
    await waitFor(() => client.connectionState === 'connected', 'client connected');
    return answerSdp;
  } finally {
    offCandidates();
  }
}

function lineConnected(engine: MediaEngine, lineId: string): Promise<LineState> {
  return new Promise((resolve) => {
    const off = engine.on('lineState', (event) => {
      if (event.lineId === lineId && event.state === 'connected') {
        off();
        resolve(event.state);
      }
    });
  });
}

/** Polls until `condition` holds (10 s at most). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
