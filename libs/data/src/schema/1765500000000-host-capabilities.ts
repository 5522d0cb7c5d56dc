import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each host's driver capabilities by instance kind, as its agent reports them with every heartbeat
 * ({"container": ["live-resize", "cold-migrate"], "vm": [...]}). NULL until an agent that reports them beats:
 * nothing is refused for a host whose capabilities are not known.
 */
export class HostCapabilities1765500000000 implements MigrationInterface {
  name = 'HostCapabilities1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts ADD COLUMN capabilities jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN capabilities`);
  }
}
