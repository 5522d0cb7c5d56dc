import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a host's pools hold that no volume record of that host names, as its agent last reported at start: kept on
 * the host (nothing a user made is removed by Berth on a guess) and shown to the admin to decide.
 */
export class StrayVolumes1766700000000 implements MigrationInterface {
  name = 'StrayVolumes1766700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts ADD COLUMN stray_volumes text[] NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN stray_volumes`);
  }
}
