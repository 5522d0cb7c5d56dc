import { visibleImage, visibleImages, type ImageEntity } from '@berth/data';
import { BerthError, isUuid } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { underNames, validateBuilt } from '../common/validation';
import { CreateImageDto } from '../images/image.dto';
import { ImagesService } from '../images/images.service';
import { ApiEnv } from '../config';
import { intAt, queryValue, refuseField, stringAt } from './os-body';
import { novaTime, publicBase } from './os-http';
import { OsIdPipe } from './os-id.pipe';

/**
 * Glance v2's image document. A container image is Glance's `docker` container format (as nova-docker registered
 * them), a VM image a bare qcow2; the image's reference (registry path or file) is the `berth_ref` property.
 */
export const imageDocument = (i: ImageEntity) => ({
  id: i.id,
  name: i.name,
  // Glance's own words: an image being made from a server is `saving`, then `active`.
  status: i.status,
  visibility: i.projectId === null ? 'public' : 'private',
  protected: false,
  os_hidden: false,
  owner: i.projectId,
  container_format: i.kind === 'container' ? 'docker' : 'bare',
  disk_format: i.kind === 'container' ? 'raw' : 'qcow2',
  size: i.sizeBytes,
  virtual_size: null,
  checksum: null,
  os_hash_algo: null,
  os_hash_value: null,
  min_disk: 0,
  min_ram: 0,
  tags: [],
  berth_ref: i.ref,
  created_at: novaTime(i.createdAt),
  updated_at: novaTime(i.createdAt),
  self: `/v2/images/${i.id}`,
  file: `/v2/images/${i.id}/file`,
  schema: '/v2/schemas/image',
});

type ImageQuery = Record<string, string | string[] | undefined>;

/** Berth's image fields as a Glance body names them. */
const GLANCE_FIELDS: Record<string, string> = {
  kind: 'container_format',
  ref: 'berth_ref',
  kernelRef: 'berth_kernel_ref',
  initrdRef: 'berth_initrd_ref',
  cmdline: 'berth_cmdline',
};

/** The kind of image Glance's formats describe: docker (with disk_format raw) a container, bare qcow2 a VM. */
function kindOf(body: unknown): 'container' | 'vm' {
  const container = stringAt(body, 'container_format', 32, true);
  const disk = stringAt(body, 'disk_format', 32, true);
  if (container === 'docker') {
    if (disk !== undefined && disk !== 'raw') refuseField('disk_format', 'isIn', 'must be raw for a docker image');
    return 'container';
  }
  if (container === 'bare') {
    if (disk !== undefined && disk !== 'qcow2') refuseField('disk_format', 'isIn', 'must be qcow2 for a VM image');
    return 'vm';
  }
  return refuseField(
    'container_format',
    container === undefined ? 'required' : 'isIn',
    'must be docker (a container image) or bare (a VM image, qcow2)',
  );
}

/** Glance v2 at /image: the images a project may boot; registered and deleted by reference, as through /v1. */
@ApiExcludeController()
@Controller('image')
export class ImageController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
    private readonly images: ImagesService,
  ) {}

  @Get()
  @Policy('openstack:versions')
  @HttpCode(300)
  versions(@Req() request: FastifyRequest) {
    const base = publicBase(request, this.env.BERTH_PUBLIC_URL);
    return { versions: [{ id: 'v2.9', status: 'CURRENT', links: [{ rel: 'self', href: `${base}/image/v2/` }] }] };
  }

  @Get('v2/images')
  @Policy('image:list')
  async list(@Query() query: ImageQuery, @CurrentPrincipal() principal: Principal) {
    const limit = intAt({ limit: queryValue(query, 'limit') }, 'limit', 1, 1000) ?? 1000;
    const name = queryValue(query, 'name');
    const marker = queryValue(query, 'marker');
    const all = (await visibleImages(this.dataSource.manager, projectScope(principal))).filter(
      (i) => name === undefined || i.name === name,
    );
    const start = marker === undefined ? 0 : all.findIndex((i) => i.id === marker) + 1;
    if (marker !== undefined && start === 0) throw BerthError.notFound('marker', marker);
    const shown = all.slice(start, start + limit);
    const last = shown[shown.length - 1];
    const more = start + limit < all.length && last !== undefined;
    return {
      images: shown.map(imageDocument),
      first: '/v2/images',
      schema: '/v2/schemas/images',
      ...(more ? { next: `/v2/images?marker=${last.id}&limit=${limit}` } : {}),
    };
  }

  /**
   * Registers an image by reference, as /v1 does (Glance's create without an upload): `container_format` docker is a
   * container image, bare a VM image (disk_format qcow2); the property `berth_ref` names it (a registry reference or
   * the hosts' path or URL), and a VM's `berth_kernel_ref`, `berth_initrd_ref` and `berth_cmdline` its direct kernel
   * boot. Visibility as Glance: private unless `public` is asked (the cloud admin's). Other properties are not kept.
   */
  @Post('v2/images')
  @Policy('image:create')
  @HttpCode(201)
  async create(@Body() body: unknown, @CurrentPrincipal() principal: Principal, @CurrentRequestId() requestId: string) {
    const plain = {
      name: stringAt(body, 'name', 255),
      kind: kindOf(body),
      ref: stringAt(body, 'berth_ref', 1024),
      kernelRef: stringAt(body, 'berth_kernel_ref', 1024, true),
      initrdRef: stringAt(body, 'berth_initrd_ref', 1024, true),
      cmdline: stringAt(body, 'berth_cmdline', 512, true),
      visibility: stringAt(body, 'visibility', 32, true) ?? 'private',
    };
    const defined = Object.fromEntries(Object.entries(plain).filter(([, v]) => v !== undefined));
    const dto = await validateBuilt(CreateImageDto, defined, GLANCE_FIELDS);
    return imageDocument(await underNames(GLANCE_FIELDS, () => this.images.register(dto, principal, requestId)));
  }

  /** As /v1: the cloud admin deletes any image, a member its project's private ones; running instances keep theirs. */
  @Delete('v2/images/:id')
  @Policy('image:delete')
  @HttpCode(204)
  async remove(
    @Param('id', new OsIdPipe('image')) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    if (!isUuid(id)) throw BerthError.notFound('image', id);
    await this.images.remove(id.toLowerCase(), principal, requestId);
  }

  /**
   * Glance's upload. Berth's images are references, active from the start: the empty upload the client sends when its
   * stdin is not a terminal changes nothing (204); bytes are refused (409, as Glance refuses an upload to an active
   * image), and the client then deletes the image it made.
   */
  @Put('v2/images/:id/file')
  @Policy('image:create')
  @HttpCode(204)
  async upload(
    @Param('id', new OsIdPipe('image')) id: string,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    const image = isUuid(id) ? await visibleImage(this.dataSource.manager, id, true, projectScope(principal)) : null;
    if (!image) throw BerthError.notFound('image', id);
    const data = request.body;
    if (data === undefined || (Buffer.isBuffer(data) && data.length === 0)) return;
    if (!Buffer.isBuffer(data))
      refuseField('body', 'contentType', 'must be the image data, as application/octet-stream');
    throw BerthError.conflict(
      'Berth registers images by reference (the berth_ref property): an upload is not kept',
      'file',
      'state',
    );
  }

  @Get('v2/images/:id')
  @Policy('image:get')
  async show(@Param('id', new OsIdPipe('image')) id: string, @CurrentPrincipal() principal: Principal) {
    const image = isUuid(id) ? await visibleImage(this.dataSource.manager, id, true, projectScope(principal)) : null;
    if (!image) throw BerthError.notFound('image', id);
    return imageDocument(image);
  }
}
