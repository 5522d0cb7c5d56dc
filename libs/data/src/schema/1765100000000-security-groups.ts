import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Security groups, as Neutron's: a project's named sets of allow rules, bound to ports. Every project has a
 * `default` group (egress to anywhere, ingress from its own members), made when first needed. A rule removed
 * with "cut" stays a day as a tombstone, so that hosts keep dropping the connections it had admitted.
 * Ports made before this migration join their project's default group: they keep talking to each other.
 */
export class SecurityGroups1765100000000 implements MigrationInterface {
  name = 'SecurityGroups1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE security_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project_id, name)
      );

      CREATE TABLE security_group_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        group_id uuid NOT NULL REFERENCES security_groups ON DELETE CASCADE,
        direction text NOT NULL CHECK (direction IN ('ingress', 'egress')),
        protocol text NOT NULL CHECK (protocol IN ('tcp', 'udp', 'icmp', 'any')),
        port_min int,
        port_max int,
        remote_cidr cidr,
        remote_group_id uuid REFERENCES security_groups ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz,
        cut boolean NOT NULL DEFAULT false,
        CHECK (remote_cidr IS NULL OR remote_group_id IS NULL),
        CHECK ((port_min IS NULL) = (port_max IS NULL)),
        CHECK (port_min IS NULL OR (port_min BETWEEN 1 AND port_max AND port_max <= 65535 AND protocol IN ('tcp', 'udp')))
      );
      CREATE INDEX security_group_rules_group ON security_group_rules (group_id);
      CREATE INDEX security_group_rules_remote ON security_group_rules (remote_group_id) WHERE remote_group_id IS NOT NULL;

      CREATE TABLE port_security_groups (
        port_id uuid NOT NULL REFERENCES ports ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES security_groups ON DELETE RESTRICT,
        PRIMARY KEY (port_id, group_id)
      );
      CREATE INDEX port_security_groups_group ON port_security_groups (group_id);

      ALTER TABLE projects ADD COLUMN quota_security_groups int, ADD COLUMN quota_security_group_rules int;

      INSERT INTO security_groups (project_id, name, description)
        SELECT DISTINCT i.project_id, 'default', 'Egress to anywhere; ingress from members of this group'
          FROM ports p JOIN instances i ON i.id = p.instance_id;
      INSERT INTO security_group_rules (group_id, direction, protocol, remote_group_id)
        SELECT id, 'egress', 'any', NULL FROM security_groups
        UNION ALL SELECT id, 'ingress', 'any', id FROM security_groups;
      INSERT INTO port_security_groups (port_id, group_id)
        SELECT p.id, g.id FROM ports p JOIN instances i ON i.id = p.instance_id
          JOIN security_groups g ON g.project_id = i.project_id AND g.name = 'default';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE port_security_groups;
      DROP TABLE security_group_rules;
      DROP TABLE security_groups;
      ALTER TABLE projects DROP COLUMN quota_security_group_rules, DROP COLUMN quota_security_groups;
    `);
  }
}
