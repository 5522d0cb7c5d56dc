import { networkRow, networkRows, planOf, type NetworkRow } from '@berth/data';
import { BerthError, planNetwork, poolSize } from '@berth/domain';
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
import { CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';
import { UuidPipe } from '../common/uuid-pipe';
import { CreateNetworkDto, NetworkList, NetworkView } from './network.dto';
import { NetworksService } from './networks.service';

/** Field by field, with the size of its pool worked out from its plan (none before its subnet). */
export function view(row: NetworkRow): NetworkView {
  const subnet = planOf(row);
  const plan = subnet ? planNetwork(subnet) : null;
  return {
    id: row.id,
    name: row.name,
    vlan: row.vlan,
    cidr: row.cidr,
    gateway: row.gateway,
    allocationStart: row.allocationStart,
    allocationEnd: row.allocationEnd,
    ipsUsed: row.ipsUsed,
    ipsTotal: plan?.ok ? poolSize(plan.value) : 0,
    createdAt: row.createdAt,
  };
}

/** Provider networks: a VLAN and a subnet each. Berth hands out their addresses itself (no DHCP). */
@ApiTags('networks')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/networks')
export class NetworksController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly networks: NetworksService,
  ) {}

  @Post()
  @Policy('network:create')
  @ApiOperation({ summary: 'Create a provider network: a VLAN and an IPv4 subnet (admin)' })
  @ApiErrors(400, 403, 409, 413)
  @ApiCreatedResponse({ type: NetworkView })
  async create(
    @Body() dto: CreateNetworkDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<NetworkView> {
    const { name, vlan, ...subnet } = dto;
    return view(await this.networks.create({ name, vlan, subnet }, principal, requestId));
  }

  @Get()
  @Policy('network:list')
  @ApiOperation({ summary: 'List networks with their address use' })
  @ApiOkResponse({ type: NetworkList })
  async list(): Promise<NetworkList> {
    return { items: (await networkRows(this.dataSource.manager)).map(view) };
  }

  @Get(':id')
  @Policy('network:get')
  @ApiOperation({ summary: 'Show a network' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: NetworkView })
  async get(@Param('id', UuidPipe) id: string): Promise<NetworkView> {
    const found = await networkRow(this.dataSource.manager, id);
    if (!found) throw BerthError.notFound('network', id);
    return view(found);
  }

  @Delete(':id')
  @Policy('network:delete')
  @ApiOperation({ summary: 'Delete a network that has no ports (admin)' })
  @ApiErrors(400, 403, 404, 409, 414)
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await this.networks.remove(id, principal, requestId);
  }
}
