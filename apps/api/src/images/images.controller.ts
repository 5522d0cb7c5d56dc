import { ImageEntity } from '@berth/db';
import { BerthError } from '@berth/domain';
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
import { recordedChange } from '../common/recorded';
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
  constructor(private readonly dataSource: DataSource) {}

  @Post()
  @ApiOperation({ summary: 'Register an image (admin)' })
  @ApiErrors(400, 403, 409, 413)
  @ApiCreatedResponse({ type: ImageView })
  async create(
    @Body() dto: CreateImageDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<ImageView> {
    const image = await recordedChange(this.dataSource, actorOf(principal, requestId), 'image.create', 'image', (m) =>
      m.getRepository(ImageEntity).save(m.getRepository(ImageEntity).create({ ...dto })),
    );
    return ImageView.of(image);
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
    const image = await this.dataSource.getRepository(ImageEntity).findOneBy({ id });
    if (!image) throw BerthError.notFound('image', id);
    return ImageView.of(image);
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
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'image.delete', 'image', async (m) => {
      const image = await m.getRepository(ImageEntity).findOneBy({ id });
      if (!image) throw BerthError.notFound('image', id);
      await m.getRepository(ImageEntity).delete({ id });
      return image;
    });
  }
}
