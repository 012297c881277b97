import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Carrier } from './adapters/carrier/carrier.js';
import { VirtualCarrier, validateDialPlan } from './adapters/carrier/virtual-carrier.js';
import type { NumberLocator } from './adapters/location/number-location.js';
import { PhoneNumberLocator } from './adapters/location/phone-locator.js';
import { createWeriftMediaEngine, readWavAs8kMono } from './adapters/media/index.js';
import { withBatchedCallRecords } from './adapters/storage/batched-call-records.js';
import { withConfigCache } from './adapters/storage/config-cache.js';
import { openSqliteStorage } from './adapters/storage/sqlite.js';
import type { Storage } from './adapters/storage/storage.js';
import { recordingSettings, type ServerConfig, WEBCALL_DEFAULTS } from './config.js';
import { AgentService } from './services/agent-service.js';
import { AgentStreams } from './services/agent-streams.js';
import { CallRecordings, finishInterruptedRecordings } from './services/call-recordings.js';
import { CallService } from './services/calls/call-service.js';
import { VirtualCallers } from './services/calls/virtual-callers.js';
import { ChannelRegistry } from './services/channel-registry.js';
import { type Clock, type IdGenerator, randomIds, systemClock } from './services/clock.js';
import { DirectoryService } from './services/directory-service.js';
import type { Logger } from './services/logger.js';
import { MediaService } from './services/media-service.js';
import { HotlineMetrics } from './services/metrics.js';
import { TokenService } from './services/token-service.js';
import { WallboardService } from './services/wallboard.js';
import { WebCallers } from './services/web-callers.js';

/**
 * The composition root: every service of one hotline server, wired once. The HTTP app, the CLI's embedded
 * mode and the tests all start from here, so they run the same code paths with the same adapters.
 */
export interface Hotline {
  readonly config: ServerConfig;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly streams: AgentStreams;
  readonly channels: ChannelRegistry;
  readonly agents: AgentService;
  readonly directory: DirectoryService;
  readonly tokens: TokenService;
  readonly calls: CallService;
  readonly virtualCallers: VirtualCallers;
  readonly carrier: Carrier;
  readonly locator: NumberLocator;
  /** Audio; undefined when media is disabled. */
  readonly media: MediaService | undefined;
  /** Customers calling from the web-call page; undefined when media or web calls are off. */
  readonly webCallers: WebCallers | undefined;
  readonly metrics: HotlineMetrics;
  readonly wallboard: WallboardService;
  readonly adminKey: string;
  /**
   * Stops everything. Recordings in progress are finished and their rows written before storage closes, so with
   * media on this waits for the media engine; without media everything is closed when it returns.
   */
  close(): Promise<void>;
}

export interface HotlineOptions {
  readonly storage?: Storage;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** The phone network; the virtual carrier by default. */
  readonly carrier?: Carrier;
  readonly locator?: NumberLocator;
  readonly log: Logger;
}

export function createHotline(config: ServerConfig, options: HotlineOptions): Hotline {
  const storage = withConfigCache(
    withBatchedCallRecords(
      options.storage ??
        openSqliteStorage(join(config.dataDir, 'openhotline.db'), {
          onWriteFailure: (message) => options.log.error({ message }, 'status write failed'),
        }),
    ),
  );
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const adminKey =
    config.adminKey ?? persistentSecret(storage, 'adminKey', () => `ohk_${randomBytes(24).toString('base64url')}`);
  const jwtSecret =
    config.jwtSecret ?? persistentSecret(storage, 'jwtSecret', () => randomBytes(48).toString('base64url'));

  const streams = new AgentStreams(ids('epoch'), config.replayBufferSize);
  const channels = new ChannelRegistry();
  const agents = new AgentService({ storage, clock, streams, log: options.log });
  const directory = new DirectoryService({
    storage,
    clock,
    agents,
    disconnectAgent: (instanceId, agentId, error) => channels.closeAgent(instanceId, agentId, error),
  });
  const tokens = new TokenService({
    storage,
    clock,
    secret: new TextEncoder().encode(jwtSecret),
    maxTtlSeconds: config.tokenTtlSeconds,
    adminKey,
  });
  const carrier =
    options.carrier ??
    new VirtualCarrier({
      clock,
      ...(config.virtualCarrier.dialPlan ? { dialPlan: validateDialPlan(config.virtualCarrier.dialPlan) } : {}),
    });
  const locator = options.locator ?? new PhoneNumberLocator();
  const engine = config.media.enabled
    ? createWeriftMediaEngine({
        ...(config.media.announcedAddress ? { announcedAddress: config.media.announcedAddress } : {}),
        ...(config.media.portRange ? { portRange: config.media.portRange } : {}),
        ...(config.media.codecs ? { codecs: config.media.codecs } : {}),
      })
    : undefined;
  const recording = recordingSettings(config);
  // Segments a stopped server left open are finished before any new call is recorded.
  finishInterruptedRecordings(storage, recording.dir, options.log);
  const media = engine
    ? new MediaService({
        engine,
        recordings: recording.enabled
          ? new CallRecordings({ engine, storage, clock, ids, dir: recording.dir, log: options.log })
          : undefined,
        agents,
        log: options.log,
        prompt: config.media.promptWav ? readWavAs8kMono(readFileSync(config.media.promptWav)) : { toneHz: 1000 },
      })
    : undefined;
  const calls = new CallService({
    storage,
    clock,
    ids,
    agents,
    carrier,
    locator,
    log: options.log,
    ...(media ? { media } : {}),
  });
  const virtualCallers = new VirtualCallers(calls, clock);
  const webcall = { ...WEBCALL_DEFAULTS, ...config.webcall };
  const webCallers =
    engine && webcall.enabled
      ? new WebCallers({ calls, engine, storage, clock, ids, log: options.log, limits: webcall })
      : undefined;
  const metrics = new HotlineMetrics(() => agents.countByStatus(), media ? () => media.snapshot() : undefined);
  const wallboard = new WallboardService({ storage, clock, agents, calls, log: options.log });
  agents.recover();
  calls.recover();
  wallboard.recover();

  return {
    config,
    storage,
    clock,
    ids,
    streams,
    channels,
    agents,
    directory,
    tokens,
    calls,
    virtualCallers,
    carrier,
    locator,
    media,
    webCallers,
    metrics,
    wallboard,
    adminKey,
    close() {
      wallboard.close();
      virtualCallers.close();
      webCallers?.close();
      calls.close();
      const closeStorage = () => {
        agents.close();
        storage.close();
      };
      if (!media) {
        closeStorage();
        return Promise.resolve();
      }
      return media.close().finally(closeStorage);
    },
  };
}

/** A secret made on first run and kept in the database, so restarts keep tokens and the admin key valid. */
function persistentSecret(storage: Storage, key: string, make: () => string): string {
  const existing = storage.meta.get(key);
  if (existing) return existing;
  const value = make();
  storage.meta.set(key, value);
  return value;
}
