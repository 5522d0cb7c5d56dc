import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recovery after faults. A host's agent incarnation tells a restart from a repeated report; the
 * command a migration awaits (and where) tells what a restarted host was doing; the drivers whose
 * daemon does not answer keep a host out of scheduling for that kind; workloads a host holds that
 * no record owns (strays) are remembered from when they were first seen, and removed after a grace.
 */
export class Recovery1764600000000 implements MigrationInterface {
  name = 'Recovery1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE hosts ADD COLUMN agent_incarnation text,
                        ADD COLUMN unavailable_drivers text[] NOT NULL DEFAULT '{}';
      ALTER TABLE instance_migrations
        ADD COLUMN pending_command text,
        ADD COLUMN pending_on text CHECK (pending_on IN ('source', 'target')),
        ADD COLUMN pending_operation_id uuid;
      CREATE TABLE host_strays (
        host_id uuid NOT NULL REFERENCES hosts ON DELETE CASCADE,
        instance_id uuid NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        purge_sent_at timestamptz,
        PRIMARY KEY (host_id, instance_id)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE host_strays;
      ALTER TABLE instance_migrations DROP COLUMN pending_command, DROP COLUMN pending_on, DROP COLUMN pending_operation_id;
      ALTER TABLE hosts DROP COLUMN agent_incarnation, DROP COLUMN unavailable_drivers;
    `);
  }
}
