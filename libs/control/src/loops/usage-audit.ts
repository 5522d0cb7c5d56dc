import type { Resources } from '@berth/domain';
import type { DataSource } from 'typeorm';
import { rows } from '@berth/data';

type Usage = Resources & { instances: number; pinnedCpus: number[] };

export interface HostDrift {
  host: string;
  recorded: Usage;
  actual: Usage;
}

/**
 * Recomputes each host's usage from its allocations and compares it with the counters the claims
 * keep. Claims and releases change both in one transaction, so drift means someone edited the
 * database by hand or a bug; `repair` sets the counters to the recomputed sums. Project usage needs
 * no audit: it has no counter, it is counted from the rows at every check.
 */
export async function auditHostUsage(
  dataSource: DataSource,
  repair: boolean,
): Promise<{ checked: number; drift: HostDrift[] }> {
  return dataSource.transaction(async (m) => {
    const hosts = await rows<{ id: string; host: string; recorded: Usage; actual: Usage }>(
      m,
      `WITH locked AS (SELECT * FROM hosts ORDER BY id FOR UPDATE)
       SELECT h.id, h.name AS host,
              json_build_object('vcpus', h.used_vcpus, 'pcpus', h.used_pcpus, 'ramMb', h.used_ram_mb,
                                'diskGb', h.used_disk_gb, 'pids', h.used_pids, 'instances', h.used_instances,
                                'pinnedCpus', (SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM unnest(h.pinned_cpus) c)) AS recorded,
              json_build_object('vcpus', coalesce(sum(a.vcpus), 0), 'pcpus', coalesce(sum(a.pcpus), 0),
                                'ramMb', coalesce(sum(a.ram_mb), 0), 'diskGb', coalesce(sum(a.disk_gb), 0),
                                'pids', coalesce(sum(a.pids), 0),
                                'instances', count(a.id),
                                'pinnedCpus', (SELECT coalesce(array_agg(c ORDER BY c), '{}')
                                                 FROM allocations a2, unnest(a2.pinned_cpus) c WHERE a2.host_id = h.id)) AS actual
         FROM locked h LEFT JOIN allocations a ON a.host_id = h.id
        GROUP BY h.id, h.name, h.used_vcpus, h.used_pcpus, h.used_ram_mb, h.used_disk_gb, h.used_pids, h.used_instances,
                 h.pinned_cpus
        ORDER BY h.name`,
    );
    const same = (a: Usage, b: Usage) =>
      a.vcpus === b.vcpus &&
      a.pcpus === b.pcpus &&
      a.ramMb === b.ramMb &&
      a.diskGb === b.diskGb &&
      a.pids === b.pids &&
      a.pinnedCpus.join(',') === b.pinnedCpus.join(',');
    const drift = hosts.filter((h) => !same(h.recorded, h.actual));
    if (repair) {
      for (const h of drift) {
        await m.query(
          `UPDATE hosts SET used_vcpus = $2, used_pcpus = $3, used_ram_mb = $4, used_disk_gb = $5, used_instances = $6,
                  pinned_cpus = $7, used_pids = $8
            WHERE id = $1`,
          [
            h.id,
            h.actual.vcpus,
            h.actual.pcpus,
            h.actual.ramMb,
            h.actual.diskGb,
            h.actual.instances,
            h.actual.pinnedCpus,
            h.actual.pids,
          ],
        );
      }
    }
    return { checked: hosts.length, drift: drift.map(({ host, recorded, actual }) => ({ host, recorded, actual })) };
  });
}
