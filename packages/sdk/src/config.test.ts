import { CALLS_PATH, CHANNEL_PATH, EnumLocale } from '@openhotline/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, mergeConfig, resolveCdnPath, resolveEndpoints, suggestKey } from './config';
import { CALLS_API, CHANNEL_API } from './softphone';

describe('the guide option table', () => {
  it('has exactly the 14 options with the guide defaults (vendor hosts replaced by "the page origin")', () => {
    expect(DEFAULT_CONFIG).toEqual({
      InstanceId: '',
      BearerToken: '',
      env: 'online',
      apiHost: '',
      Version: '2020-07-02',
      locale: 'zh-CN',
      isPlugin: true,
      needDesensitize: false,
      autoChangeOnLineTime: 1,
      canChangeStatusByHand: false,
      enableVoiceToText: [],
      enableServiceSummary: false,
      disableUI: false,
      cdnPath: '',
    });
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
  });

  it('uses the server paths the protocol defines', () => {
    expect(CALLS_API).toBe(CALLS_PATH);
    expect(CHANNEL_API).toBe(CHANNEL_PATH);
  });
});

describe('merging a partial config', () => {
  it('merges only the given options and reports which changed', () => {
    const result = mergeConfig(DEFAULT_CONFIG, { InstanceId: 'demo', BearerToken: 'tok', locale: EnumLocale['zh-CN'] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toEqual({ ...DEFAULT_CONFIG, InstanceId: 'demo', BearerToken: 'tok' });
    expect(result.changed).toEqual(['InstanceId', 'BearerToken']);
  });

  it('treats undefined as "not given" and accepts the guide demo object as written', () => {
    const demo = {
      InstanceId: 'ccc_xp_pre-cn-78v1gnp97002',
      BearerToken: '',
      env: 'online',
      apiHost: 'api.rhinokeen.com',
      Version: '',
      locale: EnumLocale['zh-CN'],
      isPlugin: true,
      needDesensitize: false,
      autoChangeOnLineTime: 1,
      canChangeStatusByHand: false,
      disableUI: false,
      cdnPath: undefined,
    };
    const result = mergeConfig(DEFAULT_CONFIG, demo);
    expect(result.ok && result.config.apiHost).toBe('api.rhinokeen.com');
    expect(result.ok && result.config.cdnPath).toBe('');
  });

  it('ignores unknown keys and names them, suggesting the option a wrong case meant', () => {
    const result = mergeConfig(DEFAULT_CONFIG, { instanceId: 'x', somethingElse: 1 });
    expect(result.ok && result.ignored).toEqual(['instanceId', 'somethingElse']);
    expect(suggestKey('instanceid')).toBe('InstanceId');
    expect(suggestKey('nothing')).toBeUndefined();
  });

  it('accepts the spellings the guide itself uses: zh_CN, and enableVoiceToText as a switch', () => {
    const result = mergeConfig(DEFAULT_CONFIG, { locale: 'zh_CN', enableVoiceToText: true });
    expect(result.ok && result.config.locale).toBe('zh-CN');
    expect(result.ok && result.config.enableVoiceToText).toEqual(['callin', 'callout']);
    const dedup = mergeConfig(DEFAULT_CONFIG, { enableVoiceToText: ['callin', 'callin'] });
    expect(dedup.ok && dedup.config.enableVoiceToText).toEqual(['callin']);
  });

  it('does not share the enableVoiceToText array with the caller', () => {
    const list: Array<'callin' | 'callout'> = ['callin'];
    const result = mergeConfig(DEFAULT_CONFIG, { enableVoiceToText: list });
    list.push('callout');
    expect(result.ok && result.config.enableVoiceToText).toEqual(['callin']);
  });
});

describe('validating a partial config', () => {
  const bad: [string, unknown, RegExp][] = [
    ['InstanceId', 42, /InstanceId must be a string/],
    ['InstanceId', 'has space', /InstanceId must be an instance id/],
    ['BearerToken', 'a b', /BearerToken must be an access token without spaces/],
    ['env', 'prod', /env must be "online" or "preOnline"/],
    ['apiHost', 'http://', /apiHost must be/],
    ['apiHost', 'ftp://x', /apiHost must be/],
    ['apiHost', 'host?x=1', /apiHost must be/],
    ['Version', 'v2', /Version must be/],
    ['locale', 'fr', /locale must be EnumLocale.en/],
    ['isPlugin', 'yes', /isPlugin must be true or false/],
    ['needDesensitize', 1, /needDesensitize must be true or false/],
    ['autoChangeOnLineTime', -1, /autoChangeOnLineTime must be a whole number of seconds from 0 to 3600/],
    ['autoChangeOnLineTime', 1.5, /autoChangeOnLineTime must be a whole number/],
    ['autoChangeOnLineTime', '1', /autoChangeOnLineTime must be a whole number/],
    ['canChangeStatusByHand', null, /canChangeStatusByHand must be true or false/],
    ['enableVoiceToText', ['both'], /enableVoiceToText must be an array of "callin" and "callout"/],
    ['enableServiceSummary', 'false', /enableServiceSummary must be true or false/],
    ['disableUI', 0, /disableUI must be true or false/],
    ['cdnPath', 'not a url', /cdnPath must be/],
  ];
  it.each(bad)('refuses %s = %j with a message naming the option', (key, value, message) => {
    const result = mergeConfig(DEFAULT_CONFIG, { [key]: value });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.join('\n')).toMatch(message);
  });

  it('lists every problem at once and changes nothing', () => {
    const result = mergeConfig({ ...DEFAULT_CONFIG, InstanceId: 'kept' }, { InstanceId: 'new', env: 'x', locale: 'y' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(2);
  });

  it('refuses something that is not an object', () => {
    expect(mergeConfig(DEFAULT_CONFIG, 'InstanceId=demo').ok).toBe(false);
    expect(mergeConfig(DEFAULT_CONFIG, ['x']).ok).toBe(false);
    expect(mergeConfig(DEFAULT_CONFIG, undefined).ok).toBe(true);
  });
});

describe('resolving apiHost against the page', () => {
  const https = { protocol: 'https:', host: 'crm.example.com' };
  const http = { protocol: 'http:', host: 'localhost:3000' };

  it('defaults to the page origin', () => {
    expect(resolveEndpoints('', https)).toEqual({ http: 'https://crm.example.com', ws: 'wss://crm.example.com' });
    expect(resolveEndpoints('', http)).toEqual({ http: 'http://localhost:3000', ws: 'ws://localhost:3000' });
  });

  it('treats the guide vendor hosts as the page origin', () => {
    for (const host of ['scsp.aliyuncs.com', 'aiccs.aliyuncs.com', 'api.rhinokeen.com', 'https://scsp.aliyuncs.com']) {
      expect(resolveEndpoints(host, https)?.http).toBe('https://crm.example.com');
    }
  });

  it('takes the scheme of the page for a bare host[:port]', () => {
    expect(resolveEndpoints('hotline.example.com', https)).toEqual({
      http: 'https://hotline.example.com',
      ws: 'wss://hotline.example.com',
    });
    expect(resolveEndpoints('127.0.0.1:8080', http)).toEqual({
      http: 'http://127.0.0.1:8080',
      ws: 'ws://127.0.0.1:8080',
    });
    expect(resolveEndpoints('//hotline:8443', https)?.ws).toBe('wss://hotline:8443');
  });

  it('keeps the scheme and path prefix of a full URL', () => {
    expect(resolveEndpoints('http://10.0.0.5:8080/hotline/', https)).toEqual({
      http: 'http://10.0.0.5:8080/hotline',
      ws: 'ws://10.0.0.5:8080/hotline',
    });
    expect(resolveEndpoints('wss://h.example', http)?.http).toBe('https://h.example');
  });

  it('cannot default to a page origin outside a web page', () => {
    expect(resolveEndpoints('', undefined)).toBeUndefined();
    expect(resolveEndpoints('', { protocol: 'file:', host: '' })).toBeUndefined();
    expect(resolveEndpoints('h:1', undefined)?.http).toBe('http://h:1');
  });

  it('resolves cdnPath to the server /sdk folder unless it names another place', () => {
    const endpoints = resolveEndpoints('h.example', https);
    expect(resolveCdnPath('', endpoints)).toBe('https://h.example/sdk');
    expect(resolveCdnPath('//g.alicdn.com', endpoints)).toBe('https://h.example/sdk');
    expect(resolveCdnPath('//cdn.example.com/assets', endpoints, https)).toBe('https://cdn.example.com/assets');
  });
});
