import type { Resources } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { rows } from '../sql';

/** A host's usage: what its counters say, or what its allocations sum to. */
export type HostUsage = Resources & { instances: number; pinnedCpus: number[] };

/**
 * Every host's usage counters beside the sums of its allocations, the host rows locked (by id) until the
 * transaction ends, so that no claim changes either meanwhile.
 */
export function lockHostUsage(
  m: EntityManager,
): Promise<Array<{ id: string; host: string; recorded: HostUsage; actual: HostUsage }>> {
  return rows<{ id: string; host: string; recorded: HostUsage; actual: HostUsage }>(
    m,
    `WITH locked AS (SELECT * FROM hosts ORDER BY id FOR UPDATE)
       SELECT h.id, h.name AS host,
              json_build_object('vcpus', h.used_vcpus, 'pcpus', h.used_pcpus, 'ramMb', h.used_ram_mb,
                                'diskGb', h.used_disk_gb, 'pids', h.used_pids, 'instances', h.used_instances,
                                'pinnedCpus', (SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM unnest(h.pinned_cpus) c)) AS recorded,
              json_build_object('vcpus', coalesce(sum(a.vcpus), 0), 'pcpus', coalesce(sum(a.pcpus), 0),
                                'ramMb', coalesce(sum(a.ram_mb), 0), 'diskGb', coalesce(sum(a.disk_gb), 0),
                                'pids', coalesce(sum(a.pids), 0),
                                'instances', count(a.id) FILTER (WHERE a.volume_id IS NULL),
                                'pinnedCpus', (SELECT coalesce(array_agg(c ORDER BY c), '{}')
                                                 FROM allocations a2, unnest(a2.pinned_cpus) c WHERE a2.host_id = h.id)) AS actual
         FROM locked h LEFT JOIN allocations a ON a.host_id = h.id
        GROUP BY h.id, h.name, h.used_vcpus, h.used_pcpus, h.used_ram_mb, h.used_disk_gb, h.used_pids, h.used_instances,
                 h.pinned_cpus
        ORDER BY h.name`,
  );
}

/** Sets the host's usage counters. */
export async function setHostUsage(m: EntityManager, id: string, usage: HostUsage): Promise<void> {
  await m.query(
    `UPDATE hosts SET used_vcpus = $2, used_pcpus = $3, used_ram_mb = $4, used_disk_gb = $5, used_instances = $6,
            pinned_cpus = $7, used_pids = $8
      WHERE id = $1`,
    [id, usage.vcpus, usage.pcpus, usage.ramMb, usage.diskGb, usage.instances, usage.pinnedCpus, usage.pids],
  );
}
