/**
 * G.711 μ-law (PCMU), the one codec inside the media engine. Both directions are table lookups: decoding is 256
 * entries, encoding 64 Ki entries (one per 16-bit sample), built once at start-up from the reference algorithm.
 */

const BIAS = 0x84;
const CLIP = 32_635;

/** The μ-law byte for silence (encode(0)). */
export const MULAW_SILENCE = 0xff;

function decodeSample(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function encodeSample(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const DECODE = Int16Array.from({ length: 256 }, (_, byte) => decodeSample(byte));
/** Indexed by the sample's 16-bit two's complement pattern (`sample & 0xffff`). */
const ENCODE = Uint8Array.from({ length: 65_536 }, (_, bits) => encodeSample(bits >= 0x8000 ? bits - 0x10000 : bits));

export function mulawDecodeSample(byte: number): number {
  return DECODE[byte & 0xff]!;
}

export function mulawEncodeSample(sample: number): number {
  return ENCODE[sample & 0xffff]!;
}

/** Decodes μ-law bytes to 16-bit PCM (into `out` when given, which must be at least as long). */
export function decodeMulaw(bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
  for (let i = 0; i < bytes.length; i++) out[i] = DECODE[bytes[i]!]!;
  return out;
}

/** Encodes 16-bit PCM to μ-law bytes (a Buffer, which is what RTP payloads are). */
export function encodeMulaw(pcm: Int16Array, out: Buffer = Buffer.allocUnsafe(pcm.length)): Buffer {
  for (let i = 0; i < pcm.length; i++) out[i] = ENCODE[pcm[i]! & 0xffff]!;
  return out;
}
