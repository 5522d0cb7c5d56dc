import type { InstanceKind, InstanceSpec, PowerState } from '@berth/contracts';
import { Failpoints } from '@berth/platform';
import { DriverError, type ComputeDriver, type DriverCapabilities, type StepListener } from '../compute-driver';
import { runSteps } from '../run-steps';

interface FakeInstance {
  spec: InstanceSpec;
  power: PowerState;
  plugged: boolean;
}

/**
 * An in-memory driver that keeps the full contract, for unit tests of the agent and for hosts in
 * placement-only tests (as Nova's fake driver). Failpoints "fake.<step>" fail a step on demand.
 */
export class FakeDriver implements ComputeDriver {
  readonly name = 'fake';
  readonly capabilities: DriverCapabilities = { liveResize: false, coldMigrate: false };
  private readonly instances = new Map<string, FakeInstance>();
  private readonly images = new Set<string>();

  constructor(
    readonly kind: InstanceKind = 'container',
    private readonly failpoints = new Failpoints(),
  ) {}

  init(): Promise<void> {
    return Promise.resolve();
  }

  async spawn(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    const existing = this.instances.get(spec.id);
    if (existing?.power === 'RUNNING' && existing.plugged) return;
    this.instances.delete(spec.id);
    await runSteps(onStep, async (step, reverter) => {
      await step('create');
      this.failpoints.check('fake.create');
      this.instances.set(spec.id, { spec, power: 'SHUTDOWN', plugged: false });
      reverter.add('forget instance', () => Promise.resolve(this.instances.delete(spec.id)));
      await step('start');
      this.set(spec.id, { power: 'RUNNING' });
      await step('network');
      this.failpoints.check('fake.network');
      this.set(spec.id, { plugged: true });
    });
  }

  async powerOff(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('stop');
      if (!this.instances.has(spec.id))
        throw new DriverError('stop', `instance ${spec.id} does not exist on this host`);
      this.set(spec.id, { power: 'SHUTDOWN', plugged: false });
    });
  }

  async powerOn(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('start');
      if (!this.instances.has(spec.id))
        throw new DriverError('start', `instance ${spec.id} does not exist on this host`);
      this.failpoints.check('fake.start');
      this.set(spec.id, { power: 'RUNNING', plugged: true });
    });
  }

  async reboot(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await this.powerOff(spec, onStep);
    await this.powerOn(spec, onStep);
  }

  async destroy(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('delete');
      this.instances.delete(spec.id);
    });
  }

  powerState(instanceId: string): Promise<PowerState> {
    return Promise.resolve(this.instances.get(instanceId)?.power ?? 'NOSTATE');
  }

  listInstances(): Promise<Array<{ instanceId: string; powerState: PowerState }>> {
    return Promise.resolve([...this.instances.values()].map((i) => ({ instanceId: i.spec.id, powerState: i.power })));
  }

  readInterface(spec: InstanceSpec): Promise<{ mac: string; addresses: string[] } | null> {
    const instance = this.instances.get(spec.id);
    if (!instance?.plugged) return Promise.resolve(null);
    const { port } = instance.spec;
    return Promise.resolve({ mac: port.mac, addresses: [`${port.ip}/${port.prefixLength}`] });
  }

  async cacheImage(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    this.failpoints.check('fake.pull');
    await onProgress('cached');
    this.images.add(ref);
  }

  cachedImages(): Promise<string[]> {
    return Promise.resolve([...this.images]);
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
