import { InstanceWorkflow, MigrationWorkflow, ReservationWorkflow, specOf, type NewInstances } from '@berth/control';
import {
  type ReservationRecord,
  FlavorEntity,
  NetworkEntity,
  ServerGroupEntity,
  type Actor,
  type InstanceRecord,
  type MigrationRow,
  groupsOfInstance,
  insertOperation,
  markFirewalls,
  markGroupMembers,
  resolveGroups,
  rows,
  setInstanceGroups,
} from '@berth/data';
import {
  CONTRACT_VERSION,
  computeQueue,
  INSTANCE_CONSOLE,
  INSTANCE_STATS,
  type ConsoleTail,
  type InstanceConsoleQuery,
  type InstanceStatsAnswer,
  type InstanceStatsQuery,
  type InstanceKind,
} from '@berth/contracts';
import { errorMessage } from '@berth/platform';
import { QueueProducer } from '@berth/queue';
import {
  applyThrottleChanges,
  BerthError,
  flavorThrottles,
  INSTANCE_NAME,
  isUuid,
  RESOURCE_NAMES,
  resourcesOf,
  usageRates,
  type Resources,
  type InstanceAction,
  type InstanceStats,
  type LimitAction,
  type MigrationAction,
  checkAddressPairs,
} from '@berth/domain';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { projectScope, type Principal } from '../auth/principal';
import { findVisibleImage, targetProject } from '../common/projects';
import { findByRef } from '../common/references';
import { ApiEnv } from '../config';
import type { CreateInstanceDto, InstanceActionDto } from './instance.dto';

/** A create request with every reference resolved and checked: what creates and dry-runs act on. */
/** A create request resolved and checked: the workflow's input but for who asks (nothing is written yet). */
export type ResolvedCreate = Omit<NewInstances, 'actor'>;

@Injectable()
export class InstancesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: InstanceWorkflow,
    private readonly migrationStore: MigrationWorkflow,
    private readonly reservations: ReservationWorkflow,
    private readonly env: ApiEnv,
    private readonly producer: QueueProducer,
  ) {}

  /** Resolves and checks a create request; nothing is written. */
  async resolve(dto: CreateInstanceDto, principal: Principal): Promise<ResolvedCreate> {
    const { count, minCount } = counts(dto);
    if (count > 1) {
      if (!INSTANCE_NAME.test(`${dto.name}-${count}`)) {
        throw BerthError.invalid([
          { field: 'name', rule: 'length', message: `name is too long for ${count} instances named ${dto.name}-N` },
        ]);
      }
      if (dto.ip !== undefined)
        throw BerthError.invalid([
          { field: 'ip', rule: 'single', message: 'ip can only be given for a single instance' },
        ]);
    }
    const projectId = await targetProject(this.dataSource, principal, dto.project);
    const flavor = await findByRef(this.dataSource.getRepository(FlavorEntity), dto.flavor, 'flavor', 'flavor');
    const image = await findVisibleImage(this.dataSource, principal, dto.image, 'image');
    const network = await findByRef(this.dataSource.getRepository(NetworkEntity), dto.network, 'network', 'network');
    if (image.projectId !== null && image.projectId !== projectId)
      throw BerthError.notFound('image', dto.image, 'image');
    if (image.kind !== dto.kind) {
      throw BerthError.invalid([
        {
          field: 'image',
          rule: 'kind',
          message: `image ${image.name} is a ${image.kind} image, not a ${dto.kind} image`,
        },
      ]);
    }
    const throttles = applyThrottleChanges(
      flavorThrottles(flavor.throttles, this.env.BERTH_DEFAULT_PIDS_LIMIT),
      dto.limits ?? {},
      principal.role === 'admin' ? null : flavor.limitBounds,
    );
    if (!throttles.ok) throw BerthError.invalid(throttles.errors);
    const pairs = checkAddressPairs(dto.allowedAddressPairs ?? []);
    if (!pairs.ok) throw BerthError.invalid(pairs.errors);
    if (dto.portSecurity === false && principal.role !== 'admin') {
      throw BerthError.forbidden('only a cloud admin may switch port security off (portSecurity)');
    }
    if (dto.portSecurity === false && dto.securityGroups !== undefined) {
      throw BerthError.invalid([
        {
          field: 'securityGroups',
          rule: 'portSecurity',
          message: 'a port without port security has no security groups: leave securityGroups out',
        },
      ]);
    }
    await this.assertSomeHostHolds(flavor, dto.kind, throttles.value.pidsLimit);
    const group = dto.serverGroup === undefined ? null : await this.group(dto.serverGroup, projectId);
    const securityGroupIds =
      dto.securityGroups === undefined
        ? null
        : await resolveGroups(this.dataSource.manager, projectId, dto.securityGroups, 'securityGroups');
    const reservation =
      dto.reservation === undefined ? null : await this.reservation(dto.reservation, projectId, flavor, dto);
    return {
      projectId,
      name: dto.name,
      kind: dto.kind,
      count,
      minCount,
      flavor,
      image: {
        id: image.id,
        name: image.name,
        ref: image.ref,
        boot:
          image.kind === 'vm'
            ? { kernelRef: image.kernelRef, initrdRef: image.initrdRef, cmdline: image.cmdline }
            : null,
      },
      network: { id: network.id, vlan: network.vlan },
      ip: dto.ip,
      throttles: throttles.value,
      allowedAddressPairs: pairs.value,
      securityGroupIds,
      zone: dto.zone ?? reservation?.zone ?? null,
      serverGroupId: group?.id ?? null,
      reservationId: reservation?.id ?? null,
      restartPolicy: dto.restartPolicy ?? 'never',
      portSecurity: dto.portSecurity ?? true,
    };
  }

  /** Records the instances, their ports and their placement job at once. */
  async create(
    dto: CreateInstanceDto,
    principal: Principal,
    actor: Actor,
  ): Promise<Array<{ instance: InstanceRecord; operationId: string }>> {
    const created = await this.store.create({ ...(await this.resolve(dto, principal)), actor });
    return created.map((c) => ({ instance: c.record, operationId: c.operationId }));
  }

  async get(id: string, projectId: string | null): Promise<InstanceRecord> {
    const instance = await this.store.get(id, projectId);
    if (!instance) throw BerthError.notFound('instance', id);
    return instance;
  }

  list(projectId: string | null, limit: number, afterId: string | undefined): Promise<InstanceRecord[]> {
    return this.store.list(projectId, { limit, afterId });
  }

  request(id: string, projectId: string | null, action: InstanceAction, actor: Actor): Promise<string> {
    return this.store.requestAction(id, projectId, action, actor);
  }

  /**
   * The last lines of the instance's console, asked of its host and answered at once (a container's
   * output, a VM's serial console). 409 before it has a host; 503 when the host does not answer.
   */
  async console(id: string, projectId: string | null, lines: number): Promise<string[]> {
    const instance = await this.get(id, projectId);
    const query: InstanceConsoleQuery = {
      v: CONTRACT_VERSION,
      type: 'instance.console',
      instance: specOf(instance),
      lines,
    };
    return (await this.askHost<ConsoleTail>(instance, INSTANCE_CONSOLE, query, 'console')).lines;
  }

  /** CPU, memory, network and block IO of a running instance: two readings on its host, `intervalSec` apart. */
  async stats(id: string, projectId: string | null, intervalSec: number): Promise<InstanceStats> {
    const instance = await this.get(id, projectId);
    const query: InstanceStatsQuery = {
      v: CONTRACT_VERSION,
      type: 'instance.stats',
      instance: specOf(instance),
      intervalMs: intervalSec * 1000,
    };
    const answer = await this.askHost<InstanceStatsAnswer>(
      instance,
      INSTANCE_STATS,
      query,
      'stats',
      intervalSec * 1000,
    );
    if (!answer.first || !answer.second) {
      throw BerthError.conflict(`instance ${id} is not running, so it has no usage to show`, 'id', 'running');
    }
    return usageRates(answer.first, answer.second, instance.vcpus);
  }

  /** A question the instance's host answers at once (console, stats); 409 without a host, 503 if it does not answer. */
  private async askHost<R>(
    instance: InstanceRecord,
    name: string,
    query: object,
    what: string,
    extraMs = 0,
  ): Promise<R> {
    if (!instance.hostName) {
      throw BerthError.conflict(`instance ${instance.id} has no host yet, so no ${what}`, 'id', 'host');
    }
    const timeoutMs = this.env.BERTH_CONSOLE_TIMEOUT_MS + extraMs;
    try {
      return await this.producer.request<R>(computeQueue(instance.hostName), name, query, timeoutMs);
    } catch (error) {
      // BullMQ's own words for a wait that ran out; anything else is the host's answer that it failed.
      const timedOut = errorMessage(error).startsWith('Job wait');
      throw BerthError.unavailable(
        timedOut
          ? `host ${instance.hostName} did not return the ${what} within ${timeoutMs} ms`
          : `host ${instance.hostName} could not read the ${what}: ${errorMessage(error)}`,
      );
    }
  }

  /**
   * migrate, confirm or revert: an admin's. A tenant's own instance answers 403, another's 404, as
   * for any instance they cannot see.
   */
  async requestMigration(id: string, dto: InstanceActionDto, principal: Principal, actor: Actor): Promise<string> {
    await this.get(id, projectScope(principal));
    if (principal.role !== 'admin') throw BerthError.forbidden(`only an admin may ${dto.action} an instance`);
    if (dto.flavor !== undefined || dto.limits !== undefined) {
      const field = dto.flavor !== undefined ? 'flavor' : 'limits';
      throw BerthError.invalid([{ field, rule: 'action', message: `${field} is not used by ${dto.action}` }]);
    }
    if (dto.host !== undefined && dto.action !== 'migrate') {
      throw BerthError.invalid([{ field: 'host', rule: 'action', message: `host is not used by ${dto.action}` }]);
    }
    return this.migrationStore.request(id, dto.action as MigrationAction, actor, {
      ...(dto.host === undefined ? {} : { host: dto.host }),
    });
  }

  /** The instance's migrations (the route is an admin's). */
  async migrations(id: string, principal: Principal): Promise<MigrationRow[]> {
    await this.get(id, projectScope(principal));
    return this.migrationStore.list(id);
  }

  /** resize (to a flavor) or set-limits, applied live on the instance's host. */
  /**
   * The port is in exactly these groups from now on; its host, and those of the instances whose rules name
   * a group it left or joined, apply the change live. Recorded as a finished operation.
   */
  async setSecurityGroups(id: string, refs: string[] | undefined, principal: Principal, actor: Actor): Promise<string> {
    if (refs === undefined) {
      throw BerthError.invalid([
        { field: 'securityGroups', rule: 'required', message: 'securityGroups is required for set-security-groups' },
      ]);
    }
    const instance = await this.get(id, projectScope(principal));
    if (!instance.portId) throw BerthError.conflict(`instance ${id} has no port`);
    if (instance.portSecurity === false) {
      throw BerthError.conflict(
        'the port has no port security, so no security groups (an admin switched it off)',
        'securityGroups',
        'portSecurity',
      );
    }
    const portId = instance.portId;
    return this.dataSource.transaction(async (m) => {
      const groups = await resolveGroups(m, instance.projectId, refs, 'securityGroups');
      await setInstanceGroups(m, { id, projectId: instance.projectId, portId }, groups);
      return insertOperation(
        m,
        { ...actor, projectId: instance.projectId },
        { action: 'instance.set-security-groups', targetType: 'instance', targetId: id, finished: true },
      );
    });
  }

  /**
   * What the port may send from, changed live: its allowed address pairs (the list is replaced), and whether it
   * is checked at all (a cloud admin's call; a port without checks has no security groups, so its groups must go
   * first). The instances whose rules name its groups learn the pairs too. Recorded as a finished operation.
   */
  async setPortSecurity(id: string, dto: InstanceActionDto, principal: Principal, actor: Actor): Promise<string> {
    if (dto.allowedAddressPairs === undefined && dto.portSecurity === undefined) {
      throw BerthError.invalid([
        {
          field: 'allowedAddressPairs',
          rule: 'required',
          message: 'set-port-security needs allowedAddressPairs or portSecurity',
        },
      ]);
    }
    const pairs = dto.allowedAddressPairs === undefined ? null : checkAddressPairs(dto.allowedAddressPairs);
    if (pairs && !pairs.ok) throw BerthError.invalid(pairs.errors);
    if (dto.portSecurity !== undefined && principal.role !== 'admin') {
      throw BerthError.forbidden('only a cloud admin may switch port security off or on (portSecurity)');
    }
    const instance = await this.get(id, projectScope(principal));
    if (!instance.portId || !instance.mac) throw BerthError.conflict(`instance ${id} has no port`);
    const { portId, mac } = instance;
    return this.dataSource.transaction(async (m) => {
      const groups = await groupsOfInstance(m, id);
      if (dto.portSecurity === false && groups.length > 0) {
        throw BerthError.conflict(
          'a port without port security has no security groups: take them off first (set-security-groups [])',
          'portSecurity',
          'noGroups',
        );
      }
      await m.query(
        `UPDATE ports SET allowed_address_pairs = coalesce($2::jsonb, allowed_address_pairs),
                          port_security = coalesce($3, port_security) WHERE id = $1`,
        [
          portId,
          pairs?.ok ? JSON.stringify(pairs.value.map((p) => ({ ip: p.ip, mac: p.mac ?? mac }))) : null,
          dto.portSecurity ?? null,
        ],
      );
      await markFirewalls(m, [id]);
      await markGroupMembers(m, groups);
      return insertOperation(
        m,
        { ...actor, projectId: instance.projectId },
        { action: 'instance.set-port-security', targetType: 'instance', targetId: id, finished: true },
      );
    });
  }

  async requestLimits(id: string, dto: InstanceActionDto, principal: Principal, actor: Actor): Promise<string> {
    const action = dto.action as LimitAction;
    if (action === 'resize' && dto.flavor === undefined) {
      throw BerthError.invalid([{ field: 'flavor', rule: 'required', message: 'flavor is required for a resize' }]);
    }
    if (action === 'set-limits') {
      if (dto.flavor !== undefined) {
        throw BerthError.invalid([
          { field: 'flavor', rule: 'action', message: 'flavor is for a resize; set-limits changes throttles only' },
        ]);
      }
      if (dto.limits === undefined || Object.keys(dto.limits).length === 0) {
        throw BerthError.invalid([
          { field: 'limits', rule: 'required', message: 'limits must name a throttle to set' },
        ]);
      }
    }
    const scope = projectScope(principal);
    // A tenant learns nothing of a flavor before it is known that the instance is theirs.
    await this.get(id, scope);
    const flavor =
      dto.flavor === undefined
        ? null
        : await findByRef(this.dataSource.getRepository(FlavorEntity), dto.flavor, 'flavor', 'flavor');
    return this.store.requestLimits(
      id,
      scope,
      {
        action,
        flavor,
        changes: dto.limits ?? {},
        bounded: principal.role !== 'admin',
        defaultPidsLimit: this.env.BERTH_DEFAULT_PIDS_LIMIT,
        ...(dto.allowMove ? { allowMove: true } : {}),
      },
      actor,
    );
  }

  /**
   * Refuses (409) a flavor no enabled host of the kind could hold even empty, so that the request
   * fails now with the reason instead of becoming an instance in ERROR. With no host at all, the
   * build waits for the scheduler's verdict as before.
   */
  private async assertSomeHostHolds(flavor: FlavorEntity, kind: InstanceKind, pidsLimit: number): Promise<void> {
    const need = resourcesOf({ ...flavor, kind, pidsLimit });
    // A host whose agent has not told its pids (pids NULL) holds any number.
    const [largest] = await rows<Record<'n' | 'fits' | keyof Resources, number>>(
      this.dataSource.manager,
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE floor(vcpus * cpu_ratio) >= $2 AND pcpus >= $3 AND floor(ram_mb * ram_ratio) >= $4
                                 AND floor(disk_gb * disk_ratio) >= $5 AND coalesce(pids, $6) >= $6)::int AS fits,
              coalesce(max(floor(vcpus * cpu_ratio)), 0)::int AS vcpus, coalesce(max(pcpus), 0)::int AS pcpus,
              coalesce(max(floor(ram_mb * ram_ratio)), 0)::int AS "ramMb",
              coalesce(max(floor(disk_gb * disk_ratio)), 0)::int AS "diskGb",
              coalesce(max(coalesce(pids, $6)), 0)::int AS pids
         FROM hosts WHERE enabled AND $1 = ANY (drivers)`,
      [kind, need.vcpus, need.pcpus, need.ramMb, need.diskGb, need.pids],
    );
    if (!largest || largest.n === 0 || largest.fits > 0) return;
    const short = RESOURCE_NAMES.filter((k) => need[k] > largest[k]).map(
      (k) => `${k} ${need[k]} (the most any host offers: ${largest[k]})`,
    );
    throw BerthError.conflict(
      `no ${kind} host is large enough for flavor ${flavor.name}, even empty: ${short.join(', ')}`,
      'flavor',
      'capacity',
    );
  }

  private async group(ref: string, projectId: string): Promise<ServerGroupEntity> {
    const repo = this.dataSource.getRepository(ServerGroupEntity);
    const group = await repo.findOneBy(isUuid(ref) ? { id: ref.toLowerCase(), projectId } : { name: ref, projectId });
    if (!group) throw BerthError.notFound('server group', ref, 'serverGroup');
    return group;
  }

  /** A reservation the project may draw on now, for this flavor. */
  private async reservation(
    id: string,
    projectId: string,
    flavor: FlavorEntity,
    dto: CreateInstanceDto,
  ): Promise<ReservationRecord> {
    const found = await this.reservations.get(id, projectId);
    if (!found) throw BerthError.notFound('reservation', id, 'reservation');
    const now = Date.now();
    if (found.status !== 'active' || now < found.startsAt.getTime() || now >= found.endsAt.getTime()) {
      throw BerthError.conflict(
        `reservation ${id} is not open now (${found.status}, ${found.startsAt.toISOString()} to ${found.endsAt.toISOString()})`,
        'reservation',
        'window',
      );
    }
    if (found.flavorId !== flavor.id) {
      throw BerthError.invalid([
        {
          field: 'flavor',
          rule: 'reservation',
          message: `the reservation holds ${found.flavorName}, not ${flavor.name}`,
        },
      ]);
    }
    if (found.kind !== dto.kind) {
      throw BerthError.invalid([
        { field: 'kind', rule: 'reservation', message: `the reservation holds ${found.kind} capacity` },
      ]);
    }
    if (found.zone !== null && dto.zone !== undefined && dto.zone !== found.zone) {
      throw BerthError.invalid([
        { field: 'zone', rule: 'reservation', message: `the reservation holds capacity in zone ${found.zone}` },
      ]);
    }
    return found;
  }
}

/** count, or minCount/maxCount (Nova's min_count and max_count); a single instance by default. */
function counts(dto: CreateInstanceDto): { count: number; minCount: number } {
  if (dto.count !== undefined) {
    if (dto.minCount !== undefined || dto.maxCount !== undefined) {
      throw BerthError.invalid([
        { field: 'count', rule: 'exclusive', message: 'give either count, or minCount and maxCount' },
      ]);
    }
    return { count: dto.count, minCount: dto.count };
  }
  const minCount = dto.minCount ?? 1;
  const maxCount = dto.maxCount ?? Math.max(1, minCount);
  if (maxCount < minCount)
    throw BerthError.invalid([{ field: 'maxCount', rule: 'order', message: 'maxCount must not be below minCount' }]);
  return { count: maxCount, minCount };
}
