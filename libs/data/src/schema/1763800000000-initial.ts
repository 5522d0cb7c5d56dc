import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema: tenancy skeleton (projects, users, hashed tokens), the cloud-wide catalogue
 * (flavors, images, provider networks), hosts with their claimed capacity, instances with their
 * ports and allocations, operations (the audit trail a client polls), and the outbox.
 */
export class Initial1763800000000 implements MigrationInterface {
  name = 'Initial1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
        project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('admin', 'member', 'reader')),
        name text,
        secret_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz
      );

      CREATE TABLE flavors (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        vcpus integer NOT NULL CHECK (vcpus > 0),
        ram_mb integer NOT NULL CHECK (ram_mb > 0),
        disk_gb integer NOT NULL CHECK (disk_gb >= 0),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE images (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        kind text NOT NULL CHECK (kind IN ('container', 'vm')),
        ref text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE networks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        vlan integer NOT NULL UNIQUE CHECK (vlan BETWEEN 1 AND 4094),
        cidr cidr NOT NULL,
        gateway inet NOT NULL,
        allocation_start inet NOT NULL,
        allocation_end inet NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (gateway << cidr AND allocation_start << cidr AND allocation_end << cidr),
        CHECK (allocation_start <= allocation_end)
      );

      CREATE TABLE hosts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        address text NOT NULL,
        drivers text[] NOT NULL DEFAULT '{}',
        vcpus integer NOT NULL CHECK (vcpus >= 0),
        ram_mb integer NOT NULL CHECK (ram_mb >= 0),
        disk_gb integer NOT NULL CHECK (disk_gb >= 0),
        cpu_ratio real NOT NULL CHECK (cpu_ratio > 0),
        ram_ratio real NOT NULL CHECK (ram_ratio > 0),
        disk_ratio real NOT NULL CHECK (disk_ratio > 0),
        used_vcpus integer NOT NULL DEFAULT 0 CHECK (used_vcpus >= 0),
        used_ram_mb integer NOT NULL DEFAULT 0 CHECK (used_ram_mb >= 0),
        used_disk_gb integer NOT NULL DEFAULT 0 CHECK (used_disk_gb >= 0),
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        agent_version text NOT NULL DEFAULT '',
        last_heartbeat_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE instances (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects,
        user_id uuid REFERENCES users ON DELETE SET NULL,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('container', 'vm')),
        status text NOT NULL,
        task_state text,
        power_state text NOT NULL DEFAULT 'NOSTATE',
        host_id uuid REFERENCES hosts,
        flavor_id uuid REFERENCES flavors ON DELETE SET NULL,
        flavor_name text NOT NULL,
        vcpus integer NOT NULL,
        ram_mb integer NOT NULL,
        disk_gb integer NOT NULL,
        image_id uuid REFERENCES images ON DELETE SET NULL,
        image_name text NOT NULL,
        image_ref text NOT NULL,
        pids_limit integer NOT NULL,
        fault jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        launched_at timestamptz,
        deleted_at timestamptz
      );
      CREATE INDEX instances_live_by_project ON instances (project_id, created_at, id) WHERE deleted_at IS NULL;
      CREATE INDEX instances_by_host ON instances (host_id) WHERE deleted_at IS NULL;

      CREATE TABLE ports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        network_id uuid NOT NULL REFERENCES networks ON DELETE RESTRICT,
        instance_id uuid NOT NULL UNIQUE REFERENCES instances ON DELETE CASCADE,
        ip inet NOT NULL,
        mac macaddr NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (network_id, ip)
      );

      CREATE TABLE allocations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        instance_id uuid NOT NULL REFERENCES instances ON DELETE CASCADE,
        host_id uuid NOT NULL REFERENCES hosts ON DELETE RESTRICT,
        vcpus integer NOT NULL CHECK (vcpus >= 0),
        ram_mb integer NOT NULL CHECK (ram_mb >= 0),
        disk_gb integer NOT NULL CHECK (disk_gb >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (instance_id, host_id)
      );
      CREATE INDEX allocations_by_host ON allocations (host_id);

      CREATE TABLE operations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        request_id text,
        project_id uuid REFERENCES projects ON DELETE SET NULL,
        user_id uuid REFERENCES users ON DELETE SET NULL,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id uuid,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        steps jsonb NOT NULL DEFAULT '[]',
        fault jsonb,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX operations_by_target ON operations (target_id, started_at);
      CREATE INDEX operations_by_project ON operations (project_id, started_at);

      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        queue text NOT NULL,
        job_name text NOT NULL,
        job_id text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE FUNCTION berth_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('berth_outbox', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION berth_outbox_notify();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE outbox;
      DROP FUNCTION berth_outbox_notify();
      DROP TABLE operations, allocations, ports, instances, hosts, networks, images, flavors, tokens, users, projects;
    `);
  }
}
