import {
  deleteGroup,
  DEFAULT_GROUP,
  ensureDefaultGroup,
  insertGroup,
  insertRule,
  lockProjectFirewalls,
  markFirewalls,
  membersOf,
  referrersOf,
  removeRule,
  sameRule,
  securityGroupUsage,
  type RuleMatch,
} from '@berth/data';
import { BerthError } from '@berth/domain';
import type { EntityManager } from 'typeorm';

/*
 * Security groups and their rules, changed in the caller's transaction. Each change takes the project's
 * firewall lock first and marks the firewalls it alters, so that the hosts of every instance it concerns (its
 * members, and the instances whose rules name the group) receive the result once it commits.
 */

/** The configured limits on groups and live rules per project, where a project sets none of its own. */
export interface SecurityGroupQuotaDefaults {
  groups: number;
  rules: number;
}

/**
 * A new group of the project: egress to anywhere and no ingress until a rule opens some, as Neutron's. The
 * project's default group is made first, so that a project's first group is never counted against it twice.
 */
export async function createSecurityGroup(
  m: EntityManager,
  group: { projectId: string; name: string; description: string },
  defaults: SecurityGroupQuotaDefaults,
): Promise<string> {
  await lockProjectFirewalls(m, group.projectId);
  await ensureDefaultGroup(m, group.projectId);
  const usage = await securityGroupUsage(m, group.projectId);
  withinQuota('securityGroups', usage.groups, usage.groupLimit ?? defaults.groups);
  const id = await insertGroup(m, group);
  await insertRule(m, id, {
    direction: 'egress',
    protocol: 'any',
    portMin: null,
    portMax: null,
    remoteCidr: null,
    remoteGroupId: null,
  });
  return id;
}

/**
 * Deletes a group no port is in; refused for the project's default group. The rules of other groups that
 * name it go with it, and the firewalls of the instances those rules applied to are sent again.
 */
export async function deleteSecurityGroup(
  m: EntityManager,
  group: { id: string; name: string; projectId: string },
): Promise<void> {
  if (group.name === DEFAULT_GROUP) {
    throw BerthError.conflict('the default security group cannot be deleted', 'id', 'notDefault');
  }
  await lockProjectFirewalls(m, group.projectId);
  const members = await membersOf(m, [group.id]);
  if (members.length > 0) {
    throw BerthError.conflict(
      `security group ${group.name} is in use by ${members.length} instance(s): take it off them first (set-security-groups)`,
      'id',
      'notInUse',
    );
  }
  const referrers = await referrersOf(m, [group.id]);
  await deleteGroup(m, group.id);
  await markFirewalls(m, referrers);
}

/** The project's default group, made on first need (egress anywhere, ingress from its members). */
export async function ensureDefaultSecurityGroup(m: EntityManager, projectId: string): Promise<string> {
  await lockProjectFirewalls(m, projectId);
  return ensureDefaultGroup(m, projectId);
}

/** Adds an allow rule to the group, unless the group already allows exactly that; returns the rule's id. */
export async function addSecurityGroupRule(
  m: EntityManager,
  group: { id: string; projectId: string },
  rule: RuleMatch,
  defaults: SecurityGroupQuotaDefaults,
): Promise<string> {
  await lockProjectFirewalls(m, group.projectId);
  const usage = await securityGroupUsage(m, group.projectId);
  withinQuota('securityGroupRules', usage.rules, usage.ruleLimit ?? defaults.rules);
  const duplicate = await sameRule(m, group.id, rule);
  if (duplicate) throw BerthError.conflict(`the group already has this rule (${duplicate})`, 'rule', 'unique');
  const id = await insertRule(m, group.id, rule);
  await markFirewalls(m, await membersOf(m, [group.id]));
  return id;
}

/** Removes a rule of the group; with `cut`, the hosts also drop the connections it had admitted. */
export async function removeSecurityGroupRule(
  m: EntityManager,
  group: { id: string; projectId: string },
  ruleId: string,
  cut: boolean,
): Promise<void> {
  await lockProjectFirewalls(m, group.projectId);
  await removeRule(m, ruleId, cut);
  await markFirewalls(m, await membersOf(m, [group.id]));
}

/** One more of `resource` must stay within the limit (negative: none). */
function withinQuota(resource: string, used: number, limit: number): void {
  if (limit >= 0 && used + 1 > limit) {
    throw new BerthError(
      'quota_exceeded',
      `quota exceeded for ${resource}: limit ${limit}, in use ${used}, requested 1`,
    );
  }
}
