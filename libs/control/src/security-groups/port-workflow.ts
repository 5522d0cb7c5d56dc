import {
  groupsOfInstance,
  insertOperation,
  markFirewalls,
  markGroupMembers,
  resolveGroups,
  setInstanceGroups,
  updatePortSecurity,
  type Actor,
} from '@berth/data';
import { BerthError, type AddressPairRequest } from '@berth/domain';
import type { DataSource } from 'typeorm';

/** The instance's port as these workflows need it. */
export interface PortOf {
  id: string;
  projectId: string;
  portId: string | null;
  mac: string | null;
  portSecurity: boolean | null;
}

/**
 * The port is in exactly the groups `refs` names (ids or names of the project's groups) from now on; its host,
 * and those of the instances whose rules name a group it left or joined, apply the change live. Recorded as a
 * finished operation, whose id it returns.
 */
export async function setPortGroups(
  dataSource: DataSource,
  instance: PortOf,
  refs: readonly string[],
  actor: Actor,
): Promise<string> {
  const { portId } = instance;
  if (!portId) throw BerthError.conflict(`instance ${instance.id} has no port`);
  if (instance.portSecurity === false) {
    throw BerthError.conflict(
      'the port has no port security, so no security groups (an admin switched it off)',
      'securityGroups',
      'portSecurity',
    );
  }
  return dataSource.transaction(async (m) => {
    const groups = await resolveGroups(m, instance.projectId, refs, 'securityGroups');
    await setInstanceGroups(m, { id: instance.id, projectId: instance.projectId, portId }, groups);
    return insertOperation(
      m,
      { ...actor, projectId: instance.projectId },
      { action: 'instance.set-security-groups', targetType: 'instance', targetId: instance.id, finished: true },
    );
  });
}

/** A change of what a port may send from; null leaves that part as it is. */
export interface PortSecurityChange {
  /** Replaces the list whole; a pair without a MAC takes the port's own. */
  allowedAddressPairs: readonly AddressPairRequest[] | null;
  portSecurity: boolean | null;
}

/**
 * What the port may send from, changed live: its allowed address pairs, and whether it is checked at all (a port
 * without checks has no security groups, so its groups must go first). The instances whose rules name its groups
 * learn the pairs too. Recorded as a finished operation, whose id it returns.
 */
export async function setPortSecurity(
  dataSource: DataSource,
  instance: PortOf,
  change: PortSecurityChange,
  actor: Actor,
): Promise<string> {
  const { portId, mac } = instance;
  if (!portId || !mac) throw BerthError.conflict(`instance ${instance.id} has no port`);
  return dataSource.transaction(async (m) => {
    const groups = await groupsOfInstance(m, instance.id);
    if (change.portSecurity === false && groups.length > 0) {
      throw BerthError.conflict(
        'a port without port security has no security groups: take them off first (set-security-groups [])',
        'portSecurity',
        'noGroups',
      );
    }
    await updatePortSecurity(m, portId, {
      allowedAddressPairs: change.allowedAddressPairs?.map((p) => ({ ip: p.ip, mac: p.mac ?? mac })) ?? null,
      portSecurity: change.portSecurity,
    });
    await markFirewalls(m, [instance.id]);
    await markGroupMembers(m, groups);
    return insertOperation(
      m,
      { ...actor, projectId: instance.projectId },
      { action: 'instance.set-port-security', targetType: 'instance', targetId: instance.id, finished: true },
    );
  });
}
