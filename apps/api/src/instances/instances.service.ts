import {
  InstanceWorkflow,
  MigrationWorkflow,
  ReservationWorkflow,
  setPortGroups,
  setPortSecurity,
  specOf,
} from '@berth/control';
import { FlavorEntity, type Actor, type InstanceRecord, type MigrationRow } from '@berth/data';
import {
  CONTRACT_VERSION,
  computeQueue,
  INSTANCE_CONSOLE,
  INSTANCE_STATS,
  type ConsoleTail,
  type InstanceConsoleQuery,
  type InstanceStatsAnswer,
  type InstanceStatsQuery,
} from '@berth/contracts';
import { errorMessage } from '@berth/platform';
import { QueueProducer } from '@berth/queue';
import {
  BerthError,
  usageRates,
  type InstanceAction,
  type InstanceStats,
  type LimitAction,
  type MigrationAction,
  checkAddressPairs,
} from '@berth/domain';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { projectScope, type Principal } from '../auth/principal';
import { findByRef } from '../common/references';
import { ApiEnv } from '../config';
import type { CreateInstanceDto, InstanceActionDto } from './instance.dto';
import { CreateRequests, type ResolvedCreate } from './create-requests';

export type { ResolvedCreate } from './create-requests';

@Injectable()
export class InstancesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: InstanceWorkflow,
    private readonly migrationStore: MigrationWorkflow,
    private readonly reservations: ReservationWorkflow,
    private readonly env: ApiEnv,
    private readonly producer: QueueProducer,
    private readonly requests: CreateRequests,
  ) {}

  /** Resolves and checks a create request; nothing is written. */
  resolve(dto: CreateInstanceDto, principal: Principal): Promise<ResolvedCreate> {
    return this.requests.resolve(dto, principal);
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

  request(
    id: string,
    projectId: string | null,
    action: InstanceAction,
    actor: Actor,
    options: { deleteVolumes?: boolean } = {},
  ): Promise<string> {
    return this.store.requestAction(id, projectId, action, actor, options);
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
   * migrate, confirm or revert: an admin's, but for the confirm or revert of a resize, which its owner may end. A
   * tenant's own instance answers 403, another's 404, as for any instance they cannot see.
   */
  async requestMigration(id: string, dto: InstanceActionDto, principal: Principal, actor: Actor): Promise<string> {
    await this.get(id, projectScope(principal));
    const admin = principal.role === 'admin';
    if (!admin && dto.action === 'migrate') throw BerthError.forbidden('only an admin may migrate an instance');
    if (dto.flavor !== undefined || dto.limits !== undefined) {
      const field = dto.flavor !== undefined ? 'flavor' : 'limits';
      throw BerthError.invalid([{ field, rule: 'action', message: `${field} is not used by ${dto.action}` }]);
    }
    if (dto.host !== undefined && dto.action !== 'migrate') {
      throw BerthError.invalid([{ field: 'host', rule: 'action', message: `host is not used by ${dto.action}` }]);
    }
    return this.migrationStore.request(id, dto.action as MigrationAction, actor, {
      ...(dto.host === undefined ? {} : { host: dto.host }),
      ...(admin ? {} : { onlyResize: true }),
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
    return setPortGroups(this.dataSource, await this.get(id, projectScope(principal)), refs, actor);
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
    return setPortSecurity(
      this.dataSource,
      instance,
      { allowedAddressPairs: pairs?.ok ? pairs.value : null, portSecurity: dto.portSecurity ?? null },
      actor,
    );
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
        ...(dto.verify ? { verify: true } : {}),
      },
      actor,
    );
  }
}
