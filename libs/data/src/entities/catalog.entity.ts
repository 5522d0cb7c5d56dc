import type { CpuPolicy } from '@berth/contracts';
import type { FlavorThrottles, ThrottleBounds } from '@berth/domain';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What a flavor asks of a host; instances and reservations copy it when they are made. */
export type FlavorSpec = Pick<
  FlavorEntity,
  'id' | 'name' | 'vcpus' | 'ramMb' | 'diskGb' | 'extraSpecs' | 'cpuPolicy' | 'throttles' | 'limitBounds'
>;

@Entity('flavors')
export class FlavorEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('int') vcpus!: number;
  @Column('int') ramMb!: number;
  @Column('int') diskGb!: number;
  /** Scheduling hints, e.g. {"aggregate:disk": "ssd"}; a flavor never changes once made. */
  @Column('jsonb') extraSpecs!: Record<string, string>;
  @Column('text') cpuPolicy!: CpuPolicy;
  /** Unset throttles are absent or null: cpuQuota then means 100, pidsLimit the cloud's default. */
  @Column('jsonb') throttles!: Partial<FlavorThrottles>;
  /** Per throttle, the range a project member may pick for an instance; absent: fixed by the flavor. */
  @Column('jsonb') limitBounds!: ThrottleBounds;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}

export const IMAGE_STATUSES = ['saving', 'active'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

@Entity('images')
export class ImageEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('text') kind!: 'container' | 'vm';
  /** container: a Docker reference. vm: the disk (qcow2), a path on the hosts or a URL. */
  @Column('text') ref!: string;
  /** vm, direct kernel boot: the kernel, its initrd and command line (paths or URLs). */
  @Column('text', { nullable: true }) kernelRef!: string | null;
  @Column('text', { nullable: true }) initrdRef!: string | null;
  @Column('text', { nullable: true }) cmdline!: string | null;
  /** Null for a public image; otherwise the only project that sees it. */
  @Column('uuid', { nullable: true }) projectId!: string | null;
  /** saving: an instance's snapshot its host is still making (not launchable yet); active: usable. */
  @Column('text', { default: 'active' }) status!: ImageStatus;
  /** What the registry holds of a snapshot (its image or disk), once made; null for a registered image. */
  @Column('bigint', {
    nullable: true,
    transformer: { to: (v: unknown) => v, from: (v: string | null) => (v === null ? null : Number(v)) },
  })
  sizeBytes!: number | null;
  /** The instance a snapshot was made from. */
  @Column('uuid', { nullable: true }) sourceInstanceId!: string | null;
  /** The operation making a snapshot. */
  @Column('uuid', { nullable: true }) operationId!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}

@Entity('networks')
export class NetworkEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('int') vlan!: number;
  /** The address plan: all four set, or none before the network has its subnet. */
  @Column('cidr', { nullable: true }) cidr!: string | null;
  @Column('inet', { nullable: true }) gateway!: string | null;
  @Column('inet', { nullable: true }) allocationStart!: string | null;
  @Column('inet', { nullable: true }) allocationEnd!: string | null;
  /** The subnet's own name, when Neutron gave it one; null: the network's. */
  @Column('text', { nullable: true }) subnetName!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}
