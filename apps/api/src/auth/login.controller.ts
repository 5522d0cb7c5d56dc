import { passwordLogin, rescopeToken } from '@berth/control';
import { ProjectEntity, TokenEntity, userProjects } from '@berth/data';
import { BerthError, isUuid, ROLES, type Role } from '@berth/domain';
import { Body, Controller, Get, Ip, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { DataSource } from 'typeorm';
import { ApiErrors } from '../common/api-errors';
import { CurrentPrincipal, CurrentRequestId, type Principal } from './principal';
import { Policy } from './policy';
import { ApiEnv } from '../config';
import { TokenCreated } from '../tokens/token.dto';
import { RateLimits } from './rate-limits';

export class LoginDto {
  @ApiProperty({ example: 'alice', description: 'User name or id' })
  @IsString()
  @Length(1, 128)
  user!: string;

  @ApiProperty({ format: 'password', writeOnly: true })
  @IsString()
  @Length(1, 1024)
  password!: string;

  @ApiProperty({ example: 'shop', description: 'Project name or id: the token acts there, with your role in it' })
  @IsString()
  @Length(1, 128)
  project!: string;
}

export class RescopeDto {
  @ApiProperty({ example: 'bank', description: 'Project name or id: one of yours (GET /v1/auth/projects)' })
  @IsString()
  @Length(1, 128)
  project!: string;
}

export class MyProject {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES, description: 'Your role there' }) role!: Role;
}

export class MyProjectList {
  @ApiProperty({ type: [MyProject] }) items!: MyProject[];
}

/**
 * Password logins. The answer is a token like any other (Bearer), scoped to the project, with the user's role there,
 * that expires (BERTH_TOKEN_TTL_SEC). A wrong password, an unknown user or project, a user locked out after
 * repeated failures, or one with no role in the project: the same 401, counted against the caller's address.
 */
@ApiTags('auth')
@Controller('v1/auth')
export class LoginController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
    private readonly limits: RateLimits,
  ) {}

  @Post('tokens')
  @Policy('auth:login')
  @ApiOperation({ summary: 'Log in with a password: a project-scoped token that expires' })
  @ApiErrors(400, 401, 413)
  @ApiCreatedResponse({ type: TokenCreated })
  async login(
    @Body() dto: LoginDto,
    @CurrentRequestId() requestId: string,
    @Ip() address: string,
  ): Promise<TokenCreated> {
    try {
      return await this.attempt(dto, requestId);
    } catch (error) {
      if (error instanceof BerthError && error.code === 'unauthenticated') await this.limits.failed(address);
      throw error;
    }
  }

  @Get('projects')
  @Policy('token:validate')
  @ApiOperation({ summary: 'The projects your user holds a role in, with the role: where POST /v1/auth/rescope goes' })
  @ApiErrors(401)
  @ApiOkResponse({ type: MyProjectList })
  async projects(@CurrentPrincipal() principal: Principal): Promise<MyProjectList> {
    return { items: await userProjects(this.dataSource.manager, principal.userId) };
  }

  /**
   * Switches project without the password again (Keystone's token method): a token for the same user in another of
   * its projects, with its role there, that ends no later than the one asking. A token an application credential
   * gave stays in its project.
   */
  @Post('rescope')
  @Policy('token:validate')
  @ApiOperation({
    summary: 'A token for another of your projects, with your role there, ending no later than this one',
  })
  @ApiErrors(400, 401, 403, 404, 409, 413)
  @ApiCreatedResponse({ type: TokenCreated })
  async rescope(
    @Body() dto: RescopeDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<TokenCreated> {
    const from = await this.dataSource.getRepository(TokenEntity).findOneByOrFail({ id: principal.tokenId });
    if (from.applicationCredentialId !== null) {
      throw BerthError.forbidden("a token an application credential gave stays in the credential's project");
    }
    const where = isUuid(dto.project) ? { id: dto.project.toLowerCase() } : { name: dto.project };
    const project = await this.dataSource.getRepository(ProjectEntity).findOneBy(where);
    if (project?.id === principal.projectId) {
      throw BerthError.conflict(`this token already acts in project ${project.name}`, 'project', 'conflict');
    }
    const issued = project
      ? await rescopeToken(
          this.dataSource,
          { ...from, applicationCredential: null },
          { projectId: project.id },
          { tokenTtlSec: this.env.BERTH_TOKEN_TTL_SEC },
          { requestId },
        ).catch((error: unknown) => {
          // No role there: refused as a login would be, which here is "no such project of yours".
          if (error instanceof BerthError && error.code === 'unauthenticated') return null;
          throw error;
        })
      : null;
    if (!issued || issued === 'same') throw BerthError.notFound('project', dto.project, 'project');
    return issued;
  }

  private async attempt(dto: LoginDto, requestId: string): Promise<TokenCreated> {
    const where = isUuid(dto.project) ? { id: dto.project.toLowerCase() } : { name: dto.project };
    const project = await this.dataSource.getRepository(ProjectEntity).findOneBy(where);
    return passwordLogin(
      this.dataSource,
      { user: dto.user, password: dto.password, projectId: project?.id ?? null },
      {
        tokenTtlSec: this.env.BERTH_TOKEN_TTL_SEC,
        lockout: { maxFailures: this.env.BERTH_LOGIN_MAX_FAILURES, lockoutSec: this.env.BERTH_LOGIN_LOCKOUT_SEC },
      },
      { requestId },
    );
  }
}
