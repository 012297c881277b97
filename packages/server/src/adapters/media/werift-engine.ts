import { isIP } from 'node:net';
import type { RingbackTone } from './audio-sources.js';
import { type AudioCodecName, DEFAULT_LINE_CODECS, validateCodecList } from './codec.js';
import { type MediaClock, realtimeMediaClock } from './media-clock.js';
import { type IceServerConfig, type MediaEngine, MediaError } from './media-engine.js';
import { MediaSwitch } from './media-switch.js';
import { WeriftAgentLine } from './werift-line.js';

export interface WeriftMediaEngineOptions {
  /**
   * The address browsers reach this server at, advertised as a host candidate: the public address behind a 1:1
   * NAT, or 127.0.0.1 for tests on one machine. Without it, the addresses of the machine's interfaces are
   * advertised (loopback excluded).
   */
  readonly announcedAddress?: string;
  /** With `announcedAddress`: advertise the interface addresses too (default false: only the announced one). */
  readonly advertiseInterfaceAddresses?: boolean;
  /** UDP ports for media, inclusive (one per line and address); default: any port the system gives. */
  readonly portRange?: readonly [number, number];
  /** STUN/TURN servers; default none, so nothing outside this machine is contacted. */
  readonly iceServers?: readonly IceServerConfig[];
  /** Gather IPv6 host candidates too (default false). */
  readonly ipv6?: boolean;
  /**
   * The audio codecs agent lines may use, in preference order: each line answers with the first one its offer has
   * (default `['opus', 'pcmu']`: Opus between browsers, G.711 where a browser offers only that). `['pcmu']` forces
   * G.711 on every line, so no call is ever transcoded to or from a browser.
   */
  readonly codecs?: readonly AudioCodecName[];
  /** The 20 ms media clock; default real time. */
  readonly clock?: MediaClock;
  /** Music on hold, 8 kHz mono PCM (see `readWavAs8kMono`); default a generated melody. */
  readonly musicOnHold?: Int16Array;
  /** Ringback while dialing out; default 425 Hz, 1 s on, 4 s off. */
  readonly ringback?: RingbackTone;
}

/** The embedded media engine: werift for agent lines, everything else in process. Options are checked here. */
export function createWeriftMediaEngine(options: WeriftMediaEngineOptions = {}): MediaEngine {
  const { announcedAddress, portRange, iceServers = [] } = options;
  if (announcedAddress !== undefined && isIP(announcedAddress) === 0) {
    throw new MediaError('InvalidArgument', `announcedAddress must be an IP address, got ${announcedAddress}`);
  }
  if (portRange !== undefined) {
    const [min, max] = portRange;
    const port = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65_535;
    if (!port(min) || !port(max) || min >= max) {
      throw new MediaError('InvalidArgument', `portRange must be [min, max] with 1 <= min < max <= 65535`);
    }
  }
  for (const server of iceServers) {
    if (!/^(stun|turns?):/.test(server.urls)) {
      throw new MediaError(
        'InvalidArgument',
        `ICE server URL must start with stun:, turn: or turns:, got ${server.urls}`,
      );
    }
  }
  const codecs = validateCodecList(options.codecs ?? DEFAULT_LINE_CODECS);
  const lineOptions = {
    codecs,
    announcedAddress,
    advertiseInterfaceAddresses: options.advertiseInterfaceAddresses ?? !announcedAddress,
    portRange,
    iceServers,
    ipv6: options.ipv6 ?? false,
  };
  return new MediaSwitch({
    clock: options.clock ?? realtimeMediaClock(),
    lines: (_lineId, hooks) => new WeriftAgentLine(lineOptions, hooks),
    musicOnHold: options.musicOnHold,
    ringback: options.ringback,
  });
}
