import type { InstanceLimits, InstanceSpec, PortSpec } from '@berth/contracts';
import { flavorThrottles } from '@berth/domain';
import { randomUUID } from 'node:crypto';

/** An InstanceSpec for driver and agent tests; every call gets fresh instance and port ids. */
export function sampleSpec(
  overrides: Partial<Omit<InstanceSpec, 'port'>> & { port?: Partial<PortSpec> } = {},
): InstanceSpec {
  const { port, ...rest } = overrides;
  return {
    id: randomUUID(),
    name: 'sample',
    kind: 'container',
    diskGb: 1,
    imageRef: 'busybox',
    limits: sampleLimits(),
    ...rest,
    port: {
      id: randomUUID(),
      networkId: 'sample-network',
      mac: '02:be:00:00:00:01',
      ip: '10.0.0.2',
      prefixLength: 24,
      gateway: '10.0.0.1',
      vlan: 100,
      ...port,
    },
  };
}

/** Small shared limits with no throttles: 1 vCPU at full quota, 64 MB, 64 processes. */
export function sampleLimits(overrides: Partial<InstanceLimits> = {}): InstanceLimits {
  return {
    ...flavorThrottles({}, 64),
    vcpus: 1,
    ramMb: 64,
    cpuPolicy: 'shared',
    pinnedCpus: [],
    ...overrides,
  };
}
