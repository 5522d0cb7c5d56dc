import { INSTANCE_KINDS, type InstanceKind } from '@berth/contracts';
import { policyOptionsOf } from '@berth/control';
import { FlavorEntity, loadGroupState, loadHostStates, reservationSlots } from '@berth/data';
import {
  CAPACITY_FILTERS,
  countReasons,
  explainNoValidHost,
  instancesThatFit,
  LIST_HOSTS_UP_TO,
  schedulerPolicy,
  selectHosts,
  withClaim,
  withReservationSlots,
  type HostCandidate,
  type PlacementRequest,
  type Selection,
  resourcesOf,
} from '@berth/domain';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { findByRef } from '../common/references';
import { ApiEnv } from '../config';
import { CreateInstanceDto } from '../instances/instance.dto';
import { InstancesService } from '../instances/instances.service';

class RejectionView {
  @ApiProperty() host!: string;
  @ApiProperty({ example: 'Capacity' }) filter!: string;
  @ApiProperty({ example: 'ramMb' }) code!: string;
  @ApiProperty({ example: 'ramMb needs 2048, 1024 free' }) reason!: string;
}

class ReasonCountView {
  @ApiProperty() filter!: string;
  @ApiProperty() code!: string;
  @ApiProperty() hosts!: number;
  @ApiProperty({ description: "One host's reason" }) example!: string;
}

class PlacementView {
  @ApiProperty() host!: string;
  @ApiProperty() instances!: number;
}

export class DryRunView {
  @ApiProperty({ nullable: true, type: String, description: 'Where the first instance would go' }) host!: string | null;
  @ApiProperty({ type: [String], description: 'Where it would be rebuilt if that build failed' }) alternates!: string[];
  @ApiProperty() asked!: number;
  @ApiProperty() minCount!: number;
  @ApiProperty({ description: 'How many of the asked instances would be placed' }) wouldPlace!: number;
  @ApiProperty({ type: [PlacementView] }) placements!: PlacementView[];
  @ApiProperty() hostsConsidered!: number;
  @ApiProperty({ description: 'Hosts that passed every filter for the first instance' }) passed!: number;
  @ApiProperty({ type: [RejectionView], description: `Each rejected host, when there are at most ${LIST_HOSTS_UP_TO}` })
  rejected!: RejectionView[];
  @ApiProperty({ type: [ReasonCountView], description: 'Rejected hosts counted per filter and reason' })
  reasons!: ReasonCountView[];
  @ApiProperty({ nullable: true, type: String, description: 'The "no valid host" fault a create would get' })
  explanation!: string | null;
}

export class CapacityQuery {
  @ApiProperty({ description: 'Flavor id or name' })
  @IsString()
  @Length(1, 64)
  flavor!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 63)
  zone?: string;

  @ApiPropertyOptional({ enum: INSTANCE_KINDS, default: 'container' })
  @IsOptional()
  @IsIn(INSTANCE_KINDS, { message: `kind must be one of: ${INSTANCE_KINDS.join(', ')}` })
  kind?: InstanceKind;
}

class HostFit {
  @ApiProperty() host!: string;
  @ApiProperty() zone!: string;
  @ApiProperty({ description: 'More instances of the flavor that fit here' }) fits!: number;
}

export class CapacityView {
  @ApiProperty() flavor!: string;
  @ApiProperty({ nullable: true, type: String }) zone!: string | null;
  @ApiProperty() kind!: string;
  @ApiProperty({ description: 'More instances of the flavor that fit, in all' }) total!: number;
  @ApiProperty({ type: [HostFit], description: 'Hosts with room, most room first' }) hosts!: HostFit[];
  @ApiProperty({
    type: [ReasonCountView],
    description: 'Hosts that do not count, per reason (disabled, down, zone, ...)',
  })
  excluded!: ReasonCountView[];
}

/** Answers "where would this go, and why not?" and "how many more fit?" without changing anything. */
@ApiTags('scheduling')
@ApiBearerAuth()
@ApiErrors(401, 403)
@Controller('v1')
export class SchedulingController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly instances: InstancesService,
    private readonly env: ApiEnv,
  ) {}

  /** The same filters, weighers and explanation as a real create, on the hosts as they are now. */
  @Post('scheduler/dry-run')
  @Policy('scheduler:dry-run')
  @HttpCode(200)
  @ApiOperation({ summary: 'Where would a create go, and why would each other host refuse it? (admin)' })
  @ApiErrors(400, 404, 409, 413)
  @ApiOkResponse({ type: DryRunView })
  async dryRun(@Body() dto: CreateInstanceDto, @CurrentPrincipal() principal: Principal): Promise<DryRunView> {
    const r = await this.instances.resolve(dto, principal);
    const m = this.dataSource.manager;
    let hosts = await loadHostStates(m, this.env.BERTH_HOST_DOWN_AFTER_SEC);
    const group = r.serverGroupId ? await loadGroupState(m, r.serverGroupId, false) : null;
    const members = new Map(group?.members ?? []);
    const slots = r.reservationId ? await reservationSlots(m, r.reservationId) : null;
    const policy = { ...schedulerPolicy(policyOptionsOf(this.env)), subsetSize: 1 };
    const size = resourcesOf({ ...r.flavor, kind: r.kind, pidsLimit: r.throttles.pidsLimit });
    const placements = new Map<string, number>();
    let first: Selection | null = null;
    let explanation: string | null = null;
    for (let i = 0; i < r.count; i += 1) {
      const request: PlacementRequest = {
        kind: r.kind,
        resources: size,
        zone: r.zone,
        extraSpecs: r.flavor.extraSpecs,
        vlan: r.network.vlan,
        imageRef: r.image.ref,
        group: group ? { ...group, members } : null,
      };
      const selection = selectHosts(request, slots ? withReservationSlots(hosts, slots, size) : hosts, policy, () => 0);
      first ??= selection;
      const chosen = selection.chosen;
      if (!chosen) {
        explanation = explainNoValidHost(selection.rejected);
        break;
      }
      placements.set(chosen.name, (placements.get(chosen.name) ?? 0) + 1);
      members.set(chosen.id, (members.get(chosen.id) ?? 0) + 1);
      if (slots) slots.set(chosen.id, (slots.get(chosen.id) ?? 1) - 1);
      else hosts = hosts.map((h) => (h.id === chosen.id ? withClaim(h, size) : h));
    }
    const placed = [...placements.values()].reduce((a, b) => a + b, 0);
    return {
      host: first?.chosen?.name ?? null,
      alternates: first?.alternates.map((h) => h.name) ?? [],
      asked: r.count,
      minCount: r.minCount,
      wouldPlace: placed < r.minCount ? 0 : placed,
      placements: [...placements].map(([host, instances]) => ({ host, instances })),
      hostsConsidered: hosts.length,
      passed: first?.passed ?? 0,
      rejected: (first?.rejected.length ?? 0) <= LIST_HOSTS_UP_TO ? (first?.rejected ?? []) : [],
      reasons: countReasons(first?.rejected ?? []),
      explanation,
    };
  }

  /** Counts after ratios, disabled and down hosts, the instance limit and held reservations. */
  @Get('capacity')
  @Policy('capacity:get')
  @ApiOperation({ summary: 'How many more instances of a flavor fit, in all and per host (admin)' })
  @ApiErrors(400, 404)
  @ApiOkResponse({ type: CapacityView })
  async capacity(@Query() query: CapacityQuery): Promise<CapacityView> {
    const flavor = await findByRef(this.dataSource.getRepository(FlavorEntity), query.flavor, 'flavor', 'flavor');
    const kind = query.kind ?? 'container';
    const size = resourcesOf({
      ...flavor,
      kind,
      pidsLimit: flavor.throttles.pidsLimit ?? this.env.BERTH_DEFAULT_PIDS_LIMIT,
    });
    const request: PlacementRequest = {
      kind,
      resources: size,
      zone: query.zone ?? null,
      extraSpecs: flavor.extraSpecs,
      vlan: null,
      imageRef: null,
      group: null,
    };
    const hosts: HostCandidate[] = await loadHostStates(this.dataSource.manager, this.env.BERTH_HOST_DOWN_AFTER_SEC);
    const counted = selectHostsForCapacity(request, hosts);
    const fits = counted.passing
      .map((h) => ({
        host: h.name,
        zone: h.zone,
        fits: instancesThatFit(h, size, this.env.BERTH_MAX_INSTANCES_PER_HOST),
      }))
      .filter((h) => h.fits > 0)
      .sort((a, b) => b.fits - a.fits || a.host.localeCompare(b.host));
    return {
      flavor: flavor.name,
      zone: query.zone ?? null,
      kind,
      total: fits.reduce((sum, h) => sum + h.fits, 0),
      hosts: fits,
      excluded: countReasons(counted.rejected),
    };
  }
}

function selectHostsForCapacity(request: PlacementRequest, hosts: readonly HostCandidate[]) {
  const passing: HostCandidate[] = [];
  const rejected: Array<{ host: string; filter: string; code: string; reason: string }> = [];
  for (const host of hosts) {
    const refusal = CAPACITY_FILTERS.map((f) => ({ f, r: f.reject(request, host) })).find((x) => x.r !== null);
    if (refusal?.r) rejected.push({ host: host.name, filter: refusal.f.name, ...refusal.r });
    else passing.push(host);
  }
  return { passing, rejected };
}
