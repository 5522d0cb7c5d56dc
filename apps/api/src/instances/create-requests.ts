import { ReservationWorkflow, type NewInstances } from '@berth/control';
import {
  type ReservationRecord,
  FlavorEntity,
  NetworkEntity,
  ServerGroupEntity,
  resolveGroups,
  largestHost,
  userKeypair,
} from '@berth/data';
import { type InstanceKind } from '@berth/contracts';
import {
  applyThrottleChanges,
  BerthError,
  flavorThrottles,
  INSTANCE_NAME,
  isUuid,
  RESOURCE_NAMES,
  resourcesOf,
  checkAddressPairs,
  checkMetadata,
  checkVolumeRequests,
} from '@berth/domain';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type Principal } from '../auth/principal';
import { findVisibleImage, requireActiveImage, targetProject } from '../common/projects';
import { findByRef } from '../common/references';
import { ApiEnv } from '../config';
import type { CreateInstanceDto } from './instance.dto';

/** A create request resolved and checked: the workflow's input but for who asks (nothing is written yet). */
export type ResolvedCreate = Omit<NewInstances, 'actor'>;

/**
 * Turns a create request into the create workflow's input: every reference (project, flavor, image, network,
 * groups, reservation) found and checked, the throttles within the flavor's bounds, and a flavor no host could
 * hold refused early. What creates and dry-runs act on; nothing is written.
 */
@Injectable()
export class CreateRequests {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reservations: ReservationWorkflow,
    private readonly env: ApiEnv,
  ) {}

  /** Resolves and checks a create request; nothing is written. */
  async resolve(dto: CreateInstanceDto, principal: Principal): Promise<ResolvedCreate> {
    const { count, minCount } = counts(dto);
    if (count > 1) checkBulk(dto, count);
    const projectId = await targetProject(this.dataSource, principal, dto.project);
    const flavor = await findByRef(this.dataSource.getRepository(FlavorEntity), dto.flavor, 'flavor', 'flavor');
    const image = requireActiveImage(await findVisibleImage(this.dataSource, principal, dto.image, 'image'), 'image');
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
    const volumes = checkVolumeRequests(dto.volumes ?? [], dto.kind);
    if (!volumes.ok) throw BerthError.invalid(volumes.errors);
    if (count > 1 && volumes.value.length > 0) {
      throw BerthError.invalid([
        { field: 'volumes', rule: 'single', message: 'volumes can only be given for a single instance' },
      ]);
    }
    const metadata = checkMetadata(dto.metadata ?? {}, 'metadata');
    if (!metadata.ok) throw BerthError.invalid(metadata.errors);
    const keypair =
      dto.keyName === undefined ? null : await userKeypair(this.dataSource.manager, principal.userId, dto.keyName);
    if (dto.keyName !== undefined && !keypair) throw BerthError.notFound('key pair', dto.keyName, 'keyName');
    checkPortSecurity(dto, principal);
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
      metadata: metadata.value,
      keyName: keypair?.name ?? null,
      keyData: keypair?.publicKey ?? null,
      portSecurity: dto.portSecurity ?? true,
      volumes: volumes.value,
    };
  }

  /**
   * Refuses (409) a flavor no enabled host of the kind could hold even empty, so that the request
   * fails now with the reason instead of becoming an instance in ERROR. With no host at all, the
   * build waits for the scheduler's verdict as before.
   */
  private async assertSomeHostHolds(flavor: FlavorEntity, kind: InstanceKind, pidsLimit: number): Promise<void> {
    const need = resourcesOf({ ...flavor, kind, pidsLimit });
    const { hosts, fitting, most } = await largestHost(this.dataSource.manager, kind, need);
    if (hosts === 0 || fitting > 0) return;
    const short = RESOURCE_NAMES.filter((k) => need[k] > most[k]).map(
      (k) => `${k} ${need[k]} (the most any host offers: ${most[k]})`,
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

/** Several instances are named name-1 ... name-N, and take the lowest free addresses (none may be asked for). */
function checkBulk(dto: CreateInstanceDto, count: number): void {
  if (!INSTANCE_NAME.test(`${dto.name}-${count}`)) {
    throw BerthError.invalid([
      { field: 'name', rule: 'length', message: `name is too long for ${count} instances named ${dto.name}-N` },
    ]);
  }
  if (dto.ip !== undefined) {
    throw BerthError.invalid([{ field: 'ip', rule: 'single', message: 'ip can only be given for a single instance' }]);
  }
}

/** Only a cloud admin switches port security off, and a port without it has no security groups. */
function checkPortSecurity(dto: CreateInstanceDto, principal: Principal): void {
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
}
