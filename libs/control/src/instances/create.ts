import {
  CONTRACT_VERSION,
  jobId,
  PLACE_INSTANCES,
  PLACEMENT_QUEUE,
  type InstanceKind,
  type InstanceSpec,
  type PlaceInstancesJob,
  type Throttles,
  type VmBoot,
} from '@berth/contracts';
import {
  addressError,
  BerthError,
  formatIPv4,
  instancesWithinQuota,
  macFromRandom,
  parseIPv4,
  pickAddress,
  planNetwork,
  quotaExcesses,
  quotaOf,
  resourcesOf,
  type AddressPairRequest,
  type QuotaSet,
  type RestartPolicy,
  type VolumeRequest,
} from '@berth/domain';
import {
  bindGroups,
  enqueue,
  ensureDefaultGroup,
  insertInstance,
  insertOperation,
  insertPort,
  instanceRecords,
  isUniqueViolation,
  lockNetworkPlan,
  planOf,
  lockProjectQuota,
  markGroupMembers,
  usedAddresses,
  type Actor,
  type FlavorSpec,
  type InstanceRecord,
} from '@berth/data';
import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { requestSpecOf, specOf } from '../specs/instance-spec';
import { reserveBuildVolumes, type BuildVolumes } from '../volumes/build-volumes';

export interface NewInstances {
  actor: Actor;
  /** The project the instances belong to (the caller's own, or one an admin named). */
  projectId: string;
  /** The name of a single instance, or the base of `name-1` ... `name-N`. */
  name: string;
  /** Instances asked for (maxCount); fewer are made if the quota allows fewer, down to minCount. */
  count: number;
  minCount: number;
  kind: InstanceKind;
  flavor: FlavorSpec;
  image: { id: string; name: string; ref: string; boot: VmBoot | null };
  network: { id: string; vlan: number };
  /** A requested address; only for a single instance. */
  ip?: string | undefined;
  /** The flavor's throttles with the request's overrides, already checked. */
  throttles: Throttles;
  zone: string | null;
  serverGroupId: string | null;
  reservationId: string | null;
  restartPolicy: RestartPolicy;
  /** The tenant's key-value pairs, already checked. */
  metadata: Record<string, string>;
  /** The caller's key pair, found: its name and public key. */
  keyName: string | null;
  keyData: string | null;
  /** False only where a cloud admin switched port security off (the API checks who asks). */
  portSecurity: boolean;
  /** Addresses the port may also send from, already checked; a pair without a MAC takes its port's. */
  allowedAddressPairs: AddressPairRequest[];
  /** The port's security groups, already found in the project; null: the project's default group. */
  securityGroupIds: string[] | null;
  /** Volumes of the project to build a single instance with, already checked (checkVolumeRequests). */
  volumes: VolumeRequest[];
}

/**
 * A new instance as its create left it: read in the create's own transaction, since once it commits the
 * scheduler may place it, or drop it at once (an extra of a best-effort bulk create that found no room).
 */
export interface CreatedInstance {
  operationId: string;
  record: InstanceRecord;
}

/**
 * Records new instances in BUILDING/scheduling with their ports, operations and one placement job, in one
 * transaction. The project row is locked while the quota is checked and the network row while addresses are chosen
 * (always in that order), so parallel creates can neither pass a quota nor pick the same address. A MAC collision
 * (32 random bits) is retried.
 */
export async function createInstances(
  dataSource: DataSource,
  quotaDefaults: QuotaSet,
  input: NewInstances,
): Promise<CreatedInstance[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await dataSource.transaction((m) => createOnce(m, quotaDefaults, input));
    } catch (error) {
      if (attempt < 3 && isUniqueViolation(error, 'ports_mac_key')) continue;
      throw error;
    }
  }
}

async function createOnce(m: EntityManager, quotaDefaults: QuotaSet, input: NewInstances): Promise<CreatedInstance[]> {
  const size = resourcesOf({ ...input.flavor, kind: input.kind, pidsLimit: input.throttles.pidsLimit });
  const { limits, usage } = await lockProjectQuota(m, input.projectId, quotaDefaults);
  const count = Math.min(input.count, instancesWithinQuota(limits, usage, size));
  if (count < input.minCount) {
    throw BerthError.quotaExceeded(quotaExcesses(limits, usage, quotaOf(size, input.minCount)));
  }
  const ips = await pickAddresses(m, input, count);
  const made: Array<{ instanceId: string; operationId: string; portId: string }> = [];
  for (const [i, ip] of ips.entries()) {
    made.push(await insertOne(m, input, count === 1 ? input.name : `${input.name}-${i + 1}`, ip));
  }
  const single = made.length === 1 ? made[0] : undefined;
  if (input.volumes.length > 0 && !single) throw new Error('volumes are for a single instance');
  const volumes = single ? await reserveBuildVolumes(m, input.projectId, single.instanceId, input.volumes) : null;
  await joinGroups(
    m,
    input,
    made.map((c) => c.portId),
  );
  const records = await instanceRecords(
    m,
    made.map((c) => c.instanceId),
  );
  const created = made.map((c) => {
    const record = records.find((r) => r.id === c.instanceId);
    if (!record) throw new Error(`instance ${c.instanceId} vanished within its create`);
    return { operationId: c.operationId, record };
  });
  await queuePlacement(m, created, Math.min(input.minCount, count), volumes);
  return created;
}

/** `count` free addresses of the network (the one asked for, for a single instance), its row locked. */
async function pickAddresses(m: EntityManager, input: NewInstances, count: number): Promise<string[]> {
  const network = await lockNetworkPlan(m, input.network.id);
  if (!network) throw BerthError.notFound('network', input.network.id, 'network');
  const subnet = planOf(network);
  if (!subnet) throw BerthError.conflict('the network has no subnet yet: it gives no addresses', 'network', 'state');
  const plan = planNetwork(subnet);
  if (!plan.ok) throw new Error(`network ${input.network.id} holds an invalid plan: ${JSON.stringify(plan.errors)}`);
  const used = new Set((await usedAddresses(m, input.network.id)).map((ip) => parseIPv4(ip) ?? -1));
  const picked: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const address = pickAddress(plan.value, used, count === 1 ? input.ip : undefined);
    if (!address.ok) throw addressError(address);
    used.add(address.value);
    picked.push(formatIPv4(address.value));
  }
  return picked;
}

async function insertOne(
  m: EntityManager,
  input: NewInstances,
  name: string,
  ip: string,
): Promise<{ instanceId: string; operationId: string; portId: string }> {
  const instanceId = await insertInstance(m, { ...input, name, userId: input.actor.userId });
  const mac = macFromRandom(randomBytes(4));
  const portId = await insertPort(m, {
    networkId: input.network.id,
    instanceId,
    ip,
    mac,
    portSecurity: input.portSecurity,
    allowedAddressPairs: input.allowedAddressPairs.map((p) => ({ ip: p.ip, mac: p.mac ?? mac })),
  });
  const operationId = await insertOperation(
    m,
    { ...input.actor, projectId: input.projectId },
    { action: 'instance.create', targetType: 'instance', targetId: instanceId },
  );
  return { instanceId, operationId, portId };
}

/**
 * Puts the new ports in their security groups (their specs are read after, with the firewall that results); the
 * instances whose rules name those groups learn the new members' addresses. A port without port security has no
 * groups (its traffic is not filtered).
 */
async function joinGroups(m: EntityManager, input: NewInstances, portIds: string[]): Promise<void> {
  if (!input.portSecurity) return;
  const groups = input.securityGroupIds ?? [await ensureDefaultGroup(m, input.projectId)];
  for (const portId of portIds) await bindGroups(m, portId, groups);
  await markGroupMembers(m, groups);
}

/** One placement job for the whole request: each member with the spec its host will need (pinned CPUs come later). */
async function queuePlacement(
  m: EntityManager,
  created: CreatedInstance[],
  minCount: number,
  volumes: BuildVolumes | null,
): Promise<void> {
  const first = created[0];
  if (!first) throw new Error('a create made no instance');
  const members: Array<{ instanceId: string; operationId: string; spec: InstanceSpec }> = created.map((c) => ({
    instanceId: c.record.id,
    operationId: c.operationId,
    spec: specOf(c.record),
  }));
  const job: PlaceInstancesJob = {
    v: CONTRACT_VERSION,
    members,
    minCount,
    request: { ...requestSpecOf(first.record, { reservation: 'keep' }), ...(volumes ? { volumes } : {}) },
  };
  await enqueue(m, {
    queue: PLACEMENT_QUEUE,
    name: PLACE_INSTANCES,
    jobId: jobId(first.operationId, 'place'),
    payload: job,
  });
}
