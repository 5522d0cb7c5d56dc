import type { EntityManager } from 'typeorm';
import { rows } from '../sql';

/** Live instances counted by status and kind (the API's gauges). */
export function instanceCounts(m: EntityManager): Promise<Array<{ status: string; kind: string; n: number }>> {
  return rows(
    m,
    `SELECT status, kind, count(*)::int AS n FROM instances WHERE status <> 'DELETED' GROUP BY status, kind`,
  );
}

/** A host's totals, ratios and usage counters, as the capacity gauges show them. */
export interface HostCapacityRow {
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  cpuRatio: number;
  ramRatio: number;
  diskRatio: number;
  usedVcpus: number;
  usedRamMb: number;
  usedDiskGb: number;
  usedInstances: number;
}

export function hostCapacityRows(m: EntityManager): Promise<HostCapacityRow[]> {
  return rows<HostCapacityRow>(
    m,
    `SELECT name, vcpus, ram_mb AS "ramMb", disk_gb AS "diskGb", cpu_ratio::float AS "cpuRatio",
            ram_ratio::float AS "ramRatio", disk_ratio::float AS "diskRatio",
            used_vcpus AS "usedVcpus", used_ram_mb AS "usedRamMb", used_disk_gb AS "usedDiskGb",
            used_instances AS "usedInstances"
       FROM hosts ORDER BY name`,
  );
}

/**
 * Creates refused for no valid host since `since`, counted by the fault's reason (the filter that turned down the
 * most hosts; 'Other' for a schedule fault without one), most first.
 */
export async function refusedPlacements(
  m: EntityManager,
  since: Date,
): Promise<{ total: number; byReason: Array<{ reason: string; count: number }> }> {
  const found = await rows<{ reason: string; n: number }>(
    m,
    `SELECT COALESCE(fault->>'reason', 'Other') AS reason, count(*)::int AS n FROM operations
      WHERE status = 'failed' AND fault->>'step' = 'schedule' AND finished_at >= $1
      GROUP BY 1 ORDER BY 2 DESC, 1`,
    [since],
  );
  return {
    total: found.reduce((sum, r) => sum + r.n, 0),
    byReason: found.map((r) => ({ reason: r.reason, count: r.n })),
  };
}
