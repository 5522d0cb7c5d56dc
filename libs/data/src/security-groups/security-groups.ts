import { BerthError } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';
import { groupIdOf } from './group-rows';

export const DEFAULT_GROUP = 'default';

/**
 * Serialises the security-group changes of one project (rules, groups, memberships). Each change then
 * resolves the firewalls it sends after the one before it committed, so that the last firewall a host
 * receives for a port is the one the database holds.
 */
export async function lockProjectFirewalls(m: EntityManager, projectId: string): Promise<void> {
  await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`security-groups:${projectId}`]);
}

/** The project's default group (egress anywhere, ingress from its members), made on first need. */
export async function ensureDefaultGroup(m: EntityManager, projectId: string): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    `INSERT INTO security_groups (project_id, name, description)
     VALUES ($1, $2, 'Egress to anywhere; ingress from members of this group')
     ON CONFLICT (project_id, name) DO NOTHING RETURNING id`,
    [projectId, DEFAULT_GROUP],
  );
  if (made) {
    await m.query(
      `INSERT INTO security_group_rules (group_id, direction, protocol, remote_group_id)
       VALUES ($1, 'egress', 'any', NULL), ($1, 'ingress', 'any', $1)`,
      [made.id],
    );
    return made.id;
  }
  const found = await one<{ id: string }>(m, 'SELECT id FROM security_groups WHERE project_id = $1 AND name = $2', [
    projectId,
    DEFAULT_GROUP,
  ]);
  if (!found) throw new Error(`project ${projectId} has no default security group`);
  return found.id;
}

/** Live instances whose port is in one of the groups. */
export async function membersOf(m: EntityManager, groupIds: readonly string[]): Promise<string[]> {
  const found = await rows<{ id: string }>(
    m,
    `SELECT DISTINCT p.instance_id AS id FROM port_security_groups psg JOIN ports p ON p.id = psg.port_id
      WHERE psg.group_id = ANY ($1::uuid[])`,
    [groupIds],
  );
  return found.map((r) => r.id);
}

/** Live instances whose firewall names the members of one of the groups (a rule with it as remote group). */
export async function referrersOf(m: EntityManager, groupIds: readonly string[]): Promise<string[]> {
  const found = await rows<{ id: string }>(
    m,
    `SELECT DISTINCT p.instance_id AS id
       FROM security_group_rules r
       JOIN port_security_groups psg ON psg.group_id = r.group_id
       JOIN ports p ON p.id = psg.port_id
      WHERE r.remote_group_id = ANY ($1::uuid[]) AND r.removed_at IS NULL`,
    [groupIds],
  );
  return found.map((r) => r.id);
}

/** The groups of the instance's port. */
export async function groupsOfInstance(m: EntityManager, instanceId: string): Promise<string[]> {
  const found = await rows<{ id: string }>(
    m,
    `SELECT psg.group_id AS id FROM port_security_groups psg JOIN ports p ON p.id = psg.port_id WHERE p.instance_id = $1`,
    [instanceId],
  );
  return found.map((r) => r.id);
}

/** Puts the port in exactly these groups. */
export async function bindGroups(m: EntityManager, portId: string, groupIds: readonly string[]): Promise<void> {
  await m.query('DELETE FROM port_security_groups WHERE port_id = $1 AND NOT (group_id = ANY ($2::uuid[]))', [
    portId,
    groupIds,
  ]);
  await m.query(
    `INSERT INTO port_security_groups (port_id, group_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
    [portId, groupIds],
  );
}

/**
 * Marks the instances whose firewall a change altered, in the change's transaction; the refresher sends
 * their hosts the result soon after it commits (FirewallRefresher), once per instance however many changes
 * marked it meanwhile.
 */
export async function markFirewalls(m: EntityManager, instanceIds: readonly string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  await m.query(
    `INSERT INTO firewall_refresh (instance_id, project_id)
     SELECT id, project_id FROM instances WHERE id = ANY ($1::uuid[]) AND deleted_at IS NULL ORDER BY id
     ON CONFLICT (instance_id) DO NOTHING`,
    [[...new Set(instanceIds)]],
  );
}

/** Marks the groups whose members changed: the refresher marks every instance whose rules name them. */
export async function markGroupMembers(m: EntityManager, groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  await m.query(
    `INSERT INTO firewall_refresh_groups (group_id, project_id)
     SELECT id, project_id FROM security_groups WHERE id = ANY ($1::uuid[]) ORDER BY id ON CONFLICT (group_id) DO NOTHING`,
    [[...new Set(groupIds)]],
  );
}

/**
 * The project's groups named in `refs` (ids or names), in order and without repeats; the default group is
 * made if named and missing. Another project's group is not found, like one that does not exist.
 */
export async function resolveGroups(
  m: EntityManager,
  projectId: string,
  refs: readonly string[],
  field: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const found = await groupIdOf(m, projectId, ref);
    const id = found ?? (ref === DEFAULT_GROUP ? await ensureDefaultGroup(m, projectId) : null);
    if (!id) throw BerthError.notFound('security group', ref, `${field}[${i}]`);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * Puts the instance's port in exactly these groups and marks the firewalls that change: its own, and
 * those of the instances whose rules name a group it left or joined.
 */
export async function setInstanceGroups(
  m: EntityManager,
  instance: { id: string; projectId: string; portId: string },
  groupIds: readonly string[],
): Promise<void> {
  await lockProjectFirewalls(m, instance.projectId);
  const before = await groupsOfInstance(m, instance.id);
  await bindGroups(m, instance.portId, groupIds);
  const changed = [...before.filter((g) => !groupIds.includes(g)), ...groupIds.filter((g) => !before.includes(g))];
  await markFirewalls(m, [instance.id]);
  await markGroupMembers(m, changed);
}

/**
 * Takes the project's firewall marks (markFirewalls, markGroupMembers) in the caller's transaction, skipping
 * those a change still holds: the instances marked, and those whose rules name a marked group.
 */
export async function takeFirewallMarks(m: EntityManager, projectId: string): Promise<string[]> {
  const groups = await rows<{ id: string }>(
    m,
    `DELETE FROM firewall_refresh_groups WHERE group_id IN (
       SELECT group_id FROM firewall_refresh_groups WHERE project_id = $1 FOR UPDATE SKIP LOCKED)
     RETURNING group_id AS id`,
    [projectId],
  );
  const marked = await rows<{ id: string }>(
    m,
    `DELETE FROM firewall_refresh WHERE instance_id IN (
       SELECT instance_id FROM firewall_refresh WHERE project_id = $1 FOR UPDATE SKIP LOCKED)
     RETURNING instance_id AS id`,
    [projectId],
  );
  const named =
    groups.length > 0
      ? await referrersOf(
          m,
          groups.map((g) => g.id),
        )
      : [];
  return [...new Set([...marked.map((r) => r.id), ...named])];
}

/** Those of the instances still being placed (no host yet). */
export async function placingAmong(m: EntityManager, instanceIds: readonly string[]): Promise<string[]> {
  const placing = await rows<{ id: string }>(
    m,
    `SELECT id FROM instances WHERE id = ANY ($1::uuid[]) AND host_id IS NULL AND status = 'BUILDING'`,
    [instanceIds],
  );
  return placing.map((r) => r.id);
}

/** Projects with instances waiting for their firewall. */
export async function projectsToRefresh(m: EntityManager): Promise<string[]> {
  const found = await rows<{ id: string }>(
    m,
    'SELECT project_id AS id FROM firewall_refresh UNION SELECT project_id FROM firewall_refresh_groups',
  );
  return found.map((r) => r.id);
}

/** Changes what the port may send from: its allowed address pairs (replaced whole) and whether it is checked. */
export async function updatePortSecurity(
  m: EntityManager,
  portId: string,
  change: { allowedAddressPairs: Array<{ ip: string; mac: string }> | null; portSecurity: boolean | null },
): Promise<void> {
  await m.query(
    `UPDATE ports SET allowed_address_pairs = coalesce($2::jsonb, allowed_address_pairs),
                      port_security = coalesce($3, port_security) WHERE id = $1`,
    [portId, change.allowedAddressPairs ? JSON.stringify(change.allowedAddressPairs) : null, change.portSecurity],
  );
}
