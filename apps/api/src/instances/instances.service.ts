import {
  FlavorEntity,
  InstanceStore,
  NetworkEntity,
  ReservationStore,
  ServerGroupEntity,
  type Actor,
  type Created,
  type InstanceRecord,
  type ReservationRecord,
} from '@berth/db';
import { BerthError, INSTANCE_NAME, isUuid, type InstanceAction } from '@berth/domain';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal';
import { findVisibleImage, targetProject } from '../common/projects';
import { findByRef } from '../common/references';
import { ApiEnv } from '../config';
import type { CreateInstanceDto } from './instance.dto';

/** A create request with every reference resolved and checked: what creates and dry-runs act on. */
export interface ResolvedCreate {
  projectId: string;
  name: string;
  kind: CreateInstanceDto['kind'];
  count: number;
  minCount: number;
  flavor: FlavorEntity;
  image: { id: string; name: string; ref: string };
  network: NetworkEntity;
  ip: string | undefined;
  zone: string | null;
  group: ServerGroupEntity | null;
  reservation: ReservationRecord | null;
}

@Injectable()
export class InstancesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: InstanceStore,
    private readonly reservations: ReservationStore,
    private readonly env: ApiEnv,
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
    const group = dto.serverGroup === undefined ? null : await this.group(dto.serverGroup, projectId);
    const reservation =
      dto.reservation === undefined ? null : await this.reservation(dto.reservation, projectId, flavor, dto);
    return {
      projectId,
      name: dto.name,
      kind: dto.kind,
      count,
      minCount,
      flavor,
      image,
      network,
      ip: dto.ip,
      zone: dto.zone ?? reservation?.zone ?? null,
      group,
      reservation,
    };
  }

  /** Records the instances, their ports and their placement job at once. */
  async create(
    dto: CreateInstanceDto,
    principal: Principal,
    actor: Actor,
  ): Promise<Array<{ instance: InstanceRecord; operationId: string }>> {
    const r = await this.resolve(dto, principal);
    const created: Created[] = await this.store.create({
      actor,
      projectId: r.projectId,
      name: r.name,
      count: r.count,
      minCount: r.minCount,
      kind: r.kind,
      flavor: r.flavor,
      image: r.image,
      network: r.network,
      ip: r.ip,
      pidsLimit: this.env.BERTH_DEFAULT_PIDS_LIMIT,
      zone: r.zone,
      serverGroupId: r.group?.id ?? null,
      reservationId: r.reservation?.id ?? null,
    });
    return Promise.all(
      created.map(async (c) => ({ instance: await this.get(c.instanceId, null), operationId: c.operationId })),
    );
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
