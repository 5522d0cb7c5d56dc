import {
  DEFAULT_GROUP,
  ensureDefaultGroup,
  lockProjectFirewalls,
  membersOf,
  one,
  referrersOf,
  rows,
  markFirewalls,
} from '@berth/data';
import {
  BerthError,
  checkRule,
  isUuid,
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
import { DataSource, type EntityManager } from 'typeorm';
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

const RULE_JSON = `json_build_object('id', r.id, 'direction', r.direction, 'protocol', r.protocol,
  'portMin', r.port_min, 'portMax', r.port_max, 'remoteCidr', r.remote_cidr::text,
  'remoteGroupId', r.remote_group_id, 'createdAt', r.created_at)`;

const GROUP_SQL = `
  SELECT g.id, g.name, g.description, g.project_id AS "projectId", g.created_at AS "createdAt",
         coalesce((SELECT json_agg(${RULE_JSON} ORDER BY r.created_at, r.direction, r.id) FROM security_group_rules r
                    WHERE r.group_id = g.id AND r.removed_at IS NULL), '[]') AS rules,
         coalesce((SELECT json_agg(json_build_object('id', i.id, 'name', i.name) ORDER BY i.created_at)
                     FROM port_security_groups psg JOIN ports p ON p.id = psg.port_id
                     JOIN instances i ON i.id = p.instance_id
                    WHERE psg.group_id = g.id), '[]') AS members
    FROM security_groups g`;

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
      async (m) => {
        await lockProjectFirewalls(m, projectId);
        await ensureDefaultGroup(m, projectId);
        const quota = await one<{ used: number; limit: number }>(
          m,
          `SELECT (SELECT count(*)::int FROM security_groups WHERE project_id = $1) AS used,
                  coalesce(quota_security_groups, $2) AS limit FROM projects WHERE id = $1`,
          [projectId, this.env.BERTH_QUOTA_SECURITY_GROUPS],
        );
        withinQuota('securityGroups', quota);
        const made = await one<{ id: string }>(
          m,
          'INSERT INTO security_groups (project_id, name, description) VALUES ($1, $2, $3) RETURNING id',
          [projectId, dto.name, dto.description ?? ''],
        );
        if (!made) throw new Error('insert into security_groups returned no row');
        // As Neutron's: a new group lets its members send anywhere; ingress is what its rules open.
        await m.query(`INSERT INTO security_group_rules (group_id, direction, protocol) VALUES ($1, 'egress', 'any')`, [
          made.id,
        ]);
        return made;
      },
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
      await this.dataSource.transaction(async (m) => {
        await lockProjectFirewalls(m, scope);
        await ensureDefaultGroup(m, scope);
      });
    }
    return {
      items: await rows<SecurityGroupView>(
        this.dataSource.manager,
        `${GROUP_SQL} WHERE ($1::uuid IS NULL OR g.project_id = $1) ORDER BY g.project_id, g.name`,
        [scope],
      ),
    };
  }

  @Get(':id')
  @Policy('security-group:get')
  @ApiOperation({ summary: 'Show a security group: its rules and its members' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: SecurityGroupView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<SecurityGroupView> {
    const [group] = await rows<SecurityGroupView>(
      this.dataSource.manager,
      `${GROUP_SQL} WHERE g.id = $1 AND ($2::uuid IS NULL OR g.project_id = $2)`,
      [id, projectScope(principal)],
    );
    if (!group) throw BerthError.notFound('security group', id);
    return group;
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
    if (group.name === DEFAULT_GROUP) {
      throw BerthError.conflict('the default security group cannot be deleted', 'id', 'notDefault');
    }
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: group.projectId },
      'security-group.delete',
      'security-group',
      async (m) => {
        await lockProjectFirewalls(m, group.projectId);
        const members = await membersOf(m, [id]);
        if (members.length > 0) {
          throw BerthError.conflict(
            `security group ${group.name} is in use by ${members.length} instance(s): take it off them first (set-security-groups)`,
            'id',
            'notInUse',
          );
        }
        const referrers = await referrersOf(m, [id]);
        await m.query('DELETE FROM security_groups WHERE id = $1', [id]);
        await markFirewalls(m, referrers);
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
    const remote = rule.remoteGroup === null ? null : await this.groupOf(group.projectId, rule.remoteGroup);
    const made = await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: group.projectId },
      'security-group-rule.create',
      'security-group-rule',
      async (m) => {
        await lockProjectFirewalls(m, group.projectId);
        const quota = await one<{ used: number; limit: number }>(
          m,
          `SELECT (SELECT count(*)::int FROM security_group_rules r JOIN security_groups g ON g.id = r.group_id
                    WHERE g.project_id = $1 AND r.removed_at IS NULL) AS used,
                  coalesce(quota_security_group_rules, $2) AS limit FROM projects WHERE id = $1`,
          [group.projectId, this.env.BERTH_QUOTA_SECURITY_GROUP_RULES],
        );
        withinQuota('securityGroupRules', quota);
        const duplicate = await one<{ id: string }>(
          m,
          `SELECT id FROM security_group_rules WHERE group_id = $1 AND removed_at IS NULL AND direction = $2
              AND protocol = $3 AND port_min IS NOT DISTINCT FROM $4 AND port_max IS NOT DISTINCT FROM $5
              AND remote_cidr IS NOT DISTINCT FROM $6::cidr AND remote_group_id IS NOT DISTINCT FROM $7::uuid`,
          [id, rule.direction, rule.protocol, rule.portMin, rule.portMax, rule.remoteCidr, remote],
        );
        if (duplicate) throw BerthError.conflict(`the group already has this rule (${duplicate.id})`, 'rule', 'unique');
        const inserted = await one<RuleView>(
          m,
          `INSERT INTO security_group_rules AS r (group_id, direction, protocol, port_min, port_max, remote_cidr, remote_group_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING r.id`,
          [id, rule.direction, rule.protocol, rule.portMin, rule.portMax, rule.remoteCidr, remote],
        );
        if (!inserted) throw new Error('insert into security_group_rules returned no row');
        await markFirewalls(m, await membersOf(m, [id]));
        return inserted;
      },
    );
    const view = await one<{ rule: RuleView }>(
      this.dataSource.manager,
      `SELECT ${RULE_JSON} AS rule FROM security_group_rules r WHERE r.id = $1`,
      [made.id],
    );
    if (!view) throw BerthError.notFound('rule', made.id);
    return view.rule;
  }

  /** A group of the project by id or name, for a rule's remoteGroup (another project's is not found). */
  private async groupOf(projectId: string, ref: string): Promise<string> {
    const found = await one<{ id: string }>(
      this.dataSource.manager,
      `SELECT id FROM security_groups WHERE project_id = $1 AND ${isUuid(ref) ? 'id = $2::uuid' : 'name = $2'}`,
      [projectId, isUuid(ref) ? ref.toLowerCase() : ref],
    );
    if (!found) throw BerthError.notFound('security group', ref, 'remoteGroup');
    return found.id;
  }
}

/** One more of `resource` must stay within the project's limit (its own, or the configured default; -1: none). */
function withinQuota(resource: string, quota: { used: number; limit: number } | null): void {
  if (quota && quota.limit >= 0 && quota.used + 1 > quota.limit) {
    throw new BerthError(
      'quota_exceeded',
      `quota exceeded for ${resource}: limit ${quota.limit}, in use ${quota.used}, requested 1`,
    );
  }
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
    const group = await one<{ id: string; projectId: string }>(
      this.dataSource.manager,
      `SELECT g.id, g.project_id AS "projectId" FROM security_group_rules r JOIN security_groups g ON g.id = r.group_id
        WHERE r.id = $1 AND r.removed_at IS NULL AND ($2::uuid IS NULL OR g.project_id = $2)`,
      [ruleId, projectScope(principal)],
    );
    if (!group) throw BerthError.notFound('security group rule', ruleId);
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: group.projectId },
      'security-group-rule.delete',
      'security-group-rule',
      async (m: EntityManager) => {
        await lockProjectFirewalls(m, group.projectId);
        // A cut leaves a tombstone for a day: hosts keep dropping what the rule had admitted.
        if (cut === 'true') {
          await m.query('UPDATE security_group_rules SET removed_at = now(), cut = true WHERE id = $1', [ruleId]);
        } else {
          await m.query('DELETE FROM security_group_rules WHERE id = $1', [ruleId]);
        }
        await markFirewalls(m, await membersOf(m, [group.id]));
        return { id: ruleId };
      },
    );
  }
}
