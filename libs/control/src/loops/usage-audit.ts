import type { DataSource } from 'typeorm';
import { lockHostUsage, setHostUsage, type HostUsage } from '@berth/data';

type Usage = HostUsage;

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
    const hosts = await lockHostUsage(m);
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
        await setHostUsage(m, h.id, h.actual);
      }
    }
    return { checked: hosts.length, drift: drift.map(({ host, recorded, actual }) => ({ host, recorded, actual })) };
  });
}
