import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Images made from instances (Nova's createImage): `saving` from the request until the instance's host has put the
 * copy in the registry, then `active` with its ref and size; the operation that makes one names it, so that the
 * host's answer finds it (and a failure removes it).
 */
export class ImageSnapshots1766600000000 implements MigrationInterface {
  name = 'ImageSnapshots1766600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE images
        ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('saving', 'active')),
        ADD COLUMN size_bytes bigint,
        ADD COLUMN source_instance_id uuid,
        ADD COLUMN operation_id uuid;
      CREATE INDEX images_saving ON images (operation_id) WHERE status = 'saving';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM images WHERE status = 'saving';
      DROP INDEX images_saving;
      ALTER TABLE images DROP COLUMN status, DROP COLUMN size_bytes, DROP COLUMN source_instance_id,
        DROP COLUMN operation_id;
    `);
  }
}
