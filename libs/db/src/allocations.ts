import type { Resources } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { rows } from './sql';

export interface HostLimits {
  maxInstancesPerHost: number;
  downAfterSec: number;
}

/** Who holds an allocation: an instance, or an unused slot of a reservation. */
export type Consumer = { instanceId: string } | { reservationId: string };

/**
 * Claims `request` on a host in one conditional UPDATE: it succeeds only if the host is enabled, up,
 * below its instance limit, and the request still fits after allocation ratios, so two schedulers
 * racing can never overbook. The allocation row and the host's counters change in one transaction.
 */
export async function claimOnHost(
  manager: EntityManager,
  consumer: Consumer,
  hostId: string,
  request: Resources,
  limits: HostLimits,
): Promise<boolean> {
  const claimed = await rows<{ id: string }>(
    manager,
    `UPDATE hosts SET used_vcpus = used_vcpus + $2, used_ram_mb = used_ram_mb + $3, used_disk_gb = used_disk_gb + $4,
                      used_instances = used_instances + 1
      WHERE id = $1 AND enabled AND last_heartbeat_at > now() - make_interval(secs => $6)
        AND used_instances < $5
        AND used_vcpus + $2 <= floor(vcpus * cpu_ratio)
        AND used_ram_mb + $3 <= floor(ram_mb * ram_ratio)
        AND used_disk_gb + $4 <= floor(disk_gb * disk_ratio)
      RETURNING id`,
    [hostId, request.vcpus, request.ramMb, request.diskGb, limits.maxInstancesPerHost, limits.downAfterSec],
  );
  if (claimed.length === 0) return false;
  await insertAllocation(manager, consumer, hostId, request);
  return true;
}

async function insertAllocation(
  manager: EntityManager,
  consumer: Consumer,
  hostId: string,
  r: Resources,
): Promise<void> {
  await manager.query(
    'INSERT INTO allocations (instance_id, reservation_id, host_id, vcpus, ram_mb, disk_gb) VALUES ($1, $2, $3, $4, $5, $6)',
    [
      'instanceId' in consumer ? consumer.instanceId : null,
      'reservationId' in consumer ? consumer.reservationId : null,
      hostId,
      r.vcpus,
      r.ramMb,
      r.diskGb,
    ],
  );
}

/**
 * Turns one unused slot of a reservation on `hostId` into the instance's allocation. The capacity
 * was claimed when the reservation was made, so the host's counters do not change.
 */
export async function drawReservationSlot(
  manager: EntityManager,
  reservationId: string,
  instanceId: string,
  hostId: string,
): Promise<boolean> {
  const drawn = await rows<{ id: string }>(
    manager,
    `UPDATE allocations SET reservation_id = NULL, instance_id = $2
      WHERE id = (SELECT id FROM allocations WHERE reservation_id = $1 AND host_id = $3 LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    [reservationId, instanceId, hostId],
  );
  return drawn.length > 0;
}

/** Drops the allocations of a consumer and gives the capacity back to its hosts. */
export async function releaseAllocations(manager: EntityManager, consumer: Consumer): Promise<void> {
  const [column, id] =
    'instanceId' in consumer ? ['instance_id', consumer.instanceId] : ['reservation_id', consumer.reservationId];
  const released = await rows<{ hostId: string; vcpus: number; ramMb: number; diskGb: number; n: number }>(
    manager,
    `WITH gone AS (DELETE FROM allocations WHERE ${column} = $1 RETURNING host_id, vcpus, ram_mb, disk_gb)
     SELECT host_id AS "hostId", sum(vcpus)::int AS vcpus, sum(ram_mb)::int AS "ramMb", sum(disk_gb)::int AS "diskGb",
            count(*)::int AS n
       FROM gone GROUP BY host_id`,
    [id],
  );
  for (const a of released) {
    await manager.query(
      `UPDATE hosts SET used_vcpus = used_vcpus - $2, used_ram_mb = used_ram_mb - $3, used_disk_gb = used_disk_gb - $4,
              used_instances = used_instances - $5
        WHERE id = $1`,
      [a.hostId, a.vcpus, a.ramMb, a.diskGb, a.n],
    );
  }
}
