import type {
  AppliedLimits,
  InstanceKind,
  InstanceLimits,
  InstanceSpec,
  InstanceUsage,
  PowerState,
  DriverCapability,
  TerminalSize,
} from '@berth/contracts';
import { formatCpuList } from '@berth/domain';
import { Failpoints } from '@berth/platform';
import { DriverError, type ComputeDriver, type StepListener } from '../compute-driver';
import { DEFAULT_DISK_WEIGHT } from '../limits';
import { runSteps } from '../run-steps';
import { TerminalRefused, type Terminal, type TerminalListener } from '../terminal';
import { FakeTerminals } from './fake-terminal';

interface FakeInstance {
  spec: InstanceSpec;
  power: PowerState;
  plugged: boolean;
}

/** The CPUs the fake host's shared instances float over. */
const FAKE_SHARED_CPUS = '0-3';

/**
 * An in-memory driver that keeps the full contract, for unit tests of the agent and for hosts in
 * placement-only tests (as Nova's fake driver). Failpoints "fake.<step>" fail a step on demand. Its "kernel" holds exactly the
 * limits it was given, so callers see the contract's shape, not real enforcement.
 */
export class FakeDriver implements ComputeDriver {
  readonly name = 'fake';
  readonly capabilities: readonly DriverCapability[] = ['live-resize', 'cold-migrate'];
  private readonly instances = new Map<string, FakeInstance>();
  private readonly images = new Set<string>();
  private readonly consoles = new Map<string, string[]>();
  private readonly terminals = new FakeTerminals();

  constructor(
    readonly kind: InstanceKind = 'container',
    private readonly failpoints = new Failpoints(),
  ) {}

  init(): Promise<void> {
    return Promise.resolve();
  }

  async spawn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    const existing = this.instances.get(spec.id);
    if (existing?.power === 'RUNNING' && existing.plugged) return this.readLimits(spec);
    this.instances.delete(spec.id);
    return runSteps(onStep, async (step, reverter) => {
      await step('create');
      await this.failpoints.check('fake.create');
      this.instances.set(spec.id, { spec, power: 'SHUTDOWN', plugged: false });
      reverter.add('forget instance', () => Promise.resolve(this.instances.delete(spec.id)));
      await step('start');
      this.set(spec.id, { power: 'RUNNING' });
      this.consoles.set(spec.id, [`${spec.name} started`]);
      await step('network');
      await this.failpoints.check('fake.network');
      this.set(spec.id, { plugged: true });
      await step('limits');
      return this.readLimits(spec);
    });
  }

  purge(instanceId: string): Promise<void> {
    this.instances.delete(instanceId);
    return Promise.resolve();
  }

  /** The firewalls applied, by instance: what a test of the control plane reads back. */
  readonly firewalls = new Map<string, InstanceSpec['port']['firewall']>();

  applyFirewall(spec: InstanceSpec): Promise<boolean> {
    const existing = this.instances.get(spec.id);
    if (!existing?.plugged) return Promise.resolve(false);
    this.firewalls.set(spec.id, spec.port.firewall);
    return Promise.resolve(true);
  }

  runsAsSpecified(spec: InstanceSpec): Promise<boolean> {
    const existing = this.instances.get(spec.id);
    return Promise.resolve(existing?.power === 'RUNNING' && existing.plugged);
  }

  async powerOff(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('stop');
      if (!this.instances.has(spec.id))
        throw new DriverError('stop', `instance ${spec.id} does not exist on this host`);
      this.set(spec.id, { power: 'SHUTDOWN', plugged: false });
      this.terminals.endAll(spec.id, 'the instance stopped');
    });
  }

  async powerOn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    return runSteps(onStep, async (step) => {
      await step('start');
      if (!this.instances.has(spec.id))
        throw new DriverError('start', `instance ${spec.id} does not exist on this host`);
      await this.failpoints.check('fake.start');
      this.set(spec.id, { spec, power: 'RUNNING', plugged: true });
      this.consoles.set(spec.id, [...(this.consoles.get(spec.id) ?? []), `${spec.name} started`]);
      return this.readLimits(spec);
    });
  }

  async reboot(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    await this.powerOff(spec, onStep);
    return this.powerOn(spec, onStep);
  }

  async setLimits(spec: InstanceSpec, previous: InstanceLimits, onStep: StepListener): Promise<AppliedLimits | null> {
    return runSteps(onStep, async (step, reverter) => {
      await step('limits');
      const current = this.instances.get(spec.id);
      if (!current) throw new DriverError('limits', `instance ${spec.id} does not exist on this host`);
      this.set(spec.id, { spec });
      reverter.add('restore the previous limits', () =>
        Promise.resolve(this.set(spec.id, { spec: { ...spec, limits: previous } })),
      );
      await this.failpoints.check('fake.set-limits');
      return this.readLimits(spec);
    });
  }

  /** The limits the fake "kernel" holds: exactly those of the spec it last applied. */
  readLimits(spec: InstanceSpec): Promise<AppliedLimits | null> {
    const instance = this.instances.get(spec.id);
    if (instance?.power !== 'RUNNING') return Promise.resolve(null);
    const limits = instance.spec.limits;
    const dedicated = limits.cpuPolicy === 'dedicated';
    return Promise.resolve({
      cpuset: dedicated ? formatCpuList(limits.pinnedCpus) : FAKE_SHARED_CPUS,
      cpus: dedicated ? null : (limits.vcpus * limits.cpuQuota) / 100,
      ramMb: limits.ramMb,
      pidsLimit: limits.pidsLimit,
      diskReadIops: limits.diskReadIops,
      diskWriteIops: limits.diskWriteIops,
      diskReadBps: limits.diskReadBps,
      diskWriteBps: limits.diskWriteBps,
      diskWeight: limits.diskWeight ?? DEFAULT_DISK_WEIGHT,
      netIngressMbps: instance.plugged ? limits.netIngressMbps : null,
      netEgressMbps: instance.plugged ? limits.netEgressMbps : null,
      procView: 'host',
      readAt: new Date().toISOString(),
    });
  }

  async destroy(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('delete');
      this.instances.delete(spec.id);
      this.consoles.delete(spec.id);
      this.terminals.endAll(spec.id, 'the instance was deleted');
    });
  }

  powerState(instanceId: string): Promise<PowerState> {
    return Promise.resolve(this.instances.get(instanceId)?.power ?? 'NOSTATE');
  }

  listInstances(): Promise<Array<{ instanceId: string; powerState: PowerState }>> {
    return Promise.resolve([...this.instances.values()].map((i) => ({ instanceId: i.spec.id, powerState: i.power })));
  }

  /** A running fake instance has used nothing; its memory limit is its flavor's. */
  usage(instanceId: string): Promise<InstanceUsage | null> {
    const instance = this.instances.get(instanceId);
    if (instance?.power !== 'RUNNING') return Promise.resolve(null);
    return Promise.resolve({
      monotonicMs: performance.now(),
      cpuSeconds: 0,
      memoryBytes: 0,
      memoryLimitBytes: instance.spec.limits.ramMb * 1024 * 1024,
      netRxBytes: 0,
      netTxBytes: 0,
      netRxPackets: 0,
      netTxPackets: 0,
      blockReadBytes: 0,
      blockWriteBytes: 0,
      blockReadOps: 0,
      blockWriteOps: 0,
    });
  }

  readInterface(spec: InstanceSpec): Promise<{ mac: string; addresses: string[] } | null> {
    const instance = this.instances.get(spec.id);
    if (!instance?.plugged) return Promise.resolve(null);
    const { port } = instance.spec;
    return Promise.resolve({ mac: port.mac, addresses: [`${port.ip}/${port.prefixLength}`] });
  }

  /** The fake's console: a line per start of the instance. */
  openTerminal(spec: InstanceSpec, _size: TerminalSize, listener: TerminalListener): Promise<Terminal> {
    if (this.instances.get(spec.id)?.power !== 'RUNNING') {
      return Promise.reject(new TerminalRefused('running', `instance ${spec.id} is not running`));
    }
    return Promise.resolve(this.terminals.start(spec.id, this.kind === 'vm' ? 'serial' : 'shell', listener));
  }

  consoleTail(spec: InstanceSpec, lines: number): Promise<string[]> {
    return Promise.resolve((this.consoles.get(spec.id) ?? []).slice(-lines));
  }

  async cacheImage(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    await this.failpoints.check('fake.pull');
    await onProgress('cached');
    this.images.add(ref);
  }

  cachedImages(): Promise<string[]> {
    return Promise.resolve([...this.images]);
  }

  /** A fake keeps nothing apart. */
  confinement(): Promise<string[]> {
    return Promise.resolve([]);
  }

  /** The fake's snapshot: the instance stops and the reference is remembered as an image. */
  async snapshot(
    spec: InstanceSpec,
    ref: string,
    onStep: StepListener,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<null> {
    await runSteps(onStep, async (step) => {
      await step('stop');
      if (!this.instances.has(spec.id)) throw new Error(`instance ${spec.id} does not exist on this host`);
      this.set(spec.id, { power: 'SHUTDOWN', plugged: false });
      await step('commit');
      await this.failpoints.check('fake.commit');
      await step('push');
      await this.failpoints.check('fake.push');
      await onProgress('pushed');
      this.images.add(ref);
    });
    return null;
  }

  async fetchSnapshot(_spec: InstanceSpec, ref: string, _peer: unknown, onProgress: (d: string) => Promise<void>) {
    await this.cacheImage(ref, onProgress);
  }

  forgetSnapshot(ref: string): Promise<void> {
    this.images.delete(ref);
    return Promise.resolve();
  }

  /** Whether anything of the instance is left (for the contract suite's leftover checks). */
  holds(instanceId: string): boolean {
    return this.instances.has(instanceId);
  }

  private set(instanceId: string, change: Partial<FakeInstance>): void {
    const current = this.instances.get(instanceId);
    if (current) this.instances.set(instanceId, { ...current, ...change });
  }
}
