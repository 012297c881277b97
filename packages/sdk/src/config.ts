import { EnumLocale } from '@openhotline/protocol';

/** The guide's SDKConfig: its 14 options, with the guide's names and types. */
export interface SDKConfig {
  /** The instance the agent belongs to (sent as X-Instance-Id; the server refuses a mismatch). */
  InstanceId: string;
  /** The agent access token from the token exchange; sent as `Authorization: Bearer`. */
  BearerToken: string;
  /** The guide's environment choice. OpenHotline keeps and validates it; the server is chosen by apiHost. */
  env: 'online' | 'preOnline';
  /** The OpenHotline server: '' (the page's origin), `host[:port]`, or a full URL. */
  apiHost: string;
  /** The API version: '' and the guide's POP versions (YYYY-MM-DD) all mean OpenHotline's v1. */
  Version: string;
  locale: EnumLocale;
  /** Dial bar: may be dragged. */
  isPlugin: boolean;
  /** Dial bar: show caller and callee numbers masked. */
  needDesensitize: boolean;
  /** Seconds of after-call work before the agent is ready again; 0 = until the agent acts. */
  autoChangeOnLineTime: number;
  /** Dial bar: show the status switch (ready, break). */
  canChangeStatusByHand: boolean;
  /** Voice-to-text for inbound ('callin') and outbound ('callout') calls. */
  enableVoiceToText: Array<'callin' | 'callout'>;
  enableServiceSummary: boolean;
  /** Hide the dial bar. */
  disableUI: boolean;
  /** Where the dial bar loads its assets from: '' = the server at apiHost. */
  cdnPath: string;
}

export type SDKConfigKey = keyof SDKConfig;

/** The guide's defaults, except the two that named the vendor's hosts: '' now means "the page's own origin". */
export const DEFAULT_CONFIG: Readonly<SDKConfig> = Object.freeze({
  InstanceId: '',
  BearerToken: '',
  env: 'online',
  apiHost: '',
  Version: '2020-07-02',
  locale: EnumLocale['zh-CN'],
  isPlugin: true,
  needDesensitize: false,
  autoChangeOnLineTime: 1,
  canChangeStatusByHand: false,
  enableVoiceToText: [],
  enableServiceSummary: false,
  disableUI: false,
  cdnPath: '',
});

/**
 * The vendor's API hosts and CDN from the guide. They cannot be OpenHotline servers, so code that keeps them
 * (or never sets apiHost) talks to the page's own origin, as the default does.
 */
export const VENDOR_API_HOSTS: readonly string[] = ['scsp.aliyuncs.com', 'aiccs.aliyuncs.com', 'api.rhinokeen.com'];
export const VENDOR_CDN_HOSTS: readonly string[] = ['g.alicdn.com'];

export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as SDKConfigKey[];

export type MergeResult =
  | {
      readonly ok: true;
      readonly config: SDKConfig;
      /** Options whose value actually changed. */
      readonly changed: readonly SDKConfigKey[];
      /** Keys that are not options; they are ignored (a host may pass a larger object). */
      readonly ignored: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

type Check = (value: unknown) => { value: unknown } | { problem: string };

const ok = (value: unknown) => ({ value });
const bad = (problem: string) => ({ problem });
const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

const bool: Check = (v) => (typeof v === 'boolean' ? ok(v) : bad(`must be true or false (got ${show(v)})`));

const CHECKS: Record<SDKConfigKey, Check> = {
  InstanceId: (v) =>
    typeof v !== 'string'
      ? bad(`must be a string (got ${show(v)})`)
      : v === '' || /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(v)
        ? ok(v)
        : bad(`must be an instance id: letters, digits, "_.:-", at most 64 (got ${show(v)})`),
  BearerToken: (v) =>
    typeof v !== 'string'
      ? bad(`must be a string (got ${show(v)})`)
      : /\s/.test(v) || v.length > 8192
        ? bad('must be an access token without spaces (at most 8192 characters)')
        : ok(v),
  env: (v) => (v === 'online' || v === 'preOnline' ? ok(v) : bad(`must be "online" or "preOnline" (got ${show(v)})`)),
  apiHost: (v) => {
    if (typeof v !== 'string') return bad(`must be a string (got ${show(v)})`);
    return v === '' || parseHost(v) ? ok(v.trim()) : bad(`must be "host[:port]" or an http(s) URL (got ${show(v)})`);
  },
  Version: (v) =>
    typeof v !== 'string'
      ? bad(`must be a string (got ${show(v)})`)
      : v === '' || v === 'v1' || /^\d{4}-\d{2}-\d{2}$/.test(v)
        ? ok(v)
        : bad(`must be "", "v1" or a date version such as "2020-07-02" (got ${show(v)})`),
  locale: (v) =>
    v === EnumLocale.en || v === EnumLocale['zh-CN']
      ? ok(v)
      : v === 'zh_CN' // the guide's own comment spells the default this way
        ? ok(EnumLocale['zh-CN'])
        : bad(`must be EnumLocale.en ("en") or EnumLocale['zh-CN'] ("zh-CN") (got ${show(v)})`),
  isPlugin: bool,
  needDesensitize: bool,
  autoChangeOnLineTime: (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 3600
      ? ok(v)
      : bad(`must be a whole number of seconds from 0 to 3600 (got ${show(v)})`),
  canChangeStatusByHand: bool,
  enableVoiceToText: (v) => {
    // Before 0.5.0 the option was a switch; true still means both directions.
    if (v === true) return ok(['callin', 'callout']);
    if (v === false) return ok([]);
    if (!Array.isArray(v) || v.some((d) => d !== 'callin' && d !== 'callout')) {
      return bad(`must be an array of "callin" and "callout" (got ${show(JSON.stringify(v))})`);
    }
    return ok([...new Set(v)]);
  },
  enableServiceSummary: bool,
  disableUI: bool,
  cdnPath: (v) =>
    typeof v !== 'string'
      ? bad(`must be a string (got ${show(v)})`)
      : v === '' || parseHost(v)
        ? ok(v.trim())
        : bad(`must be "", "//host[/path]" or an http(s) URL (got ${show(v)})`),
};

/**
 * Merges a partial configuration into the current one. All or nothing: if any value is bad, nothing changes and
 * every problem is listed. `undefined` values are "not given"; unknown keys are ignored and reported.
 */
export function mergeConfig(current: Readonly<SDKConfig>, partial: unknown): MergeResult {
  if (partial === undefined || partial === null) return { ok: true, config: { ...current }, changed: [], ignored: [] };
  if (typeof partial !== 'object' || Array.isArray(partial)) {
    return { ok: false, problems: [`setConfig takes an object of options (got ${show(partial)})`] };
  }
  const next: SDKConfig = { ...current, enableVoiceToText: [...current.enableVoiceToText] };
  const target = next as unknown as Record<string, unknown>;
  const problems: string[] = [];
  const ignored: string[] = [];
  const changed: SDKConfigKey[] = [];
  for (const [key, value] of Object.entries(partial)) {
    if (!isConfigKey(key)) {
      ignored.push(key);
      continue;
    }
    if (value === undefined) continue;
    const result = CHECKS[key](value);
    if ('problem' in result) {
      problems.push(`${key} ${result.problem}`);
      continue;
    }
    if (!sameValue(current[key], result.value)) changed.push(key);
    target[key] = result.value;
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: next, changed, ignored };
}

function isConfigKey(key: string): key is SDKConfigKey {
  return Object.hasOwn(DEFAULT_CONFIG, key);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** For an unknown key, the option it was probably meant to be (case-insensitive match). */
export function suggestKey(key: string): SDKConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
}

/** The page the SDK runs in, as far as endpoints are concerned. */
export interface PageLocation {
  readonly protocol: string;
  readonly host: string;
}

interface ParsedHost {
  /** 'http:' / 'https:' when the value names one, else undefined (take the page's). */
  readonly scheme: 'http:' | 'https:' | undefined;
  readonly host: string;
  readonly hostname: string;
  readonly path: string;
}

function parseHost(value: string): ParsedHost | undefined {
  const text = value.trim();
  const match = /^(?:(https?|wss?):)?(?:\/\/)?((?:\[[0-9a-f:.]+\]|[^/?#\s:@[\]]+)(?::\d{1,5})?)(\/[^?#\s]*)?$/i.exec(
    text,
  );
  if (!match) return undefined;
  const [, rawScheme, host = '', path = ''] = match;
  // A scheme needs "//"; "host:port" must not be read as scheme "host".
  if (rawScheme && !/^[a-z]+:\/\//i.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  const scheme = rawScheme?.toLowerCase();
  return {
    scheme:
      scheme === 'https' || scheme === 'wss' ? 'https:' : scheme === 'http' || scheme === 'ws' ? 'http:' : undefined,
    host: url.host,
    hostname: url.hostname,
    path: path.replace(/\/+$/, ''),
  };
}

export interface Endpoints {
  /** Base URL of the HTTP API, without a trailing slash: `https://host[:port][/prefix]`. */
  readonly http: string;
  /** Base URL of the WebSocket: `wss://host[:port][/prefix]`. */
  readonly ws: string;
}

/**
 * Where the SDK talks to: apiHost resolved against the page. A bare host takes the page's scheme (https → https
 * and wss, anything else → http and ws); '' and the guide's vendor hosts mean the page's own origin.
 * Returns undefined when there is nothing to resolve against (no apiHost outside a web page).
 */
export function resolveEndpoints(apiHost: string, page: PageLocation | undefined): Endpoints | undefined {
  const parsed = apiHost === '' ? undefined : parseHost(apiHost);
  const vendor = parsed !== undefined && VENDOR_API_HOSTS.includes(parsed.hostname.toLowerCase());
  const pageIsWeb = page !== undefined && (page.protocol === 'http:' || page.protocol === 'https:') && page.host;
  if (!parsed || vendor) {
    if (!pageIsWeb) return undefined;
    return build(page.protocol === 'https:' ? 'https:' : 'http:', page.host, '');
  }
  const scheme = parsed.scheme ?? (page?.protocol === 'https:' ? 'https:' : 'http:');
  return build(scheme, parsed.host, parsed.path);
}

function build(scheme: 'http:' | 'https:', host: string, path: string): Endpoints {
  return {
    http: `${scheme}//${host}${path}`,
    ws: `${scheme === 'https:' ? 'wss:' : 'ws:'}//${host}${path}`,
  };
}

/** cdnPath resolved like apiHost; '' and the vendor CDN mean "the server at apiHost" (its /sdk/ folder). */
export function resolveCdnPath(cdnPath: string, endpoints: Endpoints | undefined, page?: PageLocation): string {
  const parsed = cdnPath === '' ? undefined : parseHost(cdnPath);
  if (!parsed || VENDOR_CDN_HOSTS.includes(parsed.hostname.toLowerCase())) {
    return endpoints ? `${endpoints.http}/sdk` : '';
  }
  const scheme = parsed.scheme ?? (page?.protocol === 'https:' ? 'https:' : 'http:');
  return `${scheme}//${parsed.host}${parsed.path}`;
}
