import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keystone's application credentials: a user's named secret (stored as an Argon2id hash) that logs in to one project
 * with a role no higher than the user's there, until it expires or is deleted. Tokens it gave end with it (the
 * berth_tokens notice ends their event streams); a token from a restricted one mints no tokens and no credentials.
 */
export class ApplicationCredentials1766200000000 implements MigrationInterface {
  name = 'ApplicationCredentials1766200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE application_credentials (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
        project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        secret_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'project-admin', 'member', 'reader')),
        unrestricted boolean NOT NULL DEFAULT false,
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT application_credentials_user_name_key UNIQUE (user_id, name)
      );
      ALTER TABLE tokens
        ADD COLUMN application_credential_id uuid REFERENCES application_credentials ON DELETE CASCADE,
        ADD COLUMN restricted boolean NOT NULL DEFAULT false;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tokens DROP COLUMN application_credential_id, DROP COLUMN restricted;
      DROP TABLE application_credentials;
    `);
  }
}
