import type { AppliedLimits, CpuPolicy, Fault, InstanceKind, PowerState, Throttles } from '@berth/contracts';
import type { GroupPolicy, InstanceStatus, Resources, RestartPolicy, TaskState, ThrottleBounds } from '@berth/domain';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An instance embeds the flavor and image it was built from (as Nova embeds the flavor), so
 * deleting or changing a flavor or image never changes a running instance.
 */
/**
 * A live resize in flight. The growth was claimed when it was asked for; on success the instance
 * takes `to` and gives back `shrink` and `releasedCpus`; on failure it gives back `grow` and
 * `claimedCpus`.
 */
export interface PendingResize {
  to: {
    flavorId: string | null;
    flavorName: string;
    vcpus: number;
    ramMb: number;
    diskGb: number;
    cpuPolicy: CpuPolicy;
    throttles: Throttles;
    limitBounds: ThrottleBounds;
    pinnedCpus: number[];
  };
  grow: Resources;
  shrink: Resources;
  claimedCpus: number[];
  releasedCpus: number[];
  /** Nova's resize: on success the host keeps both sizes claimed and the resize awaits verification. */
  verify?: boolean;
  /** The revert of that resize (the migration of kind 'resize' it ends): the instance goes back to its old size. */
  revertOf?: string;
}

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
  @Column('text') cpuPolicy!: CpuPolicy;
  /** Resolved throttles: the flavor's with this instance's overrides. */
  @Column('jsonb') throttles!: Throttles;
  /** The flavor's bounds, copied so that later changes stay within what the instance was sold. */
  @Column('jsonb') limitBounds!: ThrottleBounds;
  @Column('int', { array: true }) pinnedCpus!: number[];
  /** What its host last read back from the kernel and OVS; null while it does not run. */
  @Column('jsonb', { nullable: true }) appliedLimits!: AppliedLimits | null;
  /** A live resize its host is applying: the target, and what to release or give back after. */
  @Column('jsonb', { nullable: true }) pendingResize!: PendingResize | null;
  @Column('jsonb', { nullable: true }) fault!: Fault | null;
  /** always: the power sync starts it again when it finds it stopped outside Berth. */
  @Column('text') restartPolicy!: RestartPolicy;
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
  @Column('boolean') portSecurity!: boolean;
  @Column('jsonb') allowedAddressPairs!: Array<{ ip: string; mac: string }>;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}
