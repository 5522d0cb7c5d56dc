import type { InstanceKind } from '@berth/contracts';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('hosts')
export class HostEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('text') address!: string;
  @Column('text', { array: true }) drivers!: InstanceKind[];
  @Column('int') vcpus!: number;
  @Column('int') ramMb!: number;
  @Column('int') diskGb!: number;
  /** Dedicated CPUs, one instance each, never overcommitted. */
  @Column('int') pcpus!: number;
  @Column('text') cpuSharedSet!: string;
  @Column('int', { array: true }) cpuDedicatedSet!: number[];
  /** The dedicated CPUs instances (and reservation slots) hold; as many as usedPcpus. */
  @Column('int', { array: true }) pinnedCpus!: number[];
  @Column('boolean') lxcfs!: boolean;
  @Column('text', { array: true }) confinement!: string[];
  @Column('integer', { nullable: true }) pidMax!: number | null;
  @Column('real') cpuRatio!: number;
  @Column('real') ramRatio!: number;
  @Column('real') diskRatio!: number;
  /** Sum of this host's allocations, kept in the same transaction as every claim and release. */
  @Column('int') usedVcpus!: number;
  @Column('int') usedPcpus!: number;
  @Column('int') usedRamMb!: number;
  @Column('int') usedDiskGb!: number;
  @Column('int') usedInstances!: number;
  @Column('text') zone!: string;
  @Column('text') vlanRanges!: string;
  @Column('text', { array: true }) cachedImages!: string[];
  @Column('boolean') enabled!: boolean;
  @Column('text', { nullable: true }) disabledReason!: string | null;
  @Column('text') agentVersion!: string;
  @Column('timestamptz', { nullable: true }) lastHeartbeatAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}

@Entity('aggregates')
export class AggregateEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('jsonb') metadata!: Record<string, string>;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}

@Entity('allocations')
export class AllocationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { nullable: true }) instanceId!: string | null;
  @Column('uuid', { nullable: true }) reservationId!: string | null;
  @Column('uuid') hostId!: string;
  @Column('int') vcpus!: number;
  @Column('int') pcpus!: number;
  @Column('int', { array: true }) pinnedCpus!: number[];
  @Column('int') ramMb!: number;
  @Column('int') diskGb!: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}
