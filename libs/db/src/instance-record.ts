import {
  CONTRACT_VERSION,
  type ComputeCommand,
  type AppliedLimits,
  type CpuPolicy,
  type Fault,
  type InstanceKind,
  type InstanceLimits,
  type InstanceSpec,
  type PowerState,
  type Throttles,
  type VmBoot,
  type AddressPair,
} from '@berth/contracts';
import type { InstanceStatus, RestartPolicy, TaskState, ThrottleBounds } from '@berth/domain';
import type { PendingResize } from './entities/instance.entity';

/** An instance joined with its port, network and host: what the API shows and what a host needs. */
export interface InstanceRecord {
  id: string;
  projectId: string;
  userId: string | null;
  name: string;
  kind: InstanceKind;
  status: InstanceStatus;
  taskState: TaskState | null;
  powerState: PowerState;
  hostId: string | null;
  hostName: string | null;
  /** Whether its host takes new instances, and how long ago it last sent a heartbeat (null: no host). */
  hostEnabled: boolean | null;
  hostSilentSec: number | null;
  flavorId: string | null;
  flavorName: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  cpuPolicy: CpuPolicy;
  throttles: Throttles;
  limitBounds: ThrottleBounds;
  pinnedCpus: number[];
  appliedLimits: AppliedLimits | null;
  pendingResize: PendingResize | null;
  imageId: string | null;
  imageName: string;
  imageRef: string;
  boot: VmBoot | null;
  fault: Fault | null;
  restartPolicy: RestartPolicy;
  createdAt: Date;
  updatedAt: Date;
  launchedAt: Date | null;
  portId: string | null;
  networkId: string | null;
  networkName: string | null;
  vlan: number | null;
  ip: string | null;
  mac: string | null;
  prefixLength: number | null;
  gateway: string | null;
  portSecurity: boolean | null;
  allowedAddressPairs: AddressPair[] | null;
}

export const INSTANCE_RECORD_SQL = `
  SELECT i.id, i.project_id AS "projectId", i.user_id AS "userId", i.name, i.kind, i.status,
         i.task_state AS "taskState", i.power_state AS "powerState", i.host_id AS "hostId", h.name AS "hostName",
         h.enabled AS "hostEnabled", floor(extract(epoch FROM now() - h.last_heartbeat_at))::int AS "hostSilentSec",
         i.flavor_id AS "flavorId", i.flavor_name AS "flavorName", i.vcpus, i.ram_mb AS "ramMb", i.disk_gb AS "diskGb",
         i.image_id AS "imageId", i.image_name AS "imageName", i.image_ref AS "imageRef", i.boot,
         i.cpu_policy AS "cpuPolicy", i.throttles, i.limit_bounds AS "limitBounds", i.pinned_cpus AS "pinnedCpus",
         i.applied_limits AS "appliedLimits", i.pending_resize AS "pendingResize",
         i.fault, i.restart_policy AS "restartPolicy", i.created_at AS "createdAt", i.updated_at AS "updatedAt", i.launched_at AS "launchedAt",
         p.id AS "portId", n.id AS "networkId", n.name AS "networkName", n.vlan, host(p.ip) AS ip, p.mac::text AS mac,
         masklen(n.cidr) AS "prefixLength", host(n.gateway) AS gateway, p.port_security AS "portSecurity",
         p.allowed_address_pairs AS "allowedAddressPairs"
    FROM instances i
    LEFT JOIN ports p ON p.instance_id = i.id
    LEFT JOIN networks n ON n.id = p.network_id
    LEFT JOIN hosts h ON h.id = i.host_id`;

/** The spec a host needs to run this instance. */
export function specOf(r: InstanceRecord): InstanceSpec {
  if (!r.portId || !r.networkId || !r.mac || !r.ip || r.prefixLength === null || !r.gateway || r.vlan === null) {
    throw new Error(`instance ${r.id} has no port`);
  }
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    diskGb: r.diskGb,
    imageRef: r.imageRef,
    ...(r.boot ? { boot: r.boot } : {}),
    limits: instanceLimitsOf(r),
    port: {
      id: r.portId,
      networkId: r.networkId,
      mac: r.mac,
      ip: r.ip,
      prefixLength: r.prefixLength,
      gateway: r.gateway,
      vlan: r.vlan,
      portSecurity: r.portSecurity ?? true,
      allowedAddressPairs: r.allowedAddressPairs ?? [],
    },
  };
}

/** The limits in effect for the instance (not those of a resize in flight). */
export function instanceLimitsOf(
  r: Pick<InstanceRecord, 'vcpus' | 'ramMb' | 'cpuPolicy' | 'throttles' | 'pinnedCpus'>,
): InstanceLimits {
  return { ...r.throttles, vcpus: r.vcpus, ramMb: r.ramMb, cpuPolicy: r.cpuPolicy, pinnedCpus: r.pinnedCpus };
}

/** The command of a live resize: the instance as it is to become, and the limits to restore if it fails. */
export function limitsCommandOf(r: InstanceRecord, to: PendingResize['to'], operationId: string): ComputeCommand {
  const current = specOf(r);
  return {
    v: CONTRACT_VERSION,
    type: 'instance.set-limits',
    operationId,
    instance: {
      ...current,
      diskGb: to.diskGb,
      limits: { ...to.throttles, vcpus: to.vcpus, ramMb: to.ramMb, cpuPolicy: to.cpuPolicy, pinnedCpus: to.pinnedCpus },
    },
    previous: current.limits,
  };
}
