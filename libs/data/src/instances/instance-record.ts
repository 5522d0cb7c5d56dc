import {
  type AppliedLimits,
  type CpuPolicy,
  type DriverCapability,
  type Fault,
  type InstanceKind,
  type PowerState,
  type Throttles,
  type VmBoot,
  type AddressPair,
  type PortFirewall,
  type VolumeAttachment,
} from '@berth/contracts';
import type { InstanceStatus, RestartPolicy, TaskState, ThrottleBounds } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import type { PendingResize } from '../entities/instance.entity';
import { rows } from '../sql';

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
  /** What its host's driver for its kind can do (live-resize, cold-migrate); null: not known (an older agent). */
  hostCapabilities: DriverCapability[] | null;
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
  /** The tenant's own key-value pairs. */
  metadata: Record<string, string>;
  /** The key pair it was built with, and its public key as it was then. */
  keyName: string | null;
  keyData: string | null;
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
  /** Its port's security groups, resolved (FIREWALL_SQL); null without a port or with port security off. */
  firewall: PortFirewall | null;
  extraSpecs: Record<string, string> | null;
  /** Where it asked to run, the group it belongs to, and the reservation it was built from (what placement reads). */
  zone: string | null;
  serverGroupId: string | null;
  reservationId: string | null;
  securityGroups: Array<{ id: string; name: string }>;
  /** The volumes attached to it and in use (and, while it builds, those it is built with), as its host mounts them at each start. */
  volumes: VolumeAttachment[];
}

/**
 * The firewall of port `p`: the allow rules of its groups, a remote group resolved to its members' addresses
 * (their allowed address pairs too, as Neutron's),
 * and the rules removed with "cut" in the last day (hosts drop the connections those had admitted); its version is
 * when the statement that read it began, so that a host keeps the newest of two refreshes whatever their order.
 */
export const FIREWALL_SQL = `
  CASE WHEN p.id IS NULL OR NOT p.port_security THEN NULL ELSE (
    SELECT json_build_object(
      'rules', coalesce(json_agg(json_build_object(
          'id', r.id, 'direction', r.direction, 'protocol', r.protocol, 'portMin', r.port_min, 'portMax', r.port_max,
          'remoteCidrs', CASE WHEN r.remote_group_id IS NULL THEN json_build_array(coalesce(r.remote_cidr::text, '0.0.0.0/0'))
            ELSE (SELECT coalesce(json_agg(DISTINCT a.cidr), '[]'::json) FROM (
                    SELECT host(mp.ip) || '/32' AS cidr
                      FROM port_security_groups m JOIN ports mp ON mp.id = m.port_id
                     WHERE m.group_id = r.remote_group_id
                    UNION
                    SELECT CASE WHEN pair->>'ip' LIKE '%/%' THEN pair->>'ip' ELSE (pair->>'ip') || '/32' END
                      FROM port_security_groups m JOIN ports mp ON mp.id = m.port_id,
                           jsonb_array_elements(mp.allowed_address_pairs) pair
                     WHERE m.group_id = r.remote_group_id AND mp.port_security) a) END)
        ORDER BY r.created_at, r.direction, r.id) FILTER (WHERE r.removed_at IS NULL), '[]'::json),
      'cut', coalesce(json_agg(r.id ORDER BY r.id) FILTER (WHERE r.removed_at IS NOT NULL), '[]'::json),
      'version', (extract(epoch FROM statement_timestamp()) * 1000000)::bigint)
      FROM port_security_groups psg JOIN security_group_rules r ON r.group_id = psg.group_id
     WHERE psg.port_id = p.id AND (r.removed_at IS NULL OR (r.cut AND r.removed_at > now() - interval '1 day'))
  ) END`;

export const INSTANCE_RECORD_SQL = `
  SELECT i.id, i.project_id AS "projectId", i.user_id AS "userId", i.name, i.kind, i.status,
         i.task_state AS "taskState", i.power_state AS "powerState", i.host_id AS "hostId", h.name AS "hostName",
         h.enabled AS "hostEnabled", floor(extract(epoch FROM now() - h.last_heartbeat_at))::int AS "hostSilentSec",
         h.capabilities -> i.kind AS "hostCapabilities",
         i.flavor_id AS "flavorId", i.flavor_name AS "flavorName", i.vcpus, i.ram_mb AS "ramMb", i.disk_gb AS "diskGb",
         i.image_id AS "imageId", i.image_name AS "imageName", i.image_ref AS "imageRef", i.boot,
         i.cpu_policy AS "cpuPolicy", i.throttles, i.limit_bounds AS "limitBounds", i.pinned_cpus AS "pinnedCpus",
         i.applied_limits AS "appliedLimits", i.pending_resize AS "pendingResize",
         i.fault, i.restart_policy AS "restartPolicy", i.metadata, i.key_name AS "keyName", i.key_data AS "keyData", i.created_at AS "createdAt", i.updated_at AS "updatedAt", i.launched_at AS "launchedAt",
         p.id AS "portId", n.id AS "networkId", n.name AS "networkName", n.vlan, host(p.ip) AS ip, p.mac::text AS mac,
         masklen(n.cidr) AS "prefixLength", host(n.gateway) AS gateway, p.port_security AS "portSecurity",
         p.allowed_address_pairs AS "allowedAddressPairs", ${FIREWALL_SQL} AS firewall, i.extra_specs AS "extraSpecs",
         i.zone, i.server_group_id AS "serverGroupId", i.reservation_id AS "reservationId",
         coalesce((SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name)
                     FROM port_security_groups psg JOIN security_groups g ON g.id = psg.group_id
                    WHERE psg.port_id = p.id), '[]'::json) AS "securityGroups",
         coalesce((SELECT json_agg(json_build_object(
                     'volume', json_build_object('id', v.id, 'sizeGb', v.size_gb, 'backend', v.backend),
                     'path', v.attach_path, 'serial', v.serial,
                     'throttle', json_build_object('readIops', vt.read_iops, 'writeIops', vt.write_iops,
                                                   'readBps', vt.read_bps, 'writeBps', vt.write_bps))
                     ORDER BY v.updated_at, v.id)
                     FROM volumes v JOIN volume_types vt ON vt.id = v.type_id
                    WHERE v.instance_id = i.id
                      AND (v.status = 'in-use' OR (v.status = 'attaching' AND i.status = 'BUILDING'))), '[]'::json) AS volumes
    FROM instances i
    LEFT JOIN ports p ON p.instance_id = i.id
    LEFT JOIN networks n ON n.id = p.network_id
    LEFT JOIN hosts h ON h.id = i.host_id`;

/** The live, placed instances among `instanceIds` that have a port, in id order. */
export function placedInstances(m: EntityManager, instanceIds: readonly string[]): Promise<InstanceRecord[]> {
  return rows<InstanceRecord>(
    m,
    `${INSTANCE_RECORD_SQL} WHERE i.id = ANY ($1::uuid[]) AND i.deleted_at IS NULL AND h.name IS NOT NULL
        AND p.id IS NOT NULL ORDER BY i.id`,
    [[...new Set(instanceIds)]],
  );
}
