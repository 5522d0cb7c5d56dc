import { deleteVolumeType, insertVolumeType, volumeTypeRow, volumeTypeRows, volumesOfType } from '@berth/data';
import { BerthError } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { recordedChange } from '../common/recorded';
import { UuidPipe } from '../common/uuid-pipe';
import { CreateVolumeTypeDto, VolumeTypeList, volumeTypeView, VolumeTypeView } from './volume.dto';

/** Volume types: the admin's classes of volume (where they are held, the I/O limits they get), as Cinder's. */
@ApiTags('volumes')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/volume-types')
export class VolumeTypesController {
  constructor(private readonly dataSource: DataSource) {}

  @Post()
  @Policy('volume-type:create')
  @ApiOperation({ summary: 'Create a volume type (admin)' })
  @ApiErrors(400, 403, 409, 413)
  @ApiCreatedResponse({ type: VolumeTypeView })
  async create(
    @Body() dto: CreateVolumeTypeDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<VolumeTypeView> {
    const made = await recordedChange(
      this.dataSource,
      actorOf(principal, requestId),
      'volume-type.create',
      'volume-type',
      async (m) => ({
        id: await insertVolumeType(m, {
          name: dto.name,
          description: dto.description ?? '',
          backend: dto.backend ?? 'file',
          isDefault: dto.isDefault ?? false,
          readIops: dto.readIops ?? null,
          writeIops: dto.writeIops ?? null,
          readBps: dto.readBps ?? null,
          writeBps: dto.writeBps ?? null,
        }),
      }),
    );
    return this.get(made.id);
  }

  @Get()
  @Policy('volume-type:list')
  @ApiOperation({ summary: 'List the volume types' })
  @ApiOkResponse({ type: VolumeTypeList })
  async list(): Promise<VolumeTypeList> {
    return { items: (await volumeTypeRows(this.dataSource.manager)).map(volumeTypeView) };
  }

  @Get(':id')
  @Policy('volume-type:get')
  @ApiOperation({ summary: 'Show a volume type' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: VolumeTypeView })
  async get(@Param('id', UuidPipe) id: string): Promise<VolumeTypeView> {
    const found = await volumeTypeRow(this.dataSource.manager, id);
    if (!found) throw BerthError.notFound('volume type', id);
    return volumeTypeView(found);
  }

  @Delete(':id')
  @Policy('volume-type:delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a volume type no volume is of (admin)' })
  @ApiErrors(400, 403, 404, 409, 414)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const type = await this.get(id);
    await recordedChange(
      this.dataSource,
      actorOf(principal, requestId),
      'volume-type.delete',
      'volume-type',
      async (m) => {
        const inUse = await volumesOfType(m, id);
        if (inUse > 0) throw BerthError.conflict(`${inUse} volumes are of type ${type.name}`, 'id', 'inUse');
        await deleteVolumeType(m, id);
        return type;
      },
    );
  }
}
