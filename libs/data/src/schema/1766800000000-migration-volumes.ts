import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A cold move of an instance takes its volumes along: what the source exported of each (path, size, SHA-256), kept
 * on the migration so that the target's fetch, sent again after a restart, copies the same files.
 */
export class MigrationVolumes1766800000000 implements MigrationInterface {
  name = 'MigrationVolumes1766800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE instance_migrations ADD COLUMN volume_artifacts jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE instance_migrations DROP COLUMN volume_artifacts`);
  }
}
