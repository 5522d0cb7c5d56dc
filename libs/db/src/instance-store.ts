import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  PLACE_INSTANCE,
  PLACEMENT_QUEUE,
  type ComputeCommand,
  type InstanceKind,
  type PlaceInstanceJob,
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
  type InstanceAction,
  type QuotaSet,
} from '@berth/domain';
import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { markInstanceDeleted } from './lifecycle';
import { INSTANCE_RECORD_SQL, specOf, type InstanceRecord } from './instance-record';
import { finishOperation, insertOperation, type Actor } from './operation-store';
import { enqueue } from './outbox';
import { isUniqueViolation } from './pg-errors';
import { lockProjectQuota } from './quotas';
import { one, rows } from './sql';

export interface NewInstance {
  actor: Actor;
  /** The project the instance belongs to (the caller's own, or one an admin named). */
  projectId: string;
  name: string;
  kind: InstanceKind;
  flavor: { id: string; name: string; vcpus: number; ramMb: number; diskGb: number };
  image: { id: string; name: string; ref: string };
  networkId: string;
  ip?: string | undefined;
  pidsLimit: number;
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
  ) {}

  /**
   * Records a new instance in BUILDING/scheduling with its port, its operation and the placement
   * job, in one transaction. The project row is locked while its quota is checked and the network
   * row while the address is chosen (always in that order), so parallel creates can neither pass a
   * quota nor pick the same address. A MAC collision (32 random bits) is retried.
   */
  async create(input: NewInstance): Promise<{ instanceId: string; operationId: string }> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.dataSource.transaction((manager) => this.createOnce(manager, input));
      } catch (error) {
        if (attempt < 3 && isUniqueViolation(error, 'ports_mac_key')) continue;
        throw error;
      }
    }
  }

  private async createOnce(m: EntityManager, input: NewInstance): Promise<{ instanceId: string; operationId: string }> {
    const { limits, usage } = await lockProjectQuota(m, input.projectId, this.quotaDefaults);
    const excesses = quotaExcesses(limits, usage, { instances: 1, ...resourcesOf(input.flavor), ips: 1 });
    if (excesses.length > 0) throw BerthError.quotaExceeded(excesses);

    const network = await one<{ cidr: string; gateway: string; allocationStart: string; allocationEnd: string }>(
      m,
      `SELECT cidr::text AS cidr, host(gateway) AS gateway, host(allocation_start) AS "allocationStart",
              host(allocation_end) AS "allocationEnd"
         FROM networks WHERE id = $1 FOR UPDATE`,
      [input.networkId],
    );
    if (!network) throw BerthError.notFound('network', input.networkId, 'network');
    const plan = planNetwork(network);
    if (!plan.ok) throw new Error(`network ${input.networkId} holds an invalid plan: ${JSON.stringify(plan.errors)}`);
    const used = await rows<{ ip: string }>(m, 'SELECT host(ip) AS ip FROM ports WHERE network_id = $1', [
      input.networkId,
    ]);
    const address = pickAddress(
      plan.value,
      used.map((u) => parseIPv4(u.ip) ?? -1),
      input.ip,
    );
    if (!address.ok) throw addressError(address.errors);

    const instance = await one<{ id: string }>(
      m,
      `INSERT INTO instances (project_id, user_id, name, kind, status, task_state, flavor_id, flavor_name, vcpus, ram_mb,
                              disk_gb, image_id, image_name, image_ref, pids_limit)
       VALUES ($1, $2, $3, $4, 'BUILDING', 'scheduling', $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      [
        input.projectId,
        input.actor.userId,
        input.name,
        input.kind,
        input.flavor.id,
        input.flavor.name,
        input.flavor.vcpus,
        input.flavor.ramMb,
        input.flavor.diskGb,
        input.image.id,
        input.image.name,
        input.image.ref,
        input.pidsLimit,
      ],
    );
    if (!instance) throw new Error('insert into instances returned no row');
    await m.query('INSERT INTO ports (network_id, instance_id, ip, mac) VALUES ($1, $2, $3, $4)', [
      input.networkId,
      instance.id,
      formatIPv4(address.value),
      macFromRandom(randomBytes(4)),
    ]);
    const operationId = await insertOperation(
      m,
      { ...input.actor, projectId: input.projectId },
      {
        action: 'instance.create',
        targetType: 'instance',
        targetId: instance.id,
      },
    );
    const job: PlaceInstanceJob = { v: CONTRACT_VERSION, operationId, instanceId: instance.id };
    await enqueue(m, {
      queue: PLACEMENT_QUEUE,
      name: PLACE_INSTANCE,
      jobId: jobId(operationId, 'place'),
      payload: job,
    });
    return { instanceId: instance.id, operationId };
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

const resourcesOf = (f: { vcpus: number; ramMb: number; diskGb: number }) => ({
  vcpus: f.vcpus,
  ramMb: f.ramMb,
  diskGb: f.diskGb,
});
