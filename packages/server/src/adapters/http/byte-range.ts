/**
 * The `Range` request header (RFC 9110 §14), as far as a download of one file needs it: a single `bytes=` range
 * (`a-b`, `a-`, or the suffix `-n`). Browsers' <audio> elements send `bytes=N-` to seek.
 *
 * - no header, another unit, several ranges or a malformed one: `undefined` — the whole file is served (the RFC
 *   lets a server ignore a Range it does not support);
 * - a range that starts at or beyond the end (or an empty suffix): `'unsatisfiable'` (416);
 * - otherwise the inclusive byte positions, the end clamped to the file.
 */
export type ByteRange = { readonly start: number; readonly end: number };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

export function parseByteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  // `bytes=5-3` is not a range at all (ignored); `bytes=SIZE-` is one this file cannot satisfy.
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}
