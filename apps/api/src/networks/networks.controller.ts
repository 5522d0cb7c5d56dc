import { rows } from '@berth/data';
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

const NETWORK_VIEW_SQL = `
  SELECT n.id, n.name, n.vlan, n.cidr::text AS cidr, host(n.gateway) AS gateway,
         host(n.allocation_start) AS "allocationStart", host(n.allocation_end) AS "allocationEnd",
         (SELECT count(*)::int FROM ports p WHERE p.network_id = n.id) AS "ipsUsed", n.created_at AS "createdAt"
    FROM networks n`;

type NetworkRow = Omit<NetworkView, 'ipsTotal'>;

function view(row: NetworkRow): NetworkView {
  const plan = planNetwork(row);
  return { ...row, ipsTotal: plan.ok ? poolSize(plan.value) : 0 };
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
      async (m) => {
        const [row] = await rows<NetworkRow>(
          m,
          `WITH n AS (
             INSERT INTO networks (name, vlan, cidr, gateway, allocation_start, allocation_end)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)
           ${NETWORK_VIEW_SQL.replace('FROM networks n', 'FROM n')}`,
          [
            dto.name,
            dto.vlan,
            plan.value.cidr,
            dto.gateway,
            formatIPv4(plan.value.poolStart),
            formatIPv4(plan.value.poolEnd),
          ],
        );
        if (!row) throw new Error('insert into networks returned no row');
        return row;
      },
    );
    return view(created);
  }

  @Get()
  @Policy('network:list')
  @ApiOperation({ summary: 'List networks with their address use' })
  @ApiOkResponse({ type: NetworkList })
  async list(): Promise<NetworkList> {
    const found = await rows<NetworkRow>(this.dataSource.manager, `${NETWORK_VIEW_SQL} ORDER BY n.name`);
    return { items: found.map(view) };
  }

  @Get(':id')
  @Policy('network:get')
  @ApiOperation({ summary: 'Show a network' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: NetworkView })
  async get(@Param('id', UuidPipe) id: string): Promise<NetworkView> {
    const [found] = await rows<NetworkRow>(this.dataSource.manager, `${NETWORK_VIEW_SQL} WHERE n.id = $1`, [id]);
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
      const [network] = await rows<{ id: string; ports: number }>(
        m,
        `SELECT id, (SELECT count(*)::int FROM ports WHERE network_id = $1) AS ports FROM networks WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!network) throw BerthError.notFound('network', id);
      if (network.ports > 0) {
        throw BerthError.conflict(
          `the network still has ${network.ports} port(s); delete their instances first`,
          'id',
          'inUse',
        );
      }
      await m.query('DELETE FROM networks WHERE id = $1', [id]);
      return network;
    });
  }
}
