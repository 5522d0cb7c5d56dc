import type { HostFacts } from '@berth/contracts';

/** A host's heartbeat for tests that register hosts without an agent: 4 shared CPUs, no dedicated ones. */
export const hostFacts = (name: string, over: Partial<HostFacts> = {}): HostFacts => ({
  name,
  address: '192.0.2.1',
  drivers: ['container'],
  vcpus: 4,
  pcpus: 0,
  cpuSharedSet: '0-3',
  cpuDedicatedSet: '',
  lxcfs: false,
  ramMb: 1024,
  diskGb: 100,
  agentVersion: 'test',
  vlanRanges: '1-4094',
  cachedImages: [],
  ...over,
});
