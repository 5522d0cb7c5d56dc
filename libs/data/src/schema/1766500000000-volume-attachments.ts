import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A volume's attachment, whole: the instance, a container's mount path or a VM's serial (with their indexes and the
 * event on a change of instance), and whether it goes with the instance (Nova's delete_on_termination: set when the
 * instance is built with it, or when the instance's delete asks for its volumes to go too; cleared whenever the
 * volume is let go). The attachment's columns were added to Volumes1766400000000 after a first version of it had
 * landed, so a database migrated by that version lacks them: they are added here where missing (a no-op elsewhere).
 */
export class VolumeAttachments1766500000000 implements MigrationInterface {
  name = 'VolumeAttachments1766500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE volumes
        ADD COLUMN IF NOT EXISTS instance_id uuid REFERENCES instances ON DELETE SET NULL,
        ADD COLUMN IF NOT EXISTS attach_path text,
        ADD COLUMN IF NOT EXISTS serial text,
        ADD COLUMN delete_on_termination boolean NOT NULL DEFAULT false;
      CREATE INDEX IF NOT EXISTS volumes_by_instance ON volumes (instance_id) WHERE instance_id IS NOT NULL;
      CREATE UNIQUE INDEX IF NOT EXISTS volumes_one_per_path ON volumes (instance_id, attach_path)
        WHERE instance_id IS NOT NULL;

      CREATE OR REPLACE FUNCTION berth_volume_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
      DROP TRIGGER IF EXISTS volume_changed ON volumes;
      CREATE TRIGGER volume_changed AFTER UPDATE ON volumes FOR EACH ROW WHEN (
          OLD.status IS DISTINCT FROM NEW.status OR OLD.size_gb IS DISTINCT FROM NEW.size_gb
          OR OLD.host_id IS DISTINCT FROM NEW.host_id OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.instance_id IS DISTINCT FROM NEW.instance_id)
        EXECUTE FUNCTION berth_volume_event();
    `);
  }

  /** Only what this migration alone adds goes (the attachment itself is Volumes1766400000000's). */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE volumes DROP COLUMN delete_on_termination`);
  }
}
