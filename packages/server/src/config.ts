import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Server configuration: defaults, then a JSON file (`--config FILE` or OPENHOTLINE_CONFIG), then environment
 * variables. Validated once at start; a bad value stops the server with a message naming the key and the value.
 */
export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'HOST' }),
    port: Type.Integer({ minimum: 0, maximum: 65_535, description: 'PORT' }),
    dataDir: Type.String({ minLength: 1, description: 'OPENHOTLINE_DATA_DIR' }),
    /** The URL agents' browsers use to reach the server, printed at start; derived from host and port if absent. */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'OPENHOTLINE_PUBLIC_URL' })),
    /** Admin API key; generated on first run and kept in the database when absent. */
    adminKey: Type.Optional(Type.String({ minLength: 16, description: 'OPENHOTLINE_ADMIN_KEY' })),
    /** HMAC secret of access tokens; generated on first run and kept in the database when absent. */
    jwtSecret: Type.Optional(Type.String({ minLength: 32, description: 'OPENHOTLINE_JWT_SECRET' })),
    tokenTtlSeconds: Type.Integer({ minimum: 1, maximum: 86_400, description: 'OPENHOTLINE_TOKEN_TTL_SECONDS' }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { description: 'LOG_LEVEL' },
    ),
    maxBodyBytes: Type.Integer({ minimum: 1024, maximum: 10_485_760, description: 'OPENHOTLINE_MAX_BODY_BYTES' }),
    maxFrameBytes: Type.Integer({ minimum: 256, maximum: 1_048_576, description: 'OPENHOTLINE_MAX_FRAME_BYTES' }),
    heartbeatIntervalMs: Type.Integer({ minimum: 100, maximum: 300_000, description: 'OPENHOTLINE_HEARTBEAT_MS' }),
    replayBufferSize: Type.Integer({ minimum: 1, maximum: 100_000, description: 'OPENHOTLINE_REPLAY_BUFFER' }),
    maxChannelsPerAgent: Type.Integer({ minimum: 1, maximum: 100, description: 'OPENHOTLINE_MAX_CHANNELS_PER_AGENT' }),
    /** Seed the demo instance when the database has no instance yet. */
    seedDemo: Type.Boolean({ description: 'OPENHOTLINE_SEED_DEMO' }),
    /** Origins allowed to call the API from a browser ('*' by default: requests carry bearer tokens, not cookies). */
    corsOrigins: Type.Array(Type.String(), { description: 'OPENHOTLINE_CORS_ORIGINS (comma-separated)' }),
    /** Folder of the built browser SDK, served at /sdk/ (the guide's CDN script). */
    sdkDistDir: Type.String({ minLength: 1, description: 'OPENHOTLINE_SDK_DIST_DIR' }),
    /** Audio: the embedded media engine (docs/media.md). */
    media: Type.Object(
      {
        /** Terminate agents' WebRTC and bridge call audio in this process (off: calls are signaling only). */
        enabled: Type.Boolean({ description: 'OPENHOTLINE_MEDIA (true/false)' }),
        /** The address browsers reach the server's media at (a host candidate); default the interface addresses. */
        announcedAddress: Type.Optional(Type.String({ description: 'OPENHOTLINE_MEDIA_ADDRESS' })),
        /** UDP ports for media, inclusive. */
        portRange: Type.Optional(
          Type.Tuple([Type.Integer({ minimum: 1, maximum: 65_535 }), Type.Integer({ minimum: 1, maximum: 65_535 })], {
            description: 'OPENHOTLINE_MEDIA_PORTS (min-max)',
          }),
        ),
        /** What virtual customers say: an 8 or 16 kHz mono WAV file; default a 1000 Hz tone. */
        promptWav: Type.Optional(Type.String({ minLength: 1 })),
        /**
         * The audio codecs agent lines may use, in preference order; default `["opus", "pcmu"]`. `["pcmu"]` forces
         * G.711 on every line (no transcoding to or from browsers, more bandwidth).
         */
        codecs: Type.Optional(
          Type.Array(Type.Union([Type.Literal('opus'), Type.Literal('pcmu')]), { minItems: 1, uniqueItems: true }),
        ),
      },
      { additionalProperties: false },
    ),
    /**
     * The public customer web-call page and its socket (docs/webcall.md); needs media. Each key may be left out
     * (WEBCALL_DEFAULTS), so a config file can set one limit alone.
     */
    webcall: Type.Object(
      {
        enabled: Type.Optional(Type.Boolean()),
        /** Web calls in progress at once, on the whole server. */
        maxConcurrent: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
        /** Web calls in progress at once from one client address. */
        maxPerAddress: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
        /** A web call is ended after this long (a forgotten tab must not hold an agent forever). */
        maxCallSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
      },
      { additionalProperties: false },
    ),
    /** Call recording (docs/media.md, "Recording"). */
    recording: Type.Object(
      {
        /** Record calls to WAV files; default: on when media is enabled. */
        enabled: Type.Optional(Type.Boolean({ description: 'OPENHOTLINE_RECORDING (true/false)' })),
        /** Folder of the recordings; default `<dataDir>/recordings`. */
        dir: Type.Optional(Type.String({ minLength: 1, description: 'OPENHOTLINE_RECORDING_DIR' })),
      },
      { additionalProperties: false },
    ),
    /** The embedded stand-in for the phone network (docs/virtual-carrier.md). */
    virtualCarrier: Type.Object(
      {
        /** Replaces the default dial plan; first matching rule wins. */
        dialPlan: Type.Optional(
          Type.Array(
            Type.Object({
              pattern: Type.String({ minLength: 1 }),
              behavior: Type.Union(
                ['answer', 'busy', 'no-answer', 'reject', 'invalid', 'answer-then-hangup'].map((b) => Type.Literal(b)),
              ),
              answerAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
              hangupAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
              description: Type.Optional(Type.String()),
            }),
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ServerConfig = Static<typeof ConfigSchema>;

export const DEFAULT_CONFIG: ServerConfig = {
  host: '0.0.0.0',
  port: 8080,
  dataDir: './data',
  tokenTtlSeconds: 900,
  logLevel: 'info',
  maxBodyBytes: 65_536,
  maxFrameBytes: 16_384,
  heartbeatIntervalMs: 15_000,
  replayBufferSize: 128,
  maxChannelsPerAgent: 8,
  seedDemo: true,
  corsOrigins: ['*'],
  // This file sits in packages/server/src (or dist); the SDK's build output is packages/sdk/dist.
  sdkDistDir: resolve(dirname(fileURLToPath(import.meta.url)), '../../sdk/dist'),
  virtualCarrier: {},
  media: { enabled: true },
  recording: {},
  webcall: {},
};

/** The web-call limits a config leaves out. */
export const WEBCALL_DEFAULTS = { enabled: true, maxConcurrent: 20, maxPerAddress: 3, maxCallSeconds: 3600 } as const;

const ENV: Record<string, { key: keyof ServerConfig; kind: 'string' | 'int' | 'bool' | 'list' }> = {
  HOST: { key: 'host', kind: 'string' },
  PORT: { key: 'port', kind: 'int' },
  OPENHOTLINE_DATA_DIR: { key: 'dataDir', kind: 'string' },
  OPENHOTLINE_PUBLIC_URL: { key: 'publicUrl', kind: 'string' },
  OPENHOTLINE_ADMIN_KEY: { key: 'adminKey', kind: 'string' },
  OPENHOTLINE_JWT_SECRET: { key: 'jwtSecret', kind: 'string' },
  OPENHOTLINE_TOKEN_TTL_SECONDS: { key: 'tokenTtlSeconds', kind: 'int' },
  LOG_LEVEL: { key: 'logLevel', kind: 'string' },
  OPENHOTLINE_MAX_BODY_BYTES: { key: 'maxBodyBytes', kind: 'int' },
  OPENHOTLINE_MAX_FRAME_BYTES: { key: 'maxFrameBytes', kind: 'int' },
  OPENHOTLINE_HEARTBEAT_MS: { key: 'heartbeatIntervalMs', kind: 'int' },
  OPENHOTLINE_REPLAY_BUFFER: { key: 'replayBufferSize', kind: 'int' },
  OPENHOTLINE_MAX_CHANNELS_PER_AGENT: { key: 'maxChannelsPerAgent', kind: 'int' },
  OPENHOTLINE_SEED_DEMO: { key: 'seedDemo', kind: 'bool' },
  OPENHOTLINE_CORS_ORIGINS: { key: 'corsOrigins', kind: 'list' },
  OPENHOTLINE_SDK_DIST_DIR: { key: 'sdkDistDir', kind: 'string' },
};

/** Environment variables of nested keys: merged into their section, so a file's other keys in it stay. */
const NESTED_ENV: Record<
  string,
  { section: 'recording' | 'media'; key: string; kind: 'string' | 'bool' | 'portRange' }
> = {
  OPENHOTLINE_MEDIA: { section: 'media', key: 'enabled', kind: 'bool' },
  OPENHOTLINE_MEDIA_ADDRESS: { section: 'media', key: 'announcedAddress', kind: 'string' },
  OPENHOTLINE_MEDIA_PORTS: { section: 'media', key: 'portRange', kind: 'portRange' },
  OPENHOTLINE_RECORDING: { section: 'recording', key: 'enabled', kind: 'bool' },
  OPENHOTLINE_RECORDING_DIR: { section: 'recording', key: 'dir', kind: 'string' },
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `layer` over `base`: a section (an object-valued key, such as `media`) is merged key by key, so a file that sets
 * `media.announcedAddress` keeps `media.enabled` from the defaults; any other value replaces the one below it.
 */
function mergeLayer(base: Record<string, unknown>, layer: Readonly<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(layer)) {
    const below = base[key];
    base[key] = isPlainObject(below) && isPlainObject(value) ? { ...below, ...value } : value;
  }
}

/** Whether calls are recorded and where, with the defaults applied (recording follows media unless set). */
export function recordingSettings(config: ServerConfig): { enabled: boolean; dir: string } {
  return {
    enabled: config.media.enabled && (config.recording.enabled ?? true),
    dir: resolve(config.recording.dir ?? join(config.dataDir, 'recordings')),
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of a JSON config file. */
  readonly file?: string;
  /** Values that win over everything (used by tests and embedders). */
  readonly overrides?: Partial<ServerConfig>;
}

export function loadConfig(sources: ConfigSources = {}): ServerConfig {
  const env = sources.env ?? {};
  const problems: string[] = [];
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };

  const file = sources.file ?? env.OPENHOTLINE_CONFIG;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(resolve(file), 'utf8'));
      if (!isPlainObject(parsed)) {
        problems.push(`config file ${file}: must hold a JSON object`);
      } else {
        mergeLayer(merged, parsed);
      }
    } catch (error) {
      problems.push(`config file ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  for (const [name, { key, kind }] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = parseEnv(raw, kind);
    if (value === undefined) problems.push(`${name} must be ${describeKind(kind)} (got "${raw}")`);
    else merged[key] = value;
  }
  for (const [name, { section, key, kind }] of Object.entries(NESTED_ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = parseEnv(raw, kind);
    if (value === undefined) problems.push(`${name} must be ${describeKind(kind)} (got "${raw}")`);
    else mergeLayer(merged, { [section]: { [key]: value } });
  }
  mergeLayer(merged, sources.overrides ?? {});

  if (problems.length === 0) {
    for (const error of Value.Errors(ConfigSchema, merged)) {
      // The whole path of a nested key (media.codecs.0), so the message points at the value that is wrong.
      const path = error.path.replace(/^\//, '').split('/').filter(Boolean);
      const key = path[0] ?? '';
      const envName =
        path.length === 1
          ? Object.entries(ENV).find(([, v]) => v.key === key)?.[0]
          : Object.entries(NESTED_ENV).find(([, v]) => v.section === key && v.key === path[1])?.[0];
      const shown = JSON.stringify(error.value);
      problems.push(
        key
          ? `${path.join('.')}${envName ? ` (${envName})` : ''}: ${error.message} (got ${shown})`
          : `${error.message} (got ${shown})`,
      );
    }
  }
  const ports = problems.length === 0 ? (merged as ServerConfig).media.portRange : undefined;
  if (ports && ports[0] > ports[1]) {
    problems.push(
      `media.portRange (OPENHOTLINE_MEDIA_PORTS): the first port must not be above the last (got ${JSON.stringify(ports)})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return merged as ServerConfig;
}

type EnvKind = 'string' | 'int' | 'bool' | 'list' | 'portRange';

function parseEnv(raw: string, kind: EnvKind): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'int':
      return /^-?\d+$/.test(raw.trim()) ? Number(raw) : undefined;
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return undefined;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'portRange': {
      // Only the form is checked here; the schema checks the ports' range like a file's value.
      const match = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(raw);
      return match ? [Number(match[1]), Number(match[2])] : undefined;
    }
  }
}

function describeKind(kind: EnvKind): string {
  return {
    string: 'a string',
    int: 'an integer',
    bool: 'true or false',
    list: 'a comma-separated list',
    portRange: 'a port range such as 40000-40999',
  }[kind];
}
