/**
 * The media engine as the call service sees it: endpoints that carry audio (an agent's WebRTC line, a virtual
 * carrier party, later a SIP trunk leg), and the operations that connect them — bridge, hold, mute, conference,
 * DTMF, recording and PCM taps.
 *
 * The embedded default is werift inside the server process (`createWeriftMediaEngine`); in cluster mode an
 * rtpengine adapter implements the same interface, so nothing here names werift or any of its types.
 *
 * Codecs: an agent line speaks what its answer chose — Opus when the browser offers it (every browser does), PCMU
 * (G.711 μ-law) when it offers only that or the operator allows only G.711; virtual parties (and later SIP legs)
 * speak PCMU. Bridging two endpoints of the same codec relays RTP without decoding it (Opus between two browsers,
 * PCMU between two G.711 legs); a bridge between Opus and PCMU decodes once and encodes for the other side. Apart
 * from that only hold music and ringback (encoded once per codec), conference mixing, recording and taps touch
 * PCM, which is always 8 kHz mono inside the engine. docs/media.md describes the design, the costs and the
 * signaling the live channel carries.
 */

/** What the engine reports about an agent line's transport (ICE + DTLS). */
export type LineState = 'connected' | 'disconnected' | 'failed' | 'closed';

/** What an endpoint hears while it is neither bridged, in a conference nor held. */
export type WaitingAudio = 'none' | 'ringback' | 'music';

/** An ICE candidate as browsers serialise it (`RTCIceCandidate.toJSON()`), so it crosses the live channel as is. */
export interface IceCandidateInit {
  readonly candidate: string;
  readonly sdpMid?: string | null;
  readonly sdpMLineIndex?: number | null;
  readonly usernameFragment?: string | null;
}

/** A STUN/TURN server the operator configured; the default is none (nothing outside this machine is contacted). */
export interface IceServerConfig {
  readonly urls: string;
  readonly username?: string;
  readonly credential?: string;
}

export interface MediaEngineEvents {
  /**
   * A local ICE candidate for the browser (trickle). `null` means end of candidates. Candidates already written into
   * an answer's SDP are not repeated, and none is emitted before `openAgentLine` has resolved, so the answer always
   * reaches the browser first.
   */
  localCandidate: { readonly lineId: string; readonly candidate: IceCandidateInit | null };
  /** An agent line's transport changed state. `closed` follows `closeEndpoint` (or engine close) only. */
  lineState: { readonly lineId: string; readonly state: LineState };
  /** A DTMF digit (RFC 4733) received from an endpoint, once per key press, reported even while held or muted. */
  dtmf: { readonly endpointId: string; readonly digit: string };
  /** Something failed in the background (a send, an ICE candidate, a listener); media keeps flowing. For logs. */
  warning: { readonly endpointId?: string; readonly code: string; readonly message: string };
}

export type MediaEngineEventName = keyof MediaEngineEvents;

export interface OpenAgentLineOptions {
  /**
   * The browser says it restarted ICE (network change, reconnect). Informational: the restart is recognised from
   * the offer's new ICE credentials, and an offer from a brand-new RTCPeerConnection (page reload) is recognised
   * from its new DTLS fingerprint; either way the line keeps its id, bridges, hold and mute.
   */
  readonly iceRestart?: boolean;
}

/** A prompt for a virtual party: 8 kHz mono PCM, or a pure tone (amplitude 0..1 of full scale, default 0.3). */
export type VirtualPartyPrompt = Int16Array | { readonly toneHz: number; readonly amplitude?: number };

export interface VirtualPartyOptions {
  /** What the party says. */
  readonly prompt: VirtualPartyPrompt;
  /** Repeat the prompt forever (default true); otherwise the party falls silent at its end. */
  readonly loop?: boolean;
}

/** A party of the virtual carrier as a real audio endpoint: it speaks its prompt and keeps what it hears. */
export interface VirtualParty {
  readonly id: string;
  /** Everything it heard (8 kHz PCM, one 20 ms frame per media clock tick, silence when nothing arrived). */
  heard(): Int16Array;
  /** Forgets what it heard so far (tests look at what comes after an action). */
  clearHeard(): void;
  /** DTMF digits it received (RFC 4733), in order. */
  heardDigits(): string;
  /** Presses keys: sends RFC 4733 events from this party into the engine (and on to whoever it is bridged to). */
  sendDtmf(digits: string): void;
}

/** Two endpoints that hear each other. */
export interface Bridge {
  readonly endpoints: readonly [string, string];
  /** Disconnects them: each then hears nothing (its waiting audio if set since, music if held). Safe twice. */
  close(): void;
}

/** Three or more endpoints (two are allowed) where each hears the mix of all the others. */
export interface Conference {
  readonly id: string;
  participants(): readonly string[];
  /** Adds an endpoint that is in no bridge or other conference. */
  add(endpointId: string): void;
  /** Removes one participant; the others stay in the conference. */
  remove(endpointId: string): void;
  close(): void;
}

export interface RecordingOptions {
  /** The agent's endpoint: what it says goes to the left channel. */
  readonly left: string;
  /** The customer's endpoint: what it says goes to the right channel. */
  readonly right: string;
  /** The WAV file to write (created or truncated). */
  readonly path: string;
}

export interface RecordingResult {
  readonly path: string;
  readonly durationMs: number;
  readonly bytes: number;
}

export interface Recording {
  readonly id: string;
  /** Stops capturing and finishes the file: 2-channel 16-bit PCM WAV at 8 kHz. Safe to call twice. */
  stop(): Promise<RecordingResult>;
}

/** Counters for metrics and for checking that the relay path stays decode-free. */
export interface MediaEngineStats {
  readonly endpoints: number;
  readonly bridges: number;
  readonly conferences: number;
  readonly recordings: number;
  /** RTP packets received from endpoints. */
  readonly packetsIn: number;
  /** Packets forwarded unchanged (payload as received, header rewritten) to a bridged endpoint of the same codec. */
  readonly packetsRelayed: number;
  /**
   * Frames decoded to PCM (μ-law or Opus, a concealed lost Opus packet counting as one) for mixing, recording, taps
   * or a bridge between two codecs. Stays put on a bridge of two endpoints of the same codec with nothing else
   * listening.
   */
  readonly framesDecoded: number;
  /**
   * Frames encoded from PCM: conference mixes, and what a bridge between two codecs transcodes. Hold music and
   * ringback are encoded once per codec and not counted.
   */
  readonly framesEncoded: number;
}

export interface MediaEngine {
  /**
   * Answers the browser's offer for an agent line and returns the answer: one audio codec, the first of the
   * engine's list (default Opus, then PCMU) that the offer has, and telephone-event in its clock, with the
   * browser's payload type numbers; host candidates included. Called once at check-in; called again with the same
   * `lineId` and a new offer it renegotiates the same line (ICE restart after a network change, or a new peer
   * connection after a reload, which may even change the codec), keeping the endpoint, its bridge or conference,
   * hold and mute. Calls for one line are handled in order. Throws MediaError `InvalidSdp`, `NoCommonCodec` (none
   * of the engine's codecs in the offer) or `EndpointExists` (id taken by a non-line endpoint).
   */
  openAgentLine(lineId: string, offerSdp: string, options?: OpenAgentLineOptions): Promise<{ answerSdp: string }>;
  /**
   * A candidate trickled by the browser (`null`: end of candidates). Buffered until the line exists and its remote
   * description is set, and across renegotiation until the offer with the candidate's ICE ufrag is applied.
   */
  addRemoteCandidate(lineId: string, candidate: IceCandidateInit | null): void;
  /** Registers a listener; returns the function that removes it. */
  on<E extends MediaEngineEventName>(event: E, listener: (payload: MediaEngineEvents[E]) => void): () => void;
  /** Creates a virtual carrier party (it starts speaking at once). Throws `EndpointExists`. */
  createVirtualParty(id: string, options: VirtualPartyOptions): VirtualParty;
  /**
   * Ends an endpoint: leaves its bridge (closed) or conference, its taps stop, recordings that use it go on with
   * silence on its channel, a line's transport is closed (`lineState: closed`). Unknown ids are ignored.
   */
  closeEndpoint(id: string): Promise<void>;
  /**
   * Connects two endpoints in both directions: an RTP relay when their codecs match, else decoded once and encoded
   * for the other side. Each receiver sees one continuous RTP stream across re-bridging, hold music and DTMF.
   * Resets both endpoints' waiting audio to `none`.
   * Throws `UnknownEndpoint`, `InvalidArgument` (same id twice) or `EndpointBusy` (already bridged/conferenced).
   */
  bridge(a: string, b: string): Bridge;
  /** Held: the endpoint hears music on hold instead of the call, and what it sends reaches nobody. */
  setHold(endpointId: string, held: boolean): void;
  /** Muted: what the endpoint sends reaches nobody (it still hears the call). */
  setMute(endpointId: string, muted: boolean): void;
  /** What an endpoint hears while it is neither bridged, in a conference nor held (ringback while dialing out). */
  setWaitingAudio(endpointId: string, audio: WaitingAudio): void;
  /** Mixes the endpoints: each hears all the others (decoded, N-1 mixed, encoded in its codec). Errors as `bridge`. */
  conference(endpointIds: readonly string[]): Conference;
  /** Sends RFC 4733 events to the endpoint (it hears the keys): digits 0-9 * # A-D. Throws `InvalidArgument`. */
  sendDtmf(endpointId: string, digits: string): void;
  /** Records what `left` and `right` say to a stereo WAV. Throws `RecordingExists`, `RecordingFailed` (file). */
  startRecording(recordingId: string, options: RecordingOptions): Promise<Recording>;
  /**
   * Receives what the endpoint says as 8 kHz PCM whatever its codec, one 20 ms frame (160 samples) per packet (and
   * one per lost Opus packet the decoder concealed), after hold and mute (a muted agent is not transcribed). The
   * array is shared with other consumers: read it, don't modify it. Returns the function that removes the tap.
   */
  tap(endpointId: string, onFrame: (pcm: Int16Array) => void): () => void;
  stats(): MediaEngineStats;
  /** Finishes recordings, closes every endpoint, stops the media clock. Later calls throw `EngineClosed`. */
  close(): Promise<void>;
}

export type MediaErrorCode =
  | 'UnknownEndpoint'
  | 'EndpointExists'
  | 'EndpointBusy'
  | 'InvalidArgument'
  | 'InvalidSdp'
  | 'NoCommonCodec'
  | 'InvalidWav'
  | 'RecordingExists'
  | 'RecordingFailed'
  | 'EngineClosed';

/** The engine's errors: a stable code the call service maps to its own catalogue, and a message for people. */
export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}
