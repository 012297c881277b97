import { type AudioCodecName, codecLabel, DEFAULT_LINE_CODECS } from './codec.js';
import { MediaError } from './media-engine.js';

/**
 * The little the engine reads from a browser's offer itself, before werift sees it: enough to refuse an offer it
 * cannot serve with a clear error, and to tell an ICE restart (new ufrag) from a new peer connection (new DTLS
 * fingerprint).
 */
export interface OfferSummary {
  /** The o= line's session id: the same for every offer of one RTCPeerConnection (RFC 3264 §8). */
  readonly sessionId: string;
  readonly iceUfrag: string;
  readonly fingerprint: string;
}

/** Reads the offer; `codecs` are those the line may use: an offer with none of them is `NoCommonCodec`. */
export function summarizeOffer(sdp: string, codecs: readonly AudioCodecName[] = DEFAULT_LINE_CODECS): OfferSummary {
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) throw new MediaError('InvalidSdp', 'the offer is not SDP');
  const lines = sdp.split(/\r?\n/);
  const audio = lines.find((line) => line.startsWith('m=audio '));
  if (!audio) throw new MediaError('InvalidSdp', 'the offer has no audio section');
  const formats = audio.split(' ').slice(3);
  const offered: Record<AudioCodecName, boolean> = {
    // PCMU is static payload type 0: an offer may list it without an rtpmap line.
    pcmu: formats.includes('0') || lines.some((line) => /^a=rtpmap:\d+ PCMU\/8000/i.test(line)),
    opus: lines.some((line) => /^a=rtpmap:\d+ opus\/48000/i.test(line)),
  };
  if (!codecs.some((codec) => offered[codec])) {
    throw new MediaError(
      'NoCommonCodec',
      `the offer includes none of the codecs served (${codecs.map(codecLabel).join(', ')})`,
    );
  }
  const value = (prefix: string) =>
    lines
      .find((line) => line.startsWith(prefix))
      ?.slice(prefix.length)
      .trim();
  const iceUfrag = value('a=ice-ufrag:');
  const fingerprint = value('a=fingerprint:');
  const sessionId = value('o=')?.split(' ')[1];
  if (!sessionId) throw new MediaError('InvalidSdp', 'the offer has no origin (o=) line');
  if (!iceUfrag) throw new MediaError('InvalidSdp', 'the offer has no ICE ufrag');
  if (!fingerprint) throw new MediaError('InvalidSdp', 'the offer has no DTLS fingerprint');
  return { sessionId, iceUfrag, fingerprint: fingerprint.toLowerCase() };
}

/** The connection address and type of an SDP candidate line or `candidate:` string. */
export function candidateAddress(candidate: string): { address: string; type: string } | undefined {
  const match = /candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ (\S+)/.exec(candidate);
  return match ? { address: match[1]!, type: match[2]! } : undefined;
}

/** The ICE ufrag a trickled candidate belongs to (its `usernameFragment`, or the `ufrag` extension). */
export function candidateUfrag(candidate: { candidate: string; usernameFragment?: string | null }): string | undefined {
  return candidate.usernameFragment ?? /\sufrag (\S+)/.exec(candidate.candidate)?.[1];
}

/** Removes the candidate lines `keep` rejects. */
export function filterSdpCandidates(sdp: string, keep: (candidate: string) => boolean): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(eol)
    .filter((line) => !line.startsWith('a=candidate:') || keep(line.slice(2)))
    .join(eol);
}

/**
 * Gives every answer of one peer connection the same o= session id with an increasing version, as RFC 3264 §8
 * asks (werift makes up a new session id for each description).
 */
export function withOrigin(sdp: string, sessionId: string, version: number): string {
  return sdp.replace(/^o=(\S+) \S+ \S+ /m, (_, username: string) => `o=${username} ${sessionId} ${version} `);
}

export function originSessionId(sdp: string): string | undefined {
  return /^o=\S+ (\S+) /m.exec(sdp)?.[1];
}
