import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A volume attached to an instance may go with it (Nova's delete_on_termination): set when the instance is built
 * with it, or when the instance's delete asks for its volumes to go too. Cleared whenever the volume is let go.
 */
export class VolumeDeleteOnTermination1766500000000 implements MigrationInterface {
  name = 'VolumeDeleteOnTermination1766500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE volumes ADD COLUMN delete_on_termination boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE volumes DROP COLUMN delete_on_termination`);
  }
}
