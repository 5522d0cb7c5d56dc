import {
  addSecurityGroupRule,
  createSecurityGroup,
  deleteSecurityGroup,
  ensureDefaultSecurityGroup,
  removeSecurityGroupRule,
  type SecurityGroupQuotaDefaults,
} from '@berth/control';
import { groupIdOf, groupRow, groupRows, ruleGroup, ruleRow, type GroupRow, type RuleRow } from '@berth/data';
import {
  BerthError,
  checkRule,
  RESOURCE_NAME,
  RESOURCE_NAME_RULE,
  RULE_DIRECTION_VALUES,
  RULE_PROTOCOL_VALUES,
} from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { Allow, IsOptional, IsString, Length, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { targetProject } from '../common/projects';
import { recordedChange } from '../common/recorded';
import { UuidPipe } from '../common/uuid-pipe';
import { ApiEnv } from '../config';

export class CreateSecurityGroupDto {
  @ApiProperty({ example: 'web', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(0, 255, { message: 'description must be at most 255 characters' })
  description?: string;

  @ApiPropertyOptional({ description: "Project id or name (cloud admin only; default: the token's project)" })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  project?: string;
}

/** Checked by checkRule, which names each field and rule; the decorators only describe it. */
export class CreateRuleDto {
  @Allow()
  @ApiProperty({ enum: RULE_DIRECTION_VALUES, description: 'ingress: to the port; egress: from it' })
  direction!: string;

  @Allow()
  @ApiPropertyOptional({ enum: RULE_PROTOCOL_VALUES, default: 'any' })
  protocol?: string;

  @Allow()
  @ApiPropertyOptional({ minimum: 1, maximum: 65535, description: 'First destination port (tcp, udp)' })
  portMin?: number;

  @Allow()
  @ApiPropertyOptional({ minimum: 1, maximum: 65535, description: 'Last destination port (default: portMin)' })
  portMax?: number;

  @Allow()
  @ApiPropertyOptional({ example: '10.0.0.0/24', description: 'The remote side: an IPv4 CIDR (default: anyone)' })
  remoteCidr?: string;

  @Allow()
  @ApiPropertyOptional({ description: 'The remote side: the members of this group of the project (id or name)' })
  remoteGroup?: string;
}

export class RuleView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: RULE_DIRECTION_VALUES }) direction!: string;
  @ApiProperty({ enum: RULE_PROTOCOL_VALUES }) protocol!: string;
  @ApiProperty({ nullable: true, type: Number }) portMin!: number | null;
  @ApiProperty({ nullable: true, type: Number }) portMax!: number | null;
  @ApiProperty({ nullable: true, type: String }) remoteCidr!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) remoteGroupId!: string | null;
  @ApiProperty() createdAt!: Date;
}

class MemberRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
}

export class SecurityGroupView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ type: [RuleView] }) rules!: RuleView[];
  @ApiProperty({ type: [MemberRef], description: 'Instances whose port is in the group' }) members!: MemberRef[];
  @ApiProperty() createdAt!: Date;
}

export class SecurityGroupList {
  @ApiProperty({ type: [SecurityGroupView] }) items!: SecurityGroupView[];
}

/**
 * Security groups: stateful allow lists on every port, applied by each host in OVS with conntrack. A
 * change reaches the hosts of every instance it concerns (its members, and the instances whose rules name
 * the group) in the transaction that makes it.
 */
@ApiTags('security-groups')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/security-groups')
export class SecurityGroupsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {}

  @Post()
  @Policy('security-group:create')
  @ApiOperation({ summary: 'Create a security group: egress to anywhere, no ingress until a rule opens some' })
  @ApiErrors(400, 403, 404, 409, 413)
  @ApiCreatedResponse({ type: SecurityGroupView })
  async create(
    @Body() dto: CreateSecurityGroupDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<SecurityGroupView> {
    const projectId = await targetProject(this.dataSource, principal, dto.project);
    const group = await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId },
      'security-group.create',
      'security-group',
      async (m) => ({
        id: await createSecurityGroup(
          m,
          { projectId, name: dto.name, description: dto.description ?? '' },
          this.quotaDefaults(),
        ),
      }),
    );
    return this.get(group.id, principal);
  }

  @Get()
  @Policy('security-group:list')
  @ApiOperation({ summary: "List the project's security groups (admin: all); the default group is made on first need" })
  @ApiOkResponse({ type: SecurityGroupList })
  async list(@CurrentPrincipal() principal: Principal): Promise<SecurityGroupList> {
    const scope = projectScope(principal);
    if (scope) {
      await this.dataSource.transaction((m) => ensureDefaultSecurityGroup(m, scope));
    }
    return { items: (await groupRows(this.dataSource.manager, scope)).map(groupView) };
  }

  @Get(':id')
  @Policy('security-group:get')
  @ApiOperation({ summary: 'Show a security group: its rules and its members' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: SecurityGroupView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<SecurityGroupView> {
    const group = await groupRow(this.dataSource.manager, id, projectScope(principal));
    if (!group) throw BerthError.notFound('security group', id);
    return groupView(group);
  }

  /** Refused while a port is in it, and for the project's default group. Rules of others naming it go with it. */
  @Delete(':id')
  @Policy('security-group:delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a security group that no instance is in' })
  @ApiErrors(400, 403, 404, 409, 414)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const group = await this.get(id, principal);
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: group.projectId },
      'security-group.delete',
      'security-group',
      async (m) => {
        await deleteSecurityGroup(m, group);
        return group;
      },
    );
  }

  @Post(':id/rules')
  @Policy('security-group:update')
  @ApiOperation({ summary: 'Add an allow rule; the hosts of the members apply it at once' })
  @ApiErrors(400, 403, 404, 409, 413, 414)
  @ApiCreatedResponse({ type: RuleView })
  async addRule(
    @Param('id', UuidPipe) id: string,
    @Body() body: CreateRuleDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<RuleView> {
    const checked = checkRule({ ...body });
    if (!checked.ok) throw BerthError.invalid(checked.errors);
    const rule = checked.value;
    const group = await this.get(id, principal);
    const remoteGroupId = rule.remoteGroup === null ? null : await this.groupOf(group.projectId, rule.remoteGroup);
    const made = await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: group.projectId },
      'security-group-rule.create',
      'security-group-rule',
      async (m) => ({ id: await addSecurityGroupRule(m, group, { ...rule, remoteGroupId }, this.quotaDefaults()) }),
    );
    const view = await ruleRow(this.dataSource.manager, made.id);
    if (!view) throw BerthError.notFound('rule', made.id);
    return ruleView(view);
  }

  /** A group of the project by id or name, for a rule's remoteGroup (another project's is not found). */
  private async groupOf(projectId: string, ref: string): Promise<string> {
    const found = await groupIdOf(this.dataSource.manager, projectId, ref);
    if (!found) throw BerthError.notFound('security group', ref, 'remoteGroup');
    return found;
  }

  private quotaDefaults(): SecurityGroupQuotaDefaults {
    return { groups: this.env.BERTH_QUOTA_SECURITY_GROUPS, rules: this.env.BERTH_QUOTA_SECURITY_GROUP_RULES };
  }
}

function ruleView(row: RuleRow): RuleView {
  const { id, direction, protocol, portMin, portMax, remoteCidr, remoteGroupId, createdAt } = row;
  return { id, direction, protocol, portMin, portMax, remoteCidr, remoteGroupId, createdAt };
}

function groupView(row: GroupRow): SecurityGroupView {
  const { id, name, description, projectId, createdAt } = row;
  const members = row.members.map((member) => ({ id: member.id, name: member.name }));
  return { id, name, description, projectId, rules: row.rules.map(ruleView), members, createdAt };
}

/** A rule is removed by its own id, as Neutron's are (DELETE /v2.0/security-group-rules/{id}). */
@ApiTags('security-groups')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/security-group-rules')
export class SecurityGroupRulesController {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Connections the rule admitted go on unless `cut` is set: then the hosts drop them at once (new ones
   * are refused either way).
   */
  @Delete(':id')
  @Policy('security-group:update')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a rule; with cut=true, also drop the connections it admitted' })
  @ApiQuery({ name: 'cut', required: false, type: Boolean })
  @ApiErrors(400, 403, 404, 414)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) ruleId: string,
    @Query('cut') cut: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    if (cut !== undefined && cut !== 'true' && cut !== 'false') {
      throw BerthError.invalid([{ field: 'cut', rule: 'isBoolean', message: 'cut must be true or false' }]);
    }
    const group = await ruleGroup(this.dataSource.manager, ruleId, projectScope(principal));
    if (!group) throw BerthError.notFound('security group rule', ruleId);
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: group.projectId },
      'security-group-rule.delete',
      'security-group-rule',
      async (m) => {
        await removeSecurityGroupRule(m, group, ruleId, cut === 'true');
        return { id: ruleId };
      },
    );
  }
}
