import { requestImagePulls } from '@berth/control';
import { deleteImage, hostsReadyFor, insertImage, visibleImages } from '@berth/data';
import {
  BerthError,
  DOCKER_REFERENCE,
  DOCKER_REFERENCE_RULE,
  registryOf,
  HOST_NAME,
  isVmFileRef,
  KERNEL_CMDLINE,
  VM_FILE_REF_RULE,
  type FieldError,
} from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiPropertyOptional,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { findVisibleImage, targetProject } from '../common/projects';
import { recordedChange } from '../common/recorded';
import { UuidPipe } from '../common/uuid-pipe';
import { ApiEnv } from '../config';
import { OperationAccepted } from '../instances/instance.views';
import { CreateImageDto, ImageList, ImageView } from './image.dto';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Length, Matches } from 'class-validator';

export class PrewarmDto {
  @ApiPropertyOptional({
    type: [String],
    description: 'Host names; default: every host that is up (in `zone`, if given)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10_000)
  @IsString({ each: true })
  @Matches(HOST_NAME, { each: true, message: 'each of hosts must be a host name' })
  hosts?: string[];

  @ApiPropertyOptional({ example: 'zone-a' })
  @IsOptional()
  @IsString()
  @Length(1, 63)
  zone?: string;
}

/**
 * Images name what an instance boots: for containers, a reference into a registry the hosts reach.
 * Public images are the cloud admin's; members register images private to their project.
 */
@ApiTags('images')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/images')
export class ImagesController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {}

  @Post()
  @Policy('image:create')
  @ApiOperation({ summary: 'Register an image: public (admin) or private to a project' })
  @ApiErrors(400, 403, 404, 409, 413)
  @ApiCreatedResponse({ type: ImageView })
  async create(
    @Body() dto: CreateImageDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<ImageView> {
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
    return ImageView.of(image);
  }

  @Get()
  @Policy('image:list')
  @ApiOperation({ summary: 'List the images the caller may use' })
  @ApiOkResponse({ type: ImageList })
  async list(@CurrentPrincipal() principal: Principal): Promise<ImageList> {
    const images = await visibleImages(this.dataSource.manager, projectScope(principal));
    return { items: images.map((i) => ImageView.of(i)) };
  }

  @Get(':id')
  @Policy('image:get')
  @ApiOperation({ summary: 'Show an image' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: ImageView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<ImageView> {
    return ImageView.of(await findVisibleImage(this.dataSource, principal, id, 'id'));
  }

  /** Pulls ahead of a peak; the cache weigher then prefers those hosts. */
  @Post(':id/prewarm')
  @Policy('image:prewarm')
  @HttpCode(202)
  @ApiOperation({ summary: 'Pull an image onto hosts (named, or of a zone, or all) ahead of need (admin)' })
  @ApiErrors(400, 403, 404, 409, 413, 414)
  @ApiAcceptedResponse({ type: OperationAccepted })
  async prewarm(
    @Param('id', UuidPipe) id: string,
    @Body() dto: PrewarmDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<OperationAccepted> {
    const image = await findVisibleImage(this.dataSource, principal, id, 'id');
    const candidates = await hostsReadyFor(this.dataSource.manager, image.kind, this.env.BERTH_HOST_DOWN_AFTER_SEC);
    let hosts: string[];
    if (dto.hosts) {
      for (const name of dto.hosts)
        if (!candidates.some((c) => c.name === name)) throw BerthError.notFound('host', name, 'hosts');
      hosts = [...new Set(dto.hosts)];
    } else {
      hosts = candidates.filter((c) => c.ready && (dto.zone === undefined || c.zone === dto.zone)).map((c) => c.name);
    }
    if (hosts.length === 0)
      throw BerthError.conflict(
        'no host that is up and runs this kind of image matches',
        dto.zone ? 'zone' : 'hosts',
        'empty',
      );
    return { operationId: await requestImagePulls(this.dataSource, actorOf(principal, requestId), image, hosts) };
  }

  /** Running instances keep their image reference; deleting an image never stops them. */
  @Delete(':id')
  @Policy('image:delete')
  @ApiOperation({ summary: "Delete an image: the admin any, a member its project's private ones" })
  @ApiErrors(400, 403, 404, 414)
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const image = await findVisibleImage(this.dataSource, principal, id, 'id');
    if (image.projectId === null && principal.role !== 'admin')
      throw BerthError.forbidden('only a cloud admin may delete a public image');
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
