import { NetworkEntity, projectQuota, securityGroupUsage, type InstanceRecord } from '@berth/data';
import { BerthError } from '@berth/domain';
import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { CurrentPrincipal, projectScope, type Principal } from '../auth/principal';
import { ApiEnv } from '../config';
import { InstancesService } from '../instances/instances.service';
import { novaTime, publicBase } from './os-http';
import { OsIdPipe } from './os-id.pipe';

/** A Berth network is one Neutron network with one subnet; the subnet's id is derived from the network's. */
export function subnetIdOf(networkId: string): string {
  const h = createHash('sha256').update(`subnet:${networkId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const networkDocument = (n: NetworkEntity) => ({
  id: n.id,
  name: n.name,
  status: 'ACTIVE',
  admin_state_up: true,
  shared: true,
  external: false,
  subnets: n.cidr === null ? [] : [subnetIdOf(n.id)],
  tenant_id: '',
  project_id: '',
  mtu: 1500,
  port_security_enabled: true,
  'router:external': false,
  'provider:network_type': 'vlan',
  'provider:physical_network': 'physnet1',
  'provider:segmentation_id': n.vlan,
  availability_zones: [],
  tags: [],
  description: '',
  created_at: novaTime(n.createdAt),
  updated_at: novaTime(n.createdAt),
});

export const subnetDocument = (n: NetworkEntity) => ({
  id: subnetIdOf(n.id),
  name: n.subnetName ?? n.name,
  network_id: n.id,
  tenant_id: '',
  project_id: '',
  cidr: n.cidr,
  gateway_ip: n.gateway,
  ip_version: 4,
  enable_dhcp: false,
  allocation_pools: [{ start: n.allocationStart, end: n.allocationEnd }],
  dns_nameservers: [],
  host_routes: [],
  description: '',
  tags: [],
  created_at: novaTime(n.createdAt),
  updated_at: novaTime(n.createdAt),
});

const portDocument = (r: InstanceRecord) => ({
  id: r.portId,
  name: '',
  network_id: r.networkId,
  tenant_id: r.projectId,
  project_id: r.projectId,
  mac_address: r.mac?.toLowerCase(),
  fixed_ips: [{ subnet_id: subnetIdOf(r.networkId ?? ''), ip_address: r.ip }],
  device_id: r.id,
  device_owner: 'compute:nova',
  status: r.status === 'ACTIVE' ? 'ACTIVE' : 'DOWN',
  admin_state_up: true,
  port_security_enabled: r.portSecurity ?? true,
  security_groups: r.securityGroups.map((g) => g.id),
  allowed_address_pairs: (r.allowedAddressPairs ?? []).map((p) => ({ ip_address: p.ip, mac_address: p.mac })),
  description: '',
  tags: [],
});

type Filters = Record<string, string | string[] | undefined>;

/** A network given its subnet (Neutron's order makes the network first). */
const withSubnet = (n: NetworkEntity) => n.cidr !== null;

/** Keeps the documents whose fields equal every filter given (?name=, ?network_id=, ...); other keys are ignored. */
function filtered<T extends Record<string, unknown>>(docs: T[], query: Filters): T[] {
  const wanted = Object.entries(query).filter(([k]) => k !== 'fields');
  return docs.filter((d) => wanted.every(([k, v]) => !(k in d) || [v].flat().includes(String(d[k]))));
}

/** Neutron v2.0 at /network: networks, their subnets and the instances' ports, read (network-writes: the admin's). */
@ApiExcludeController()
@Controller('network')
export class NetworkController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly instances: InstancesService,
    private readonly env: ApiEnv,
  ) {}

  @Get()
  @Policy('openstack:versions')
  versions(@Req() request: FastifyRequest) {
    const base = publicBase(request, this.env.BERTH_PUBLIC_URL);
    return { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${base}/network/v2.0/` }] }] };
  }

  @Get('v2.0/networks')
  @Policy('network:list')
  async networks(@Query() query: Filters) {
    return { networks: filtered((await this.all()).map(networkDocument), query) };
  }

  @Get('v2.0/networks/:id')
  @Policy('network:get')
  async network(@Param('id', new OsIdPipe('network')) id: string) {
    return { network: networkDocument(await this.one(id)) };
  }

  @Get('v2.0/subnets')
  @Policy('network:list')
  async subnets(@Query() query: Filters) {
    return { subnets: filtered((await this.all()).filter(withSubnet).map(subnetDocument), query) };
  }

  @Get('v2.0/subnets/:id')
  @Policy('network:get')
  async subnet(@Param('id', new OsIdPipe('subnet')) id: string) {
    const found = (await this.all()).find((n) => withSubnet(n) && subnetIdOf(n.id) === id);
    if (!found) throw BerthError.notFound('subnet', id);
    return { subnet: subnetDocument(found) };
  }

  @Get('v2.0/ports')
  @Policy('instance:list')
  async ports(@Query() query: Filters, @CurrentPrincipal() principal: Principal) {
    return { ports: filtered((await this.portsOf(principal)).map(portDocument), query) };
  }

  @Get('v2.0/ports/:id')
  @Policy('instance:get')
  async port(@Param('id', new OsIdPipe('port')) id: string, @CurrentPrincipal() principal: Principal) {
    const found = (await this.portsOf(principal)).find((r) => r.portId === id);
    if (!found) throw BerthError.notFound('port', id);
    return { port: portDocument(found) };
  }

  /** What a project may hold: networks and routers are the cloud admin's, so a project makes none itself. */
  @Get('v2.0/quotas/:project')
  @Policy('quota:get')
  async quota(@Param('project', new OsIdPipe('project')) project: string, @CurrentPrincipal() principal: Principal) {
    const scope = projectScope(principal);
    if (scope !== null && scope !== project) throw BerthError.notFound('project', project);
    const m = this.dataSource.manager;
    const quota = await projectQuota(m, project, this.env.quotaDefaults);
    if (!quota) throw BerthError.notFound('project', project);
    const groups = await securityGroupUsage(m, project);
    const limit = (n: number) => (n < 0 ? -1 : n);
    return {
      quota: {
        network: 0,
        subnet: 0,
        subnetpool: 0,
        port: limit(quota.limits.ips),
        router: 0,
        floatingip: 0,
        rbac_policy: 0,
        security_group: limit(groups.groupLimit ?? this.env.BERTH_QUOTA_SECURITY_GROUPS),
        security_group_rule: limit(groups.ruleLimit ?? this.env.BERTH_QUOTA_SECURITY_GROUP_RULES),
      },
    };
  }

  private all(): Promise<NetworkEntity[]> {
    return this.dataSource.getRepository(NetworkEntity).find({ order: { name: 'ASC' } });
  }

  private async one(id: string): Promise<NetworkEntity> {
    const found = await this.dataSource.getRepository(NetworkEntity).findOneBy({ id });
    if (!found) throw BerthError.notFound('network', id);
    return found;
  }

  /** The instances with a port that the caller sees. */
  private async portsOf(principal: Principal): Promise<InstanceRecord[]> {
    const found: InstanceRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const batch = await this.instances.list(projectScope(principal), 500, after);
      found.push(...batch.filter((r) => r.portId !== null));
      if (batch.length < 500) return found;
      after = batch[batch.length - 1]!.id;
    }
  }
}
