import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A commit that revokes or deletes tokens notifies berth_tokens, so that every API process ends the event streams
 * those tokens hold at once, instead of at its next periodic check.
 */
export class TokenNotify1765700000000 implements MigrationInterface {
  name = 'TokenNotify1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION berth_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('berth_tokens', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER tokens_revoked AFTER UPDATE OF revoked_at ON tokens
        FOR EACH STATEMENT EXECUTE FUNCTION berth_tokens_changed();
      CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens
        FOR EACH STATEMENT EXECUTE FUNCTION berth_tokens_changed();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER tokens_revoked ON tokens;
      DROP TRIGGER tokens_deleted ON tokens;
      DROP FUNCTION berth_tokens_changed();
    `);
  }
}
