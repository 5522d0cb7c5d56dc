import type { InstanceKind, InstanceUsage } from '@berth/contracts';
import type { ComputeDriver } from '@berth/drivers';
import { errorMessage, type Logger } from '@berth/platform';
import { Counter, Gauge, type Registry } from 'prom-client';

type Labels = 'instance_id' | 'kind';
type Reading = { instanceId: string; kind: InstanceKind; usage: InstanceUsage };

/** The counters (only growing) each instance series is made of, by metric name. */
const COUNTERS: Array<[string, string, (u: InstanceUsage) => number]> = [
  ['cpu_seconds_total', 'CPU time the instance used, all its CPUs together', (u) => u.cpuSeconds],
  ['network_receive_bytes_total', 'Bytes the instance received on its port', (u) => u.netRxBytes],
  ['network_transmit_bytes_total', 'Bytes the instance sent on its port', (u) => u.netTxBytes],
  ['network_receive_packets_total', 'Packets the instance received on its port', (u) => u.netRxPackets],
  ['network_transmit_packets_total', 'Packets the instance sent on its port', (u) => u.netTxPackets],
  ['block_read_bytes_total', 'Bytes the instance read from block devices', (u) => u.blockReadBytes],
  ['block_write_bytes_total', 'Bytes the instance wrote to block devices', (u) => u.blockWriteBytes],
  ['block_read_ops_total', 'Read requests the instance made of block devices', (u) => u.blockReadOps],
  ['block_write_ops_total', 'Write requests the instance made of block devices', (u) => u.blockWriteOps],
];

/**
 * Per-instance series on the agent's /metrics, read from the host at each scrape: every running
 * instance's cgroup (or domain) and port counters, labelled by instance id and kind. One reading of
 * all instances serves every series of a scrape; an instance that stops drops out of the next.
 */
export class InstanceMetrics {
  private reading: Promise<Reading[]> | null = null;

  constructor(
    registry: Registry,
    private readonly drivers: ReadonlyMap<InstanceKind, ComputeDriver>,
    private readonly log: Logger,
  ) {
    const readings = () => this.readings();
    for (const [name, help, value] of COUNTERS) {
      new Counter<Labels>({
        name: `berth_instance_${name}`,
        help,
        labelNames: ['instance_id', 'kind'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const r of await readings()) this.inc({ instance_id: r.instanceId, kind: r.kind }, value(r.usage));
        },
      });
    }
    new Gauge<Labels>({
      name: 'berth_instance_memory_bytes',
      help: 'Memory the instance holds, without reclaimable page cache (a VM: its QEMU process resident size)',
      labelNames: ['instance_id', 'kind'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of await readings()) this.set({ instance_id: r.instanceId, kind: r.kind }, r.usage.memoryBytes);
      },
    });
    new Gauge<Labels>({
      name: 'berth_instance_memory_limit_bytes',
      help: "The instance's memory limit (absent when it has none)",
      labelNames: ['instance_id', 'kind'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of await readings()) {
          if (r.usage.memoryLimitBytes !== null) {
            this.set({ instance_id: r.instanceId, kind: r.kind }, r.usage.memoryLimitBytes);
          }
        }
      },
    });
  }

  /**
   * Every running instance's counters, read once for all the series of one scrape: the registry
   * asks every metric at once, so they share the reading in flight; the next scrape reads anew.
   */
  private readings(): Promise<Reading[]> {
    this.reading ??= this.readAll().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async readAll(): Promise<Reading[]> {
    const out: Reading[] = [];
    for (const [kind, driver] of this.drivers) {
      try {
        for (const { instanceId, powerState } of await driver.listInstances()) {
          if (powerState !== 'RUNNING') continue;
          // An instance stopping between the list and the read is simply left out of this scrape.
          const usage = await driver.usage(instanceId).catch(() => null);
          if (usage) out.push({ instanceId, kind, usage });
        }
      } catch (error) {
        this.log.warn({ kind, err: errorMessage(error) }, 'metrics: could not list instances');
      }
    }
    return out;
  }
}
