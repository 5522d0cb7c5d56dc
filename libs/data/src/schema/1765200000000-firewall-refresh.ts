import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Instances whose firewall a security-group change altered and whose hosts have not been sent it yet. A change
 * marks them in its own transaction; the schedulers' refresher sends each marked instance's firewall once, however
 * many changes marked it meanwhile (a burst of creates into one default group changes every member's firewall at
 * every create). No foreign keys: their checks would lock the instance and group rows that the changes lock in
 * their own order, and a refresh must never wait on a change (a mark of a row that is gone is simply dropped).
 */
export class FirewallRefresh1765200000000 implements MigrationInterface {
  name = 'FirewallRefresh1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE firewall_refresh (
        instance_id uuid PRIMARY KEY,
        project_id uuid NOT NULL,
        marked_at timestamptz NOT NULL DEFAULT now()
      );
      -- A group whose members changed: every instance whose rules name it is marked when the refresher runs,
      -- so that a create marks one row, not one per instance of its project.
      CREATE TABLE firewall_refresh_groups (
        group_id uuid PRIMARY KEY,
        project_id uuid NOT NULL
      );
      CREATE FUNCTION berth_firewall_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('berth_firewalls', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER firewall_refresh_notify AFTER INSERT ON firewall_refresh
        FOR EACH STATEMENT EXECUTE FUNCTION berth_firewall_notify();
      CREATE TRIGGER firewall_refresh_groups_notify AFTER INSERT ON firewall_refresh_groups
        FOR EACH STATEMENT EXECUTE FUNCTION berth_firewall_notify();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE firewall_refresh_groups;
      DROP TABLE firewall_refresh;
      DROP FUNCTION berth_firewall_notify();
    `);
  }
}
