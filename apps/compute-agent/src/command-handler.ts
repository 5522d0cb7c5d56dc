import type {
  AppliedLimits,
  ComputeCommand,
  ConsoleTail,
  InstanceStatsAnswer,
  Fault,
  HostCommand,
  InstanceKind,
  HostPurgeCommand,
  PortFirewallCommand,
  PowerState,
  SnapshotImage,
  TerminalOpened,
} from '@berth/contracts';
import { consoleTail, pullImage, stats } from './host-queries';
import { DriverError, type ComputeDriver } from '@berth/drivers';
import { hostPortTraces, portSuffix, unplugContainerPort, type HostNet, type PortTrace } from '@berth/network';
import { errorMessage, KeyedLock, type Logger } from '@berth/platform';

import { migrationStep, type VolumeMoves } from './migration-steps';
import type { Reporter } from './reporter';
import type { TerminalSessions } from './terminals';

/** How many deleted instance ids the agent remembers to refuse a build that arrives after its delete. */
const TOMBSTONES = 10_000;

/** The power state each command leaves an instance in, when the hypervisor cannot be asked. */
const POWER_AFTER: Readonly<Record<ComputeCommand['type'], PowerState>> = {
  'instance.create': 'RUNNING',
  'instance.start': 'RUNNING',
  'instance.reboot': 'RUNNING',
  'instance.set-limits': 'RUNNING',
  // A snapshot leaves the instance as it found it; what the hypervisor cannot say, the power sync corrects.
  'instance.snapshot': 'RUNNING',
  'instance.stop': 'SHUTDOWN',
  'instance.delete': 'NOSTATE',
};

/** What a command that succeeded reports besides its power state: the limits in effect, or the image it made. */
interface Done {
  applied?: AppliedLimits | null;
  image?: SnapshotImage;
}

/** Waits before each try at finishing a failed build's undo: about a minute in all, as long as a daemon restart takes. */
const UNDO_RETRY_MS = [500, 1000, 2000, 4000, 8000, 15_000, 30_000];

/**
 * Executes one command from this host's queue with the driver for the instance's kind, and always
 * reports an outcome. Commands for one instance run one at a time, in arrival order.
 */
export class CommandHandler {
  private readonly locks = new KeyedLock();
  private readonly deleted = new Set<string>();
  /** Counts command starts and ends; `touched` holds the count at each instance's latest one. */
  private sequence = 0;
  private readonly touched = new Map<string, number>();
  /** The port (its interface-name suffix) of each instance a command was seen for, until forgotten with it. */
  private readonly ports = new Map<string, string>();

  constructor(
    private readonly drivers: ReadonlyMap<InstanceKind, ComputeDriver>,
    private readonly reporter: Reporter,
    private readonly log: Logger,
    private readonly hostName: string,
    /** The host's network, for port leftovers of strays; null where the agent plugs nothing itself. */
    private readonly net: HostNet | null = null,
    /** The interactive consoles; null where they are not served (unit tests). */
    private readonly terminals: TerminalSessions | null = null,
    /** This host's volumes, which cold moves take along; null where it holds none. */
    private readonly volumes: VolumeMoves | null = null,
  ) {}

  /**
   * Runs a command; a query (console, stats, a terminal to open) answers (the job's return value) without waiting for
   * the instance's lock.
   */
  handle(command: HostCommand): Promise<ConsoleTail | InstanceStatsAnswer | TerminalOpened | void> {
    if (
      'instance' in command &&
      command.type !== 'instance.console' &&
      command.type !== 'instance.stats' &&
      command.type !== 'instance.terminal'
    ) {
      this.ports.set(command.instance.id, portSuffix(command.instance.port.id));
    }
    switch (command.type) {
      case 'image.pull':
        return this.locks.run(`image:${command.imageRef}`, () =>
          pullImage(this.drivers, this.reporter, this.hostName, command, this.log),
        );
      case 'instance.console':
        return consoleTail(this.drivers, command);
      case 'instance.stats':
        return stats(this.drivers, command);
      case 'instance.terminal':
        if (!this.terminals) return Promise.reject(new Error('this agent serves no terminals'));
        return this.terminals.open(command);
      case 'instance.create':
      case 'instance.start':
      case 'instance.stop':
      case 'instance.reboot':
      case 'instance.delete':
      case 'instance.set-limits':
      case 'instance.snapshot':
        return this.exclusive(command.instance.id, () => this.execute(command));
      case 'host.purge':
        return this.purge(command);
      case 'port.firewall':
        return this.exclusive(command.instance.id, () => this.firewall(command));
      case 'migration.snapshot':
      case 'migration.fetch':
      case 'migration.receive':
      case 'migration.drop':
      case 'migration.restore':
        return this.exclusive(command.instance.id, () =>
          migrationStep(this.drivers, this.reporter, this.log, command, this.volumes),
        );
    }
  }

  /** Replaces the port's firewall flows where the port is plugged here; an instance that is off gets them at its start. */
  private async firewall(command: PortFirewallCommand): Promise<void> {
    const { instance } = command;
    const driver = this.drivers.get(instance.kind);
    if (!driver) return;
    const applied = await driver.applyFirewall(instance);
    this.log.info(
      { instanceId: instance.id, rules: instance.port.firewall?.rules.length ?? null, applied },
      applied ? 'firewall applied' : 'firewall not applied: the port is not plugged here',
    );
  }

  /** Runs a command of one instance after the ones before it, marking the instance busy meanwhile. */
  /** Runs `task` alone for the instance: after the commands before it, before those after (volumes use it too). */
  async exclusive(instanceId: string, task: () => Promise<void>): Promise<void> {
    this.touch(instanceId);
    return this.locks.run(instanceId, async () => {
      try {
        await task();
      } finally {
        this.touch(instanceId);
      }
    });
  }

  /**
   * Removes strays the scheduler found no record of for longer than their grace: each workload and
   * the OVS ports tagged with its id. An instance with a command of its own since is left alone.
   */
  private async purge(command: HostPurgeCommand): Promise<void> {
    const traces = this.net ? await hostPortTraces(this.net, this.hostName) : [];
    for (const instanceId of command.instanceIds) {
      if (this.locks.busy(instanceId) || this.touched.has(instanceId)) continue;
      await this.exclusive(instanceId, async () => {
        await this.removeAll(instanceId, traces);
        this.log.warn(
          { instanceId, ports: traces.filter((t) => t.instanceId === instanceId).map((t) => t.name) },
          'stray removed: no record owns it',
        );
      }).catch((error: unknown) =>
        this.log.warn({ instanceId, err: errorMessage(error) }, 'stray removal failed; tried again next time'),
      );
    }
  }

  /** Removes whatever any driver holds of the instance, and the OVS ports tagged with its id. */
  private async removeAll(instanceId: string, traces: readonly PortTrace[]): Promise<void> {
    for (const driver of this.drivers.values()) await driver.purge(instanceId);
    for (const trace of traces.filter((t) => t.instanceId === instanceId)) {
      if (this.net) await unplugContainerPort(this.net, trace.portId);
    }
  }

  /**
   * A build whose undo failed (its daemon went away mid-build) left something behind: removed here,
   * tried again with backoff while the daemon comes back, before the failure is reported. What is
   * still left after that is a stray, removed after its grace period.
   */
  private async finishUndo(instanceId: string, log: Logger): Promise<string | null> {
    let last = '';
    for (const delayMs of UNDO_RETRY_MS) {
      await new Promise((r) => setTimeout(r, delayMs));
      try {
        const traces = this.net ? await hostPortTraces(this.net, this.hostName) : [];
        await this.removeAll(instanceId, traces);
        log.info({ afterMs: delayMs }, 'undo finished once the daemon answered');
        return null;
      } catch (error) {
        last = errorMessage(error);
      }
    }
    return last;
  }

  /** Whether a command is queued or running for the instance whose port's names end in `suffix`. */
  portBusy(suffix: string): boolean {
    for (const [instanceId, ports] of this.ports) {
      if (ports === suffix && this.locks.busy(instanceId)) return true;
    }
    return false;
  }

  /** A point in the command history: `quietSince` compares against it. */
  mark(): number {
    return this.sequence;
  }

  /** No command for this instance is queued or running, and none started or ended after `mark`. */
  quietSince(instanceId: string, mark: number): boolean {
    return !this.locks.busy(instanceId) && (this.touched.get(instanceId) ?? 0) <= mark;
  }

  /** Every instance not quiet since `mark`. */
  busySince(mark: number): string[] {
    return [...this.touched.keys()].filter((id) => !this.quietSince(id, mark));
  }

  /** Forgets history up to `mark`, which no later `quietSince` will ask about. */
  forget(mark: number): void {
    for (const [id, seen] of this.touched) {
      if (seen <= mark && !this.locks.busy(id)) {
        this.touched.delete(id);
        this.ports.delete(id);
      }
    }
  }

  private touch(instanceId: string): void {
    this.touched.set(instanceId, ++this.sequence);
  }

  private async execute(command: ComputeCommand): Promise<void> {
    const { instance, operationId, type } = command;
    const log = this.log.child({ instanceId: instance.id, operationId, command: type });
    const driver = this.drivers.get(instance.kind);
    if (!driver) {
      await this.reporter.result(operationId, instance.id, type, 'NOSTATE', {
        fault: fault('driver', `this host has no ${instance.kind} driver`),
      });
      return;
    }
    if (type === 'instance.create' && this.deleted.has(instance.id)) {
      await this.reporter.result(operationId, instance.id, type, 'NOSTATE', {
        fault: fault('create', 'the instance was deleted before it was built'),
      });
      return;
    }
    const onStep = (step: string, detail?: string) => this.reporter.step(operationId, step, detail);
    const started = Date.now();
    let done: Done;
    try {
      done = await this.run(driver, command, onStep);
    } catch (error) {
      const step = error instanceof DriverError ? error.step : 'agent';
      let undo =
        error instanceof DriverError && error.undoFailures.length > 0
          ? ` (undo failed: ${error.undoFailures.join('; ')})`
          : '';
      if (undo && type === 'instance.create') {
        const left = await this.finishUndo(instance.id, log);
        undo = left === null ? ' (undone once the host daemon answered again)' : `${undo}; still failing: ${left}`;
      }
      log.warn({ step, err: errorMessage(error), ms: Date.now() - started }, 'command failed');
      const power = await driver.powerState(instance.id).catch(() => 'NOSTATE' as const);
      const applied = await driver.readLimits(instance).catch(() => null);
      await this.reporter.result(operationId, instance.id, type, power, {
        fault: fault(step, errorMessage(error) + undo),
        applied,
      });
      return;
    }
    log.info({ ms: Date.now() - started }, 'command succeeded');
    // Done is done: a daemon that stops answering right after the command must not turn it into a failure.
    const power = await this.powerAfter(driver, instance.id, type, log);
    await this.reporter.result(operationId, instance.id, type, power, done);
  }

  /**
   * The power state after a command that succeeded, asked of the hypervisor; while it does not answer
   * (restarting), asked again with backoff, and at last the state the command leaves (the power sync
   * corrects it later if that was wrong).
   */
  private async powerAfter(
    driver: ComputeDriver,
    instanceId: string,
    type: ComputeCommand['type'],
    log: Logger,
  ): Promise<PowerState> {
    let last: unknown;
    for (const delayMs of [0, ...UNDO_RETRY_MS.slice(0, 5)]) {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      try {
        return await driver.powerState(instanceId);
      } catch (error) {
        last = error;
      }
    }
    log.warn(
      { err: errorMessage(last) },
      'power state unreadable after the command; reporting what the command leaves',
    );
    return POWER_AFTER[type];
  }

  /** Runs the command; returns the limits in effect afterwards (null when the instance does not run), or the image made. */
  private async run(
    driver: ComputeDriver,
    command: ComputeCommand,
    onStep: (step: string, detail?: string) => Promise<void>,
  ): Promise<Done> {
    const { instance } = command;
    switch (command.type) {
      case 'instance.create':
        if (command.recovery && !(await driver.runsAsSpecified(instance))) {
          await driver.destroy(instance, onStep);
          throw new DriverError('recover', 'the host restarted during the build; what it had made was removed');
        }
        return { applied: await driver.spawn(instance, onStep) };
      case 'instance.start':
        return { applied: await driver.powerOn(instance, onStep) };
      case 'instance.stop':
        await driver.powerOff(instance, onStep);
        return { applied: null };
      case 'instance.reboot':
        return { applied: await driver.reboot(instance, onStep) };
      case 'instance.set-limits':
        return { applied: await driver.setLimits(instance, command.previous ?? instance.limits, onStep) };
      case 'instance.delete':
        await driver.destroy(instance, onStep);
        this.remember(instance.id);
        return { applied: null };
      case 'instance.snapshot': {
        if (!command.image) throw new DriverError('snapshot', 'the snapshot names no image to make');
        if (!driver.captureImage)
          throw new DriverError('snapshot', `this host's ${instance.kind} driver makes no images`);
        const progress = (step: string) => (detail: string) => onStep(step, detail);
        return { image: await driver.captureImage(instance, command.image, onStep, progress) };
      }
    }
  }

  private remember(instanceId: string): void {
    this.deleted.add(instanceId);
    if (this.deleted.size > TOMBSTONES) {
      const oldest = this.deleted.values().next().value;
      if (oldest !== undefined) this.deleted.delete(oldest);
    }
  }
}

function fault(step: string, message: string): Fault {
  return { step, message, at: new Date().toISOString() };
}
