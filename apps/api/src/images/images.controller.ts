import { requestImagePulls } from '@berth/control';
import { hostsReadyFor, visibleImages } from '@berth/data';
import { BerthError, HOST_NAME } from '@berth/domain';
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
import { findVisibleImage, requireActiveImage } from '../common/projects';
import { UuidPipe } from '../common/uuid-pipe';
import { ApiEnv } from '../config';
import { OperationAccepted } from '../instances/instance.views';
import { CreateImageDto, ImageList, ImageView } from './image.dto';
import { ImagesService } from './images.service';
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
    private readonly images: ImagesService,
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
    return ImageView.of(await this.images.register(dto, principal, requestId));
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
    const image = requireActiveImage(await findVisibleImage(this.dataSource, principal, id, 'id'), 'id');
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
    await this.images.remove(id, principal, requestId);
  }
}
