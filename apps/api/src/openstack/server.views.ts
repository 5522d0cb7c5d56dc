import type { InstanceRecord } from '@berth/data';
import type { PowerState } from '@berth/contracts';
import { tenantHostId, type InstanceStatus, type TaskState } from '@berth/domain';
import { novaTime } from './os-http';

/** Nova's status and vm_state for a Berth status, refined by the task in flight (a reboot shows REBOOT). */
function statusOf(r: InstanceRecord): { status: string; vmState: string } {
  const by: Record<InstanceStatus, { status: string; vmState: string }> = {
    BUILDING: { status: 'BUILD', vmState: 'building' },
    ACTIVE: { status: 'ACTIVE', vmState: 'active' },
    SHUTOFF: { status: 'SHUTOFF', vmState: 'stopped' },
    MIGRATING: { status: 'RESIZE', vmState: r.powerState === 'RUNNING' ? 'active' : 'stopped' },
    VERIFY_MIGRATION: { status: 'VERIFY_RESIZE', vmState: 'resized' },
    ERROR: { status: 'ERROR', vmState: 'error' },
    DELETED: { status: 'DELETED', vmState: 'deleted' },
  };
  const base = by[r.status];
  if (r.status === 'ACTIVE' && r.taskState === 'rebooting') return { ...base, status: 'REBOOT' };
  if ((r.status === 'ACTIVE' || r.status === 'SHUTOFF') && r.taskState === 'resizing') {
    return { ...base, status: 'RESIZE' };
  }
  if (revertingInPlace(r) || r.taskState === 'reverting') return { ...base, status: 'REVERT_RESIZE' };
  return base;
}

/** A resize on the server's own host is reverted by a live resize back, while it awaits verification. */
const revertingInPlace = (r: InstanceRecord) => r.status === 'VERIFY_MIGRATION' && r.taskState === 'resizing';

const TASK_STATES: Record<TaskState, string> = {
  scheduling: 'scheduling',
  spawning: 'spawning',
  'powering-off': 'powering-off',
  'powering-on': 'powering-on',
  rebooting: 'rebooting',
  resizing: 'resize_prep',
  'image-snapshot': 'image_snapshot',
  migrating: 'resize_migrating',
  confirming: 'resize_confirming',
  reverting: 'resize_reverting',
  deleting: 'deleting',
};

/** Nova's power_state numbers. */
const POWER: Record<PowerState, number> = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6 };

/** Statuses whose server document carries `progress`, as Nova's view builder does. */
const WITH_PROGRESS = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);

export const serverLinks = (base: string, id: string) => [
  { rel: 'self', href: `${base}/compute/v2.1/servers/${id}` },
  { rel: 'bookmark', href: `${base}/compute/servers/${id}` },
];

/** Nova 2.1's server document, with exactly its fields; `admin` adds the OS-EXT-SRV-ATTR ones. */
export function serverDocument(r: InstanceRecord, base: string, admin: boolean): Record<string, unknown> {
  const { status, vmState } = statusOf(r);
  const addresses =
    r.networkName && r.ip
      ? {
          [r.networkName]: [
            { version: 4, addr: r.ip, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': r.mac?.toLowerCase() },
          ],
        }
      : {};
  return {
    id: r.id,
    name: r.name,
    status,
    tenant_id: r.projectId,
    user_id: r.userId ?? '',
    metadata: r.metadata,
    hostId: r.hostId === null ? '' : tenantHostId(r.projectId, r.hostId),
    image: r.imageId
      ? { id: r.imageId, links: [{ rel: 'bookmark', href: `${base}/compute/images/${r.imageId}` }] }
      : '',
    flavor: {
      id: r.flavorId ?? '',
      links: [{ rel: 'bookmark', href: `${base}/compute/flavors/${r.flavorId ?? ''}` }],
    },
    created: novaTime(r.createdAt),
    updated: novaTime(r.updatedAt),
    addresses,
    accessIPv4: '',
    accessIPv6: '',
    links: serverLinks(base, r.id),
    'OS-DCF:diskConfig': 'MANUAL',
    ...(WITH_PROGRESS.has(status) ? { progress: 0 } : {}),
    'OS-EXT-AZ:availability_zone': r.zone ?? 'nova',
    config_drive: '',
    key_name: r.keyName,
    'OS-SRV-USG:launched_at': r.launchedAt ? r.launchedAt.toISOString().replace('Z', '') : null,
    'OS-SRV-USG:terminated_at': null,
    security_groups: r.securityGroups.map((g) => ({ name: g.name })),
    'OS-EXT-STS:task_state':
      r.taskState === null ? null : revertingInPlace(r) ? 'resize_reverting' : TASK_STATES[r.taskState],
    'OS-EXT-STS:vm_state': vmState,
    'OS-EXT-STS:power_state': POWER[r.powerState],
    'os-extended-volumes:volumes_attached': [],
    ...(admin
      ? {
          'OS-EXT-SRV-ATTR:host': r.hostName,
          'OS-EXT-SRV-ATTR:instance_name': `instance-${r.id}`,
          'OS-EXT-SRV-ATTR:hypervisor_hostname': r.hostName,
        }
      : {}),
    ...(r.status === 'ERROR' && r.fault
      ? { fault: { code: 500, created: novaTime(new Date(r.fault.at)), message: r.fault.message } }
      : {}),
  };
}

/** The short form of GET /servers. */
export const serverSummary = (r: InstanceRecord, base: string) => ({
  id: r.id,
  name: r.name,
  links: serverLinks(base, r.id),
});

/** Nova's status filter names for Berth's statuses (?status=ACTIVE). */
export function statusMatches(r: InstanceRecord, wanted: string): boolean {
  return statusOf(r).status === wanted.toUpperCase();
}
