import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A resize applied live on the instance's own host may await verification (Nova's VERIFY_RESIZE): it is recorded as
 * a migration of kind 'resize' whose source and target are that host, and its `resize` keeps what the host holds of
 * both sizes until the resize is confirmed or reverted.
 */
export class ResizeVerification1766300000000 implements MigrationInterface {
  name = 'ResizeVerification1766300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE instance_migrations
        DROP CONSTRAINT instance_migrations_kind_check,
        ADD CONSTRAINT instance_migrations_kind_check CHECK (kind IN ('migration', 'evacuation', 'resize')),
        ADD CONSTRAINT instance_migrations_resize_in_place CHECK (
          kind <> 'resize' OR (target_host_id = source_host_id AND resize ? 'held'));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM instance_migrations WHERE kind = 'resize';
      ALTER TABLE instance_migrations
        DROP CONSTRAINT instance_migrations_resize_in_place,
        DROP CONSTRAINT instance_migrations_kind_check,
        ADD CONSTRAINT instance_migrations_kind_check CHECK (kind IN ('migration', 'evacuation'));
    `);
  }
}
