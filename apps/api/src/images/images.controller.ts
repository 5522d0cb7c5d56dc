import { ImageEntity } from '@berth/db';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { actorOf, AdminWrites, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { Catalog } from '../common/catalog';
import { ApiErrors } from '../common/api-errors';
import { UuidPipe } from '../common/uuid-pipe';
import { CreateImageDto, ImageList, ImageView } from './image.dto';

/** Images name what an instance boots: for containers, a reference into a registry the hosts reach. */
@ApiTags('images')
@ApiBearerAuth()
@ApiErrors(401)
@AdminWrites()
@Controller('v1/images')
export class ImagesController {
  private readonly catalog: Catalog<ImageEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.catalog = new Catalog(dataSource, ImageEntity, 'image');
  }

  @Post()
  @ApiOperation({ summary: 'Register an image (admin)' })
  @ApiErrors(400, 403, 409, 413)
  @ApiCreatedResponse({ type: ImageView })
  async create(
    @Body() dto: CreateImageDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<ImageView> {
    return ImageView.of(await this.catalog.create(actorOf(principal, requestId), { ...dto }));
  }

  @Get()
  @ApiOperation({ summary: 'List images' })
  @ApiOkResponse({ type: ImageList })
  async list(): Promise<ImageList> {
    const images = await this.dataSource.getRepository(ImageEntity).find({ order: { name: 'ASC' } });
    return { items: images.map((i) => ImageView.of(i)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show an image' })
  @ApiErrors(400, 404)
  @ApiOkResponse({ type: ImageView })
  async get(@Param('id', UuidPipe) id: string): Promise<ImageView> {
    return ImageView.of(await this.catalog.get(id));
  }

  /** Running instances keep their image reference; deleting an image never stops them. */
  @Delete(':id')
  @ApiOperation({ summary: 'Delete an image (admin); running instances are not affected' })
  @ApiErrors(400, 403, 404)
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await this.catalog.remove(actorOf(principal, requestId), id);
  }
}
