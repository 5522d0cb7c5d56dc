import { NetworkEntity, type NetworkRow } from '@berth/data';
import { BerthError, formatIPv4, isUuid, parseIPv4 } from '@berth/domain';
import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { underNames, validateBuilt } from '../common/validation';
import { NetworkIdentityDto } from '../networks/network.dto';
import { NetworksService } from '../networks/networks.service';
import { arrayAt, at, objectAt, refuseField, stringAt, intAt } from './os-body';
import { networkDocument, subnetDocument, subnetIdOf } from './network.controller';
import { OsIdPipe } from './os-id.pipe';

/** Berth's network fields as Neutron's bodies name them. */
const NETWORK_FIELDS: Record<string, string> = { name: 'network.name', vlan: 'network.provider:segmentation_id' };
const SUBNET_FIELDS: Record<string, string> = {
  network: 'subnet.network_id',
  cidr: 'subnet.cidr',
  gateway: 'subnet.gateway_ip',
  allocationStart: 'subnet.allocation_pools.0.start',
  allocationEnd: 'subnet.allocation_pools.0.end',
};

/** A Neutron attribute Berth holds to one value: absent or that value, else a 400 saying why. */
function fixedAt(body: unknown, path: string, value: unknown, why: string): void {
  const given = at(body, path);
  if (given !== undefined && given !== value) refuseField(path, 'isIn', `must be ${JSON.stringify(value)}: ${why}`);
}

/** The first host address of a CIDR, Neutron's default gateway; undefined for a CIDR that does not parse. */
function firstHost(cidr: string): string | undefined {
  const network = parseIPv4(cidr.split('/')[0] ?? '');
  return network === null ? undefined : formatIPv4(network + 1);
}

/**
 * Neutron's writes, the cloud admin's: provider networks (a VLAN each, shared by every project) made in Neutron's
 * order, the network first and then its one IPv4 subnet, over the same NetworksService as /v1. Berth gives addresses
 * itself, so a subnet has no DHCP; a network or a subnet goes only while no instance has a port on it.
 */
@ApiExcludeController()
@Controller('network/v2.0')
export class NetworkWritesController {
  constructor(
    private readonly networks: NetworksService,
    private readonly dataSource: DataSource,
  ) {}

  @Post('networks')
  @Policy('network:create')
  @HttpCode(201)
  async createNetwork(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ) {
    objectAt(body, 'network');
    fixedAt(body, 'network.provider:network_type', 'vlan', "Berth's networks are VLANs");
    fixedAt(body, 'network.provider:physical_network', 'physnet1', 'the hosts have one integration bridge');
    fixedAt(body, 'network.shared', true, "Berth's provider networks are shared by every project");
    fixedAt(body, 'network.admin_state_up', true, 'a network is always up');
    fixedAt(body, 'network.router:external', false, 'Berth has no routers');
    const plain = {
      name: stringAt(body, 'network.name', 255),
      vlan: intAt(body, 'network.provider:segmentation_id', 1, 4094),
    };
    if (plain.vlan === undefined) {
      refuseField('network.provider:segmentation_id', 'required', 'is required: the VLAN of the provider network');
    }
    const dto = await validateBuilt(NetworkIdentityDto, plain, NETWORK_FIELDS);
    const made = await underNames(NETWORK_FIELDS, () =>
      this.networks.create({ name: dto.name, vlan: dto.vlan, subnet: null }, principal, requestId),
    );
    return { network: networkDocument(entityOf(made)) };
  }

  @Delete('networks/:id')
  @Policy('network:delete')
  @HttpCode(204)
  async removeNetwork(
    @Param('id', new OsIdPipe('network')) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await this.networks.remove(id, principal, requestId);
  }

  @Post('subnets')
  @Policy('network:create')
  @HttpCode(201)
  async createSubnet(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ) {
    objectAt(body, 'subnet');
    const networkId = stringAt(body, 'subnet.network_id', 64);
    if (!isUuid(networkId)) throw BerthError.notFound('network', networkId, 'subnet.network_id');
    fixedAt(body, 'subnet.ip_version', 4, "Berth's subnets are IPv4");
    fixedAt(body, 'subnet.enable_dhcp', false, 'Berth gives each instance its address itself (no DHCP)');
    const pools = arrayAt(body, 'subnet.allocation_pools');
    if (pools && pools.length > 1) refuseField('subnet.allocation_pools', 'maxSize', 'must hold at most one pool');
    const cidr = stringAt(body, 'subnet.cidr', 18);
    if (at(body, 'subnet.gateway_ip') === null) {
      refuseField('subnet.gateway_ip', 'isString', "must be an address: Berth's subnets have a gateway");
    }
    const subnet = {
      name: stringAt(body, 'subnet.name', 255, true) ?? null,
      cidr,
      gateway: stringAt(body, 'subnet.gateway_ip', 15, true) ?? firstHost(cidr) ?? '',
      allocationStart: pools?.length ? stringAt(body, 'subnet.allocation_pools.0.start', 15) : undefined,
      allocationEnd: pools?.length ? stringAt(body, 'subnet.allocation_pools.0.end', 15) : undefined,
    };
    const made = await underNames(SUBNET_FIELDS, () =>
      this.networks.addSubnet(networkId.toLowerCase(), subnet, principal, requestId),
    );
    return { subnet: subnetDocument(entityOf(made)) };
  }

  @Delete('subnets/:id')
  @Policy('network:delete')
  @HttpCode(204)
  async removeSubnet(
    @Param('id', new OsIdPipe('subnet')) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const networks = await this.dataSource.getRepository(NetworkEntity).find({ select: { id: true } });
    const network = networks.find((n) => subnetIdOf(n.id) === id);
    if (!network) throw BerthError.notFound('subnet', id);
    await this.networks.removeSubnet(network.id, principal, requestId);
  }
}

/** A network row as the documents read it. */
function entityOf(row: NetworkRow): NetworkEntity {
  return Object.assign(new NetworkEntity(), row);
}
