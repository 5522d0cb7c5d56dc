import type { MigrationInterface, QueryRunner } from 'typeorm';

/** An instance's metadata: the tenant's own key-value pairs (Nova's server metadata), set at create and after. */
export class InstanceMetadata1765900000000 implements MigrationInterface {
  name = 'InstanceMetadata1765900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE instances ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE instances DROP COLUMN metadata');
  }
}
