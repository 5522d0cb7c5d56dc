import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Block volumes (Cinder's, on each host's local storage). A volume type is an admin's class of volume: the backend
 * that holds it and the I/O limits a volume of it gets. A volume lives on one host, whose disk it takes through an
 * allocation (consumer: the volume), so that the usage audit covers it like an instance's disk; it is counted in
 * its project's quotas (volumes, volumeGb) from these rows, as instances are, so there is no counter to drift.
 * A volume is attached to at most one instance (`instance_id`, with a container's mount path or a VM's serial).
 * A volume row goes when its host has removed it; `volume.created/updated/deleted` events come from triggers.
 */
export class Volumes1766400000000 implements MigrationInterface {
  name = 'Volumes1766400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE volume_types (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        backend text NOT NULL CHECK (backend IN ('file')),
        is_default boolean NOT NULL DEFAULT false,
        read_iops integer CHECK (read_iops > 0),
        write_iops integer CHECK (write_iops > 0),
        read_bps bigint CHECK (read_bps > 0),
        write_bps bigint CHECK (write_bps > 0),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX volume_types_one_default ON volume_types (is_default) WHERE is_default;
      INSERT INTO volume_types (name, description, backend, is_default)
        VALUES ('local', 'Raw files on the host''s own disk', 'file', true);

      CREATE TABLE volumes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects,
        user_id uuid REFERENCES users ON DELETE SET NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        size_gb integer NOT NULL CHECK (size_gb > 0),
        type_id uuid NOT NULL REFERENCES volume_types ON DELETE RESTRICT,
        backend text NOT NULL,
        status text NOT NULL CHECK (status IN
          ('creating', 'available', 'attaching', 'in-use', 'detaching', 'extending', 'deleting', 'error')),
        host_id uuid REFERENCES hosts ON DELETE RESTRICT,
        zone text,
        fault jsonb,
        pending_size_gb integer,
        instance_id uuid REFERENCES instances ON DELETE SET NULL,
        attach_path text,
        serial text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX volumes_by_project ON volumes (project_id, created_at, id);
      CREATE INDEX volumes_by_host ON volumes (host_id);
      CREATE INDEX volumes_by_instance ON volumes (instance_id) WHERE instance_id IS NOT NULL;
      CREATE UNIQUE INDEX volumes_one_per_path ON volumes (instance_id, attach_path) WHERE instance_id IS NOT NULL;

      ALTER TABLE allocations ADD COLUMN volume_id uuid REFERENCES volumes ON DELETE CASCADE;
      ALTER TABLE allocations DROP CONSTRAINT allocations_one_consumer;
      ALTER TABLE allocations ADD CONSTRAINT allocations_one_consumer
        CHECK (num_nonnulls(instance_id, reservation_id, migration_id, volume_id) = 1);
      CREATE UNIQUE INDEX allocations_by_volume ON allocations (volume_id) WHERE volume_id IS NOT NULL;

      ALTER TABLE projects ADD COLUMN quota_volumes integer, ADD COLUMN quota_volume_gb integer;
      ALTER TABLE hosts ADD COLUMN volume_backends text[] NOT NULL DEFAULT '{}';

      CREATE FUNCTION berth_volume_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE v volumes;
      BEGIN
        v := CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
        INSERT INTO events (type, project_id, resource_type, resource_id, data)
        VALUES (CASE TG_OP WHEN 'INSERT' THEN 'volume.created' WHEN 'DELETE' THEN 'volume.deleted'
                           ELSE 'volume.updated' END,
                v.project_id, 'volume', v.id, jsonb_build_object(
          'id', v.id, 'name', v.name, 'status', v.status, 'sizeGb', v.size_gb, 'hostId', v.host_id,
          'instanceId', v.instance_id, 'fault', v.fault));
        RETURN NULL;
      END $$;
      CREATE TRIGGER volume_created AFTER INSERT ON volumes FOR EACH ROW EXECUTE FUNCTION berth_volume_event();
      CREATE TRIGGER volume_deleted AFTER DELETE ON volumes FOR EACH ROW EXECUTE FUNCTION berth_volume_event();
      CREATE TRIGGER volume_changed AFTER UPDATE ON volumes FOR EACH ROW WHEN (
          OLD.status IS DISTINCT FROM NEW.status OR OLD.size_gb IS DISTINCT FROM NEW.size_gb
          OR OLD.host_id IS DISTINCT FROM NEW.host_id OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.instance_id IS DISTINCT FROM NEW.instance_id)
        EXECUTE FUNCTION berth_volume_event();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER volume_changed ON volumes;
      DROP TRIGGER volume_deleted ON volumes;
      DROP TRIGGER volume_created ON volumes;
      DROP FUNCTION berth_volume_event();
      ALTER TABLE hosts DROP COLUMN volume_backends;
      ALTER TABLE projects DROP COLUMN quota_volumes, DROP COLUMN quota_volume_gb;
      DELETE FROM allocations WHERE volume_id IS NOT NULL;
      ALTER TABLE allocations DROP CONSTRAINT allocations_one_consumer;
      ALTER TABLE allocations ADD CONSTRAINT allocations_one_consumer
        CHECK (num_nonnulls(instance_id, reservation_id, migration_id) = 1);
      ALTER TABLE allocations DROP COLUMN volume_id;
      DROP TABLE volumes;
      DROP TABLE volume_types;
    `);
  }
}
