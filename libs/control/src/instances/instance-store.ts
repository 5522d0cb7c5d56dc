import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  PLACE_INSTANCES,
  PLACEMENT_QUEUE,
  type ComputeCommand,
  type InstanceKind,
  type Throttles,
  type VmBoot,
  type InstanceSpec,
  type PlaceInstancesJob,
  type AddressPair,
  type PortFirewall,
  grantsOf,
} from '@berth/contracts';
import {
  ACTION_RULES,
  addressError,
  beginAction,
  BerthError,
  formatIPv4,
  macFromRandom,
  parseIPv4,
  pickAddress,
  planNetwork,
  quotaExcesses,
  resourcesOf,
  UNLIMITED,
  applyThrottleChanges,
  flavorThrottles,
  free,
  keptCpus,
  planResize,
  shortfalls,
  type InstanceAction,
  type LimitAction,
  type RestartPolicy,
  type ThrottleChanges,
  type QuotaSet,
  type Resources,
  type AddressPairRequest,
} from '@berth/domain';
import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import {
  type FlavorSpec,
  growAllocation,
  type PendingResize,
  loadHostState,
  markInstanceDeleted,
  FIREWALL_SQL,
  INSTANCE_RECORD_SQL,
  type InstanceRecord,
  bindGroups,
  ensureDefaultGroup,
  markGroupMembers,
  finishOperation,
  insertOperation,
  type Actor,
  enqueue,
  isUniqueViolation,
  lockProjectQuota,
  one,
  rows,
} from '@berth/data';
import { limitsCommandOf, specOf } from '../specs/instance-spec';
import { startMigration, type FlavorSize } from '../moves/migration-store';

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
  /** False only where a cloud admin switched port security off (the API checks who asks). */
  portSecurity: boolean;
  /** Addresses the port may also send from, already checked; a pair without a MAC takes its port's. */
  allowedAddressPairs: AddressPairRequest[];
  /** The port's security groups, already found in the project; null: the project's default group. */
  securityGroupIds: string[] | null;
}

/** A live change of an instance's size (resize, to a flavor) or of its throttles (set-limits). */
export interface LimitsChange {
  action: LimitAction;
  /** The new flavor of a resize; the instance's throttles then start from the flavor's. */
  flavor: FlavorSpec | null;
  /** Throttles to change, as the request gave them (checked here). */
  changes: ThrottleChanges;
  /** A project member's change must stay within the flavor's bounds; an admin's need not. */
  bounded: boolean;
  defaultPidsLimit: number;
  /** A resize the host lacks room for moves the instance to a host with room (cold: it restarts). */
  allowMove?: boolean;
}

export interface Created {
  instanceId: string;
  operationId: string;
  spec: InstanceSpec;
}

/**
 * A new instance as its create left it: read in the create's own transaction, since once it commits the
 * scheduler may place it, or drop it at once (an extra of a best-effort bulk create that found no room).
 */
export interface CreatedInstance {
  operationId: string;
  record: InstanceRecord;
}

export interface Page {
  limit: number;
  /** The last id of the previous page. */
  afterId?: string | undefined;
}

/** Instances and their ports: creation with address allocation, reads, and state transitions. */
export class InstanceStore {
  constructor(
    private readonly dataSource: DataSource,
    /** Quota limits of a project that has not set its own. */
    private readonly quotaDefaults: QuotaSet,
    /** A host silent this long is down: live changes wait for it to come back. */
    private readonly downAfterSec: number,
  ) {}

  /**
   * Records new instances in BUILDING/scheduling with their ports, operations and one placement job,
   * in one transaction. The project row is locked while the quota is checked and the network row
   * while addresses are chosen (always in that order), so parallel creates can neither pass a quota
   * nor pick the same address. A MAC collision (32 random bits) is retried.
   */
  async create(input: NewInstances): Promise<CreatedInstance[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.dataSource.transaction(async (manager) => {
          const created = await this.createOnce(manager, input);
          const records = await rows<InstanceRecord>(manager, `${INSTANCE_RECORD_SQL} WHERE i.id = ANY ($1)`, [
            created.map((c) => c.instanceId),
          ]);
          return created.map((c) => {
            const record = records.find((r) => r.id === c.instanceId);
            if (!record) throw new Error(`instance ${c.instanceId} vanished within its create`);
            return { operationId: c.operationId, record };
          });
        });
      } catch (error) {
        if (attempt < 3 && isUniqueViolation(error, 'ports_mac_key')) continue;
        throw error;
      }
    }
  }

  private async createOnce(m: EntityManager, input: NewInstances): Promise<Created[]> {
    const size = resourcesOf({ ...input.flavor, kind: input.kind, pidsLimit: input.throttles.pidsLimit });
    const { limits, usage } = await lockProjectQuota(m, input.projectId, this.quotaDefaults);
    const count = Math.min(input.count, instancesWithinQuota(limits, usage, size));
    if (count < input.minCount) {
      const need = input.minCount;
      throw BerthError.quotaExceeded(
        quotaExcesses(limits, usage, { instances: need, ...scale(size, need), ips: need }),
      );
    }

    const network = await one<{ cidr: string; gateway: string; allocationStart: string; allocationEnd: string }>(
      m,
      `SELECT cidr::text AS cidr, host(gateway) AS gateway, host(allocation_start) AS "allocationStart",
              host(allocation_end) AS "allocationEnd"
         FROM networks WHERE id = $1 FOR UPDATE`,
      [input.network.id],
    );
    if (!network) throw BerthError.notFound('network', input.network.id, 'network');
    const plan = planNetwork(network);
    if (!plan.ok) throw new Error(`network ${input.network.id} holds an invalid plan: ${JSON.stringify(plan.errors)}`);
    const subnet = { prefixLength: plan.value.prefixLength, gateway: network.gateway };
    const used = new Set(
      (await rows<{ ip: string }>(m, 'SELECT host(ip) AS ip FROM ports WHERE network_id = $1', [input.network.id])).map(
        (u) => parseIPv4(u.ip) ?? -1,
      ),
    );

    const created: Created[] = [];
    for (let i = 1; i <= count; i += 1) {
      const address = pickAddress(plan.value, used, count === 1 ? input.ip : undefined);
      if (!address.ok) throw addressError(address.errors);
      used.add(address.value);
      created.push(
        await this.insertOne(
          m,
          input,
          count === 1 ? input.name : `${input.name}-${i}`,
          formatIPv4(address.value),
          subnet,
        ),
      );
    }
    const job: PlaceInstancesJob = {
      v: CONTRACT_VERSION,
      members: created,
      minCount: Math.min(input.minCount, count),
      request: {
        kind: input.kind,
        projectId: input.projectId,
        cpuPolicy: input.flavor.cpuPolicy,
        vcpus: input.flavor.vcpus,
        ramMb: input.flavor.ramMb,
        diskGb: input.flavor.diskGb,
        pidsLimit: input.throttles.pidsLimit,
        zone: input.zone,
        extraSpecs: input.flavor.extraSpecs,
        vlan: input.network.vlan,
        imageRef: input.image.ref,
        serverGroupId: input.serverGroupId,
        reservationId: input.reservationId,
      },
    };
    await this.joinGroups(m, input, created);
    const first = created[0];
    if (!first) throw new Error('a create made no instance');
    await enqueue(m, {
      queue: PLACEMENT_QUEUE,
      name: PLACE_INSTANCES,
      jobId: jobId(first.operationId, 'place'),
      payload: job,
    });
    return created;
  }

  /**
   * Puts the new ports in their security groups and gives their specs the firewall that results; the
   * instances whose rules name those groups learn the new members' addresses. A port without port
   * security has no groups (its traffic is not filtered).
   */
  private async joinGroups(m: EntityManager, input: NewInstances, created: Created[]): Promise<void> {
    if (!input.portSecurity) return;
    const groups = input.securityGroupIds ?? [await ensureDefaultGroup(m, input.projectId)];
    for (const { spec } of created) {
      await bindGroups(m, spec.port.id, groups);
      const row = await one<{ firewall: PortFirewall | null }>(
        m,
        `SELECT ${FIREWALL_SQL} AS firewall FROM ports p WHERE p.id = $1`,
        [spec.port.id],
      );
      if (row?.firewall) spec.port.firewall = row.firewall;
    }
    await markGroupMembers(m, groups);
  }

  private async insertOne(
    m: EntityManager,
    input: NewInstances,
    name: string,
    ip: string,
    subnet: { prefixLength: number; gateway: string },
  ): Promise<Created> {
    const instance = await one<{ id: string }>(
      m,
      `INSERT INTO instances (project_id, user_id, name, kind, status, task_state, flavor_id, flavor_name, vcpus, ram_mb,
                              disk_gb, image_id, image_name, image_ref, throttles, zone, server_group_id, reservation_id,
                              extra_specs, cpu_policy, limit_bounds, boot, restart_policy)
       VALUES ($1, $2, $3, $4, 'BUILDING', 'scheduling', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
               $19, $20, $21)
       RETURNING id`,
      [
        input.projectId,
        input.actor.userId,
        name,
        input.kind,
        input.flavor.id,
        input.flavor.name,
        input.flavor.vcpus,
        input.flavor.ramMb,
        input.flavor.diskGb,
        input.image.id,
        input.image.name,
        input.image.ref,
        JSON.stringify(input.throttles),
        input.zone,
        input.serverGroupId,
        input.reservationId,
        JSON.stringify(input.flavor.extraSpecs),
        input.flavor.cpuPolicy,
        JSON.stringify(input.flavor.limitBounds),
        input.image.boot ? JSON.stringify(input.image.boot) : null,
        input.restartPolicy,
      ],
    );
    if (!instance) throw new Error('insert into instances returned no row');
    const mac = macFromRandom(randomBytes(4));
    const allowedAddressPairs: AddressPair[] = input.allowedAddressPairs.map((p) => ({ ip: p.ip, mac: p.mac ?? mac }));
    const port = await one<{ id: string }>(
      m,
      `INSERT INTO ports (network_id, instance_id, ip, mac, port_security, allowed_address_pairs)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [input.network.id, instance.id, ip, mac, input.portSecurity, JSON.stringify(allowedAddressPairs)],
    );
    if (!port) throw new Error('insert into ports returned no row');
    const operationId = await insertOperation(
      m,
      { ...input.actor, projectId: input.projectId },
      {
        action: 'instance.create',
        targetType: 'instance',
        targetId: instance.id,
      },
    );
    const spec: InstanceSpec = {
      id: instance.id,
      name,
      kind: input.kind,
      diskGb: input.flavor.diskGb,
      imageRef: input.image.ref,
      ...(input.image.boot ? { boot: input.image.boot } : {}),
      ...(grantsOf(input.flavor.extraSpecs).length > 0 ? { grants: grantsOf(input.flavor.extraSpecs) } : {}),
      // Pinned CPUs are chosen when the instance is claimed on a host.
      limits: {
        ...input.throttles,
        vcpus: input.flavor.vcpus,
        ramMb: input.flavor.ramMb,
        cpuPolicy: input.flavor.cpuPolicy,
        pinnedCpus: [],
      },
      port: {
        id: port.id,
        networkId: input.network.id,
        mac,
        ip,
        vlan: input.network.vlan,
        ...subnet,
        portSecurity: input.portSecurity,
        allowedAddressPairs,
      },
    };
    return { instanceId: instance.id, operationId, spec };
  }

  /** A live instance, or null if it does not exist, is deleted, or lies outside `projectId` (null: any). */
  get(
    id: string,
    projectId: string | null,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<InstanceRecord | null> {
    return one<InstanceRecord>(
      manager,
      `${INSTANCE_RECORD_SQL} WHERE i.id = $1 AND i.deleted_at IS NULL AND ($2::uuid IS NULL OR i.project_id = $2)`,
      [id, projectId],
    );
  }

  /** Live instances in creation order, keyset-paginated. */
  list(projectId: string | null, page: Page): Promise<InstanceRecord[]> {
    return rows<InstanceRecord>(
      this.dataSource.manager,
      `${INSTANCE_RECORD_SQL}
        WHERE i.deleted_at IS NULL AND ($1::uuid IS NULL OR i.project_id = $1)
          AND ($2::uuid IS NULL OR (i.created_at, i.id) > (SELECT created_at, id FROM instances WHERE id = $2))
        ORDER BY i.created_at, i.id LIMIT $3`,
      [projectId, page.afterId ?? null, page.limit],
    );
  }

  /**
   * Starts a user action: checks the state machine against the locked row, sets the task state and
   * sends the host its command, all in one transaction. An instance that never reached a host is
   * deleted right here, since no host holds anything of it.
   */
  /**
   * Starts a live resize or limits change, in one transaction: checks the change, claims the growth
   * on the instance's host (409 with what is short when the host lacks room or is down), records
   * the target, and sends the host its command. The claim holds the larger of the two sizes until
   * the host reports; then the shrink (on success) or the growth (on failure) is given back.
   */
  requestLimits(id: string, projectId: string | null, change: LimitsChange, actor: Actor): Promise<string> {
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT 1 FROM instances WHERE id = $1 FOR UPDATE', [id]);
      const instance = await this.get(id, projectId, m);
      if (!instance) throw BerthError.notFound('instance', id);
      const check = beginAction(instance, change.action);
      if (!check.ok) throw BerthError.conflict(check.reason, 'action', 'state');
      if (!instance.hostId || !instance.hostName) {
        throw BerthError.conflict(`instance ${id} has no host to apply limits on`, 'action', 'state');
      }

      const flavor = change.flavor;
      const base = flavor ? flavorThrottles(flavor.throttles, change.defaultPidsLimit) : instance.throttles;
      const bounds = flavor ? flavor.limitBounds : instance.limitBounds;
      const throttles = applyThrottleChanges(base, change.changes, change.bounded ? bounds : null);
      if (!throttles.ok) throw BerthError.invalid(throttles.errors);
      const to = {
        flavorId: flavor ? flavor.id : instance.flavorId,
        flavorName: flavor ? flavor.name : instance.flavorName,
        vcpus: flavor ? flavor.vcpus : instance.vcpus,
        ramMb: flavor ? flavor.ramMb : instance.ramMb,
        diskGb: flavor ? flavor.diskGb : instance.diskGb,
        cpuPolicy: flavor ? flavor.cpuPolicy : instance.cpuPolicy,
        throttles: throttles.value,
        limitBounds: bounds,
      };
      if (to.diskGb < instance.diskGb) {
        throw BerthError.invalid([
          {
            field: 'flavor',
            rule: 'disk',
            message: `flavor ${to.flavorName} has ${to.diskGb} GB of disk; a disk never shrinks (now ${instance.diskGb} GB)`,
          },
        ]);
      }

      const plan = planResize(
        resourcesOf({ ...instance, pidsLimit: instance.throttles.pidsLimit }),
        resourcesOf({ ...to, kind: instance.kind, pidsLimit: to.throttles.pidsLimit }),
      );
      const { limits, usage } = await lockProjectQuota(m, instance.projectId, this.quotaDefaults);
      const excesses = quotaExcesses(limits, usage, {
        vcpus: plan.grow.vcpus + plan.grow.pcpus,
        ramMb: plan.grow.ramMb,
        diskGb: plan.grow.diskGb,
      });
      if (excesses.length > 0) throw BerthError.quotaExceeded(excesses);

      const claimed = await growAllocation(m, id, instance.hostId, plan.grow, this.downAfterSec);
      if (!claimed) {
        const refusal = await this.noRoom(m, instance.hostId, instance.hostName, plan.grow);
        if (!change.allowMove || change.action !== 'resize' || refusal.details[0]?.rule !== 'capacity') throw refusal;
        // A cold resize: the same path as a migration, claiming the new size on a host with room.
        const operationId = await insertOperation(
          m,
          { ...actor, projectId: instance.projectId },
          { action: 'instance.resize', targetType: 'instance', targetId: id },
        );
        await startMigration(m, instance, operationId, {
          host: null,
          resize: { to, previous: instanceSize(instance) },
        });
        return operationId;
      }
      const pinnedCpus = [...keptCpus(instance.pinnedCpus, to.cpuPolicy === 'dedicated', to.vcpus), ...claimed];
      const pending: PendingResize = {
        to: { ...to, pinnedCpus },
        grow: plan.grow,
        shrink: plan.shrink,
        claimedCpus: claimed,
        releasedCpus: instance.pinnedCpus.filter((c) => !pinnedCpus.includes(c)),
      };
      await m.query(`UPDATE instances SET task_state = $2, pending_resize = $3, updated_at = now() WHERE id = $1`, [
        id,
        check.taskState,
        JSON.stringify(pending),
      ]);
      const operationId = await insertOperation(
        m,
        { ...actor, projectId: instance.projectId },
        { action: `instance.${change.action}`, targetType: 'instance', targetId: id },
      );
      const command = limitsCommandOf(instance, pending.to, operationId);
      await enqueue(m, {
        queue: computeQueue(instance.hostName),
        name: command.type,
        jobId: jobId(operationId, change.action),
        payload: command,
      });
      return operationId;
    });
  }

  /** The 409 for a change its host cannot take: down, or short of what the growth needs. */
  private async noRoom(m: EntityManager, hostId: string, hostName: string, grow: Resources): Promise<BerthError> {
    const host = await loadHostState(m, this.downAfterSec, hostId);
    if (!host?.up) {
      return BerthError.conflict(`host ${hostName} is down; limits can change once it is back`, 'action', 'host');
    }
    const short = shortfalls(free(host), grow);
    return BerthError.conflict(
      `host ${hostName} lacks room to apply this live: it needs ${short.join(', ')}. ` +
        'Nothing changed; a smaller size fits, or resize with allowMove to move it to a host with room (it restarts)',
      'action',
      'capacity',
    );
  }

  requestAction(id: string, projectId: string | null, action: InstanceAction, actor: Actor): Promise<string> {
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT 1 FROM instances WHERE id = $1 FOR UPDATE', [id]);
      const instance = await this.get(id, projectId, m);
      if (!instance) throw BerthError.notFound('instance', id);
      const check = beginAction(instance, action);
      if (!check.ok) throw BerthError.conflict(check.reason, 'action', 'state');

      const operationId = await insertOperation(
        m,
        { ...actor, projectId: instance.projectId },
        {
          action: `instance.${action}`,
          targetType: 'instance',
          targetId: id,
        },
      );
      if (action === 'delete' && instance.hostId === null) {
        await markInstanceDeleted(m, id, operationId);
        await finishOperation(m, operationId, null);
        return operationId;
      }
      if (!instance.hostName) throw new Error(`instance ${id} in ${instance.status} has no host`);
      await m.query(`UPDATE instances SET task_state = $2, updated_at = now() WHERE id = $1`, [id, check.taskState]);
      const command: ComputeCommand = {
        v: CONTRACT_VERSION,
        type: ACTION_RULES[action].command,
        operationId,
        instance: specOf(instance),
      };
      await enqueue(m, {
        queue: computeQueue(instance.hostName),
        name: command.type,
        jobId: jobId(operationId, action),
        payload: command,
      });
      return operationId;
    });
  }
}

/** What `n` instances of this size count against a quota, where vCPUs count shared and dedicated alike. */
const scale = (r: Resources, n: number) => ({
  vcpus: (r.vcpus + r.pcpus) * n,
  ramMb: r.ramMb * n,
  diskGb: r.diskGb * n,
});

/** The most instances of `size` the quota still allows (each also takes one address). */
function instancesWithinQuota(limits: QuotaSet, usage: QuotaSet, size: Resources): number {
  const room = (limit: number, used: number, each: number) =>
    limit === UNLIMITED || each === 0 ? Number.POSITIVE_INFINITY : Math.floor(Math.max(0, limit - used) / each);
  return Math.min(
    room(limits.instances, usage.instances, 1),
    room(limits.ips, usage.ips, 1),
    room(limits.vcpus, usage.vcpus, size.vcpus + size.pcpus),
    room(limits.ramMb, usage.ramMb, size.ramMb),
    room(limits.diskGb, usage.diskGb, size.diskGb),
  );
}

/** The instance's size as a flavor gives it (what a cold resize keeps to undo). */
function instanceSize(i: InstanceRecord): FlavorSize {
  return {
    flavorId: i.flavorId,
    flavorName: i.flavorName,
    vcpus: i.vcpus,
    ramMb: i.ramMb,
    diskGb: i.diskGb,
    cpuPolicy: i.cpuPolicy,
    throttles: i.throttles,
    limitBounds: i.limitBounds,
  };
}
