import type { HostFacts } from '@berth/contracts';
import type { FlavorSpec } from '../entities/catalog.entity';
import { flavorThrottles } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { upsertHost } from '../hosts/hosts';
import { insertInstance, insertPort } from '../instances/new-instances';
import { insertNetwork } from '../networks/networks';
import { one } from '../sql';

/*
 * Rows for the medium tests beside this library's modules, made through the module functions where there are
 * some (upsertHost, insertInstance, insertPort, insertNetwork), so a fixture is what the control plane itself
 * would have written. Names carry the test's own prefix.
 */

export async function aProject(ds: DataSource, name: string): Promise<string> {
  const row = await one<{ id: string }>(ds.manager, 'INSERT INTO projects (name) VALUES ($1) RETURNING id', [name]);
  if (!row) throw new Error('insert into projects returned no row');
  return row.id;
}

/** A host as its first heartbeat makes it: 4 shared CPUs, CPUs 6 and 7 dedicated, 4 GiB, 100 GB, ratios 1. */
export function hostFacts(name: string, change: Partial<HostFacts> = {}): HostFacts {
  return {
    name,
    address: '192.0.2.10',
    drivers: ['container'],
    vcpus: 4,
    pcpus: 2,
    cpuSharedSet: '0-3',
    cpuDedicatedSet: '6-7',
    lxcfs: true,
    ramMb: 4096,
    diskGb: 100,
    agentVersion: 'test',
    vlanRanges: '1-4094',
    cachedImages: [],
    pids: 100000,
    ...change,
  };
}

export async function aHost(ds: DataSource, name: string, change: Partial<HostFacts> = {}): Promise<string> {
  await ds.transaction((m) => upsertHost(m, hostFacts(name, change), { cpu: 1, ram: 1, disk: 1 }));
  const row = await one<{ id: string }>(ds.manager, 'SELECT id FROM hosts WHERE name = $1', [name]);
  if (!row) throw new Error(`host ${name} was not made`);
  return row.id;
}

/** A /24 on the VLAN, addresses .10-.250. */
export async function aNetwork(ds: DataSource, name: string, vlan: number): Promise<string> {
  const base = `10.${Math.floor(vlan / 256)}.${vlan % 256}`;
  const network = await ds.transaction((m) =>
    insertNetwork(m, {
      name,
      vlan,
      plan: { cidr: `${base}.0/24`, gateway: `${base}.1`, allocationStart: `${base}.10`, allocationEnd: `${base}.250` },
    }),
  );
  return network.id;
}

/** m1.tiny as an instance or a reservation copies it (no flavor row behind it). */
export const TINY_FLAVOR: FlavorSpec = {
  id: null as unknown as string,
  name: 'm1.tiny',
  vcpus: 1,
  ramMb: 64,
  diskGb: 1,
  extraSpecs: {},
  cpuPolicy: 'shared',
  throttles: {},
  limitBounds: {},
};

export interface InstanceFixture {
  projectId: string;
  name?: string;
  /** Placed there, ACTIVE and RUNNING; without, BUILDING and scheduling as a create leaves it. */
  hostId?: string;
  /** With a port on this network at this address. */
  port?: { networkId: string; ip: string; mac?: string };
}

/** An m1.tiny busybox container, as a create writes it. Returns the instance's id (and its port's, if any). */
export async function anInstance(
  ds: DataSource,
  fixture: InstanceFixture,
): Promise<{ instanceId: string; portId: string | null }> {
  return ds.transaction(async (m: EntityManager) => {
    const instanceId = await insertInstance(m, {
      projectId: fixture.projectId,
      userId: null,
      metadata: {},
      keyName: null,
      keyData: null,
      name: fixture.name ?? 'fixture',
      kind: 'container',
      flavor: TINY_FLAVOR,
      image: { id: null as unknown as string, name: 'busybox', ref: 'busybox', boot: null },
      throttles: flavorThrottles({}, 1024),
      zone: null,
      serverGroupId: null,
      reservationId: null,
      restartPolicy: 'never',
    });
    if (fixture.hostId) {
      await m.query(
        `UPDATE instances SET host_id = $2, status = 'ACTIVE', task_state = NULL, power_state = 'RUNNING' WHERE id = $1`,
        [instanceId, fixture.hostId],
      );
    }
    const portId = fixture.port
      ? await insertPort(m, {
          networkId: fixture.port.networkId,
          instanceId,
          ip: fixture.port.ip,
          mac: fixture.port.mac ?? '02:be:00:00:00:01',
          portSecurity: true,
          allowedAddressPairs: [],
        })
      : null;
    return { instanceId, portId };
  });
}
