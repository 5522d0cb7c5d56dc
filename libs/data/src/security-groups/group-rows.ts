import { isUuid } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

/** A rule as the API shows it. */
export interface RuleRow {
  id: string;
  direction: string;
  protocol: string;
  portMin: number | null;
  portMax: number | null;
  remoteCidr: string | null;
  remoteGroupId: string | null;
  createdAt: Date;
}

/** A group with its live rules and the instances whose port is in it. */
export interface GroupRow {
  id: string;
  name: string;
  description: string;
  projectId: string;
  rules: RuleRow[];
  members: Array<{ id: string; name: string }>;
  createdAt: Date;
}

/** What a rule allows; two live rules of one group never allow the same. */
export interface RuleMatch {
  direction: string;
  protocol: string;
  portMin: number | null;
  portMax: number | null;
  remoteCidr: string | null;
  remoteGroupId: string | null;
}

const RULE_JSON = `json_build_object('id', r.id, 'direction', r.direction, 'protocol', r.protocol,
  'portMin', r.port_min, 'portMax', r.port_max, 'remoteCidr', r.remote_cidr::text,
  'remoteGroupId', r.remote_group_id, 'createdAt', r.created_at)`;

const GROUP_SQL = `
  SELECT g.id, g.name, g.description, g.project_id AS "projectId", g.created_at AS "createdAt",
         coalesce((SELECT json_agg(${RULE_JSON} ORDER BY r.created_at, r.direction, r.id) FROM security_group_rules r
                    WHERE r.group_id = g.id AND r.removed_at IS NULL), '[]') AS rules,
         coalesce((SELECT json_agg(json_build_object('id', i.id, 'name', i.name) ORDER BY i.created_at)
                     FROM port_security_groups psg JOIN ports p ON p.id = psg.port_id
                     JOIN instances i ON i.id = p.instance_id
                    WHERE psg.group_id = g.id), '[]') AS members
    FROM security_groups g`;

/** The groups of one project (null: every project's), by project and name. */
export function groupRows(m: EntityManager, projectId: string | null): Promise<GroupRow[]> {
  return rows<GroupRow>(m, `${GROUP_SQL} WHERE ($1::uuid IS NULL OR g.project_id = $1) ORDER BY g.project_id, g.name`, [
    projectId,
  ]);
}

/** One group, if it is of the project (null: of any project). */
export function groupRow(m: EntityManager, id: string, projectId: string | null): Promise<GroupRow | null> {
  return one<GroupRow>(m, `${GROUP_SQL} WHERE g.id = $1 AND ($2::uuid IS NULL OR g.project_id = $2)`, [id, projectId]);
}

/** One live rule. */
export async function ruleRow(m: EntityManager, ruleId: string): Promise<RuleRow | null> {
  const found = await one<{ rule: RuleRow }>(
    m,
    `SELECT ${RULE_JSON} AS rule FROM security_group_rules r WHERE r.id = $1 AND r.removed_at IS NULL`,
    [ruleId],
  );
  return found?.rule ?? null;
}

/** The group of a live rule, if the group is of the project (null: of any project). */
export function ruleGroup(
  m: EntityManager,
  ruleId: string,
  projectId: string | null,
): Promise<{ id: string; projectId: string } | null> {
  return one(
    m,
    `SELECT g.id, g.project_id AS "projectId" FROM security_group_rules r JOIN security_groups g ON g.id = r.group_id
      WHERE r.id = $1 AND r.removed_at IS NULL AND ($2::uuid IS NULL OR g.project_id = $2)`,
    [ruleId, projectId],
  );
}

/** The project's group by id or name; another project's is not found. */
export async function groupIdOf(m: EntityManager, projectId: string, ref: string): Promise<string | null> {
  const byId = isUuid(ref);
  const found = await one<{ id: string }>(
    m,
    `SELECT id FROM security_groups WHERE project_id = $1 AND ${byId ? 'id = $2::uuid' : 'name = $2'}`,
    [projectId, byId ? ref.toLowerCase() : ref],
  );
  return found?.id ?? null;
}

/** How many groups and live rules the project holds, and its own limits on them (null: the default). */
export async function securityGroupUsage(
  m: EntityManager,
  projectId: string,
): Promise<{ groups: number; rules: number; groupLimit: number | null; ruleLimit: number | null }> {
  const found = await one<{ groups: number; rules: number; groupLimit: number | null; ruleLimit: number | null }>(
    m,
    `SELECT (SELECT count(*)::int FROM security_groups WHERE project_id = $1) AS groups,
            (SELECT count(*)::int FROM security_group_rules r JOIN security_groups g ON g.id = r.group_id
              WHERE g.project_id = $1 AND r.removed_at IS NULL) AS rules,
            quota_security_groups AS "groupLimit", quota_security_group_rules AS "ruleLimit"
       FROM projects WHERE id = $1`,
    [projectId],
  );
  return found ?? { groups: 0, rules: 0, groupLimit: null, ruleLimit: null };
}

/** A new group with these rules; returns its id. */
export async function insertGroup(
  m: EntityManager,
  group: { projectId: string; name: string; description: string },
): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    'INSERT INTO security_groups (project_id, name, description) VALUES ($1, $2, $3) RETURNING id',
    [group.projectId, group.name, group.description],
  );
  if (!made) throw new Error('insert into security_groups returned no row');
  return made.id;
}

export async function deleteGroup(m: EntityManager, groupId: string): Promise<void> {
  await m.query('DELETE FROM security_groups WHERE id = $1', [groupId]);
}

/** The live rule of the group that allows exactly what `rule` does, if there is one. */
export async function sameRule(m: EntityManager, groupId: string, rule: RuleMatch): Promise<string | null> {
  const found = await one<{ id: string }>(
    m,
    `SELECT id FROM security_group_rules WHERE group_id = $1 AND removed_at IS NULL AND direction = $2
        AND protocol = $3 AND port_min IS NOT DISTINCT FROM $4 AND port_max IS NOT DISTINCT FROM $5
        AND remote_cidr IS NOT DISTINCT FROM $6::cidr AND remote_group_id IS NOT DISTINCT FROM $7::uuid`,
    [groupId, rule.direction, rule.protocol, rule.portMin, rule.portMax, rule.remoteCidr, rule.remoteGroupId],
  );
  return found?.id ?? null;
}

/** A new rule of the group; returns its id. */
export async function insertRule(m: EntityManager, groupId: string, rule: RuleMatch): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    `INSERT INTO security_group_rules (group_id, direction, protocol, port_min, port_max, remote_cidr, remote_group_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [groupId, rule.direction, rule.protocol, rule.portMin, rule.portMax, rule.remoteCidr, rule.remoteGroupId],
  );
  if (!made) throw new Error('insert into security_group_rules returned no row');
  return made.id;
}

/**
 * Removes a rule. A cut one leaves a tombstone (removed_at, cut) for a day, by which hosts keep dropping the
 * connections it had admitted; otherwise the row goes.
 */
export async function removeRule(m: EntityManager, ruleId: string, cut: boolean): Promise<void> {
  if (cut) {
    await m.query('UPDATE security_group_rules SET removed_at = now(), cut = true WHERE id = $1', [ruleId]);
  } else {
    await m.query('DELETE FROM security_group_rules WHERE id = $1', [ruleId]);
  }
}
