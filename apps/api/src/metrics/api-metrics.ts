import { hostCapacityRows, instanceCounts, type HostCapacityRow } from '@berth/data';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';

/**
 * The API's Prometheus metrics: its own process (open files, memory, event-loop lag), request
 * latency by route template, and the cloud as the database holds it, read at each scrape:
 * instances by status and kind, and each host's capacity and use.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status'>;

  constructor(dataSource: DataSource, maxInstancesPerHost: number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'berth_api_' });
    this.requests = new Histogram({
      name: 'berth_api_request_duration_seconds',
      help: 'API requests by method, route template and status, and how long they took',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    new Gauge({
      name: 'berth_instances',
      help: 'Instances not deleted, by status and kind',
      labelNames: ['status', 'kind'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const counts = await instanceCounts(dataSource.manager);
        for (const c of counts) this.set({ status: c.status, kind: c.kind }, c.n);
      },
    });
    const hostGauge = (name: string, help: string, column: (r: HostRow) => Record<HostResource, number>) =>
      new Gauge({
        name,
        help,
        labelNames: ['host', 'resource'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const h of await hostRows(dataSource)) {
            const values = column(h);
            for (const resource of HOST_RESOURCES) this.set({ host: h.name, resource }, values[resource]);
          }
        },
      });
    // The gauges register themselves; a scrape calls their collect().
    hostGauge('berth_host_capacity', 'What each host offers, after its allocation ratios', (h) => ({
      vcpus: Math.floor(h.vcpus * h.cpuRatio),
      ram_mb: Math.floor(h.ramMb * h.ramRatio),
      disk_gb: Math.floor(h.diskGb * h.diskRatio),
      instances: maxInstancesPerHost,
    }));
    hostGauge('berth_host_used', "What each host's allocations take", (h) => ({
      vcpus: h.usedVcpus,
      ram_mb: h.usedRamMb,
      disk_gb: h.usedDiskGb,
      instances: h.usedInstances,
    }));
  }

  /** One finished request; `route` is the route's template (bounded), never the raw URL. */
  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: String(status) }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const HOST_RESOURCES = ['vcpus', 'ram_mb', 'disk_gb', 'instances'] as const;
type HostResource = (typeof HOST_RESOURCES)[number];

type HostRow = HostCapacityRow;

const hostRows = (dataSource: DataSource) => hostCapacityRows(dataSource.manager);
