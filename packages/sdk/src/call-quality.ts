/**
 * Call quality from WebRTC statistics: pure functions over `RTCPeerConnection.getStats()` reports, so the maths is
 * tested on recorded reports without a browser. The media session reads the stats every 500 ms during a call and
 * emits what `nextCallQuality` returns as the `onCallQuality` event.
 */

/** Which direction of the call carries no audio while the other does. */
export type OneWayAudio = 'none' | 'inbound-missing' | 'outbound-missing';

/** `data` of the `onCallQuality` event. */
export interface CallQuality {
  /** Round-trip time between the browser and the server, ms (ICE; else RTCP); 0 until one was measured. */
  readonly rttMs: number;
  /** Interarrival jitter, ms: the worse of what the browser receives and what the server reports receiving. */
  readonly jitterMs: number;
  /** Packets lost, percent, over the last interval: the worse of the two directions. */
  readonly packetLossPct: number;
  /** Estimated mean opinion score, 1 (bad) to 4.5 (the best G.711 can do): see `estimateMos`. */
  readonly mos: number;
  /** `inbound-missing`: the agent hears nothing while sending; `outbound-missing`: the reverse. */
  readonly oneWayAudio: OneWayAudio;
}

/** The counters of one stats report that quality is computed from (cumulative, as the browser keeps them). */
export interface StatsSample {
  /** ms, from the selected ICE candidate pair (undefined until the first STUN answer). */
  readonly rttMs: number | undefined;
  /** ms, RTCP round trip (remote-inbound-rtp), a fallback for rttMs. */
  readonly rtcpRttMs: number | undefined;
  readonly jitterMs: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** What the server reports about our packets (remote-inbound-rtp): jitter ms and the fraction lost, 0–1. */
  readonly farJitterMs: number;
  readonly farFractionLost: number;
}

/** One entry of an RTCStatsReport: only the fields read here, all optional (browsers differ). */
export type StatsEntry = Readonly<Record<string, unknown>> & { readonly type?: unknown; readonly id?: unknown };

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const ms = (seconds: unknown): number | undefined =>
  typeof seconds === 'number' && Number.isFinite(seconds) ? seconds * 1000 : undefined;

/** Reads the audio counters out of a stats report (`[...report.values()]`). */
export function readStats(report: Iterable<StatsEntry>): StatsSample {
  const entries = [...report];
  const byType = (type: string) => entries.filter((entry) => entry.type === type && entry.kind !== 'video');
  const pairs = entries.filter((entry) => entry.type === 'candidate-pair');
  const selectedId = entries.find((entry) => entry.type === 'transport')?.selectedCandidatePairId;
  // The transport names the pair in use; browsers without it mark it nominated and succeeded.
  const pair =
    pairs.find((entry) => entry.id === selectedId) ??
    pairs.find((entry) => entry.nominated === true && entry.state === 'succeeded');
  const inbound = byType('inbound-rtp');
  const outbound = byType('outbound-rtp');
  const far = byType('remote-inbound-rtp');
  const sum = (list: StatsEntry[], field: string) => list.reduce((total, entry) => total + num(entry[field]), 0);
  const max = (list: StatsEntry[], field: string) => Math.max(0, ...list.map((entry) => num(entry[field])));
  return {
    rttMs: ms(pair?.currentRoundTripTime),
    rtcpRttMs: ms(far.find((entry) => typeof entry.roundTripTime === 'number')?.roundTripTime),
    jitterMs: max(inbound, 'jitter') * 1000,
    packetsReceived: sum(inbound, 'packetsReceived'),
    packetsLost: sum(inbound, 'packetsLost'),
    bytesReceived: sum(inbound, 'bytesReceived'),
    bytesSent: sum(outbound, 'bytesSent'),
    farJitterMs: max(far, 'jitter') * 1000,
    farFractionLost: max(far, 'fractionLost'),
  };
}

/**
 * The E-model (ITU-T G.107) reduced to what a G.711 call's statistics can feed it, as commonly done for VoIP
 * monitoring:
 *
 *   one-way delay   d  = rtt / 2 + 2 × jitter + 10 ms            (jitter buffer ≈ 2 × jitter; 10 ms codec + packetisation)
 *   delay impairment Id = d / 40               when d < 160 ms
 *                       = (d − 120) / 10       otherwise          (the knee of G.107's Id curve)
 *   loss impairment  Ie = 95 × p / (p + 25.1)  p = packet loss %   (G.711 with loss concealment: Ie = 0, Bpl = 25.1, G.113)
 *   R = 93.2 − Id − Ie                                             (93.2: G.107's default R with nothing impaired)
 *   MOS = 1 + 0.035 R + 7·10⁻⁶ R (R − 60)(100 − R), 1 for R ≤ 0, 4.5 for R ≥ 100
 *
 * A clean G.711 call on a LAN scores 4.4; 1 % loss 4.3; 5 % loss 3.9; 20 % loss 2.6; a 600 ms round trip 3.6.
 */
export function estimateMos(rttMs: number, jitterMs: number, packetLossPct: number): number {
  const delay = Math.max(0, rttMs) / 2 + 2 * Math.max(0, jitterMs) + 10;
  const delayImpairment = delay < 160 ? delay / 40 : (delay - 120) / 10;
  const loss = Math.min(100, Math.max(0, packetLossPct));
  const lossImpairment = (95 * loss) / (loss + 25.1);
  const r = 93.2 - delayImpairment - lossImpairment;
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}

/** What `nextCallQuality` carries from one report to the next. */
export interface QualityState {
  readonly previous: StatsSample | undefined;
  /** Consecutive intervals in which bytes went out but none came in (and the reverse). */
  readonly inboundStalls: number;
  readonly outboundStalls: number;
}

export const INITIAL_QUALITY_STATE: QualityState = { previous: undefined, inboundStalls: 0, outboundStalls: 0 };

/**
 * Intervals of one-way flow before it is reported: at 500 ms each, 1.5 s — longer than a jitter buffer's hiccup
 * or an ICE restart (a few packets), shorter than a customer saying "hello?" twice.
 */
export const ONE_WAY_INTERVALS = 3;

/**
 * One step: the new report against the previous one. Returns the quality for the interval between them, or
 * undefined for the first report (loss and flow are rates: they need two). If neither direction moves, the line
 * is down (media.state says so): that is not one-way audio.
 */
export function nextCallQuality(
  state: QualityState,
  sample: StatsSample,
): { state: QualityState; quality: CallQuality | undefined } {
  const previous = state.previous;
  if (!previous) return { state: { ...state, previous: sample }, quality: undefined };
  const received = sample.bytesReceived > previous.bytesReceived;
  const sent = sample.bytesSent > previous.bytesSent;
  const inboundStalls = sent && !received ? state.inboundStalls + 1 : 0;
  const outboundStalls = received && !sent ? state.outboundStalls + 1 : 0;

  const lost = Math.max(0, sample.packetsLost - previous.packetsLost);
  const arrived = Math.max(0, sample.packetsReceived - previous.packetsReceived);
  const inboundLossPct = lost + arrived > 0 ? (100 * lost) / (lost + arrived) : 0;
  const packetLossPct = round(Math.max(inboundLossPct, 100 * sample.farFractionLost), 2);
  const rttMs = round(sample.rttMs ?? sample.rtcpRttMs ?? 0, 1);
  const jitterMs = round(Math.max(sample.jitterMs, sample.farJitterMs), 1);
  return {
    state: { previous: sample, inboundStalls, outboundStalls },
    quality: {
      rttMs,
      jitterMs,
      packetLossPct,
      mos: round(estimateMos(rttMs, jitterMs, packetLossPct), 2),
      oneWayAudio:
        inboundStalls >= ONE_WAY_INTERVALS
          ? 'inbound-missing'
          : outboundStalls >= ONE_WAY_INTERVALS
            ? 'outbound-missing'
            : 'none',
    },
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
