import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Password logins and project membership. A user may have a password (its Argon2id hash) and holds a role in each
 * project it is a member of; failed logins in a row and a lock-out time guard against guessing. Tokens gain the
 * project-admin role. Users who hold live tokens today become members of those projects with the highest role those
 * carry (an admin token outside the admin project makes a project-admin there), so that the admin has no list to
 * rebuild.
 */
export class Passwords1765600000000 implements MigrationInterface {
  name = 'Passwords1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users ADD COLUMN password_hash text, ADD COLUMN failed_logins int NOT NULL DEFAULT 0,
                        ADD COLUMN locked_until timestamptz;
      CREATE TABLE project_members (
        project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('reader', 'member', 'project-admin', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, user_id)
      );
      CREATE INDEX project_members_by_user ON project_members (user_id);
      ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
      ALTER TABLE tokens ADD CONSTRAINT tokens_role_check CHECK (role IN ('reader', 'member', 'project-admin', 'admin'));
      INSERT INTO project_members (project_id, user_id, role)
        SELECT DISTINCT ON (t.project_id, t.user_id) t.project_id, t.user_id,
               CASE WHEN t.role = 'admin' AND p.name <> 'admin' THEN 'project-admin' ELSE t.role END
          FROM tokens t JOIN projects p ON p.id = t.project_id
         WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
         ORDER BY t.project_id, t.user_id, CASE t.role WHEN 'admin' THEN 3 WHEN 'member' THEN 2 ELSE 1 END DESC
        ON CONFLICT DO NOTHING;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE project_members;
      ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
      ALTER TABLE tokens ADD CONSTRAINT tokens_role_check CHECK (role IN ('admin', 'member', 'reader'));
      ALTER TABLE users DROP COLUMN password_hash, DROP COLUMN failed_logins, DROP COLUMN locked_until;
    `);
  }
}
