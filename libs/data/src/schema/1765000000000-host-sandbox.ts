import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a host offers to keep instances apart besides its limits: the confinement its agent reports (the
 * container runtime's security options, and Berth's own: no-new-privileges, dropped capabilities, port
 * security), and its kernel's pid ceiling (kernel.pid_max, which the agent raises at start).
 */
export class HostSandbox1765000000000 implements MigrationInterface {
  name = 'HostSandbox1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE hosts
        ADD COLUMN confinement text[] NOT NULL DEFAULT '{}',
        ADD COLUMN pid_max integer CHECK (pid_max > 0);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN pid_max, DROP COLUMN confinement`);
  }
}
