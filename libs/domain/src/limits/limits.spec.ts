import type { Throttles } from '@berth/contracts';
import { keptCpus, planResize, resourcesOf, shortfalls, VM_PIDS } from '../capacity';
import { formatCpuList, hostCpuSets, parseCpuList } from './cpu-list';
import { applyThrottleChanges, checkBounds, flavorThrottles } from './throttles';

const base: Throttles = flavorThrottles({ netEgressMbps: 100 }, 1024);

describe('CPU lists', () => {
  it('parses the kernel format into sorted, distinct CPUs and back to its shortest form', () => {
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList(' 3,1,1-2 ')).toEqual([1, 2, 3]);
    expect(parseCpuList('')).toEqual([]);
    expect(formatCpuList([11, 0, 1, 2, 3, 8, 10])).toBe('0-3,8,10-11');
    expect(formatCpuList([5])).toBe('5');
    expect(formatCpuList([])).toBe('');
  });

  it('refuses what is not a CPU list', () => {
    for (const bad of ['a', '1-', '3-1', '0,,1', '-1', '1;2', '99999']) expect(parseCpuList(bad)).toBeNull();
  });

  it("splits a host's CPUs into a shared and a dedicated pool", () => {
    expect(hostCpuSets('0-7', '2-7')).toEqual({ shared: [0, 1], dedicated: [2, 3, 4, 5, 6, 7] });
    expect(hostCpuSets('0-3', '')).toEqual({ shared: [0, 1, 2, 3], dedicated: [] });
    expect(hostCpuSets('0-1', '0-1', '')).toEqual({ shared: [], dedicated: [0, 1] });
    expect(hostCpuSets('0-7', '4-5', '0-1')).toEqual({ shared: [0, 1], dedicated: [4, 5] });
  });

  it('refuses pools that overlap, name CPUs the host lacks, or leave nothing', () => {
    expect(() => hostCpuSets('0-3', '2-3', '1-2')).toThrow('overlap on CPUs 2');
    expect(() => hostCpuSets('0-3', '2-5')).toThrow('does not have online: 4-5');
    expect(() => hostCpuSets('0-1', 'x')).toThrow('BERTH_CPU_DEDICATED_SET must be a kernel CPU list');
    expect(() => hostCpuSets('0-1', '', '')).toThrow('offers no CPUs');
  });
});

describe('throttles', () => {
  it("gives a flavor's unset throttles their defaults: quota 100, the cloud's pids limit, the rest unlimited", () => {
    expect(base).toEqual({
      cpuQuota: 100,
      pidsLimit: 1024,
      diskReadIops: null,
      diskWriteIops: null,
      diskReadBps: null,
      diskWriteBps: null,
      diskWeight: null,
      netIngressMbps: null,
      netEgressMbps: 100,
    });
  });

  it('lets an admin set any value within the cloud-wide rules, and unset a nullable one', () => {
    expect(applyThrottleChanges(base, { netEgressMbps: null, diskWriteIops: 20 }, null)).toEqual({
      ok: true,
      value: { ...base, netEgressMbps: null, diskWriteIops: 20 },
    });
  });

  it('names the field and the rule of each broken change, and applies none', () => {
    const result = applyThrottleChanges(
      base,
      { cpuQuota: 0, pidsLimit: null, diskWriteBps: 5, netIngressMbps: 1.5, bogus: 3 } as never,
      null,
    );
    expect(result).toEqual({
      ok: false,
      errors: [
        expect.objectContaining({ field: 'limits.bogus', rule: 'known' }),
        expect.objectContaining({ field: 'limits.cpuQuota', rule: 'min' }),
        expect.objectContaining({ field: 'limits.pidsLimit', rule: 'required' }),
        expect.objectContaining({ field: 'limits.diskWriteBps', rule: 'min' }),
        expect.objectContaining({ field: 'limits.netIngressMbps', rule: 'isInt' }),
      ],
    });
    expect(applyThrottleChanges(base, { netEgressMbps: 100_001 }, null)).toMatchObject({
      errors: [{ field: 'limits.netEgressMbps', rule: 'max' }],
    });
    expect(applyThrottleChanges(base, { diskReadIops: '5' } as never, null)).toMatchObject({
      errors: [{ rule: 'isInt' }],
    });
  });

  it("holds a member to the flavor's bounds, and to the flavor's value where it sets none", () => {
    const bounds = { netEgressMbps: { min: 10, max: 200 }, pidsLimit: { max: 4096 } };
    expect(applyThrottleChanges(base, { netEgressMbps: 150, pidsLimit: 64 }, bounds)).toMatchObject({ ok: true });
    expect(applyThrottleChanges(base, { netEgressMbps: 500 }, bounds)).toMatchObject({
      errors: [{ field: 'limits.netEgressMbps', rule: 'bounds' }],
    });
    expect(applyThrottleChanges(base, { netEgressMbps: 5 }, bounds)).toMatchObject({ errors: [{ rule: 'bounds' }] });
    expect(applyThrottleChanges(base, { netEgressMbps: null }, bounds)).toMatchObject({
      errors: [{ rule: 'bounds', message: expect.stringContaining('cannot be unlimited') }],
    });
    expect(applyThrottleChanges(base, { diskWriteIops: 100 }, bounds)).toMatchObject({
      errors: [{ field: 'limits.diskWriteIops', rule: 'fixed' }],
    });
  });

  it("checks a flavor's bounds: known throttles, within the rules, ordered, and holding the flavor's value", () => {
    expect(checkBounds({ netEgressMbps: { min: 10, max: 200 } }, base)).toEqual([]);
    const errors = checkBounds(
      {
        cpuShares: { max: 1 },
        netEgressMbps: { min: 300, max: 200 },
        pidsLimit: { max: 1_000_000 },
        diskWriteIops: 7,
        diskReadIops: { maximum: 3 },
      } as never,
      base,
    );
    expect(errors.map((e) => `${e.field}:${e.rule}`)).toEqual([
      'limitBounds.cpuShares:known',
      'limitBounds.netEgressMbps:range',
      'limitBounds.netEgressMbps:contains',
      'limitBounds.pidsLimit.max:max',
      'limitBounds.diskWriteIops:isObject',
      'limitBounds.diskReadIops:known',
    ]);
    // An unlimited flavor value cannot sit inside a bound with a maximum.
    expect(checkBounds({ diskWriteBps: { max: 10 * 1024 * 1024 } }, base)).toMatchObject([{ rule: 'contains' }]);
  });
});

describe('live resize arithmetic', () => {
  const shared1 = resourcesOf({
    kind: 'container',
    vcpus: 1,
    ramMb: 128,
    diskGb: 1,
    cpuPolicy: 'shared',
    pidsLimit: 512,
  });
  const dedicated2 = resourcesOf({
    kind: 'container',
    vcpus: 2,
    ramMb: 256,
    diskGb: 1,
    cpuPolicy: 'dedicated',
    pidsLimit: 1024,
  });

  it('counts dedicated vCPUs as host CPUs, never as shared ones', () => {
    expect(shared1).toEqual({ vcpus: 1, pcpus: 0, ramMb: 128, diskGb: 1, pids: 512 });
    expect(dedicated2).toEqual({ vcpus: 0, pcpus: 2, ramMb: 256, diskGb: 1, pids: 1024 });
  });

  it('claims a container’s pids limit, and for a VM only its QEMU’s threads (its guest’s processes are not the host’s)', () => {
    const vm = resourcesOf({ kind: 'vm', vcpus: 1, ramMb: 128, diskGb: 1, cpuPolicy: 'shared', pidsLimit: 4096 });
    expect(vm.pids).toBe(VM_PIDS);
  });

  it('claims the growth up front and gives the shrink back after, per resource', () => {
    expect(planResize(shared1, dedicated2)).toEqual({
      grow: { vcpus: 0, pcpus: 2, ramMb: 128, diskGb: 0, pids: 512 },
      shrink: { vcpus: 1, pcpus: 0, ramMb: 0, diskGb: 0, pids: 0 },
    });
    expect(planResize(dedicated2, dedicated2)).toEqual({
      grow: { vcpus: 0, pcpus: 0, ramMb: 0, diskGb: 0, pids: 0 },
      shrink: { vcpus: 0, pcpus: 0, ramMb: 0, diskGb: 0, pids: 0 },
    });
  });

  it('keeps the CPUs held longest through a dedicated shrink, and none when leaving dedicated', () => {
    expect(keptCpus([5, 3, 4], true, 2)).toEqual([5, 3]);
    expect(keptCpus([3], true, 2)).toEqual([3]);
    expect(keptCpus([3, 4], false, 2)).toEqual([]);
  });

  it('says what is short and what is free', () => {
    expect(
      shortfalls(
        { vcpus: 4, pcpus: 0, ramMb: 100, diskGb: 9, pids: 100 },
        { vcpus: 1, pcpus: 1, ramMb: 128, diskGb: 0, pids: 512 },
      ),
    ).toEqual(['1 more dedicated CPUs (0 free)', '128 more MB of RAM (100 free)', '512 more pids (100 free)']);
  });
});
