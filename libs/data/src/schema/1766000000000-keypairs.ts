import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SSH key pairs (Nova's os-keypairs): a user's public keys by name. An instance built with one keeps its name and a
 * copy of the key (as Nova's key_data), so that deleting or replacing the pair later changes no running instance.
 */
export class Keypairs1766000000000 implements MigrationInterface {
  name = 'Keypairs1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE keypairs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        -- Nova shows a key pair's id as a number.
        seq bigserial NOT NULL UNIQUE,
        user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
        name text NOT NULL,
        public_key text NOT NULL,
        fingerprint text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT keypairs_user_name_key UNIQUE (user_id, name)
      );
      ALTER TABLE instances ADD COLUMN key_name text, ADD COLUMN key_data text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE instances DROP COLUMN key_name, DROP COLUMN key_data;
      DROP TABLE keypairs;
    `);
  }
}
