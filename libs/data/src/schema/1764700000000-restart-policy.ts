import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An instance's restart policy: `always` starts it again when the power sync finds it stopped
 * outside Berth (a crash, an OOM kill, `docker stop` by hand); `never` leaves it SHUTOFF.
 */
export class RestartPolicy1764700000000 implements MigrationInterface {
  name = 'RestartPolicy1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE instances ADD COLUMN restart_policy text NOT NULL DEFAULT 'never'
        CHECK (restart_policy IN ('never', 'always'));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE instances DROP COLUMN restart_policy;`);
  }
}
