import { describe, expect, it } from 'vitest';
import {
  type CallQuality,
  estimateMos,
  INITIAL_QUALITY_STATE,
  nextCallQuality,
  ONE_WAY_INTERVALS,
  type QualityState,
  readStats,
  type StatsEntry,
  type StatsSample,
} from './call-quality';

/**
 * Two reports of headless Chromium 500 ms apart, on a call through the OpenHotline server (recorded by
 * e2e/audio.test.ts; certificates, candidates and media-source entries left out). PCMU both ways, 1 ms round trip.
 */
function chromiumReport(t: 0 | 1): StatsEntry[] {
  const [received, bytesIn, bytesOut] = t === 0 ? [125, 20_000, 22_080] : [150, 24_000, 26_080];
  return [
    { type: 'codec', id: 'CIT01_0', mimeType: 'audio/PCMU', payloadType: 0, clockRate: 8000 },
    {
      type: 'candidate-pair',
      id: 'CPGD2HDVTP_mwdXePhb',
      state: 'succeeded',
      nominated: true,
      currentRoundTripTime: 0.001,
    },
    // A pair ICE tried and dropped: not the one in use.
    { type: 'candidate-pair', id: 'CPother', state: 'failed', nominated: false, currentRoundTripTime: 0.4 },
    {
      type: 'inbound-rtp',
      id: 'IT01A1994950719',
      kind: 'audio',
      codecId: 'CIT01_0',
      jitter: 0,
      packetsLost: 0,
      packetsReceived: received,
      bytesReceived: bytesIn,
    },
    { type: 'outbound-rtp', id: 'OT01A3669431807', kind: 'audio', codecId: 'COT01_0', bytesSent: bytesOut },
    {
      type: 'remote-inbound-rtp',
      id: 'RIA3669431807',
      kind: 'audio',
      jitter: t === 0 ? 0.000125 : 0,
      packetsLost: 0,
      fractionLost: 0,
      ...(t === 1 ? { roundTripTime: 0.002304 } : {}),
    },
    { type: 'transport', id: 'T01', selectedCandidatePairId: 'CPGD2HDVTP_mwdXePhb' },
  ];
}

/** A sample with defaults for what a test does not care about. */
function sample(overrides: Partial<StatsSample> = {}): StatsSample {
  return {
    rttMs: 20,
    rtcpRttMs: undefined,
    jitterMs: 2,
    packetsReceived: 0,
    packetsLost: 0,
    bytesReceived: 0,
    bytesSent: 0,
    farJitterMs: 0,
    farFractionLost: 0,
    ...overrides,
  };
}

/** Runs samples through the reducer; returns every quality it produced. */
function run(samples: StatsSample[], state: QualityState = INITIAL_QUALITY_STATE): CallQuality[] {
  const out: CallQuality[] = [];
  for (const next of samples) {
    const step = nextCallQuality(state, next);
    state = step.state;
    if (step.quality) out.push(step.quality);
  }
  return out;
}

/** Cumulative counters for `n` intervals of 500 ms: 25 packets of 160 bytes each way when flowing. */
function flow(n: number, { inbound = true, outbound = true, start = { in: 0, out: 0 } } = {}): StatsSample[] {
  return Array.from({ length: n }, (_, i) =>
    sample({
      packetsReceived: start.in / 160 + (inbound ? 25 * i : 0),
      bytesReceived: start.in + (inbound ? 4000 * i : 0),
      bytesSent: start.out + (outbound ? 4000 * i : 0),
    }),
  );
}

describe('reading a Chromium stats report', () => {
  it('takes RTT from the selected candidate pair, jitter and loss from the RTP entries', () => {
    expect(readStats(chromiumReport(1))).toEqual({
      rttMs: 1,
      rtcpRttMs: expect.closeTo(2.304, 6),
      jitterMs: 0,
      packetsReceived: 150,
      packetsLost: 0,
      bytesReceived: 24_000,
      bytesSent: 26_080,
      farJitterMs: 0,
      farFractionLost: 0,
    });
  });

  it('falls back to the nominated, succeeded pair where there is no transport entry', () => {
    const report = chromiumReport(0).filter((entry) => entry.type !== 'transport');
    expect(readStats(report).rttMs).toBe(1);
  });

  it('gives an empty report zeros and no RTT', () => {
    expect(readStats([])).toEqual(sample({ rttMs: undefined, jitterMs: 0 }));
  });

  it('turns the two recorded reports into a LAN-grade quality', () => {
    const [quality] = run([readStats(chromiumReport(0)), readStats(chromiumReport(1))]);
    expect(quality).toEqual({ rttMs: 1, jitterMs: 0, packetLossPct: 0, mos: 4.4, oneWayAudio: 'none' });
  });
});

describe('the estimated MOS (simplified E-model)', () => {
  it('scores a clean G.711 call about 4.4, the best the codec gets', () => {
    expect(estimateMos(1, 1, 0)).toBeCloseTo(4.4, 1);
    expect(estimateMos(0, 0, 0)).toBeLessThanOrEqual(4.5);
  });

  it('falls with loss: 1 % about 4.3, 5 % about 3.9, 20 % about 2.6', () => {
    expect(estimateMos(20, 5, 1)).toBeCloseTo(4.31, 2);
    expect(estimateMos(1, 1, 5)).toBeCloseTo(3.91, 2);
    expect(estimateMos(50, 10, 20)).toBeCloseTo(2.56, 2);
  });

  it('falls with delay, faster past the 160 ms one-way knee', () => {
    const below = estimateMos(200, 0, 0) - estimateMos(220, 0, 0);
    const above = estimateMos(500, 0, 0) - estimateMos(520, 0, 0);
    expect(above).toBeGreaterThan(below * 3);
    expect(estimateMos(600, 20, 0)).toBeCloseTo(3.61, 2);
  });

  it('stays within 1 to 4.5 for any input, and never rises with more loss, delay or jitter', () => {
    let previous = 5;
    for (const loss of [0, 0.5, 1, 2, 5, 10, 30, 60, 100, 250]) {
      const mos = estimateMos(50, 10, loss);
      expect(mos).toBeGreaterThanOrEqual(1);
      expect(mos).toBeLessThanOrEqual(4.5);
      expect(mos).toBeLessThanOrEqual(previous);
      previous = mos;
    }
    expect(estimateMos(10_000, 5000, 100)).toBe(1);
    expect(estimateMos(-5, -5, -5)).toBe(estimateMos(0, 0, 0));
  });
});

describe('loss, jitter and RTT over an interval', () => {
  it('computes inbound loss from the counters of the interval, not since the call began', () => {
    const [first, second] = run([
      sample({ packetsReceived: 1000, packetsLost: 100 }),
      sample({ packetsReceived: 1023, packetsLost: 102 }),
      sample({ packetsReceived: 1048, packetsLost: 102 }),
    ]);
    expect(first?.packetLossPct).toBe(8);
    expect(second?.packetLossPct).toBe(0);
  });

  it('reports the worse direction: what the server says it lost of ours counts too', () => {
    const [quality] = run([sample(), sample({ packetsReceived: 25, farFractionLost: 0.1, farJitterMs: 12 })]);
    expect(quality?.packetLossPct).toBe(10);
    expect(quality?.jitterMs).toBe(12);
    expect(quality?.mos).toBeCloseTo(estimateMos(20, 12, 10), 2);
  });

  it('ignores the negative loss counts duplicates cause', () => {
    const [quality] = run([sample({ packetsLost: 5 }), sample({ packetsLost: 3, packetsReceived: 25 })]);
    expect(quality?.packetLossPct).toBe(0);
  });

  it('uses the RTCP round trip until ICE has measured one, and 0 before either', () => {
    expect(run([sample(), sample({ rttMs: undefined, rtcpRttMs: 31.25 })])[0]?.rttMs).toBe(31.3);
    expect(run([sample(), sample({ rttMs: undefined })])[0]?.rttMs).toBe(0);
  });

  it('needs two reports: the first gives nothing', () => {
    expect(nextCallQuality(INITIAL_QUALITY_STATE, sample()).quality).toBeUndefined();
  });
});

describe('one-way audio', () => {
  it('says nothing while both directions flow', () => {
    expect(run(flow(10)).map((q) => q.oneWayAudio)).toEqual(Array(9).fill('none'));
  });

  it(`warns inbound-missing after ${ONE_WAY_INTERVALS} intervals of sending without receiving`, () => {
    const flowing = flow(4);
    const last = flowing.at(-1) ?? sample();
    const stalled = flow(5, { inbound: false, start: { in: last.bytesReceived, out: last.bytesSent } }).slice(1);
    const verdicts = run([...flowing, ...stalled]).map((q) => q.oneWayAudio);
    expect(verdicts).toEqual(['none', 'none', 'none', 'none', 'none', 'inbound-missing', 'inbound-missing']);
  });

  it('warns outbound-missing when the browser stops sending (microphone gone) while audio comes in', () => {
    const verdicts = run(flow(6, { outbound: false })).map((q) => q.oneWayAudio);
    expect(verdicts).toEqual(['none', 'none', 'outbound-missing', 'outbound-missing', 'outbound-missing']);
  });

  it('clears at once when the missing direction comes back', () => {
    const stalled = flow(5, { inbound: false });
    const last = stalled.at(-1) ?? sample();
    const back = flow(3, { start: { in: last.bytesReceived, out: last.bytesSent } }).slice(1);
    const verdicts = run([...stalled, ...back]).map((q) => q.oneWayAudio);
    expect(verdicts.slice(-3)).toEqual(['inbound-missing', 'none', 'none']);
  });

  it('does not call a dead line (nothing either way) one-way, nor a short hiccup', () => {
    expect(run(flow(6, { inbound: false, outbound: false })).map((q) => q.oneWayAudio)).toEqual(Array(5).fill('none'));
    const hiccup = [...flow(3), ...flow(3, { inbound: false, start: { in: 8000, out: 8000 } }).slice(1)];
    const tail = flow(3, { start: { in: 8000, out: 16_000 } }).slice(1);
    expect(run([...hiccup, ...tail]).every((q) => q.oneWayAudio === 'none')).toBe(true);
  });
});
