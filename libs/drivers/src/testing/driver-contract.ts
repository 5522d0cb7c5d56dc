import type { AppliedLimits, InstanceLimits, InstanceSpec } from '@berth/contracts';
import { randomUUID } from 'node:crypto';
import { DriverError, noSteps, type ComputeDriver } from '../compute-driver';

/**
 * The one contract suite every driver passes (fake in the unit tier, docker and libvirt on the real
 * daemons). A harness supplies the driver, a spec factory, a way to list what the host still holds
 * for an instance, and a driver whose `failingStep` step is armed to fail.
 */
export interface DriverContractHarness {
  driver: () => ComputeDriver;
  spec: (id: string) => InstanceSpec;
  /** Host objects that still exist for the instance (containers, domains, veths, OVS ports...). */
  leftovers: (spec: InstanceSpec) => Promise<string[]>;
  /** A driver armed to fail at `failingStep` during spawn. */
  failingDriver: () => ComputeDriver;
  failingStep: string;
  /**
   * Waits until a running instance's guest is up (a VM boots its own kernel after the hypervisor
   * says it runs); containers need nothing.
   */
  settle?: (spec: InstanceSpec) => Promise<void>;
  /** A driver armed to fail in setLimits after the new limits took effect (so it must restore them). */
  limitsFailingDriver: () => ComputeDriver;
}

/** A shared instance's CPU cap in CPUs, as drivers read it back. */
const cpusOf = (l: InstanceLimits) => (l.vcpus * l.cpuQuota) / 100;

/** The limits a driver reports, without the time they were read. */
const limitsOf = (applied: AppliedLimits | null) => {
  if (!applied) return null;
  const { readAt: _readAt, ...rest } = applied;
  return rest;
};

export function describeDriverContract(name: string, harness: DriverContractHarness): void {
  describe(`ComputeDriver contract: ${name}`, () => {
    let driver: ComputeDriver;
    const created: InstanceSpec[] = [];

    const newSpec = () => {
      const spec = harness.spec(randomUUID());
      created.push(spec);
      return spec;
    };

    beforeAll(async () => {
      driver = harness.driver();
      await driver.init();
    });

    afterAll(async () => {
      for (const spec of created) await driver.destroy(spec, noSteps);
    });

    it('spawns a running instance whose interface has the port MAC and address', async () => {
      const spec = newSpec();
      const steps: string[] = [];
      await driver.spawn(spec, (s) => Promise.resolve(void steps.push(s)));
      expect(await driver.powerState(spec.id)).toBe('RUNNING');
      await harness.settle?.(spec);
      expect(await driver.readInterface(spec)).toEqual({
        mac: spec.port.mac,
        addresses: [`${spec.port.ip}/${spec.port.prefixLength}`],
      });
      expect(steps.length).toBeGreaterThan(0);
      expect(await driver.listInstances()).toContainEqual({ instanceId: spec.id, powerState: 'RUNNING' });
    });

    it('spawn is idempotent: a second spawn of a running instance changes nothing', async () => {
      const spec = newSpec();
      expect(await driver.runsAsSpecified(spec)).toBe(false);
      await driver.spawn(spec, noSteps);
      expect(await driver.runsAsSpecified(spec)).toBe(true);
      await driver.spawn(spec, noSteps);
      expect((await driver.listInstances()).filter((i) => i.instanceId === spec.id)).toHaveLength(1);
      expect(await driver.powerState(spec.id)).toBe('RUNNING');
    });

    it('powers off, on and reboots, keeping the address', async () => {
      const spec = newSpec();
      await driver.spawn(spec, noSteps);
      await driver.powerOff(spec, noSteps);
      expect(await driver.powerState(spec.id)).toBe('SHUTDOWN');
      expect(await driver.runsAsSpecified(spec)).toBe(false);
      expect(await driver.readInterface(spec)).toBeNull();
      await driver.powerOff(spec, noSteps);
      await driver.powerOn(spec, noSteps);
      expect(await driver.powerState(spec.id)).toBe('RUNNING');
      await driver.reboot(spec, noSteps);
      expect(await driver.powerState(spec.id)).toBe('RUNNING');
      await harness.settle?.(spec);
      expect((await driver.readInterface(spec))?.addresses).toEqual([`${spec.port.ip}/${spec.port.prefixLength}`]);
    });

    it("reads a running instance's usage (its memory limit its own), and none of a stopped or unknown one", async () => {
      const spec = newSpec();
      await driver.spawn(spec, noSteps);
      const first = await driver.usage(spec.id);
      const second = await driver.usage(spec.id);
      expect(first).not.toBeNull();
      expect(second!.monotonicMs).toBeGreaterThanOrEqual(first!.monotonicMs);
      expect(second!.cpuSeconds).toBeGreaterThanOrEqual(first!.cpuSeconds);
      expect(first!.memoryLimitBytes).toBe(spec.limits.ramMb * 1024 * 1024);
      for (const value of Object.values(first!)) if (value !== null) expect(value).toBeGreaterThanOrEqual(0);
      await driver.powerOff(spec, noSteps);
      expect(await driver.usage(spec.id)).toBeNull();
      expect(await driver.usage('00000000-0000-4000-8000-000000000000')).toBeNull();
    });

    it('purges a workload known only by its id, leaving nothing', async () => {
      const spec = newSpec();
      await driver.spawn(spec, noSteps);
      await driver.purge(spec.id);
      await driver.purge(spec.id);
      expect(await driver.powerState(spec.id)).toBe('NOSTATE');
      expect(await harness.leftovers(spec)).toEqual([]);
    });

    it('destroys everything and is idempotent', async () => {
      const spec = newSpec();
      await driver.spawn(spec, noSteps);
      await driver.destroy(spec, noSteps);
      await driver.destroy(spec, noSteps);
      expect(await driver.powerState(spec.id)).toBe('NOSTATE');
      expect(await harness.leftovers(spec)).toEqual([]);
      expect((await driver.listInstances()).map((i) => i.instanceId)).not.toContain(spec.id);
    });

    it('fails a power action on an instance that does not exist, naming the step', async () => {
      const spec = newSpec();
      await expect(driver.powerOff(spec, noSteps)).rejects.toMatchObject({ name: 'DriverError', step: 'stop' });
      await expect(driver.powerOn(spec, noSteps)).rejects.toBeInstanceOf(DriverError);
      expect(await driver.consoleTail(spec, 10)).toEqual([]);
    });

    it('spawn applies the limits and reports what it read back, as readLimits does', async () => {
      const spec = newSpec();
      const applied = await driver.spawn(spec, noSteps);
      expect(applied).toMatchObject({ ramMb: spec.limits.ramMb, cpus: cpusOf(spec.limits) });
      expect(limitsOf(await driver.readLimits(spec))).toEqual(limitsOf(applied));
    });

    it('setLimits changes a running instance without a restart, and a stopped one at its next start', async () => {
      const spec = newSpec();
      await driver.spawn(spec, noSteps);
      // What every driver changes live: the CPU quota and a disk throttle.
      const cpuQuota = spec.limits.cpuQuota === 50 ? 25 : 50;
      const throttled = { ...spec, limits: { ...spec.limits, cpuQuota, diskWriteIops: 200 } };
      const applied = await driver.setLimits(throttled, spec.limits, noSteps);
      expect(applied).toMatchObject({ cpus: cpusOf(throttled.limits), diskWriteIops: 200 });
      expect(await driver.powerState(spec.id)).toBe('RUNNING');

      await driver.powerOff(throttled, noSteps);
      expect(await driver.setLimits(spec, throttled.limits, noSteps)).toBeNull();
      expect(await driver.readLimits(spec)).toBeNull();
      expect(await driver.powerOn(spec, noSteps)).toMatchObject({ cpus: cpusOf(spec.limits), diskWriteIops: null });
    });

    it('a setLimits that fails restores the previous limits and names step "limits"', async () => {
      const failing = harness.limitsFailingDriver();
      await failing.init();
      const spec = newSpec();
      await failing.spawn(spec, noSteps);
      const before = limitsOf(await failing.readLimits(spec));
      const changed = {
        ...spec,
        limits: { ...spec.limits, cpuQuota: spec.limits.cpuQuota === 50 ? 25 : 50, diskWriteIops: 200 },
      };
      await expect(failing.setLimits(changed, spec.limits, noSteps)).rejects.toMatchObject({
        name: 'DriverError',
        step: 'limits',
      });
      expect(limitsOf(await failing.readLimits(spec))).toEqual(before);
      await failing.destroy(spec, noSteps);
      await expect(driver.setLimits(newSpec(), spec.limits, noSteps)).rejects.toMatchObject({ step: 'limits' });
    });

    it(`a spawn that fails at "${harness.failingStep}" leaves nothing behind`, async () => {
      const failing = harness.failingDriver();
      await failing.init();
      const spec = newSpec();
      await expect(failing.spawn(spec, noSteps)).rejects.toMatchObject({
        name: 'DriverError',
        step: harness.failingStep,
      });
      expect(await failing.powerState(spec.id)).toBe('NOSTATE');
      expect(await harness.leftovers(spec)).toEqual([]);
    });
  });
}
