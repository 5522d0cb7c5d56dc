import type { TokenEntity } from '@berth/data';
import { RESOURCE_NAME, RESOURCE_NAME_RULE, ROLES, type Role } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';

export class CreateTokenDto {
  @ApiProperty({ description: 'User id or name; anyone but the admin can only name itself' })
  @IsString()
  @Length(1, 64)
  user!: string;

  @ApiProperty({ description: "Project id or name; anyone but the admin can only name its token's project" })
  @IsString()
  @Length(1, 64)
  project!: string;

  @ApiProperty({ enum: ROLES, description: 'At most the role of the token that asks (admin: any)' })
  @IsIn(ROLES, { message: `role must be one of: ${ROLES.join(', ')}` })
  role!: Role;

  @ApiPropertyOptional({ example: 'ci-deploy', pattern: RESOURCE_NAME.source })
  @IsOptional()
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name?: string;

  @ApiPropertyOptional({ example: '2027-01-01T00:00:00Z', description: 'When the token stops working; in the future' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: string;
}

/** A token as listed: never its secret. */
export class TokenView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ nullable: true, type: Date }) expiresAt!: Date | null;
  @ApiProperty({ nullable: true, type: Date }) revokedAt!: Date | null;

  static of(t: TokenEntity): TokenView {
    return {
      id: t.id,
      name: t.name,
      userId: t.userId,
      projectId: t.projectId,
      role: t.role,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      revokedAt: t.revokedAt,
    };
  }
}

export class TokenCreated extends TokenView {
  @ApiProperty({ description: 'The secret: shown this once, stored only as a hash' }) token!: string;
}

export class TokenList {
  @ApiProperty({ type: [TokenView] }) items!: TokenView[];
}
