import type { AddressPair, InstanceKind, Throttles, VmBoot } from '@berth/contracts';
import type { RestartPolicy } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import type { FlavorSpec } from '../entities/catalog.entity';
import { one } from '../sql';

/** A new instance's row, in BUILDING/scheduling until the scheduler places it. */
export interface NewInstanceRow {
  projectId: string;
  userId: string | null;
  name: string;
  kind: InstanceKind;
  flavor: FlavorSpec;
  image: { id: string; name: string; ref: string; boot: VmBoot | null };
  throttles: Throttles;
  zone: string | null;
  serverGroupId: string | null;
  reservationId: string | null;
  restartPolicy: RestartPolicy;
  metadata: Record<string, string>;
  /** The key pair's name and a copy of its public key, for the instance's authorized keys. */
  keyName: string | null;
  keyData: string | null;
}

export async function insertInstance(m: EntityManager, n: NewInstanceRow): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    `INSERT INTO instances (project_id, user_id, name, kind, status, task_state, flavor_id, flavor_name, vcpus, ram_mb,
                            disk_gb, image_id, image_name, image_ref, throttles, zone, server_group_id, reservation_id,
                            extra_specs, cpu_policy, limit_bounds, boot, restart_policy, metadata,
                            key_name, key_data)
     VALUES ($1, $2, $3, $4, 'BUILDING', 'scheduling', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
             $19, $20, $21, $22, $23, $24)
     RETURNING id`,
    [
      n.projectId,
      n.userId,
      n.name,
      n.kind,
      n.flavor.id,
      n.flavor.name,
      n.flavor.vcpus,
      n.flavor.ramMb,
      n.flavor.diskGb,
      n.image.id,
      n.image.name,
      n.image.ref,
      JSON.stringify(n.throttles),
      n.zone,
      n.serverGroupId,
      n.reservationId,
      JSON.stringify(n.flavor.extraSpecs),
      n.flavor.cpuPolicy,
      JSON.stringify(n.flavor.limitBounds),
      n.image.boot ? JSON.stringify(n.image.boot) : null,
      n.restartPolicy,
      JSON.stringify(n.metadata),
      n.keyName,
      n.keyData,
    ],
  );
  if (!made) throw new Error('insert into instances returned no row');
  return made.id;
}

export interface NewPort {
  networkId: string;
  instanceId: string;
  ip: string;
  mac: string;
  portSecurity: boolean;
  allowedAddressPairs: AddressPair[];
}

export async function insertPort(m: EntityManager, p: NewPort): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    `INSERT INTO ports (network_id, instance_id, ip, mac, port_security, allowed_address_pairs)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [p.networkId, p.instanceId, p.ip, p.mac, p.portSecurity, JSON.stringify(p.allowedAddressPairs)],
  );
  if (!made) throw new Error('insert into ports returned no row');
  return made.id;
}
