import { sampleLimits } from '../testing/sample-spec';
import { expectedApplied, mismatches } from '../limits';
import { appliedFrom, dockerBlkio, dockerResources } from './limits';

const ctx = { sharedCpus: '0-3', blockDevice: { id: '254:0', path: '/dev/vda' } };
/** What a docker host with a disk to throttle holds. */
const kinds = { sharedCpus: '0-3', diskThrottles: true, pidsLimits: true, diskWeight: true };
const MIB = 1024 * 1024;

describe('docker limits', () => {
  it('gives a shared instance the shared CPUs under a quota of its vCPUs, and memory without swap', () => {
    expect(dockerResources(sampleLimits({ vcpus: 2, cpuQuota: 50, ramMb: 256, pidsLimit: 100 }), ctx)).toEqual({
      CpusetCpus: '0-3',
      CpuPeriod: 100_000,
      CpuQuota: 100_000,
      CpuShares: 2048,
      Memory: 256 * MIB,
      MemorySwap: 256 * MIB,
      PidsLimit: 100,
    });
  });

  it('pins a dedicated instance to its own CPUs without a quota', () => {
    const limits = sampleLimits({ vcpus: 2, cpuPolicy: 'dedicated', pinnedCpus: [5, 4] });
    expect(dockerResources(limits, ctx)).toMatchObject({ CpusetCpus: '4-5', CpuQuota: -1 });
    expect(expectedApplied(limits, kinds, true)).toMatchObject({ cpuset: '4-5', cpus: null });
  });

  it('throttles block IO on the data disk only where a limit is set', () => {
    expect(dockerBlkio(sampleLimits({ diskWriteBps: 5 * MIB }), ctx.blockDevice)).toEqual({
      BlkioDeviceReadBps: [],
      BlkioDeviceWriteBps: [{ Path: '/dev/vda', Rate: 5 * MIB }],
      BlkioDeviceReadIOps: [],
      BlkioDeviceWriteIOps: [],
    });
    expect(dockerBlkio(sampleLimits({ diskWriteBps: 5 * MIB }), null)).toEqual({});
  });

  it('names every limit the kernel holds differently from what was asked', () => {
    const limits = sampleLimits({ diskWriteIops: 20, netEgressMbps: 20 });
    const read = appliedFrom(
      {
        cpuset: '0-3',
        cpuQuotaUs: 100_000,
        cpuPeriodUs: 100_000,
        memoryBytes: 64 * MIB,
        pidsMax: 64,
        io: { readBps: null, writeBps: null, readIops: null, writeIops: 20 },
        ioWeight: 100,
      },
      { ingressMbps: null, egressMbps: 20 },
      'lxcfs',
    );
    expect(mismatches(expectedApplied(limits, kinds, true), read)).toEqual([]);
    const drifted = { ...read, cpuset: '0-1', pidsLimit: null, diskWriteIops: null };
    expect(mismatches(expectedApplied(limits, kinds, true), drifted)).toEqual([
      'cpuset is 0-1, asked 0-3',
      'pidsLimit is unlimited, asked 64',
      'diskWriteIops is unlimited, asked 20',
    ]);
  });

  it('expects the default weight when none is set, and names a weight the host cannot hold', () => {
    expect(expectedApplied(sampleLimits(), kinds, true).diskWeight).toBe(100);
    expect(expectedApplied(sampleLimits({ diskWeight: 500 }), kinds, true).diskWeight).toBe(500);
    const noWeight = { ...kinds, diskWeight: false };
    expect(expectedApplied(sampleLimits(), noWeight, true).diskWeight).toBeNull();
    const asked = expectedApplied(sampleLimits({ diskWeight: 500 }), noWeight, true);
    const read = { ...asked, diskWeight: null, procView: 'host' as const, readAt: '' };
    expect(mismatches(asked, read)).toEqual(['diskWeight is not available on this host, asked 500']);
  });
});
