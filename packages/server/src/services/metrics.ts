import { AgentBarStatus } from '@openhotline/protocol';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

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

  constructor(private readonly countAgents: () => Map<AgentBarStatus, number>) {
    collectDefaultMetrics({ register: this.registry });
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
