import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UNKNOWN_LOCATION } from './number-location.js';
import { PhoneNumberLocator, parseChineseNumber, parsePlace, readFlatStringDocument } from './phone-locator.js';

// One locator for the file: the real data, decoded once.
const locator = new PhoneNumberLocator();

const at = (province: string, city: string, carrier = '') => ({ province, city, carrier, known: true });

describe('PhoneNumberLocator (libphonenumber data)', () => {
  it.each([
    ['13800138000', at('北京', '北京', '中国移动')],
    ['13912345678', at('江苏', '常州', '中国移动')],
    ['18612345678', at('北京', '北京', '中国联通')],
    ['15012345678', at('云南', '昭通', '中国移动')],
    ['17712345678', at('江苏', '常州', '中国电信')],
  ])('mobile %s', (number, expected) => {
    expect(locator.locate(number)).toEqual(expected);
  });

  it.each([
    ['010-12345678', at('北京', '北京')],
    ['021 1234 5678', at('上海', '上海')],
    ['022-12345678', at('天津', '天津')],
    ['023-12345678', at('重庆', '重庆')],
    ['0755-12345678', at('广东', '深圳')],
    ['0571-87654321', at('浙江', '杭州')],
    ['0311-1234567', at('河北', '石家庄')],
    ['0471-1234567', at('内蒙古', '呼和浩特')],
    ['0991-1234567', at('新疆', '乌鲁木齐')],
    // One area code for several cities: all of them, not a guess among them.
    ['024-12345678', at('辽宁', '沈阳、铁岭、抚顺')],
  ])('fixed line %s (no carrier: the data has none for fixed lines)', (number, expected) => {
    expect(locator.locate(number)).toEqual(expected);
  });

  it.each([
    ['+86 138 0013 8000'],
    ['+8613800138000'],
    ['0086-138-0013-8000'],
    ['8613800138000'],
    ['(+86) 138.0013.8000'],
    // The trunk 0 before a mobile number dialled from a landline (加拨0).
    ['013800138000'],
  ])('normalizes %s', (number) => {
    expect(locator.locate(number)).toEqual(at('北京', '北京', '中国移动'));
  });

  it.each([['+86 755 1234 5678'], ['+86 (0)755 1234 5678'], ['0086 755 12345678'], ['(0755) 1234-5678']])(
    'normalizes fixed line %s',
    (number) => {
      expect(locator.locate(number)).toEqual(at('广东', '深圳'));
    },
  );

  it('a segment whose place the data does not know gives the carrier only', () => {
    // 199 is China Telecom's, but the geocoding data has no places for 19x segments: say so, do not guess.
    expect(locator.locate('19912345678')).toEqual({ province: '', city: '', carrier: '中国电信', known: true });
    expect(locator.locate('19212345678')).toEqual({ province: '', city: '', carrier: '中国广电', known: true });
  });

  it.each([
    ['14012345678', 'a segment the data knows nothing of'],
    ['16512345678', 'another such segment'],
    ['12345678', 'a local number without area code'],
    ['1380013800', 'a mobile number one digit short'],
    ['138001380001', 'a mobile number one digit long'],
    ['010-1234567', 'a Beijing number one digit short'],
    ['0755-123456789', 'a fixed-line number too long'],
    ['0001-1234567', 'an area code that does not exist'],
    ['+1 415 555 0100', 'a foreign number'],
    ['+852 2123 4567', 'Hong Kong (+852), not +86'],
    ['2112345678', 'a fixed-line number without trunk 0 or country code'],
    ['', 'nothing'],
    ['   ', 'blanks'],
    ['abc', 'letters'],
    ['138-0013-800a', 'a letter inside'],
    ['+86', 'the country code alone'],
    ['++8613800138000', 'two plus signs'],
    ['138*0013*8000', 'stars'],
  ])('unknown: %s (%s)', (number) => {
    expect(locator.locate(number)).toEqual(UNKNOWN_LOCATION);
  });

  it('loads the data lazily, once, however many lookups follow', () => {
    const reads: string[] = [];
    const counting = new PhoneNumberLocator({
      readFile: (path) => {
        reads.push(path);
        return readFileSync(path);
      },
    });
    expect(counting.locate('garbage')).toEqual(UNKNOWN_LOCATION);
    expect(reads).toEqual([]);
    const first = counting.locate('13800138000');
    expect(reads).toHaveLength(2);
    for (let i = 0; i < 10_000; i++) expect(counting.locate('13800138000')).toEqual(first);
    counting.load();
    expect(counting.locate('0755-12345678')).toEqual(at('广东', '深圳'));
    expect(reads).toHaveLength(2);
  });

  it('every place name in the data splits into a known province and a city', () => {
    let geocodes: Uint8Array | undefined;
    new PhoneNumberLocator({
      readFile: (path) => {
        const bytes = readFileSync(path);
        if (/geocodes/.test(path)) geocodes = bytes;
        return bytes;
      },
    }).load();
    const names = new Set(readFlatStringDocument(geocodes!, 'geocodes').values());
    expect(names.size).toBeGreaterThan(300);
    for (const name of names) {
      const place = parsePlace(name);
      expect(place, name).toBeDefined();
      expect(place?.city, name).not.toBe('');
      expect(place?.province, name).not.toMatch(/[省市]$/);
    }
  });

  it('fails loudly when the data files are not where the package keeps them', () => {
    const missing = new PhoneNumberLocator({ resourcesDir: '/nonexistent' });
    expect(() => missing.locate('13800138000')).toThrow(
      /number location data \/nonexistent\/geocodes\/zh\/86.bson cannot be read/,
    );
  });
});

describe('parseChineseNumber', () => {
  it.each([
    ['13800138000', { kind: 'mobile', national: '13800138000' }],
    ['+86 010 1234 5678', { kind: 'fixed', national: '1012345678' }],
    ['010 1234 5678', { kind: 'fixed', national: '1012345678' }],
    ['0571 8765432', { kind: 'fixed', national: '5718765432' }],
    ['00861012345678', { kind: 'fixed', national: '1012345678' }],
    ['861012345678', undefined],
    ['+8612345', undefined],
  ])('%s', (input, expected) => {
    expect(parseChineseNumber(input)).toEqual(expected);
  });
});

describe('parsePlace', () => {
  it.each([
    ['北京市', { province: '北京', city: '北京' }],
    ['天津', { province: '天津', city: '天津' }],
    ['广东省深圳市', { province: '广东', city: '深圳' }],
    ['黑龙江省哈尔滨市', { province: '黑龙江', city: '哈尔滨' }],
    ['内蒙古锡林郭勒盟', { province: '内蒙古', city: '锡林郭勒盟' }],
    ['广西壮族自治区南宁市', { province: '广西', city: '南宁' }],
    ['新疆伊犁哈萨克自治州', { province: '新疆', city: '伊犁哈萨克自治州' }],
    ['湖北省襄樊市、襄樊市', { province: '湖北', city: '襄樊' }],
    ['四川省成都市、资阳市、眉山市', { province: '四川', city: '成都、资阳、眉山' }],
    ['广东省', { province: '广东', city: '' }],
  ])('%s', (name, expected) => {
    expect(parsePlace(name)).toEqual(expected);
  });

  it('refuses a name that does not start with a province', () => {
    expect(parsePlace('Beijing')).toBeUndefined();
    expect(parsePlace('')).toBeUndefined();
  });
});

describe('readFlatStringDocument', () => {
  const doc = (...fields: [string, string][]): Buffer => {
    const body = Buffer.concat(
      fields.map(([key, value]) => {
        const v = Buffer.from(`${value}\0`, 'utf8');
        const length = Buffer.alloc(4);
        length.writeInt32LE(v.length);
        return Buffer.concat([Buffer.from([0x02]), Buffer.from(`${key}\0`), length, v]);
      }),
    );
    const size = Buffer.alloc(4);
    size.writeInt32LE(body.length + 5);
    return Buffer.concat([size, body, Buffer.from([0])]);
  };

  it('reads string fields', () => {
    expect([...readFlatStringDocument(doc(['10', '北京市'], ['1380013', '北京市']), 't')]).toEqual([
      ['10', '北京市'],
      ['1380013', '北京市'],
    ]);
    expect(readFlatStringDocument(doc(), 't').size).toBe(0);
  });

  it('refuses anything else, naming the file', () => {
    const good = doc(['10', 'x']);
    expect(() => readFlatStringDocument(good.subarray(0, 3), 'f.bson')).toThrow(/f\.bson: too short/);
    expect(() => readFlatStringDocument(good.subarray(0, good.length - 1), 'f.bson')).toThrow(/bad document length/);
    const int32Field = Buffer.from(good);
    int32Field[4] = 0x10;
    expect(() => readFlatStringDocument(int32Field, 'f.bson')).toThrow(/BSON type 16 at byte 4/);
    const badLength = Buffer.from(good);
    badLength.writeInt32LE(99, 8);
    expect(() => readFlatStringDocument(badLength, 'f.bson')).toThrow(/bad string at "10"/);
  });
});
