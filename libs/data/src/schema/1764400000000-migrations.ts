import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cold migration. A migration record tracks one move of an instance between hosts, with its state
 * and, when it failed, where. While it runs the instance holds its claim on the target and the
 * record holds the source's (Nova moves the source allocation to the migration as its consumer), so
 * neither host's capacity is given away until the move is confirmed or reverted.
 */
export class Migrations1764400000000 implements MigrationInterface {
  name = 'Migrations1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE instance_migrations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        instance_id uuid NOT NULL REFERENCES instances ON DELETE CASCADE,
        operation_id uuid NOT NULL REFERENCES operations ON DELETE CASCADE,
        source_host_id uuid NOT NULL REFERENCES hosts ON DELETE RESTRICT,
        target_host_id uuid REFERENCES hosts ON DELETE RESTRICT,
        requested_host text,
        kind text NOT NULL DEFAULT 'migration' CHECK (kind IN ('migration', 'evacuation')),
        status text NOT NULL CHECK (status IN ('queued', 'pre-migrating', 'migrating', 'post-migrating', 'finished',
                                               'confirming', 'confirmed', 'reverting', 'reverted', 'error',
                                               'evacuated', 'cleaning')),
        -- An evacuation: what the rebuild could not keep.
        lost text,
        was_running boolean NOT NULL,
        snapshot_ref text,
        target_pinned_cpus integer[] NOT NULL DEFAULT '{}',
        failed_step text,
        fault jsonb,
        -- A drain's migrations: the drain's operation, and confirmed without waiting for an operator.
        parent_operation_id uuid REFERENCES operations ON DELETE SET NULL,
        auto_confirm boolean NOT NULL DEFAULT false,
        -- A cold resize: the size the instance takes on the target, and the one it had.
        resize jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX instance_migrations_one_open ON instance_migrations (instance_id)
        WHERE status NOT IN ('confirmed', 'reverted', 'error');
      CREATE INDEX instance_migrations_by_status ON instance_migrations (status, updated_at);

      ALTER TABLE allocations ADD COLUMN migration_id uuid REFERENCES instance_migrations ON DELETE CASCADE;
      ALTER TABLE allocations DROP CONSTRAINT allocations_one_consumer;
      ALTER TABLE allocations ADD CONSTRAINT allocations_one_consumer
        CHECK (num_nonnulls(instance_id, reservation_id, migration_id) = 1);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE allocations a SET instance_id = m.instance_id, migration_id = NULL
        FROM instance_migrations m WHERE a.migration_id = m.id
         AND NOT EXISTS (SELECT 1 FROM allocations b WHERE b.instance_id = m.instance_id AND b.host_id = a.host_id);
      DELETE FROM allocations WHERE migration_id IS NOT NULL;
      ALTER TABLE allocations DROP CONSTRAINT allocations_one_consumer;
      ALTER TABLE allocations ADD CONSTRAINT allocations_one_consumer CHECK ((instance_id IS NULL) <> (reservation_id IS NULL));
      ALTER TABLE allocations DROP COLUMN migration_id;
      DROP TABLE instance_migrations;
    `);
  }
}
