import { deleteImage, insertImage, type ImageEntity } from '@berth/data';
import {
  BerthError,
  DOCKER_REFERENCE,
  DOCKER_REFERENCE_RULE,
  isVmFileRef,
  KERNEL_CMDLINE,
  registryOf,
  VM_FILE_REF_RULE,
  type FieldError,
} from '@berth/domain';
import { deleteRepositoryLatest, splitRef } from '@berth/platform';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { actorOf, type Principal } from '../auth/principal';
import { findVisibleImage, requireActiveImage, targetProject } from '../common/projects';
import { recordedChange } from '../common/recorded';
import { ApiEnv } from '../config';
import type { CreateImageDto } from './image.dto';

/**
 * Registering and deleting images, for /v1 and Glance alike: who may register what (a member: private container
 * images from the registries members may use; a VM image's paths: the cloud admin alone), each change on record.
 */
@Injectable()
export class ImagesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {}

  async register(dto: CreateImageDto, principal: Principal, requestId: string): Promise<ImageEntity> {
    if (dto.kind === 'container' && dto.ref.length > 255) {
      throw BerthError.invalid([
        { field: 'ref', rule: 'maxLength', message: 'ref must be shorter than or equal to 255 characters' },
      ]);
    }
    if (dto.kind === 'container' && !DOCKER_REFERENCE.test(dto.ref)) {
      throw BerthError.invalid([{ field: 'ref', rule: 'matches', message: `ref must be ${DOCKER_REFERENCE_RULE}` }]);
    }
    // What a member's image may pull is the cloud's choice (its own registry, by default): an image is code
    // every host of the cloud runs.
    const registries = this.env.memberRegistries;
    if (
      dto.kind === 'container' &&
      principal.role !== 'admin' &&
      registries &&
      !registries.includes(registryOf(dto.ref))
    ) {
      throw BerthError.invalid([
        {
          field: 'ref',
          rule: 'registry',
          message: `ref must come from a registry members may use (${registries.join(', ')}), not ${registryOf(dto.ref)}`,
        },
      ]);
    }
    if (dto.kind === 'vm') {
      // Paths name the hosts' files: only the operator who controls them may register one.
      if (principal.role !== 'admin') throw BerthError.forbidden('only a cloud admin may register a VM image');
      const errors = vmImageErrors(dto);
      if (errors.length > 0) throw BerthError.invalid(errors);
    } else {
      const vmOnly = (['kernelRef', 'initrdRef', 'cmdline'] as const).filter((f) => dto[f] !== undefined);
      if (vmOnly.length > 0) {
        throw BerthError.invalid(
          vmOnly.map((field) => ({ field, rule: 'kind', message: `${field} is for VM images only` })),
        );
      }
    }
    const visibility = dto.visibility ?? (principal.role === 'admin' ? 'public' : 'private');
    if (visibility === 'public' && principal.role !== 'admin')
      throw BerthError.forbidden('only a cloud admin may publish an image');
    if (visibility === 'public' && dto.project !== undefined) {
      throw BerthError.invalid([
        { field: 'project', rule: 'visibility', message: 'a public image belongs to no project' },
      ]);
    }
    const projectId = visibility === 'private' ? await targetProject(this.dataSource, principal, dto.project) : null;
    const image = await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: projectId ?? principal.projectId },
      'image.create',
      'image',
      (m) =>
        insertImage(m, {
          name: dto.name,
          kind: dto.kind,
          ref: dto.ref,
          kernelRef: dto.kernelRef ?? null,
          initrdRef: dto.initrdRef ?? null,
          cmdline: dto.cmdline ?? null,
          projectId,
        }),
    );
    return image;
  }

  /** Running instances keep their image reference; deleting an image never stops them. */
  async remove(id: string, principal: Principal, requestId: string): Promise<void> {
    // One being made is the host's to finish (or to fail, which removes it).
    const image = requireActiveImage(await findVisibleImage(this.dataSource, principal, id, 'id'), 'id');
    if (image.projectId === null && principal.role !== 'admin')
      throw BerthError.forbidden('only a cloud admin may delete a public image');
    // A snapshot's copy in the registry is Berth's own: it goes first, so that a registry that does not answer
    // leaves the image as it was.
    if (image.sourceInstanceId !== null) await deleteRepositoryLatest(snapshotRepository(image));
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: image.projectId ?? principal.projectId },
      'image.delete',
      'image',
      async (m) => {
        await deleteImage(m, image.id);
        return image;
      },
    );
  }
}

/** A VM image's files must be paths or URLs the hosts reach; an initrd or command line needs a kernel. */
function vmImageErrors(dto: CreateImageDto): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['ref', 'kernelRef', 'initrdRef'] as const) {
    const value = dto[field];
    if (value !== undefined && !isVmFileRef(value)) {
      errors.push({ field, rule: 'matches', message: `${field} must be ${VM_FILE_REF_RULE}` });
    }
  }
  for (const field of ['initrdRef', 'cmdline'] as const) {
    if (dto[field] !== undefined && dto.kernelRef === undefined) {
      errors.push({ field, rule: 'kernelRef', message: `${field} needs kernelRef (direct kernel boot)` });
    }
  }
  if (dto.cmdline !== undefined && !KERNEL_CMDLINE.test(dto.cmdline)) {
    errors.push({
      field: 'cmdline',
      rule: 'matches',
      message: 'cmdline must be printable ASCII on one line, at most 512',
    });
  }
  return errors;
}

/** The registry repository a snapshot image's copy is in: a container's reference, or a VM disk blob's URL. */
function snapshotRepository(image: ImageEntity): string {
  if (image.kind === 'container') return splitRef(image.ref).repo;
  const url = /^https?:\/\/([^/]+)\/v2\/(.+)\/blobs\/[^/]+$/.exec(image.ref);
  if (!url) throw new Error(`image ${image.id} has no registry copy at ${image.ref}`);
  return `${url[1]}/${url[2]}`;
}
