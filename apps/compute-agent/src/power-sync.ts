import type { InstanceKind, PowerState } from '@berth/contracts';
import type { ComputeDriver } from '@berth/drivers';
import type { PortTrace } from '@berth/network';
import { errorMessage, type Logger } from '@berth/platform';
import type { CommandHandler } from './command-handler';
import type { Reporter } from './reporter';

/**
 * Tells the control plane, every period, what each hypervisor holds and in which power state (the
 * docker containers and libvirt domains that carry Berth's marks). The scheduler's reports worker
 * applies it to idle instances only. An instance with a command queued or running, or one that
 * started or ended while the listing ran, is reported busy and not judged this time.
 */
export class PowerSync {
  constructor(
    private readonly hostName: string,
    private readonly drivers: ReadonlyMap<InstanceKind, ComputeDriver>,
    private readonly handler: CommandHandler,
    private readonly reporter: Reporter,
    private readonly log: Logger,
    /** The host's tagged OVS ports (hostPortTraces); none where the agent has no network of its own. */
    private readonly portTraces: () => Promise<PortTrace[]> = () => Promise.resolve([]),
  ) {}

  private running = false;

  /** One sync; a period that comes while the previous sync still runs is skipped. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.sync();
    } finally {
      this.running = false;
    }
  }

  private async sync(): Promise<void> {
    const mark = this.handler.mark();
    const kinds: InstanceKind[] = [];
    const listed: Array<{ instanceId: string; powerState: PowerState }> = [];
    for (const [kind, driver] of this.drivers) {
      try {
        listed.push(...(await driver.listInstances()));
        kinds.push(kind);
      } catch (error) {
        // A hypervisor that cannot answer proves nothing about its instances: they are not judged.
        this.log.warn({ kind, err: errorMessage(error) }, 'power sync: listing failed');
      }
    }
    const held = new Set(listed.map((i) => i.instanceId));
    const traces = await this.portTraces().catch((error: unknown) => {
      this.log.warn({ err: errorMessage(error) }, 'power sync: listing OVS ports failed');
      return [];
    });
    await this.reporter.powerStates({
      host: this.hostName,
      kinds,
      instances: listed.filter((i) => this.handler.quietSince(i.instanceId, mark)),
      busy: this.handler.busySince(mark),
      traces: traces
        .filter((t) => !held.has(t.instanceId) && this.handler.quietSince(t.instanceId, mark))
        .map(({ instanceId, portId }) => ({ instanceId, portId })),
    });
    this.handler.forget(mark);
  }
}
