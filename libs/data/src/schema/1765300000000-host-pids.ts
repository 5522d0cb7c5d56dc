import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pids as a claimed resource, like vCPUs: each host's capacity (kernel.pid_max less what the host keeps for
 * itself, as its agent reports; NULL until it does, and then held to nothing), what its allocations hold, and
 * each allocation's share (a container's pids limit, a VM's fixed share for QEMU's threads: 64, VM_PIDS).
 * Existing allocations are backfilled from their instances (or their reservation's flavor) and each host's
 * counter from its allocations, so the claims that follow start from the truth.
 */
export class HostPids1765300000000 implements MigrationInterface {
  name = 'HostPids1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE hosts ADD COLUMN pids integer CHECK (pids >= 0),
                        ADD COLUMN used_pids integer NOT NULL DEFAULT 0;
      ALTER TABLE allocations ADD COLUMN pids integer NOT NULL DEFAULT 0 CHECK (pids >= 0);

      UPDATE allocations a SET pids = CASE WHEN i.kind = 'vm' THEN 64 ELSE coalesce((i.throttles->>'pidsLimit')::int, 1024) END
        FROM instances i
       WHERE i.id = coalesce(a.instance_id, (SELECT m.instance_id FROM instance_migrations m WHERE m.id = a.migration_id));
      UPDATE allocations a
         SET pids = CASE WHEN r.kind = 'vm' THEN 64 ELSE coalesce((f.throttles->>'pidsLimit')::int, 1024) END
        FROM reservations r LEFT JOIN flavors f ON f.id = r.flavor_id
       WHERE r.id = a.reservation_id;
      UPDATE hosts h SET used_pids = coalesce((SELECT sum(a.pids) FROM allocations a WHERE a.host_id = h.id), 0);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE allocations DROP COLUMN pids;
      ALTER TABLE hosts DROP COLUMN used_pids, DROP COLUMN pids;
    `);
  }
}
