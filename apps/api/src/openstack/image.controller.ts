import { visibleImage, visibleImages, type ImageEntity } from '@berth/data';
import { BerthError, isUuid } from '@berth/domain';
import { Controller, Get, HttpCode, Param, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { CurrentPrincipal, projectScope, type Principal } from '../auth/principal';
import { ApiEnv } from '../config';
import { intAt, queryValue } from './os-body';
import { novaTime, publicBase } from './os-http';
import { OsIdPipe } from './os-id.pipe';

/**
 * Glance v2's image document. A container image is Glance's `docker` container format (as nova-docker registered
 * them), a VM image a bare qcow2; the image's reference (registry path or file) is the `berth_ref` property.
 */
export const imageDocument = (i: ImageEntity) => ({
  id: i.id,
  name: i.name,
  status: 'active',
  visibility: i.projectId === null ? 'public' : 'private',
  protected: false,
  os_hidden: false,
  owner: i.projectId,
  container_format: i.kind === 'container' ? 'docker' : 'bare',
  disk_format: i.kind === 'container' ? 'raw' : 'qcow2',
  size: null,
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

/** Glance v2 at /image: the images a project may boot, read only here. */
@ApiExcludeController()
@Controller('image')
export class ImageController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
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

  @Get('v2/images/:id')
  @Policy('image:get')
  async show(@Param('id', new OsIdPipe('image')) id: string, @CurrentPrincipal() principal: Principal) {
    const image = isUuid(id) ? await visibleImage(this.dataSource.manager, id, true, projectScope(principal)) : null;
    if (!image) throw BerthError.notFound('image', id);
    return imageDocument(image);
  }
}
