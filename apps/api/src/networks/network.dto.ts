import { RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** A provider network's name and VLAN, on the hosts' integration bridge. */
export class NetworkIdentityDto {
  @ApiProperty({ example: 'vlan100', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  @ApiProperty({ minimum: 1, maximum: 4094, example: 100 })
  @IsInt()
  @Min(1)
  @Max(4094)
  vlan!: number;
}

/** A provider network: one VLAN on the hosts' integration bridge, with one IPv4 subnet. */
export class CreateNetworkDto extends NetworkIdentityDto {
  @ApiProperty({ example: '10.0.0.0/24' })
  @IsString()
  @MaxLength(18)
  cidr!: string;

  @ApiProperty({ example: '10.0.0.1' })
  @IsString()
  @MaxLength(15)
  gateway!: string;

  @ApiPropertyOptional({ example: '10.0.0.10', description: 'First address handed out (default: first host address)' })
  @IsOptional()
  @IsString()
  @MaxLength(15)
  allocationStart?: string;

  @ApiPropertyOptional({ example: '10.0.0.200', description: 'Last address handed out (default: last host address)' })
  @IsOptional()
  @IsString()
  @MaxLength(15)
  allocationEnd?: string;
}

export class NetworkView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() vlan!: number;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'null until the network has its subnet (made through Neutron)',
  })
  cidr!: string | null;
  @ApiProperty({ nullable: true, type: String }) gateway!: string | null;
  @ApiProperty({ nullable: true, type: String }) allocationStart!: string | null;
  @ApiProperty({ nullable: true, type: String }) allocationEnd!: string | null;
  @ApiProperty({ description: 'Addresses held by ports' }) ipsUsed!: number;
  @ApiProperty({ description: 'Addresses the pool can hand out (the gateway excluded)' }) ipsTotal!: number;
  @ApiProperty() createdAt!: Date;
}

export class NetworkList {
  @ApiProperty({ type: [NetworkView] }) items!: NetworkView[];
}
