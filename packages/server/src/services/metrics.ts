import { AgentBarStatus } from '@openhotline/protocol';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MediaSnapshot } from './media-service.js';

/**
 * Prometheus metrics of one server. A registry per server (not prom-client's global one), so tests that run
 * several servers in one process do not mix their figures.
 */
export class HotlineMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'openhotline_http_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'openhotline_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly channelsOpen = new Gauge({
    name: 'openhotline_channels_open',
    help: 'Live agent channels (WebSockets) open',
    registers: [this.registry],
  });
  readonly framesPushed = new Counter({
    name: 'openhotline_channel_frames_sent_total',
    help: 'Frames sent on live channels',
    registers: [this.registry],
  });
  readonly channelRejections = new Counter({
    name: 'openhotline_channel_rejections_total',
    help: 'Live channel connections or frames refused, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly agentsByStatus = new Gauge({
    name: 'openhotline_agents',
    help: 'Agents by AgentBarStatus',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  /**
   * @param media the media service's snapshot, when media is on: read at each scrape. Node's default metrics come
   *   with it, and two of them matter most to audio: `nodejs_gc_duration_seconds` and `nodejs_eventloop_lag_*`
   *   (every packet that arrives during a pause waits it out; docs/media-benchmark.md).
   */
  constructor(
    private readonly countAgents: () => Map<AgentBarStatus, number>,
    media?: () => MediaSnapshot,
  ) {
    collectDefaultMetrics({ register: this.registry });
    if (media) this.registerMedia(media);
  }

  /**
   * The media engine's figures. Its counters only grow, so they are Prometheus counters, set from the engine's
   * totals at each scrape rather than counted twice.
   */
  private registerMedia(media: () => MediaSnapshot): void {
    const registers = [this.registry];
    let snapshot: MediaSnapshot | undefined;
    // One snapshot per scrape, taken by the first of these to be collected.
    const take = () => {
      if (!snapshot) {
        snapshot = media();
        queueMicrotask(() => {
          snapshot = undefined;
        });
      }
      return snapshot;
    };
    const gauge = (name: string, help: string, value: (s: MediaSnapshot) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value(take()));
        },
      });
    const total = (name: string, help: string, value: (s: MediaSnapshot) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(value(take()));
        },
      });
    gauge(
      'openhotline_media_endpoints',
      'Media endpoints: agent lines, web callers, virtual parties',
      (s) => s.endpoints,
    );
    gauge('openhotline_media_bridges', 'Two-party media bridges', (s) => s.bridges);
    gauge('openhotline_media_conferences', 'Conference mixes', (s) => s.conferences);
    gauge('openhotline_media_recordings', 'Recordings in progress', (s) => s.recordings);
    new Gauge({
      name: 'openhotline_media_agent_lines',
      help: "Agents' media lines by state: connected, or failed and waiting for the browser's new offer",
      labelNames: ['state'] as const,
      registers,
      collect() {
        const { agentLines } = take();
        this.set({ state: 'connected' }, agentLines.connected);
        this.set({ state: 'failed' }, agentLines.failed);
      },
    });
    total('openhotline_media_packets_received_total', 'RTP packets received from endpoints', (s) => s.packetsIn);
    total(
      'openhotline_media_packets_relayed_total',
      'RTP packets relayed unchanged to a bridged endpoint of the same codec',
      (s) => s.packetsRelayed,
    );
    total(
      'openhotline_media_frames_decoded_total',
      'Audio frames decoded (mixing, recording, taps, transcoding)',
      (s) => s.framesDecoded,
    );
    total(
      'openhotline_media_frames_encoded_total',
      'Audio frames encoded (conference mixes, transcoding)',
      (s) => s.framesEncoded,
    );
  }

  /** Gauges computed from live state are set just before a scrape. */
  refresh(): void {
    const counts = this.countAgents();
    for (const [name, value] of Object.entries(AgentBarStatus)) {
      if (typeof value !== 'number') continue;
      this.agentsByStatus.set({ status: name }, counts.get(value) ?? 0);
    }
  }
}
