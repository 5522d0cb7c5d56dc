import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenancy: per-project quota limits (NULL: the configured default, -1: unlimited), images private
 * to a project (names unique within their scope only, so a conflict never reveals another tenant's
 * image), and indexes for the audit trail's filters.
 */
export class Tenancy1763900000000 implements MigrationInterface {
  name = 'Tenancy1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE projects
        ADD COLUMN quota_instances integer CHECK (quota_instances >= -1),
        ADD COLUMN quota_vcpus integer CHECK (quota_vcpus >= -1),
        ADD COLUMN quota_ram_mb integer CHECK (quota_ram_mb >= -1),
        ADD COLUMN quota_disk_gb integer CHECK (quota_disk_gb >= -1),
        ADD COLUMN quota_ips integer CHECK (quota_ips >= -1);

      ALTER TABLE images ADD COLUMN project_id uuid REFERENCES projects ON DELETE CASCADE;
      ALTER TABLE images DROP CONSTRAINT images_name_key;
      CREATE UNIQUE INDEX images_public_name ON images (name) WHERE project_id IS NULL;
      CREATE UNIQUE INDEX images_private_name ON images (project_id, name) WHERE project_id IS NOT NULL;

      CREATE INDEX tokens_by_user ON tokens (user_id);
      CREATE INDEX operations_by_started ON operations (started_at, id);
      CREATE INDEX operations_by_user ON operations (user_id, started_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX operations_by_user, operations_by_started, tokens_by_user;
      DELETE FROM images WHERE project_id IS NOT NULL;
      DROP INDEX images_private_name, images_public_name;
      ALTER TABLE images DROP COLUMN project_id;
      ALTER TABLE images ADD CONSTRAINT images_name_key UNIQUE (name);
      ALTER TABLE projects DROP COLUMN quota_instances, DROP COLUMN quota_vcpus, DROP COLUMN quota_ram_mb,
        DROP COLUMN quota_disk_gb, DROP COLUMN quota_ips;
    `);
  }
}
