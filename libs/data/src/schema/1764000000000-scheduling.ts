import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scheduling: host zones, reachable VLANs, cached images and an instance counter (kept with the
 * claims); aggregates with metadata matched against flavor extra specs; server groups; per-instance
 * request specs and build attempts (for reschedule); and reservations, whose slots are allocations
 * that belong to a reservation instead of an instance.
 */
export class Scheduling1764000000000 implements MigrationInterface {
  name = 'Scheduling1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE hosts
        ADD COLUMN zone text NOT NULL DEFAULT 'default',
        ADD COLUMN vlan_ranges text NOT NULL DEFAULT '1-4094',
        ADD COLUMN cached_images text[] NOT NULL DEFAULT '{}',
        ADD COLUMN used_instances integer NOT NULL DEFAULT 0 CHECK (used_instances >= 0);
      UPDATE hosts h SET used_instances = (SELECT count(*) FROM allocations a WHERE a.host_id = h.id);

      CREATE TABLE aggregates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        metadata jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE aggregate_hosts (
        aggregate_id uuid NOT NULL REFERENCES aggregates ON DELETE CASCADE,
        host_id uuid NOT NULL REFERENCES hosts ON DELETE CASCADE,
        PRIMARY KEY (aggregate_id, host_id)
      );
      CREATE INDEX aggregate_hosts_by_host ON aggregate_hosts (host_id);

      ALTER TABLE flavors ADD COLUMN extra_specs jsonb NOT NULL DEFAULT '{}';

      CREATE TABLE server_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
        name text NOT NULL,
        policy text NOT NULL CHECK (policy IN ('affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity')),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project_id, name)
      );

      CREATE TABLE reservations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid REFERENCES projects ON DELETE CASCADE,
        flavor_id uuid REFERENCES flavors ON DELETE SET NULL,
        flavor_name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('container', 'vm')),
        vcpus integer NOT NULL,
        ram_mb integer NOT NULL,
        disk_gb integer NOT NULL,
        zone text,
        count integer NOT NULL CHECK (count > 0),
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'released')),
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (ends_at > starts_at)
      );

      ALTER TABLE instances
        ADD COLUMN zone text,
        ADD COLUMN server_group_id uuid REFERENCES server_groups ON DELETE SET NULL,
        ADD COLUMN reservation_id uuid REFERENCES reservations ON DELETE SET NULL,
        ADD COLUMN extra_specs jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN alternates uuid[] NOT NULL DEFAULT '{}',
        ADD COLUMN build_failures jsonb NOT NULL DEFAULT '[]';
      CREATE INDEX instances_by_group ON instances (server_group_id) WHERE deleted_at IS NULL;

      ALTER TABLE allocations ALTER COLUMN instance_id DROP NOT NULL;
      ALTER TABLE allocations ADD COLUMN reservation_id uuid REFERENCES reservations ON DELETE CASCADE;
      ALTER TABLE allocations ADD CONSTRAINT allocations_one_consumer CHECK ((instance_id IS NULL) <> (reservation_id IS NULL));
      CREATE INDEX allocations_by_reservation ON allocations (reservation_id, host_id) WHERE reservation_id IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM allocations WHERE reservation_id IS NOT NULL;
      DROP INDEX allocations_by_reservation;
      ALTER TABLE allocations DROP CONSTRAINT allocations_one_consumer;
      ALTER TABLE allocations DROP COLUMN reservation_id;
      ALTER TABLE allocations ALTER COLUMN instance_id SET NOT NULL;
      DROP INDEX instances_by_group;
      ALTER TABLE instances DROP COLUMN zone, DROP COLUMN server_group_id, DROP COLUMN reservation_id,
        DROP COLUMN extra_specs, DROP COLUMN alternates, DROP COLUMN build_failures;
      DROP TABLE reservations, server_groups, aggregate_hosts, aggregates;
      ALTER TABLE flavors DROP COLUMN extra_specs;
      ALTER TABLE hosts DROP COLUMN zone, DROP COLUMN vlan_ranges, DROP COLUMN cached_images, DROP COLUMN used_instances;
    `);
  }
}
