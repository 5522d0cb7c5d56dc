import { deleteNetwork, insertNetwork, lockNetworkPorts, networkRow, networkRows, type NetworkRow } from '@berth/data';
import { BerthError, formatIPv4, planNetwork, poolSize } from '@berth/domain';
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
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { recordedChange } from '../common/recorded';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';
import { UuidPipe } from '../common/uuid-pipe';
import { CreateNetworkDto, NetworkList, NetworkView } from './network.dto';

/** Field by field, with the size of its pool worked out from its plan. */
function view(row: NetworkRow): NetworkView {
  const plan = planNetwork(row);
  return {
    id: row.id,
    name: row.name,
    vlan: row.vlan,
    cidr: row.cidr,
    gateway: row.gateway,
    allocationStart: row.allocationStart,
    allocationEnd: row.allocationEnd,
    ipsUsed: row.ipsUsed,
    ipsTotal: plan.ok ? poolSize(plan.value) : 0,
    createdAt: row.createdAt,
  };
}

/** Provider networks: a VLAN and a subnet each. Berth hands out their addresses itself (no DHCP). */
@ApiTags('networks')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/networks')
export class NetworksController {
  constructor(private readonly dataSource: DataSource) {}

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
    const plan = planNetwork(dto);
    if (!plan.ok) throw BerthError.invalid(plan.errors);
    const created = await recordedChange(
      this.dataSource,
      actorOf(principal, requestId),
      'network.create',
      'network',
      (m) =>
        insertNetwork(m, {
          name: dto.name,
          vlan: dto.vlan,
          cidr: plan.value.cidr,
          gateway: dto.gateway,
          allocationStart: formatIPv4(plan.value.poolStart),
          allocationEnd: formatIPv4(plan.value.poolEnd),
        }),
    );
    return view(created);
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

  /** Refused while any port (an instance's address) is on the network. */
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
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'network.delete', 'network', async (m) => {
      const ports = await lockNetworkPorts(m, id);
      if (ports === null) throw BerthError.notFound('network', id);
      if (ports > 0) {
        throw BerthError.conflict(
          `the network still has ${ports} port(s); delete their instances first`,
          'id',
          'inUse',
        );
      }
      await deleteNetwork(m, id);
      return { id };
    });
  }
}
