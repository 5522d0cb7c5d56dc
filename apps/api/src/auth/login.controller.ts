import { passwordLogin } from '@berth/control';
import { ProjectEntity } from '@berth/data';
import { BerthError, isUuid } from '@berth/domain';
import { Body, Controller, Ip, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { DataSource } from 'typeorm';
import { ApiErrors } from '../common/api-errors';
import { CurrentRequestId } from './principal';
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
