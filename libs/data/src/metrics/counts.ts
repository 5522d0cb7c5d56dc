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

/** The "no valid host" messages of creates refused since `since`, newest first, at most `limit`. */
export async function refusedPlacements(m: EntityManager, since: Date, limit: number): Promise<string[]> {
  const found = await rows<{ message: string }>(
    m,
    `SELECT fault->>'message' AS message FROM operations
      WHERE status = 'failed' AND fault->>'step' = 'schedule' AND finished_at >= $1
      ORDER BY finished_at DESC LIMIT $2`,
    [since, limit],
  );
  return found.map((r) => r.message);
}
