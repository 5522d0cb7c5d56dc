import { aggregateExtraSpecsFilter } from './filters/aggregate-extra-specs';
import { availabilityZoneFilter } from './filters/availability-zone';
import { capacityFilter } from './filters/capacity';
import { computeEnabledFilter } from './filters/compute-enabled';
import { driverKindFilter } from './filters/driver-kind';
import { networkReachableFilter } from './filters/network-reachable';
import { numInstancesFilter } from './filters/num-instances';
import { serverGroupFilter } from './filters/server-group';
import { volumeHostFilter } from './filters/volume-host';
import { instanceVolumeBackendFilter } from './filters/volume-backend';
import { candidate, request } from './testing';
import type { GroupState } from './types';

describe('ComputeEnabled', () => {
  it('passes an enabled host that heartbeats', () =>
    expect(computeEnabledFilter.reject(request(), candidate('a'))).toBeNull());
  it('rejects a disabled host', () =>
    expect(computeEnabledFilter.reject(request(), candidate('a', { enabled: false }))).toEqual({
      code: 'disabled',
      reason: 'host is disabled',
    }));
  it('rejects a host that is down', () =>
    expect(computeEnabledFilter.reject(request(), candidate('a', { up: false }))).toEqual({
      code: 'down',
      reason: 'host is down (no recent heartbeat)',
    }));
});

describe('DriverKind', () => {
  it('passes a host with the driver', () => expect(driverKindFilter.reject(request(), candidate('a'))).toBeNull());
  it('rejects one without', () =>
    expect(driverKindFilter.reject(request(), candidate('a', { drivers: ['vm'] }))).toEqual({
      code: 'container',
      reason: 'host has no container driver (offers vm)',
    }));
});

describe('VolumeHost', () => {
  const on = (host: string, volumes: string[]) => request({ volumeHost: { hostId: `id-${host}`, volumes } });
  it('applies only to an instance built with volumes', () => {
    expect(volumeHostFilter.appliesTo?.(request())).toBe(false);
    expect(volumeHostFilter.appliesTo?.(on('a', ['v1']))).toBe(true);
  });
  it('passes the volumes’ host', () => expect(volumeHostFilter.reject(on('a', ['v1']), candidate('a'))).toBeNull());
  it('rejects every other host, naming the volumes', () => {
    expect(volumeHostFilter.reject(on('a', ['v1']), candidate('b'))).toEqual({
      code: 'volume-elsewhere',
      reason: 'volume v1 lives on another host',
    });
    expect(volumeHostFilter.reject(on('a', ['v1', 'v2']), candidate('b'))?.reason).toBe(
      'volumes v1, v2 live on another host',
    );
  });
});

describe('VolumeBackend (an instance moving with its volumes)', () => {
  const moving = request({ volumeBackends: ['file'] });
  it('applies only to an instance with volumes', () => {
    expect(instanceVolumeBackendFilter.appliesTo?.(request())).toBe(false);
    expect(instanceVolumeBackendFilter.appliesTo?.(moving)).toBe(true);
  });
  it('passes a host offering the backend', () =>
    expect(
      instanceVolumeBackendFilter.reject(moving, candidate('a', { volumeBackends: new Set(['file']) })),
    ).toBeNull());
  it('rejects one that offers none, naming the backend', () =>
    expect(instanceVolumeBackendFilter.reject(moving, candidate('a'))).toEqual({
      code: 'volume-backend',
      reason: "host offers no file volumes for the instance's volumes",
    }));
});

describe('AvailabilityZone', () => {
  it('passes any host when no zone is asked', () =>
    expect(availabilityZoneFilter.reject(request(), candidate('a', { zone: 'z9' }))).toBeNull());
  it('passes a host in the zone asked for', () =>
    expect(availabilityZoneFilter.reject(request({ zone: 'z1' }), candidate('a', { zone: 'z1' }))).toBeNull());
  it('rejects a host elsewhere', () =>
    expect(availabilityZoneFilter.reject(request({ zone: 'z1' }), candidate('a', { zone: 'z2' }))).toEqual({
      code: 'zone',
      reason: 'host is in zone z2, not z1',
    }));
});

describe('NetworkReachable', () => {
  it('passes a host that reaches the VLAN', () =>
    expect(networkReachableFilter.reject(request({ vlan: 150 }), candidate('a', { vlans: [[100, 199]] }))).toBeNull());
  it('rejects one that does not', () =>
    expect(
      networkReachableFilter.reject(
        request({ vlan: 200 }),
        candidate('a', {
          vlans: [
            [100, 199],
            [300, 300],
          ],
        }),
      ),
    ).toEqual({
      code: 'vlan',
      reason: 'host does not reach VLAN 200 (reaches 100-199,300)',
    }));
});

describe('AggregateExtraSpecs', () => {
  const ssd = candidate('a', { aggregates: new Map([['disk', new Set(['ssd', 'nvme'])]]) });
  it('passes when an aggregate gives the value', () =>
    expect(aggregateExtraSpecsFilter.reject(request({ extraSpecs: { 'aggregate:disk': 'nvme' } }), ssd)).toBeNull());
  it('ignores extra specs that are not aggregate ones', () =>
    expect(
      aggregateExtraSpecsFilter.reject(request({ extraSpecs: { 'cpu:policy': 'dedicated' } }), candidate('b')),
    ).toBeNull());
  it('rejects when no aggregate does', () =>
    expect(aggregateExtraSpecsFilter.reject(request({ extraSpecs: { 'aggregate:disk': 'hdd' } }), ssd)).toEqual({
      code: 'disk',
      reason: 'no aggregate of the host has disk=hdd',
    }));
});

describe('ServerGroup', () => {
  const group = (policy: GroupState['policy'], members: Array<[string, number]>): GroupState => ({
    name: 'web',
    policy,
    members: new Map(members),
  });
  it('anti-affinity rejects a host holding a member', () =>
    expect(serverGroupFilter.reject(request({ group: group('anti-affinity', [['id-a', 1]]) }), candidate('a'))).toEqual(
      {
        code: 'anti-affinity',
        reason: 'a member of server group web already runs here (anti-affinity)',
      },
    ));
  it('anti-affinity passes a host holding none', () =>
    expect(
      serverGroupFilter.reject(request({ group: group('anti-affinity', [['id-a', 1]]) }), candidate('b')),
    ).toBeNull());
  it('affinity rejects another host once a member is placed', () =>
    expect(serverGroupFilter.reject(request({ group: group('affinity', [['id-a', 2]]) }), candidate('b'))).toEqual({
      code: 'affinity',
      reason: 'the members of server group web run on another host (affinity)',
    }));
  it('affinity passes any host for the first member', () =>
    expect(serverGroupFilter.reject(request({ group: group('affinity', []) }), candidate('b'))).toBeNull());
  it('leaves soft policies to the weigher', () =>
    expect(
      serverGroupFilter.reject(request({ group: group('soft-anti-affinity', [['id-a', 3]]) }), candidate('a')),
    ).toBeNull());
});

describe('NumInstances', () => {
  const filter = numInstancesFilter(3);
  it('passes below the limit', () => expect(filter.reject(request(), candidate('a', { instances: 2 }))).toBeNull());
  it('rejects at the limit', () =>
    expect(filter.reject(request(), candidate('a', { instances: 3 }))).toEqual({
      code: 'full',
      reason: 'host holds 3 instances, the most one takes (3)',
    }));
});

describe('Capacity', () => {
  it('applies allocation ratios: 4 CPUs at ratio 4 hold 16 vCPUs', () =>
    expect(
      capacityFilter.reject(request(), candidate('a', { used: { vcpus: 14, pcpus: 0, ramMb: 0, diskGb: 0, pids: 0 } })),
    ).toBeNull());
  it('names every short resource', () =>
    expect(
      capacityFilter.reject(
        request(),
        candidate('a', { used: { vcpus: 15, pcpus: 0, ramMb: 3500, diskGb: 0, pids: 0 } }),
      ),
    ).toEqual({
      code: 'vcpus+ramMb',
      reason: 'vcpus needs 2, 1 free; ramMb needs 1024, 596 free',
    }));
  it('never overcommits pids: the limits a host holds stay within what its kernel gives instances', () => {
    const host = candidate('a', {
      total: { vcpus: 4, pcpus: 0, ramMb: 4096, diskGb: 100, pids: 2048 },
      used: { vcpus: 0, pcpus: 0, ramMb: 0, diskGb: 0, pids: 1024 },
    });
    expect(capacityFilter.reject(request(), host)).toBeNull();
    expect(capacityFilter.reject(request({ resources: { ...request().resources, pids: 1025 } }), host)).toEqual({
      code: 'pids',
      reason: 'pids needs 1025, 1024 free',
    });
  });
  it('holds a host whose agent has not told its pids to none', () => {
    const host = candidate('a', { total: { vcpus: 4, pcpus: 0, ramMb: 4096, diskGb: 100, pids: Infinity } });
    expect(capacityFilter.reject(request({ resources: { ...request().resources, pids: 65_536 } }), host)).toBeNull();
  });
});
