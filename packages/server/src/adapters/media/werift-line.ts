import {
  type MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpTransceiver,
  type RtpPacket,
} from 'werift';
import type { AgentLineHooks, AgentLineTransport } from './agent-line.js';
import { type AudioCodecName, clockRate, DEFAULT_LINE_CODECS } from './codec.js';
import { type IceCandidateInit, type IceServerConfig, MediaError, type OpenAgentLineOptions } from './media-engine.js';
import type { OutgoingPacket } from './outbound-stream.js';
import { rescaleTelephoneEvent } from './rfc4733.js';
import {
  candidateAddress,
  candidateUfrag,
  filterSdpCandidates,
  originSessionId,
  summarizeOffer,
  withOrigin,
} from './sdp.js';
import { receiveRtpDirectly, sendRtpPacket } from './werift-direct-rtp.js';
import { applyWeriftFastPaths } from './werift-fast-paths.js';
import { reportRtcp } from './werift-rtcp-reports.js';
import { negotiateAesCmSrtp } from './werift-srtp.js';

/**
 * An agent's WebRTC line on werift: one RTCPeerConnection answering the browser's offer with one audio codec — the
 * first of the operator's list (default Opus, then PCMU) that the offer has — and telephone-event. It lives as long
 * as the agent is checked in; calls come and go on it without a new handshake.
 *
 * werift 0.24 quirks handled here (found by reading its source and by the tests next to this file):
 * - Its ICE agent queries stun.l.google.com even with `iceServers: []` (a hard-coded fallback in `Connection`):
 *   the STUN server is cleared on every ICE transport unless the operator configured one.
 * - After an ICE restart it does not start connectivity checks again when DTLS is already up (`connect()` returns
 *   early), so media stops: the restarted ICE transports are started explicitly.
 * - `RTCRtpSender.sendRtp` overwrites the payload type with the first negotiated codec, and does per packet work
 *   an audio line does not need; receiving goes through five layers of events and a packet copy. Once connected,
 *   packets go both ways between the socket and the line directly (werift-direct-rtp.ts), with werift's SRTP
 *   sessions, SSRCs, counters and RTCP statistics kept.
 * - Its RTCP report loops (two per transceiver, each an abortable timer per turn) promoted garbage into the old
 *   generation at every turn: one timer sends every line's reports instead (werift-rtcp-reports.ts).
 * - It offers AES-GCM first for SRTP, with a native cipher object per packet and direction; lines negotiate
 *   AES_CM_128_HMAC_SHA1_80, which srtp-aes-cm.ts protects with one AES context per session.
 * - It matches codecs by MIME type only and answers with every match: the chosen audio codec and the
 *   telephone-events are picked from its negotiated list before the answer is made, so the browser sends the one
 *   codec the engine expects.
 * - Received packets may share buffers werift reuses: payloads werift delivers are copied before they enter the
 *   engine (those of the direct path are the line's own).
 * - Remote candidates it gets before the matching remote description throw: they are buffered here.
 * - Its RTP header parser costs microseconds and dozens of objects per packet: werift-fast-paths.ts replaces it with
 *   an equivalent one when the first peer configuration is built.
 */

export interface WeriftLineOptions {
  readonly announcedAddress?: string;
  readonly advertiseInterfaceAddresses: boolean;
  readonly portRange?: readonly [number, number];
  readonly iceServers: readonly IceServerConfig[];
  readonly ipv6: boolean;
  /** The audio codecs the line may use, in preference order (default Opus, then PCMU). */
  readonly codecs?: readonly AudioCodecName[];
}

/**
 * The codecs werift is configured with. Payload types matter only when werift offers (the tests' browser and the
 * benchmark's): they are Chromium's. When it answers, the browser's numbers are kept.
 */
const CODEC_PARAMETERS: Readonly<Record<AudioCodecName, ConstructorParameters<typeof RTCRtpCodecParameters>[0]>> = {
  // Stereo is how every browser declares Opus (RFC 7587 §7); what is sent is mono.
  opus: { mimeType: 'audio/opus', clockRate: 48_000, channels: 2, payloadType: 111, parameters: 'useinbandfec=1' },
  pcmu: { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
};
const TELEPHONE_EVENTS: Readonly<Record<AudioCodecName, ConstructorParameters<typeof RTCRtpCodecParameters>[0]>> = {
  opus: { mimeType: 'audio/telephone-event', clockRate: 48_000, payloadType: 110, parameters: '0-16' },
  pcmu: { mimeType: 'audio/telephone-event', clockRate: 8000, payloadType: 101, parameters: '0-16' },
};
/** Remote candidates buffered per line, at most (a browser sends a handful per generation). */
const MAX_PENDING_CANDIDATES = 64;

/**
 * Builds the werift configuration both the engine and the tests' browser-like client use: the audio codecs in the
 * given order, then telephone-event in the clock of each (48 kHz next to Opus, 8 kHz next to PCMU).
 */
export function weriftPeerConfig(options: Omit<WeriftLineOptions, 'advertiseInterfaceAddresses'>) {
  // Every werift peer we make goes through here: the place to make sure werift runs with its hot path fixed.
  applyWeriftFastPaths();
  const codecs = options.codecs ?? DEFAULT_LINE_CODECS;
  return {
    codecs: {
      audio: [
        ...codecs.map((codec) => new RTCRtpCodecParameters({ ...CODEC_PARAMETERS[codec] })),
        ...codecs.map((codec) => new RTCRtpCodecParameters({ ...TELEPHONE_EVENTS[codec] })),
      ],
      video: [],
    },
    headerExtensions: { audio: [], video: [] },
    iceServers: options.iceServers.map((server) => ({ ...server })),
    icePortRange: options.portRange ? ([options.portRange[0], options.portRange[1]] as [number, number]) : undefined,
    iceAdditionalHostAddresses: options.announcedAddress ? [options.announcedAddress] : undefined,
    iceUseIpv4: true,
    iceUseIpv6: options.ipv6,
  };
}

/** Clears werift's built-in public STUN fallback on every ICE transport of `pc` when none was configured. */
export function withoutDefaultStun(pc: RTCPeerConnection, iceServers: readonly IceServerConfig[]): void {
  if (iceServers.some((server) => server.urls.startsWith('stun:'))) return;
  for (const transport of pc.iceTransports) transport.connection.stunServer = undefined;
}

/** Starts ICE checks that werift left idle after a restart (see the quirks above). */
export function kickRestartedIce(pc: RTCPeerConnection, onError: (error: unknown) => void): void {
  for (const transport of pc.iceTransports) {
    if (transport.state !== 'connected' && transport.state !== 'checking') transport.start().catch(onError);
  }
}

export class WeriftAgentLine implements AgentLineTransport {
  private pc: RTCPeerConnection | undefined;
  private transceiver: RTCRtpTransceiver | undefined;
  private remoteUfrag: string | undefined;
  /** ICE ufrags of generations that are over: their late candidates are dropped. */
  private readonly pastUfrags = new Set<string>();
  private remoteFingerprint: string | undefined;
  private remoteSessionId: string | undefined;
  /** Our answers' o= line: one session id per peer connection, the version counting answers. */
  private localOrigin: { sessionId: string; version: number } | undefined;
  /** True from the moment an offer is being applied until its answer exists: remote candidates wait. */
  private applyingOffer = false;
  private pendingRemote: IceCandidateInit[] = [];
  /** Local candidates gathered while answering: most end up in the answer's SDP and are not trickled. */
  private answering: (IceCandidateInit | null)[] | undefined;
  private negotiated: AudioCodecName;
  private audioPayloadType: number | undefined;
  private dtmfSend: { payloadType: number; clockRate: number } | undefined;
  /** Telephone-event payload types the browser may send, and the codec whose clock each runs in. */
  private readonly dtmfReceive = new Map<number, AudioCodecName>();
  private lastState: string | undefined;
  private closed = false;
  private sendFailures = 0;
  /** Stops the current peer connection's RTCP reports (werift-rtcp-reports.ts). */
  private stopReports: () => void = () => undefined;

  constructor(
    private readonly options: WeriftLineOptions,
    private readonly hooks: AgentLineHooks,
  ) {
    this.negotiated = this.allowedCodecs[0]!;
  }

  /** The audio codec of the last answer (before the first: the preferred one, though nothing flows yet). */
  get codec(): AudioCodecName {
    return this.negotiated;
  }

  private get allowedCodecs(): readonly AudioCodecName[] {
    return this.options.codecs ?? DEFAULT_LINE_CODECS;
  }

  async negotiate(offerSdp: string, _options: OpenAgentLineOptions): Promise<string> {
    this.assertOpen();
    const offer = summarizeOffer(offerSdp, this.allowedCodecs);
    // A new o= session id or DTLS fingerprint means a new RTCPeerConnection on the browser side (a reload): start a
    // fresh one here too. Otherwise renegotiate in place; a new ICE ufrag makes that an ICE restart.
    const fresh =
      !this.pc ||
      offer.sessionId !== this.remoteSessionId ||
      offer.fingerprint !== this.remoteFingerprint ||
      this.pc.connectionState === 'closed';
    if (fresh) await this.replacePeer();
    const pc = this.pc!;
    const restart = !fresh && offer.iceUfrag !== this.remoteUfrag;
    this.applyingOffer = true;
    this.answering = [];
    try {
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      } catch (error) {
        throw new MediaError('InvalidSdp', `the offer was refused: ${(error as Error).message}`);
      }
      this.assertCurrent(pc);
      if (this.transceiver) negotiateAesCmSrtp(this.transceiver);
      this.setRemoteUfrag(offer.iceUfrag);
      this.remoteFingerprint = offer.fingerprint;
      this.remoteSessionId = offer.sessionId;
      this.readNegotiatedCodecs();
      this.flushRemoteCandidates(pc);
      withoutDefaultStun(pc, this.options.iceServers);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.assertCurrent(pc);
      if (restart) kickRestartedIce(pc, (error) => this.warn('IceRestartFailed', error));
      const sdp = pc.localDescription?.sdp ?? answer.sdp;
      this.localOrigin = this.localOrigin
        ? { ...this.localOrigin, version: this.localOrigin.version + 1 }
        : { sessionId: originSessionId(sdp) ?? '0', version: 0 };
      const answerSdp = withOrigin(
        filterSdpCandidates(sdp, (c) => this.advertises(c)),
        this.localOrigin.sessionId,
        this.localOrigin.version,
      );
      const gathered = this.answering;
      // After the answer: the caller sends it before any candidate, because these go out on the next macrotask.
      setImmediate(() => {
        for (const candidate of gathered) {
          if (candidate === null || !answerSdp.includes(candidate.candidate)) this.hooks.localCandidate(candidate);
        }
      });
      return answerSdp;
    } finally {
      this.applyingOffer = false;
      this.answering = undefined;
      if (this.pc === pc) this.flushRemoteCandidates(pc);
    }
  }

  addRemoteCandidate(candidate: IceCandidateInit | null): void {
    if (this.closed) return;
    const settled = this.pc?.remoteDescription && !this.applyingOffer;
    if (candidate === null) {
      // End of candidates only means something for the generation in place; one that races an offer is dropped
      // rather than risk ending the next generation's candidates early.
      if (settled) this.applyRemoteCandidate(this.pc!, null);
      return;
    }
    const ufrag = candidateUfrag(candidate);
    if (ufrag && this.pastUfrags.has(ufrag)) return;
    if (settled && (!ufrag || ufrag === this.remoteUfrag)) this.applyRemoteCandidate(this.pc!, candidate);
    else if (this.pendingRemote.length < MAX_PENDING_CANDIDATES) this.pendingRemote.push(candidate);
  }

  write(packet: OutgoingPacket): void {
    const transceiver = this.transceiver;
    if (!transceiver || this.closed) return;
    if (packet.kind === 'audio') {
      // A packet made for the codec of a previous negotiation (a reload that changed codec) is dropped.
      if (packet.codec !== this.negotiated || this.audioPayloadType === undefined) return;
      sendRtpPacket(transceiver, this.audioPayloadType, packet)?.catch((error) => this.sendFailed(error));
    } else if (this.dtmfSend) {
      // The timestamp stays in the audio's clock (one stream); only a duration in another clock is scaled, for a
      // browser that offered telephone-event at 8 kHz alone next to Opus.
      const payload = rescaleTelephoneEvent(packet.payload, clockRate(packet.codec), this.dtmfSend.clockRate);
      sendRtpPacket(transceiver, this.dtmfSend.payloadType, { ...packet, payload })?.catch((error) =>
        this.sendFailed(error),
      );
    } else if (packet.marker) {
      this.warn('NoTelephoneEvent', new Error('the browser did not offer telephone-event: DTMF dropped'));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pc = this.pc;
    this.pc = undefined;
    this.transceiver = undefined;
    this.stopReports();
    this.pendingRemote = [];
    await pc?.close();
  }

  private async replacePeer(): Promise<void> {
    const old = this.pc;
    this.pc = undefined;
    this.transceiver = undefined;
    this.stopReports();
    this.setRemoteUfrag(undefined);
    this.remoteFingerprint = undefined;
    this.remoteSessionId = undefined;
    this.localOrigin = undefined;
    this.lastState = undefined;
    if (old) await old.close().catch((error: unknown) => this.warn('CloseFailed', error));
    this.assertOpen();
    const pc = new RTCPeerConnection(weriftPeerConfig(this.options));
    // Added before the offer is applied, so werift matches the browser's audio section to a sendrecv transceiver
    // instead of creating a receive-only one.
    const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.stopReports = reportRtcp(transceiver);
    withoutDefaultStun(pc, this.options.iceServers);
    // Packets of this peer connection only: a replaced one's late packets are not the line's any more.
    const receiverOf = (copy: boolean) => (rtp: RtpPacket) => {
      if (this.pc === pc) this.receive(rtp, copy);
    };
    const receive = receiverOf(true);
    const receiveDirect = receiverOf(false);
    // What werift still delivers itself (the first packet of a stream, anything unusual) comes through the track.
    transceiver.onTrack.subscribe((track: MediaStreamTrack) => {
      track.onReceiveRtp.subscribe(receive);
    });
    pc.onIceCandidate.subscribe((candidate) => {
      if (this.pc !== pc) return;
      const init: IceCandidateInit | null = candidate ? toInit(candidate.toJSON()) : null;
      if (init && !this.advertises(init.candidate)) return;
      if (this.answering) this.answering.push(init);
      else this.hooks.localCandidate(init);
    });
    pc.connectionStateChange.subscribe((state) => {
      if (this.pc !== pc || this.closed || state === this.lastState) return;
      if (state === 'connected') receiveRtpDirectly(pc, transceiver, receiveDirect);
      if (state === 'connected' || state === 'disconnected' || state === 'failed') {
        this.lastState = state;
        this.hooks.state(state);
      }
    });
    // A browser that closes its peer connection (a closed tab, a reload) says so with a DTLS alert. werift closes the
    // DTLS transport on it but leaves the connection state as it was until ICE consent runs out, 30 s later: the
    // line is down now, so it is reported failed now (a new offer brings it back, as after any failure).
    transceiver.dtlsTransport.onStateChange.subscribe((state) => {
      if (state !== 'closed' || this.pc !== pc || this.closed || this.lastState === 'failed') return;
      this.lastState = 'failed';
      this.hooks.state('failed');
    });
    this.pc = pc;
    this.transceiver = transceiver;
  }

  private setRemoteUfrag(ufrag: string | undefined): void {
    if (this.remoteUfrag && this.remoteUfrag !== ufrag) {
      if (this.pastUfrags.size >= MAX_PENDING_CANDIDATES) this.pastUfrags.clear();
      this.pastUfrags.add(this.remoteUfrag);
    }
    this.remoteUfrag = ufrag;
  }

  /**
   * A packet for the engine. What werift delivers may live in buffers it reuses, so its payload is copied (`copy`);
   * the direct path's payload is a view of its own datagram, decrypted in place, that nothing else holds.
   */
  private receive(rtp: RtpPacket, copy: boolean): void {
    const { payloadType } = rtp.header;
    let kind: 'audio' | 'dtmf';
    let codec: AudioCodecName | undefined;
    if (payloadType === this.audioPayloadType) {
      kind = 'audio';
      codec = this.negotiated;
    } else {
      kind = 'dtmf';
      codec = this.dtmfReceive.get(payloadType);
      if (!codec) return;
    }
    this.hooks.packet({
      kind,
      codec,
      ssrc: rtp.header.ssrc,
      timestamp: rtp.header.timestamp,
      marker: rtp.header.marker,
      payload: copy ? Buffer.from(rtp.payload) : rtp.payload,
    });
  }

  /**
   * Picks the line's codecs from what werift negotiated (every offered codec whose MIME type it knows, the browser's
   * order and payload type numbers — Chromium's telephone-event/8000 is 126, not 101): the first audio codec of the
   * operator's list the offer has, and the telephone-events. The answer then carries only those, so the browser
   * sends that one codec, and werift sends with it (it would use the offer's first codec).
   */
  private readNegotiatedCodecs(): void {
    const transceiver = this.transceiver!;
    const codecs = transceiver.codecs;
    const find = (codec: AudioCodecName) =>
      codecs.find(
        (candidate) =>
          candidate.mimeType.toLowerCase() === CODEC_PARAMETERS[codec].mimeType.toLowerCase() &&
          candidate.clockRate === clockRate(codec),
      );
    const chosen = this.allowedCodecs.find((codec) => find(codec));
    if (!chosen) throw new MediaError('NoCommonCodec', 'no codec in common with the offer');
    const audio = find(chosen)!;
    const offeredEvents = codecs.filter(
      (codec) =>
        codec.mimeType.toLowerCase() === 'audio/telephone-event' &&
        (codec.clockRate === 48_000 || codec.clockRate === 8000),
    );
    // Keys in the audio's clock (RFC 4733 §2.1; Chromium offers telephone-event/48000 with Opus and /8000), or, from
    // a browser that offered only the other clock next to Opus, that one: it is still understood.
    const sameClock = offeredEvents.filter((codec) => codec.clockRate === audio.clockRate);
    const events = sameClock.length > 0 ? sameClock : offeredEvents;
    transceiver.codecs = [audio, ...events];
    transceiver.sender.codec = audio;
    this.negotiated = chosen;
    this.audioPayloadType = audio.payloadType;
    this.dtmfReceive.clear();
    for (const event of events) this.dtmfReceive.set(event.payloadType, event.clockRate === 48_000 ? 'opus' : 'pcmu');
    const send = events[0];
    this.dtmfSend = send ? { payloadType: send.payloadType, clockRate: send.clockRate } : undefined;
  }

  /**
   * Applies the buffered candidates of the current ICE generation, drops those of generations that are over, and
   * keeps those of a ufrag not seen yet: they arrived ahead of their offer.
   */
  private flushRemoteCandidates(pc: RTCPeerConnection): void {
    const pending = this.pendingRemote;
    this.pendingRemote = [];
    for (const candidate of pending) {
      const ufrag = candidateUfrag(candidate);
      if (!ufrag || ufrag === this.remoteUfrag) this.applyRemoteCandidate(pc, candidate);
      else if (!this.pastUfrags.has(ufrag)) this.pendingRemote.push(candidate);
    }
  }

  private applyRemoteCandidate(pc: RTCPeerConnection, candidate: IceCandidateInit | null): void {
    const init = candidate
      ? {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? undefined,
          sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
          usernameFragment: candidate.usernameFragment ?? undefined,
        }
      : null;
    pc.addIceCandidate(init).catch((error: unknown) => this.warn('CandidateRejected', error));
  }

  /** With an announced address and interface addresses not advertised, host candidates show only that address. */
  private advertises(candidate: string): boolean {
    const { announcedAddress, advertiseInterfaceAddresses } = this.options;
    if (!announcedAddress || advertiseInterfaceAddresses) return true;
    const parsed = candidateAddress(candidate);
    return parsed?.type !== 'host' || parsed.address === announcedAddress;
  }

  private sendFailed(error: unknown): void {
    // One warning per burst is enough for logs: a broken transport fails 50 times a second.
    if (this.sendFailures++ % 500 === 0) this.warn('SendFailed', error);
  }

  private warn(code: string, error: unknown): void {
    this.hooks.warning(code, error instanceof Error ? error.message : String(error));
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('UnknownEndpoint', 'the line is closed');
  }

  private assertCurrent(pc: RTCPeerConnection): void {
    if (this.closed || this.pc !== pc) throw new MediaError('UnknownEndpoint', 'the line was closed while negotiating');
  }
}

function toInit(json: {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
  usernameFragment?: string;
}): IceCandidateInit {
  return {
    candidate: json.candidate,
    sdpMid: json.sdpMid ?? null,
    sdpMLineIndex: json.sdpMLineIndex ?? null,
    usernameFragment: json.usernameFragment ?? null,
  };
}
