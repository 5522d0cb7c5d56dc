import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Security groups on the event stream, like instances, operations and hosts (migration Events1764800000000):
 * `security_group.created` and `.deleted` as a group comes and goes, and `security_group.updated` when a rule is
 * added or removed (its data names the rule and the change). In the group's project, so only its tenant (and the
 * admin) sees them. A group's rules that go with it (the cascade of its delete) say nothing of their own.
 */
export class SecurityGroupEvents1765400000000 implements MigrationInterface {
  name = 'SecurityGroupEvents1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION berth_security_group_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE g security_groups;
      BEGIN
        g := CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
        INSERT INTO events (type, project_id, resource_type, resource_id, data)
        VALUES (CASE TG_OP WHEN 'INSERT' THEN 'security_group.created' ELSE 'security_group.deleted' END,
                g.project_id, 'security_group', g.id,
                jsonb_build_object('id', g.id, 'name', g.name, 'description', g.description));
        RETURN NULL;
      END $$;
      CREATE TRIGGER security_group_created AFTER INSERT ON security_groups
        FOR EACH ROW EXECUTE FUNCTION berth_security_group_event();
      CREATE TRIGGER security_group_deleted AFTER DELETE ON security_groups
        FOR EACH ROW EXECUTE FUNCTION berth_security_group_event();

      CREATE FUNCTION berth_security_group_rule_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE r security_group_rules; g security_groups; change text;
      BEGIN
        r := CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
        SELECT * INTO g FROM security_groups WHERE id = r.group_id;
        IF NOT FOUND THEN RETURN NULL; END IF;
        change := CASE TG_OP WHEN 'INSERT' THEN 'ruleAdded' ELSE 'ruleRemoved' END;
        INSERT INTO events (type, project_id, resource_type, resource_id, data)
        VALUES ('security_group.updated', g.project_id, 'security_group', g.id, jsonb_build_object(
          'id', g.id, 'name', g.name, 'change', change, 'cut', r.cut, 'rule', jsonb_build_object(
            'id', r.id, 'direction', r.direction, 'protocol', r.protocol, 'portMin', r.port_min, 'portMax', r.port_max,
            'remoteCidr', r.remote_cidr, 'remoteGroupId', r.remote_group_id)));
        RETURN NULL;
      END $$;
      CREATE TRIGGER security_group_rule_added AFTER INSERT ON security_group_rules
        FOR EACH ROW EXECUTE FUNCTION berth_security_group_rule_event();
      CREATE TRIGGER security_group_rule_removed AFTER UPDATE ON security_group_rules
        FOR EACH ROW WHEN (OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL)
        EXECUTE FUNCTION berth_security_group_rule_event();
      CREATE TRIGGER security_group_rule_deleted AFTER DELETE ON security_group_rules
        FOR EACH ROW WHEN (OLD.removed_at IS NULL)
        EXECUTE FUNCTION berth_security_group_rule_event();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER security_group_rule_deleted ON security_group_rules;
      DROP TRIGGER security_group_rule_removed ON security_group_rules;
      DROP TRIGGER security_group_rule_added ON security_group_rules;
      DROP FUNCTION berth_security_group_rule_event();
      DROP TRIGGER security_group_deleted ON security_groups;
      DROP TRIGGER security_group_created ON security_groups;
      DROP FUNCTION berth_security_group_event();
    `);
  }
}
