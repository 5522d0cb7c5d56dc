import { VolumeWorkflow } from '@berth/control';
import { volumeRow, volumeRows } from '@berth/data';
import { BerthError } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { targetProject } from '../common/projects';
import { UuidPipe } from '../common/uuid-pipe';
import { CreateVolumeDto, VolumeAcceptedView, VolumeActionDto, VolumeList, volumeView, VolumeView } from './volume.dto';

/**
 * Block volumes: disks that outlive instances, on one host's local storage (Cinder's volumes under Nova's local
 * disks). Each change is an operation its host carries out; the volume's status shows where it is.
 */
@ApiTags('volumes')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/volumes')
export class VolumesController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly volumes: VolumeWorkflow,
  ) {}

  @Post()
  @Policy('volume:create')
  @ApiOperation({ summary: 'Create a volume: placed on a host with room (or the host of `localTo`), made there' })
  @ApiErrors(400, 403, 404, 409, 413)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: VolumeAcceptedView })
  async create(
    @Body() dto: CreateVolumeDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<VolumeAcceptedView> {
    const projectId = await targetProject(this.dataSource, principal, dto.project);
    const { volume, operationId } = await this.volumes.create({
      actor: actorOf(principal, requestId),
      projectId,
      name: dto.name,
      description: dto.description ?? '',
      sizeGb: dto.sizeGb,
      ...(dto.type === undefined ? {} : { type: dto.type }),
      ...(dto.localTo === undefined ? {} : { localTo: dto.localTo.toLowerCase() }),
      ...(dto.zone === undefined ? {} : { zone: dto.zone }),
    });
    return { ...volumeView(volume, principal.role === 'admin'), operationId };
  }

  @Get()
  @Policy('volume:list')
  @ApiOperation({ summary: "List the project's volumes (admin: all)" })
  @ApiOkResponse({ type: VolumeList })
  async list(@CurrentPrincipal() principal: Principal): Promise<VolumeList> {
    const found = await volumeRows(this.dataSource.manager, projectScope(principal));
    return { items: found.map((v) => volumeView(v, principal.role === 'admin')) };
  }

  @Get(':id')
  @Policy('volume:get')
  @ApiOperation({ summary: 'Show a volume' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: VolumeView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<VolumeView> {
    const volume = await volumeRow(this.dataSource.manager, id, projectScope(principal));
    if (!volume) throw BerthError.notFound('volume', id);
    return volumeView(volume, principal.role === 'admin');
  }

  @Post(':id/actions')
  @Policy('volume:action')
  @ApiOperation({ summary: 'extend: grow an available volume and its filesystem (never shrinks)' })
  @ApiErrors(400, 403, 404, 409, 413, 414)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: VolumeAcceptedView })
  async act(
    @Param('id', UuidPipe) id: string,
    @Body() dto: VolumeActionDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<VolumeAcceptedView> {
    const { volume, operationId } = await this.volumes.extend(
      actorOf(principal, requestId),
      id,
      projectScope(principal),
      dto.sizeGb,
    );
    return { ...volumeView(volume, principal.role === 'admin'), operationId };
  }

  /** Its host removes it and its data; then its record and its room on the host go. */
  @Delete(':id')
  @Policy('volume:delete')
  @ApiOperation({ summary: 'Delete a volume attached nowhere, and its data' })
  @ApiErrors(400, 403, 404, 409, 414)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: VolumeAcceptedView })
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<VolumeAcceptedView> {
    const { volume, operationId } = await this.volumes.delete(
      actorOf(principal, requestId),
      id,
      projectScope(principal),
    );
    return { ...volumeView(volume, principal.role === 'admin'), operationId };
  }
}
