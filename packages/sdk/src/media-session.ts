/**
 * The agent's audio in the browser: one WebRTC line to the OpenHotline server for the whole check-in, the remote
 * audio played in a hidden <audio> element, the ring tone, device choice and call quality.
 *
 * It is not in the headless core's import graph (the core's size budget): the SoftPhone takes it through
 * `SoftPhone.registerMediaSession(createMediaSession)`, which the full script-tag build calls at load and ESM users
 * call with `@openhotline/sdk/media`. This module imports nothing of the SDK but types and the pure call-quality
 * maths, so bundling it separately duplicates nothing.
 *
 * The line (docs/media.md): the browser offers, the server answers, candidates trickle both ways over the live
 * channel. The server prefers Opus and also speaks PCMU, so those two (and telephone-event) go first in the offer:
 * between two browsers the server then relays Opus untouched. Answering a call
 * re-points audio on the server: no new ICE or DTLS. A new channel connection (reload, reconnect) or a network
 * change renegotiates the same line with an ICE restart; the latest offer's channel owns the line.
 */
import type { ClientFrame, ServerFrame } from '@openhotline/protocol';
import {
  type CallQuality,
  INITIAL_QUALITY_STATE,
  nextCallQuality,
  type QualityState,
  readStats,
  type StatsEntry,
} from './call-quality';

export type { CallQuality, OneWayAudio } from './call-quality';
export { estimateMos, nextCallQuality, readStats } from './call-quality';

/** The codes the media session reports; each is in the SDK's error catalogue (errors.ts). */
export type MediaErrorCode =
  | 'AudioPlaybackBlocked'
  | 'AudioLineFailed'
  | 'AudioDeviceFailed'
  | 'MicrophoneUnavailable'
  | 'MicrophonePermissionDenied';

/** A device API's failure: the SoftPhone turns it into a SoftPhoneError with this code. */
export class MediaFailure extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message?: string,
  ) {
    super(message ?? code);
  }
}

/** What the SoftPhone gives the media session. */
export interface MediaHost {
  /** Sends a frame on the live channel; false when the channel is not open (the next `connect(true)` re-offers). */
  send(frame: Extract<ClientFrame, { type: 'media.offer' | 'media.candidate' }>): boolean;
  /** Raises actionError (action `media`); without a message, the catalogue's. */
  report(code: MediaErrorCode, message?: string): void;
  /** Emits onCallQuality. */
  quality(quality: CallQuality): void;
}

export interface AudioDevice {
  readonly deviceId: string;
  readonly groupId: string;
  /** Empty until the page has been given the microphone once (the browser hides labels before). */
  readonly label: string;
}

export interface AudioDevices {
  readonly inputs: readonly AudioDevice[];
  readonly outputs: readonly AudioDevice[];
  /** The microphone in use (or chosen for the next line); '' for the browser's default. */
  readonly input: string;
  /** The chosen output; '' for the browser's default. */
  readonly output: string;
}

/** What the SoftPhone asks of its media session. */
export interface MediaSession {
  /**
   * The agent is checked in and the live channel is open: open the line, or renegotiate it with an ICE restart if
   * it is open. `newChannel`: the channel is a new connection, so an offer sent on the old one will never be
   * answered and the new channel must make itself the line's owner.
   */
  connect(newChannel?: boolean): void;
  /** Frames of the live channel: media.answer, media.candidate, media.state, and error (a refused offer). */
  handle(frame: ServerFrame): void;
  /** The agent's call state: the ring tone plays while `ringing`, call quality is measured while `inCall`. */
  setCallState(ringing: boolean, inCall: boolean): void;
  getAudioDevices(): Promise<AudioDevices>;
  /** Switches the microphone mid-call (replaceTrack: no renegotiation), or chooses it for the next line. */
  setAudioInput(deviceId: string): Promise<void>;
  /** Plays the call (and the ring) on this output (setSinkId); rejects where the browser cannot choose. */
  setAudioOutput(deviceId: string): Promise<void>;
  /** Check-out: closes the line, releases the microphone, stops the ring and the quality readings. */
  close(): void;
}

export type MediaSessionFactory = (host: MediaHost) => MediaSession;

/** The browser objects the session uses; tests pass fakes. */
export interface MediaEnvironment {
  readonly RTCPeerConnection: typeof RTCPeerConnection | undefined;
  /** RTCRtpReceiver.getCapabilities: the codecs setCodecPreferences may be given. */
  readonly capabilities: ((kind: 'audio') => RTCRtpCapabilities | null) | undefined;
  readonly MediaStream: typeof MediaStream | undefined;
  readonly mediaDevices: MediaDevices | undefined;
  readonly document: Document | undefined;
  readonly AudioContext: typeof AudioContext | undefined;
  /**
   * Network-change events, as [target, type]: window 'online' and navigator.connection 'change' (not window
   * 'change': form fields' change events bubble up to it).
   */
  readonly network: readonly (readonly [EventTarget, string])[];
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface MediaSessionOptions {
  /**
   * The microphone's processing (getUserMedia constraints). All on by default: agents talk over speakers and
   * headsets in noisy rooms. Switch noise suppression off to send a test tone unchanged.
   */
  readonly processing?: {
    readonly echoCancellation?: boolean;
    readonly noiseSuppression?: boolean;
    readonly autoGainControl?: boolean;
  };
  readonly environment?: MediaEnvironment;
}

/** How often call quality is read during a call. */
export const QUALITY_INTERVAL_MS = 500;
/** ICE restarts after a failure before the SDK gives up until the next network change or reconnect. */
const MAX_RESTARTS = 2;
/** Input events that let a page start audio (user activation). */
const GESTURES = ['pointerdown', 'keydown', 'touchend'] as const;

/** The media session of the browser this runs in (the SoftPhone's registration hook takes exactly this). */
export function createMediaSession(host: MediaHost, options: MediaSessionOptions = {}): MediaSession {
  return new BrowserMediaSession(host, options.environment ?? browserEnvironment(), {
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
    ...options.processing,
  });
}

/** The globals of the page. */
export function browserEnvironment(): MediaEnvironment {
  const g = globalThis as typeof globalThis & { webkitAudioContext?: typeof AudioContext };
  const connection = (g.navigator as { connection?: EventTarget } | undefined)?.connection;
  const receiver = g.RTCRtpReceiver;
  return {
    RTCPeerConnection: g.RTCPeerConnection,
    capabilities: receiver?.getCapabilities ? (kind) => receiver.getCapabilities(kind) : undefined,
    MediaStream: g.MediaStream,
    mediaDevices: g.navigator?.mediaDevices,
    document: g.document,
    AudioContext: g.AudioContext ?? g.webkitAudioContext,
    network: [[g as unknown as EventTarget, 'online'], ...(connection ? [[connection, 'change'] as const] : [])],
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
  };
}

/**
 * The codecs the server speaks first, in its order: Opus, then PCMU (G.711, which an operator may force), then
 * telephone-event (DTMF) at 48 kHz (Opus's clock) and at 8 kHz (PCMU's); then the rest in the browser's order. The
 * server answers with the first of its own list that the offer has, so this order only makes sure both are offered
 * and that a browser that would not list one (or would put RED or G.722 first) still has them up front.
 */
export function serverCodecsFirst<C extends { readonly mimeType: string; readonly clockRate: number }>(
  codecs: readonly C[],
): C[] {
  const rank = ({ mimeType, clockRate }: C) => {
    const mime = mimeType.toLowerCase();
    if (mime === 'audio/opus') return 0;
    if (mime === 'audio/pcmu') return 1;
    if (mime === 'audio/telephone-event') return clockRate === 48_000 ? 2 : clockRate === 8000 ? 3 : 4;
    return 4;
  };
  // Array.prototype.sort is stable: equal ranks keep the browser's order.
  return [...codecs].sort((a, b) => rank(a) - rank(b));
}

/** What getUserMedia's failure means for the agent, in the environment checks' codes. */
function microphoneFailure(error: unknown): MediaFailure {
  const { name = '', message = '' } = (error ?? {}) as { name?: string; message?: string };
  const denied = name === 'NotAllowedError' || name === 'SecurityError';
  return new MediaFailure(
    denied ? 'MicrophonePermissionDenied' : 'MicrophoneUnavailable',
    `The microphone could not be opened (${name || 'error'}${message ? `: ${message}` : ''}).`,
  );
}

type Processing = Required<NonNullable<MediaSessionOptions['processing']>>;

class BrowserMediaSession implements MediaSession {
  private pc: RTCPeerConnection | undefined;
  private sender: RTCRtpSender | undefined;
  private microphone: MediaStreamTrack | undefined;
  private audio: HTMLAudioElement | undefined;
  /** Server candidates that came before the answer they belong to. */
  private readonly pending: RTCIceCandidateInit[] = [];
  /** An offer is out and its answer not applied yet. */
  private offering = false;
  /** Someone asked for a renegotiation while an offer was out: it follows the answer. */
  private offerAfterAnswer = false;
  /** An answer was applied once: later offers are ICE restarts of an existing session. */
  private answered = false;
  private restarts = 0;
  private inputId = '';
  private outputId = '';
  /** The autoplay policy refused play(); reported once a call needs the audio (`blockReported`). */
  private playbackBlocked = false;
  private blockReported = false;
  /**
   * getUserMedia of the line is under way. Chromium lets a page that captures the microphone autoplay, so a refusal
   * before it settles is not reported yet: after a reload mid-call the line's audio arrives before the microphone.
   */
  private microphoneOpening = false;
  private inCall = false;
  private gestureArmed = false;
  private readonly ring: RingTone;
  private monitor: unknown;
  private qualityState: QualityState = INITIAL_QUALITY_STATE;
  private readonly onNetworkChange = () => {
    if (this.pc) this.connect();
  };

  constructor(
    private readonly host: MediaHost,
    private readonly env: MediaEnvironment,
    private readonly processing: Processing,
  ) {
    this.ring = new RingTone(env, () => this.armGesture());
  }

  connect(newChannel = false): void {
    if (!this.pc) {
      this.open();
      return;
    }
    // On the same channel the server answers offers in order: a second offer now would be answered with the
    // first one's answer applied to it. On a new channel, the old offer's answer is lost: offer again now.
    if (this.offering && !newChannel) {
      this.offerAfterAnswer = true;
      return;
    }
    void this.offer(true);
  }

  handle(frame: ServerFrame): void {
    const pc = this.pc;
    if (!pc) return;
    switch (frame.type) {
      case 'media.answer':
        void this.answer(pc, frame.sdp);
        return;
      case 'media.candidate':
        // Null (end of candidates) needs nothing: ICE concludes on its own.
        if (!frame.candidate) return;
        // A browser refuses a candidate before the description it belongs to.
        if (this.offering) this.pending.push(frame.candidate);
        else void pc.addIceCandidate(frame.candidate).catch(() => {});
        return;
      case 'media.state':
        // The server lost the browser (consent expired): the browser's own ICE failure follows; restart now.
        if (frame.state === 'failed') this.connect();
        return;
      case 'error':
        // The server refused the offer (media disabled, no PCMU): the line stays down until the next connect.
        if (this.offering) {
          this.offering = false;
          this.host.report('AudioLineFailed', `The server refused the audio line: ${frame.message}`);
        }
        return;
      default:
        return;
    }
  }

  setCallState(ringing: boolean, inCall: boolean): void {
    if (ringing) this.ring.start(this.outputId);
    else this.ring.stop();
    this.inCall = inCall;
    if (inCall && this.pc) this.startMonitor();
    else this.stopMonitor();
    this.reportBlockedPlayback();
  }

  async getAudioDevices(): Promise<AudioDevices> {
    const devices = this.env.mediaDevices;
    if (typeof devices?.enumerateDevices !== 'function') {
      throw new MediaFailure('MicrophoneUnavailable', 'This browser cannot list audio devices (no enumerateDevices).');
    }
    const all = await devices.enumerateDevices();
    const of = (kind: MediaDeviceKind): AudioDevice[] =>
      all.filter((d) => d.kind === kind).map(({ deviceId, groupId, label }) => ({ deviceId, groupId, label }));
    return {
      inputs: of('audioinput'),
      outputs: of('audiooutput'),
      input: this.microphone?.getSettings().deviceId ?? this.inputId,
      output: this.outputId,
    };
  }

  async setAudioInput(deviceId: string): Promise<void> {
    const sender = this.sender;
    if (sender) {
      const track = await this.openMicrophone(deviceId).catch((failure: MediaFailure | undefined) => {
        throw failure ?? new MediaFailure('MicrophoneUnavailable');
      });
      if (this.sender !== sender) {
        track.stop();
      } else {
        await sender.replaceTrack(track);
        this.microphone?.stop();
        this.useMicrophone(track);
      }
    }
    this.inputId = deviceId;
  }

  async setAudioOutput(deviceId: string): Promise<void> {
    const element = this.audio ?? this.env.document?.createElement('audio');
    if (typeof element?.setSinkId !== 'function') {
      throw new MediaFailure(
        'AudioDeviceFailed',
        'This browser cannot choose the audio output (no setSinkId): audio plays on the system default.',
      );
    }
    try {
      if (this.audio) await this.audio.setSinkId(deviceId);
      await this.ring.setSinkId(deviceId);
    } catch (error) {
      throw new MediaFailure('AudioDeviceFailed', `The audio output could not be chosen: ${String(error)}`);
    }
    this.outputId = deviceId;
  }

  close(): void {
    this.stopMonitor();
    this.ring.close();
    const pc = this.pc;
    if (!pc) return;
    this.pc = undefined;
    this.sender = undefined;
    this.offering = false;
    this.offerAfterAnswer = false;
    this.answered = false;
    this.pending.length = 0;
    this.playbackBlocked = false;
    this.blockReported = false;
    this.microphoneOpening = false;
    pc.close();
    this.microphone?.stop();
    this.microphone = undefined;
    if (this.audio) {
      this.audio.srcObject = null;
      this.audio.remove();
      this.audio = undefined;
    }
    for (const [target, type] of this.env.network) target.removeEventListener(type, this.onNetworkChange);
  }

  // ---------------------------------------------------------------- the line

  private open(): void {
    const PeerConnection = this.env.RTCPeerConnection;
    // No WebRTC: the environment checks reported WebRTCUnsupported at registration.
    if (!PeerConnection) return;
    // No public STUN: the server advertises addresses the browser reaches directly (docs/media.md).
    const pc = new PeerConnection({ iceServers: [] });
    this.pc = pc;
    this.restarts = 0;
    pc.onicecandidate = ({ candidate: c }) => {
      // Some browsers end a generation with an empty candidate instead of null.
      const candidate = c?.candidate
        ? {
            candidate: c.candidate,
            sdpMid: c.sdpMid,
            sdpMLineIndex: c.sdpMLineIndex,
            usernameFragment: c.usernameFragment,
          }
        : null;
      this.host.send({ type: 'media.candidate', candidate });
    };
    pc.ontrack = ({ track, streams }) => {
      const Stream = this.env.MediaStream;
      const stream = streams[0] ?? (Stream ? new Stream([track]) : undefined);
      if (stream) this.play(stream);
    };
    pc.oniceconnectionstatechange = () => this.iceStateChanged(pc);
    // The line is offered at once, without waiting for the microphone: the track joins with replaceTrack (the
    // sender's SSRC is in the offer already), and an agent without a microphone still hears the caller.
    const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.sender = transceiver.sender;
    const codecs = this.env.capabilities?.('audio')?.codecs;
    if (codecs && typeof transceiver.setCodecPreferences === 'function') {
      try {
        transceiver.setCodecPreferences(serverCodecsFirst(codecs));
      } catch {
        // The browser's own order offers Opus and PCMU too; the server picks from them either way.
      }
    }
    for (const [target, type] of this.env.network) target.addEventListener(type, this.onNetworkChange);
    void this.offer(false);
    const wanted = this.inputId;
    this.microphoneOpening = true;
    const settled = () => {
      if (this.sender === transceiver.sender) this.microphoneOpening = false;
    };
    void this.openMicrophone(wanted).then(
      async (track) => {
        // Closed meanwhile, or setAudioInput chose another microphone first.
        if (this.sender !== transceiver.sender || this.inputId !== wanted) {
          track.stop();
          settled();
          if (this.playbackBlocked) this.startPlayback();
          return;
        }
        await transceiver.sender.replaceTrack(track);
        this.useMicrophone(track);
        settled();
        // Chromium lets a page that captures the microphone autoplay: what was refused before may play now.
        if (this.playbackBlocked) this.startPlayback();
      },
      (failure: MediaFailure | undefined) => {
        settled();
        if (failure) this.host.report(failure.code, failure.message);
        this.reportBlockedPlayback();
      },
    );
  }

  /**
   * The microphone on the line. A track that ends by itself (headset unplugged, device taken by the system) leaves
   * the customer hearing silence without any other sign: that is reported, and setAudioInput brings audio back.
   */
  private useMicrophone(track: MediaStreamTrack): void {
    this.microphone = track;
    track.onended = () => {
      if (this.microphone !== track) return;
      this.host.report(
        'MicrophoneUnavailable',
        'The microphone stopped (unplugged, or taken by the system): nobody hears the agent. Choose one with setAudioInput.',
      );
    };
  }

  /** Rejects with a MediaFailure, or with undefined where the environment checks already said why. */
  private async openMicrophone(deviceId: string): Promise<MediaStreamTrack> {
    const devices = this.env.mediaDevices;
    // No getUserMedia (an insecure page, an old browser): reported at registration as InsecureContext or
    // MicrophoneUnavailable; saying it again at every check-in adds nothing.
    if (typeof devices?.getUserMedia !== 'function') return Promise.reject(undefined);
    let stream: MediaStream;
    try {
      stream = await devices.getUserMedia({
        audio: { ...this.processing, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) },
      });
    } catch (error) {
      throw microphoneFailure(error);
    }
    const track = stream.getAudioTracks()[0];
    if (!track) throw new MediaFailure('MicrophoneUnavailable');
    return track;
  }

  private async offer(restart: boolean): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    this.offering = true;
    this.offerAfterAnswer = false;
    try {
      if (restart) pc.restartIce();
      await pc.setLocalDescription(await pc.createOffer());
      if (this.pc !== pc) return;
      const sdp = pc.localDescription?.sdp ?? '';
      const sent = this.host.send({
        type: 'media.offer',
        sdp,
        ...(restart && this.answered ? { iceRestart: true } : {}),
      });
      // The channel is down: its return calls connect(true), which offers again.
      if (!sent) this.offering = false;
    } catch (error) {
      this.offering = false;
      this.host.report('AudioLineFailed', `The audio line could not be offered: ${String(error)}`);
    }
  }

  private async answer(pc: RTCPeerConnection, sdp: string): Promise<void> {
    // An answer to an offer that was superseded (or never made) would fail: ignore it.
    if (!this.offering || pc.signalingState !== 'have-local-offer') return;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (error) {
      this.offering = false;
      this.host.report('AudioLineFailed', `The server's answer could not be applied: ${String(error)}`);
      return;
    }
    if (this.pc !== pc) return;
    this.offering = false;
    this.answered = true;
    // Candidates of an older ICE generation are refused by the browser: harmless.
    for (const candidate of this.pending.splice(0)) await pc.addIceCandidate(candidate).catch(() => {});
    if (this.offerAfterAnswer) void this.offer(true);
  }

  private iceStateChanged(pc: RTCPeerConnection): void {
    if (this.pc !== pc) return;
    const state = pc.iceConnectionState;
    if (state === 'connected' || state === 'completed') this.restarts = 0;
    if (state !== 'failed') return;
    if (this.restarts++ < MAX_RESTARTS) {
      this.connect();
      return;
    }
    this.host.report(
      'AudioLineFailed',
      'The audio line to the server failed (no UDP path): it is tried again on the next network change or reconnect.',
    );
  }

  // ---------------------------------------------------------------- playback

  private play(stream: MediaStream): void {
    const doc = this.env.document;
    if (!doc) return;
    if (!this.audio) {
      const audio = doc.createElement('audio');
      audio.autoplay = true;
      audio.hidden = true;
      // A handle for integrators' tests and for someone inspecting the page: this is the call's audio.
      audio.setAttribute('data-openhotline-audio', '');
      (doc.body ?? doc.documentElement).appendChild(audio);
      if (this.outputId && typeof audio.setSinkId === 'function') void audio.setSinkId(this.outputId).catch(() => {});
      this.audio = audio;
    }
    if (this.audio.srcObject !== stream) this.audio.srcObject = stream;
    this.startPlayback();
  }

  private startPlayback(): void {
    const audio = this.audio;
    if (!audio) return;
    audio.play().then(
      () => {
        this.playbackBlocked = false;
        this.blockReported = false;
      },
      (error: { name?: string } | undefined) => {
        // AbortError: a new source replaced this one; it plays on its own.
        if (error?.name !== 'NotAllowedError') return;
        this.playbackBlocked = true;
        this.armGesture();
        this.reportBlockedPlayback();
      },
    );
  }

  /**
   * Blocked playback matters once a call is connected: before that the line is silent, and the click on "answer"
   * usually unblocks it. So it is reported then (once until it plays), not at check-in — where pages that check in
   * on load would get an actionError the agent cannot act on yet.
   */
  private reportBlockedPlayback(): void {
    if (!this.playbackBlocked || !this.inCall || this.blockReported || this.microphoneOpening) return;
    this.blockReported = true;
    this.host.report('AudioPlaybackBlocked');
  }

  /** Retries what the autoplay policy blocked (call audio, ring) on the next click or key press in the page. */
  private armGesture(): void {
    const doc = this.env.document;
    if (!doc || this.gestureArmed) return;
    this.gestureArmed = true;
    const retry = () => {
      for (const type of GESTURES) doc.removeEventListener(type, retry, true);
      this.gestureArmed = false;
      if (this.playbackBlocked) this.startPlayback();
      this.ring.resume();
    };
    for (const type of GESTURES) doc.addEventListener(type, retry, true);
  }

  // ---------------------------------------------------------------- call quality

  private startMonitor(): void {
    if (this.monitor !== undefined) return;
    this.qualityState = INITIAL_QUALITY_STATE;
    this.monitor = this.env.setInterval(() => void this.readQuality(), QUALITY_INTERVAL_MS);
  }

  private stopMonitor(): void {
    if (this.monitor === undefined) return;
    this.env.clearInterval(this.monitor);
    this.monitor = undefined;
  }

  private async readQuality(): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    let report: RTCStatsReport;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    if (this.monitor === undefined || this.pc !== pc) return;
    const { state, quality } = nextCallQuality(this.qualityState, readStats(report.values() as Iterable<StatsEntry>));
    this.qualityState = state;
    if (quality) this.host.quality(quality);
  }
}

/** The ring cadence, seconds on/off/on/off: the British double ring, easy to tell from hold music or a ringback. */
const RING_CADENCE = [0.4, 0.2, 0.4, 2] as const;
const RING_CYCLE_MS = 3000;
const RING_HZ = [400, 450] as const;
const RING_LEVEL = 0.12;

/** The ring tone, generated with Web Audio (no file to ship or license). */
class RingTone {
  private context: AudioContext | undefined;
  private nodes: AudioNode[] = [];
  private timer: unknown;

  constructor(
    private readonly env: MediaEnvironment,
    private readonly blocked: () => void,
  ) {}

  start(sinkId: string): void {
    const Context = this.env.AudioContext;
    if (this.timer !== undefined || !Context) return;
    if (!this.context) {
      this.context = new Context();
      if (sinkId) void this.setSinkId(sinkId).catch(() => {});
    }
    const context = this.context;
    const gain = context.createGain();
    gain.gain.value = 0;
    gain.connect(context.destination);
    const oscillators = RING_HZ.map((hz) => {
      const oscillator = context.createOscillator();
      oscillator.frequency.value = hz;
      oscillator.connect(gain);
      oscillator.start();
      return oscillator;
    });
    this.nodes = [...oscillators, gain];
    // Each cycle is scheduled on the audio clock; soft edges (10 ms) so the tone does not click.
    const cycle = () => {
      let at = context.currentTime;
      RING_CADENCE.forEach((seconds, index) => {
        gain.gain.setTargetAtTime(index % 2 === 0 ? RING_LEVEL : 0, at, 0.01);
        at += seconds;
      });
    };
    cycle();
    this.timer = this.env.setInterval(cycle, RING_CYCLE_MS);
    // Autoplay policy: a context made before any user gesture stays suspended until one.
    if (context.state === 'suspended') this.resume();
  }

  stop(): void {
    if (this.timer === undefined) return;
    this.env.clearInterval(this.timer);
    this.timer = undefined;
    for (const node of this.nodes) {
      if ('stop' in node) (node as OscillatorNode).stop();
      node.disconnect();
    }
    this.nodes = [];
  }

  resume(): void {
    const context = this.context;
    if (context?.state !== 'suspended' || this.timer === undefined) return;
    void context.resume().catch(() => {});
    if (context.state === 'suspended') this.blocked();
  }

  async setSinkId(sinkId: string): Promise<void> {
    const context = this.context as (AudioContext & { setSinkId?: (id: string) => Promise<void> }) | undefined;
    if (typeof context?.setSinkId === 'function') await context.setSinkId(sinkId);
  }

  close(): void {
    this.stop();
    void this.context?.close().catch(() => {});
    this.context = undefined;
  }
}
