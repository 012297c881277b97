import { describe, expect, it } from 'vitest';
import { parseByteRange } from './byte-range.js';

describe('the Range header of a download', () => {
  const size = 1000;

  it.each([
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=500-', { start: 500, end: 999 }],
    ['bytes=900-5000', { start: 900, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
    [' bytes=999-999 ', { start: 999, end: 999 }],
  ])('%s is the bytes asked for, clamped to the file', (header, range) => {
    expect(parseByteRange(header, size)).toEqual(range);
  });

  it.each([['bytes=1000-'], ['bytes=1000-1100'], ['bytes=-0']])('%s cannot be satisfied (416)', (header) => {
    expect(parseByteRange(header, size)).toBe('unsatisfiable');
  });

  it.each([
    [undefined],
    ['bytes=5-3'],
    ['bytes=0-1,5-9'],
    ['items=0-9'],
    ['bytes=-'],
    ['bytes=abc-'],
    ['bytes=0-99999999999999999999'],
  ])('%s is ignored: the whole file is served', (header) => {
    expect(parseByteRange(header, size)).toBeUndefined();
  });

  it('finds nothing to serve in an empty file', () => {
    expect(parseByteRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=-10', 0)).toBe('unsatisfiable');
  });
});
