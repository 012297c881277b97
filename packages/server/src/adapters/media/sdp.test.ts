import { describe, expect, it } from 'vitest';
import { candidateAddress, candidateUfrag, filterSdpCandidates, summarizeOffer, withOrigin } from './sdp.js';

/** The parts of a Chromium offer the engine reads (Opus first, PCMU static, telephone-event on 126). */
const CHROMIUM_OFFER = [
  'v=0',
  'o=- 6385289800924079357 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'a=ice-ufrag:X44g',
  'a=fingerprint:sha-256 AB:CD',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:126 telephone-event/8000',
  '',
].join('\r\n');

describe('reading an offer', () => {
  it('finds the session id, ICE ufrag and fingerprint of a Chromium offer', () => {
    expect(summarizeOffer(CHROMIUM_OFFER)).toEqual({
      sessionId: '6385289800924079357',
      iceUfrag: 'X44g',
      fingerprint: 'sha-256 ab:cd',
    });
  });

  it('refuses what the engine cannot serve, with the reason', () => {
    expect(() => summarizeOffer('hello')).toThrow(expect.objectContaining({ code: 'InvalidSdp' }));
    expect(() => summarizeOffer(CHROMIUM_OFFER.replace('m=audio', 'm=video'))).toThrow(/no audio section/);
    const opusOnly = CHROMIUM_OFFER.replace(' 0 8 ', ' 8 ').replace('a=rtpmap:0 PCMU/8000\r\n', '');
    const pcmuOnly = CHROMIUM_OFFER.replace('a=rtpmap:111 opus/48000/2\r\n', '');
    expect(summarizeOffer(opusOnly).iceUfrag).toBe('X44g');
    expect(summarizeOffer(pcmuOnly).iceUfrag).toBe('X44g');
    // An operator who forces G.711 refuses a browser that offers only Opus, and the other way round.
    expect(() => summarizeOffer(opusOnly, ['pcmu'])).toThrow(expect.objectContaining({ code: 'NoCommonCodec' }));
    expect(() => summarizeOffer(opusOnly, ['pcmu'])).toThrow(/none of the codecs served \(PCMU\)/);
    expect(() => summarizeOffer(pcmuOnly, ['opus'])).toThrow(expect.objectContaining({ code: 'NoCommonCodec' }));
    const neither = opusOnly.replace('a=rtpmap:111 opus/48000/2\r\n', '');
    expect(() => summarizeOffer(neither)).toThrow(/none of the codecs served \(Opus, PCMU\)/);
    expect(() => summarizeOffer(CHROMIUM_OFFER.replace('a=ice-ufrag:X44g\r\n', ''))).toThrow(/no ICE ufrag/);
  });
});

describe('candidates and origin lines', () => {
  const host = 'candidate:1 1 udp 2122194687 192.0.2.2 41933 typ host generation 0 ufrag X44g network-id 1';

  it('reads a candidate’s address, type and ufrag', () => {
    expect(candidateAddress(host)).toEqual({ address: '192.0.2.2', type: 'host' });
    expect(candidateUfrag({ candidate: host })).toBe('X44g');
    expect(candidateUfrag({ candidate: host, usernameFragment: 'abcd' })).toBe('abcd');
    expect(candidateUfrag({ candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host' })).toBeUndefined();
  });

  it('drops the candidate lines it is told to, and rewrites the origin line', () => {
    const sdp = `v=0\r\no=- 123 0 IN IP4 0.0.0.0\r\na=candidate:${host}\r\na=candidate:2 1 udp 1 127.0.0.1 5 typ host\r\n`;
    const filtered = filterSdpCandidates(sdp, (candidate) => candidateAddress(candidate)?.address === '127.0.0.1');
    expect(filtered).not.toContain('192.0.2.2');
    expect(filtered).toContain('127.0.0.1 5 typ host');
    expect(withOrigin(filtered, '999', 4)).toContain('o=- 999 4 IN IP4 0.0.0.0\r\n');
  });
});
