import type { Fault, InstanceKind, PowerState } from '@berth/contracts';
import type { GroupPolicy, InstanceStatus, TaskState } from '@berth/domain';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An instance embeds the flavor and image it was built from (as Nova embeds the flavor), so
 * deleting or changing a flavor or image never changes a running instance.
 */
@Entity('instances')
export class InstanceEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') projectId!: string;
  @Column('uuid', { nullable: true }) userId!: string | null;
  @Column('text') name!: string;
  @Column('text') kind!: InstanceKind;
  @Column('text') status!: InstanceStatus;
  @Column('text', { nullable: true }) taskState!: TaskState | null;
  @Column('text') powerState!: PowerState;
  @Column('uuid', { nullable: true }) hostId!: string | null;
  @Column('uuid', { nullable: true }) flavorId!: string | null;
  @Column('text') flavorName!: string;
  @Column('int') vcpus!: number;
  @Column('int') ramMb!: number;
  @Column('int') diskGb!: number;
  @Column('uuid', { nullable: true }) imageId!: string | null;
  @Column('text') imageName!: string;
  @Column('text') imageRef!: string;
  @Column('int') pidsLimit!: number;
  @Column('jsonb', { nullable: true }) fault!: Fault | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz') updatedAt!: Date;
  @Column('timestamptz', { nullable: true }) launchedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) deletedAt!: Date | null;
}

@Entity('server_groups')
export class ServerGroupEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') projectId!: string;
  @Column('text') name!: string;
  @Column('text') policy!: GroupPolicy;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}

@Entity('ports')
export class PortEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') networkId!: string;
  @Column('uuid') instanceId!: string;
  @Column('inet') ip!: string;
  @Column('macaddr') mac!: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}
