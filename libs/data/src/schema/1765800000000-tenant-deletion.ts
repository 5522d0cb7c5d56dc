import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Projects and users can be deleted. What they made and what was done in their name stays on record: deleted
 * instances and the audit trail (operations) keep the project's and the user's ids, as Nova keeps them, without a
 * foreign key that would either block the deletion or erase who did what. A project is deleted only once it holds no
 * instance (the workflow checks under the project's row lock, which every create takes too); its tokens, members,
 * images, groups and reservations go with it by their own cascades.
 */
export class TenantDeletion1765800000000 implements MigrationInterface {
  name = 'TenantDeletion1765800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE instances DROP CONSTRAINT instances_project_id_fkey;
      ALTER TABLE instances DROP CONSTRAINT instances_user_id_fkey;
      ALTER TABLE operations DROP CONSTRAINT operations_project_id_fkey;
      ALTER TABLE operations DROP CONSTRAINT operations_user_id_fkey;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE instances ADD CONSTRAINT instances_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects NOT VALID;
      ALTER TABLE instances ADD CONSTRAINT instances_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users ON DELETE SET NULL NOT VALID;
      ALTER TABLE operations ADD CONSTRAINT operations_project_id_fkey
        FOREIGN KEY (project_id) REFERENCES projects ON DELETE SET NULL NOT VALID;
      ALTER TABLE operations ADD CONSTRAINT operations_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users ON DELETE SET NULL NOT VALID;
    `);
  }
}
