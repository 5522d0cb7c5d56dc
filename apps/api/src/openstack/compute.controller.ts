import { FlavorEntity, projectQuota, securityGroupUsage, ServerGroupEntity } from '@berth/data';
import { BerthError } from '@berth/domain';
import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { CurrentPrincipal, projectScope, type Principal } from '../auth/principal';
import { ApiEnv } from '../config';
import { queryValue } from './os-body';
import { COMPUTE_VERSION, publicBase } from './os-http';
import { OsIdPipe } from './os-id.pipe';

/** Nova's one version here: v2.1 at microversion 2.1 only. */
const computeVersion = (base: string) => ({
  id: 'v2.1',
  status: 'CURRENT',
  version: COMPUTE_VERSION,
  min_version: COMPUTE_VERSION,
  updated: '2013-07-23T11:33:21Z',
  links: [{ rel: 'self', href: `${base}/compute/v2.1/` }],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
});

const flavorLinks = (base: string, id: string) => [
  { rel: 'self', href: `${base}/compute/v2.1/flavors/${id}` },
  { rel: 'bookmark', href: `${base}/compute/flavors/${id}` },
];

/** Nova 2.1's flavor document. */
export const flavorDocument = (f: FlavorEntity, base: string) => ({
  id: f.id,
  name: f.name,
  ram: f.ramMb,
  vcpus: f.vcpus,
  disk: f.diskGb,
  swap: '',
  'OS-FLV-EXT-DATA:ephemeral': 0,
  'OS-FLV-DISABLED:disabled': false,
  'os-flavor-access:is_public': true,
  rxtx_factor: 1.0,
  links: flavorLinks(base, f.id),
});

/** Nova's unlimited. */
const limit = (n: number) => (n < 0 ? -1 : n);

/**
 * Nova v2.1 at /compute: its version documents, flavors, limits and quota sets, over Berth's catalog and quotas.
 * Servers are ServersController's.
 */
@ApiExcludeController()
@Controller('compute')
export class ComputeController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {}

  private base(request: FastifyRequest): string {
    return publicBase(request, this.env.BERTH_PUBLIC_URL);
  }

  @Get()
  @Policy('openstack:versions')
  versions(@Req() request: FastifyRequest) {
    return { versions: [computeVersion(this.base(request))] };
  }

  @Get('v2.1')
  @Policy('openstack:versions')
  version(@Req() request: FastifyRequest) {
    return { version: computeVersion(this.base(request)) };
  }

  @Get('v2.1/flavors')
  @Policy('flavor:list')
  async flavors(@Req() request: FastifyRequest, @Query('is_public') isPublic?: string | string[]) {
    const base = this.base(request);
    const shown = await this.listFlavors(isPublic);
    return { flavors: shown.map((f) => ({ id: f.id, name: f.name, links: flavorLinks(base, f.id) })) };
  }

  @Get('v2.1/flavors/detail')
  @Policy('flavor:list')
  async flavorDetails(@Req() request: FastifyRequest, @Query('is_public') isPublic?: string | string[]) {
    const base = this.base(request);
    return { flavors: (await this.listFlavors(isPublic)).map((f) => flavorDocument(f, base)) };
  }

  @Get('v2.1/flavors/:id')
  @Policy('flavor:get')
  async flavor(@Param('id', new OsIdPipe('flavor')) id: string, @Req() request: FastifyRequest) {
    return { flavor: flavorDocument(await this.findFlavor(id), this.base(request)) };
  }

  @Get('v2.1/flavors/:id/os-extra_specs')
  @Policy('flavor:get')
  async extraSpecs(@Param('id', new OsIdPipe('flavor')) id: string) {
    return { extra_specs: { ...(await this.findFlavor(id)).extraSpecs } };
  }

  /** The caller's project's absolute limits and use; no rate limits are listed (Berth's are per token). */
  @Get('v2.1/limits')
  @Policy('quota:get')
  async limits(@CurrentPrincipal() principal: Principal, @Query('tenant_id') tenantId?: string | string[]) {
    const projectId = this.projectOf(principal, queryValue({ tenant_id: tenantId }, 'tenant_id'));
    const m = this.dataSource.manager;
    const quota = await projectQuota(m, projectId, this.env.quotaDefaults);
    if (!quota) throw BerthError.notFound('project', projectId);
    const groups = await securityGroupUsage(m, projectId);
    const serverGroups = await m.getRepository(ServerGroupEntity).countBy({ projectId });
    return {
      limits: {
        rate: [],
        absolute: {
          maxServerMeta: 128,
          maxPersonality: 5,
          maxPersonalitySize: 10240,
          maxImageMeta: 128,
          maxTotalKeypairs: 100,
          maxServerGroups: 10,
          maxServerGroupMembers: 10,
          maxSecurityGroups: limit(groups.groupLimit ?? this.env.BERTH_QUOTA_SECURITY_GROUPS),
          maxSecurityGroupRules: limit(groups.ruleLimit ?? this.env.BERTH_QUOTA_SECURITY_GROUP_RULES),
          maxTotalInstances: limit(quota.limits.instances),
          maxTotalCores: limit(quota.limits.vcpus),
          maxTotalRAMSize: limit(quota.limits.ramMb),
          maxTotalFloatingIps: 0,
          totalInstancesUsed: quota.usage.instances,
          totalCoresUsed: quota.usage.vcpus,
          totalRAMUsed: quota.usage.ramMb,
          totalSecurityGroupsUsed: groups.groups,
          totalFloatingIpsUsed: 0,
          totalServerGroupsUsed: serverGroups,
        },
      },
    };
  }

  @Get('v2.1/os-quota-sets/:project')
  @Policy('quota:get')
  async quotaSet(@Param('project') project: string, @CurrentPrincipal() principal: Principal) {
    const projectId = this.projectOf(principal, project);
    const m = this.dataSource.manager;
    const quota = await projectQuota(m, projectId, this.env.quotaDefaults);
    if (!quota) throw BerthError.notFound('project', project);
    const groups = await securityGroupUsage(m, projectId);
    return {
      quota_set: {
        id: projectId,
        instances: limit(quota.limits.instances),
        cores: limit(quota.limits.vcpus),
        ram: limit(quota.limits.ramMb),
        key_pairs: 100,
        metadata_items: 128,
        injected_files: 5,
        injected_file_content_bytes: 10240,
        injected_file_path_bytes: 255,
        server_groups: 10,
        server_group_members: 10,
        security_groups: limit(groups.groupLimit ?? this.env.BERTH_QUOTA_SECURITY_GROUPS),
        security_group_rules: limit(groups.ruleLimit ?? this.env.BERTH_QUOTA_SECURITY_GROUP_RULES),
        fixed_ips: limit(quota.limits.ips),
        floating_ips: 0,
      },
    };
  }

  /** A tenant's own project; the cloud admin may name any (404 for another project's, as everywhere). */
  private projectOf(principal: Principal, asked: string | undefined): string {
    const scope = projectScope(principal);
    if (asked === undefined || asked === '') return principal.projectId;
    if (scope !== null && asked !== scope) throw BerthError.notFound('project', asked);
    return new OsIdPipe('project').transform(asked);
  }

  private async listFlavors(isPublic: string | string[] | undefined): Promise<FlavorEntity[]> {
    // Every Berth flavor is public: a filter for private ones finds none.
    const asked = queryValue({ is_public: isPublic }, 'is_public');
    if (asked !== undefined && /^(false|0|no)$/i.test(asked)) return [];
    return this.dataSource.getRepository(FlavorEntity).find({ order: { name: 'ASC' } });
  }

  private async findFlavor(id: string): Promise<FlavorEntity> {
    const flavor = await this.dataSource.getRepository(FlavorEntity).findOneBy({ id });
    if (!flavor) throw BerthError.notFound('flavor', id);
    return flavor;
  }
}
