import { FlavorEntity, InstanceStore, NetworkEntity, type Actor, type InstanceRecord } from '@berth/db';
import { BerthError, type InstanceAction } from '@berth/domain';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal';
import { findVisibleImage, targetProject } from '../common/projects';
import { findByRef } from '../common/references';
import { ApiEnv } from '../config';
import type { CreateInstanceDto } from './instance.dto';

@Injectable()
export class InstancesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: InstanceStore,
    private readonly env: ApiEnv,
  ) {}

  /** Resolves the request's references, then records the instance, its port and its placement job at once. */
  async create(
    dto: CreateInstanceDto,
    principal: Principal,
    actor: Actor,
  ): Promise<{ instance: InstanceRecord; operationId: string }> {
    const projectId = await targetProject(this.dataSource, principal, dto.project);
    const flavor = await findByRef(this.dataSource.getRepository(FlavorEntity), dto.flavor, 'flavor', 'flavor');
    const image = await findVisibleImage(this.dataSource, principal, dto.image, 'image');
    const network = await findByRef(this.dataSource.getRepository(NetworkEntity), dto.network, 'network', 'network');
    if (image.projectId !== null && image.projectId !== projectId) {
      throw BerthError.notFound('image', dto.image, 'image');
    }
    if (image.kind !== dto.kind) {
      throw BerthError.invalid([
        {
          field: 'image',
          rule: 'kind',
          message: `image ${image.name} is a ${image.kind} image, not a ${dto.kind} image`,
        },
      ]);
    }
    const { instanceId, operationId } = await this.store.create({
      actor,
      projectId,
      name: dto.name,
      kind: dto.kind,
      flavor,
      image,
      networkId: network.id,
      ip: dto.ip,
      pidsLimit: this.env.BERTH_DEFAULT_PIDS_LIMIT,
    });
    return { instance: await this.get(instanceId, null), operationId };
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
}
