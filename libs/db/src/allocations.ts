import type { Resources } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { rows } from './sql';

/**
 * Claims `request` on a host in one conditional UPDATE: it succeeds only if the host is enabled and
 * the request still fits after allocation ratios, so two schedulers racing can never overbook.
 * The allocation row and the host's usage change in the same transaction.
 */
export async function claimOnHost(
  manager: EntityManager,
  instanceId: string,
  hostId: string,
  request: Resources,
): Promise<boolean> {
  const claimed = await rows<{ id: string }>(
    manager,
    `UPDATE hosts SET used_vcpus = used_vcpus + $2, used_ram_mb = used_ram_mb + $3, used_disk_gb = used_disk_gb + $4
      WHERE id = $1 AND enabled
        AND used_vcpus + $2 <= floor(vcpus * cpu_ratio)
        AND used_ram_mb + $3 <= floor(ram_mb * ram_ratio)
        AND used_disk_gb + $4 <= floor(disk_gb * disk_ratio)
      RETURNING id`,
    [hostId, request.vcpus, request.ramMb, request.diskGb],
  );
  if (claimed.length === 0) return false;
  await manager.query(
    'INSERT INTO allocations (instance_id, host_id, vcpus, ram_mb, disk_gb) VALUES ($1, $2, $3, $4, $5)',
    [instanceId, hostId, request.vcpus, request.ramMb, request.diskGb],
  );
  return true;
}

/** Drops every allocation an instance holds and gives the capacity back to its hosts. */
export async function releaseAllocations(manager: EntityManager, instanceId: string): Promise<void> {
  const released = await rows<{ hostId: string; vcpus: number; ramMb: number; diskGb: number }>(
    manager,
    `DELETE FROM allocations WHERE instance_id = $1
     RETURNING host_id AS "hostId", vcpus, ram_mb AS "ramMb", disk_gb AS "diskGb"`,
    [instanceId],
  );
  for (const a of released) {
    await manager.query(
      `UPDATE hosts SET used_vcpus = used_vcpus - $2, used_ram_mb = used_ram_mb - $3, used_disk_gb = used_disk_gb - $4
        WHERE id = $1`,
      [a.hostId, a.vcpus, a.ramMb, a.diskGb],
    );
  }
}
