import {
  CPU_POLICIES,
  INSTANCE_KINDS,
  MIGRATION_KINDS,
  MIGRATION_STATUSES,
  POWER_STATES,
  type CpuPolicy,
  type Fault,
  type InstanceKind,
  type MigrationKind,
  type MigrationStatus,
  type PowerState,
} from '@berth/contracts';
import { instanceLimitsOf } from '@berth/control';
import type { MigrationRow, InstanceRecord } from '@berth/data';
import { projectScope, type Principal } from '../auth/principal';
import {
  INSTANCE_STATUSES,
  TASK_STATES,
  RESTART_POLICIES,
  tenantHostId,
  type InstanceStatus,
  type RestartPolicy,
  type TaskState,
} from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DiskNetThrottlesView } from '../common/throttle-property';

import { AddressPairView } from './instance.dto';

/* What the API answers about instances: each view maps its record field by field (an allow-list). */

export class ConsoleView {
  @ApiProperty({ type: [String], description: "The console's last lines, oldest first" }) lines!: string[];
}

class CpuStatsView {
  @ApiProperty({ description: 'CPU time used over the interval, as a percentage of one CPU (200: two CPUs busy)' })
  percent!: number;
  @ApiProperty({ description: "The same, as a percentage of the instance's vCPUs" }) percentOfVcpus!: number;
  @ApiProperty() vcpus!: number;
  @ApiProperty({ description: 'CPU time used since the instance started' }) usedSeconds!: number;
}

class MemoryStatsView {
  @ApiProperty({ description: 'In use, without reclaimable page cache (a VM: its QEMU resident size)' })
  usedBytes!: number;
  @ApiProperty({ nullable: true, type: Number }) limitBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number }) percent!: number | null;
}

class NetworkStatsView {
  @ApiProperty({ description: 'Received by the instance since its port was plugged' }) rxBytes!: number;
  @ApiProperty() txBytes!: number;
  @ApiProperty() rxPackets!: number;
  @ApiProperty() txPackets!: number;
  @ApiProperty() rxBytesPerSec!: number;
  @ApiProperty() txBytesPerSec!: number;
  @ApiProperty() rxPacketsPerSec!: number;
  @ApiProperty() txPacketsPerSec!: number;
}

class BlockIoStatsView {
  @ApiProperty() readBytes!: number;
  @ApiProperty() writeBytes!: number;
  @ApiProperty() readOps!: number;
  @ApiProperty() writeOps!: number;
  @ApiProperty() readBytesPerSec!: number;
  @ApiProperty() writeBytesPerSec!: number;
  @ApiProperty() readIops!: number;
  @ApiProperty() writeIops!: number;
}

export class InstanceStatsView {
  @ApiProperty({ description: 'Seconds between the two readings' }) intervalSec!: number;
  @ApiProperty({ type: CpuStatsView }) cpu!: CpuStatsView;
  @ApiProperty({ type: MemoryStatsView }) memory!: MemoryStatsView;
  @ApiProperty({ type: NetworkStatsView }) network!: NetworkStatsView;
  @ApiProperty({ type: BlockIoStatsView }) blockIo!: BlockIoStatsView;
}

class SecurityGroupRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
}

class Ref {
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) id!: string | null;
  @ApiProperty() name!: string;
}

class FlavorRef extends Ref {
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty() diskGb!: number;
}

class ImageRef extends Ref {
  @ApiProperty() ref!: string;
}

class LimitsView extends DiskNetThrottlesView {
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty({ enum: CPU_POLICIES }) cpuPolicy!: CpuPolicy;
  @ApiProperty({ type: [Number], description: 'Host CPUs a dedicated instance owns' }) pinnedCpus!: number[];
  @ApiProperty({ description: 'Percent of its vCPUs a shared instance may use' }) cpuQuota!: number;
  @ApiProperty() pidsLimit!: number;
}

class AppliedLimitsView extends DiskNetThrottlesView {
  @ApiProperty({ example: '2-3', description: 'CPUs it may run on, as the kernel lists them' }) cpuset!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'CPU time cap in CPUs (CFS quota/period)' })
  cpus!: number | null;
  @ApiProperty({ nullable: true, type: Number }) ramMb!: number | null;
  @ApiProperty({ nullable: true, type: Number }) pidsLimit!: number | null;
  @ApiProperty({
    enum: ['lxcfs', 'host', 'guest'],
    description: "What /proc shows inside: a container's own limits (lxcfs) or the host's; a VM's own kernel (guest)",
  })
  procView!: 'lxcfs' | 'host' | 'guest';
  @ApiProperty({ description: 'When the host read these back' }) readAt!: string;
}

class FaultView {
  @ApiProperty({ description: 'The step that failed' }) step!: string;
  @ApiProperty() message!: string;
  @ApiProperty() at!: string;
  @ApiPropertyOptional({
    example: 'Capacity',
    description: 'No valid host: the filter that turned down the most hosts',
  })
  reason?: string;
}

export const HOST_STATES = ['UP', 'DOWN', 'MAINTENANCE'] as const;
export type HostState = (typeof HOST_STATES)[number];

function hostStateOf(r: InstanceRecord, downAfterSec: number): HostState | null {
  if (r.hostName === null || r.hostSilentSec === null) return null;
  if (r.hostSilentSec > downAfterSec) return 'DOWN';
  return r.hostEnabled ? 'UP' : 'MAINTENANCE';
}

/** An address a port may also send from. */
export class InstanceView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: INSTANCE_KINDS }) kind!: InstanceKind;
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ enum: INSTANCE_STATUSES }) status!: InstanceStatus;
  @ApiProperty({ enum: TASK_STATES, nullable: true, type: String }) taskState!: TaskState | null;
  @ApiProperty({ enum: POWER_STATES }) powerState!: PowerState;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "Its host, as the project sees it: the same for two of the project's instances on one host, different on two " +
      "hosts, and telling nothing else (a digest of the project and the host, as Nova's hostId); null without a host",
  })
  hostId!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Compute host name: shown to cloud admins only; null without a host',
  })
  host?: string | null;
  @ApiProperty({
    enum: HOST_STATES,
    nullable: true,
    description:
      "Its host's state, as Nova's host_status: UP, DOWN (no heartbeat for BERTH_HOST_DOWN_AFTER_SEC), " +
      'MAINTENANCE (disabled, e.g. draining); null without a host',
  })
  hostState!: HostState | null;
  @ApiProperty({ type: Ref, nullable: true }) network!: Ref | null;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'Its host interface is "bvh" + the first 12 hex digits of this id',
  })
  portId!: string | null;
  @ApiProperty({ nullable: true, type: String }) ip!: string | null;
  @ApiProperty({ nullable: true, type: String }) mac!: string | null;
  @ApiProperty({ nullable: true, type: Number }) vlan!: number | null;
  @ApiProperty({ description: 'Its port admits only its own MAC and address and its allowed address pairs' })
  portSecurity!: boolean;
  @ApiProperty({ type: () => [AddressPairView] }) allowedAddressPairs!: AddressPairView[];
  @ApiProperty({ type: () => [SecurityGroupRef] }) securityGroups!: SecurityGroupRef[];
  @ApiProperty({ type: FlavorRef }) flavor!: FlavorRef;
  @ApiProperty({ type: ImageRef }) image!: ImageRef;
  @ApiProperty({ type: LimitsView, description: 'What the instance is promised: its flavor with its overrides' })
  limits!: LimitsView;
  @ApiProperty({
    type: AppliedLimitsView,
    nullable: true,
    description: 'What its host read back from the kernel and OVS after the last change; null while not running',
  })
  appliedLimits!: AppliedLimitsView | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
  @ApiProperty({ nullable: true, type: Date }) launchedAt!: Date | null;
  @ApiProperty({ enum: RESTART_POLICIES }) restartPolicy!: RestartPolicy;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Your own key-value pairs' })
  metadata!: Record<string, string>;
  @ApiProperty({ nullable: true, type: String, description: 'The key pair it was built with' })
  keyName!: string | null;
  @ApiPropertyOptional({ type: FaultView, description: 'Present in status ERROR' }) fault?: Fault;

  /** The instance as `caller` sees it: a cloud admin also sees its host's name. */
  static of(r: InstanceRecord, hostDownAfterSec: number, caller: Principal): InstanceView {
    return {
      id: r.id,
      name: r.name,
      kind: r.kind,
      projectId: r.projectId,
      status: r.status,
      taskState: r.taskState,
      powerState: r.powerState,
      hostId: r.hostId === null ? null : tenantHostId(r.projectId, r.hostId),
      ...(projectScope(caller) === null ? { host: r.hostName } : {}),
      hostState: hostStateOf(r, hostDownAfterSec),
      network: r.networkId && r.networkName ? { id: r.networkId, name: r.networkName } : null,
      portId: r.portId,
      ip: r.ip,
      mac: r.mac,
      vlan: r.vlan,
      portSecurity: r.portSecurity ?? true,
      allowedAddressPairs: r.allowedAddressPairs ?? [],
      securityGroups: r.securityGroups,
      flavor: { id: r.flavorId, name: r.flavorName, vcpus: r.vcpus, ramMb: r.ramMb, diskGb: r.diskGb },
      image: { id: r.imageId, name: r.imageName, ref: r.imageRef },
      limits: instanceLimitsOf(r),
      appliedLimits: r.appliedLimits,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      launchedAt: r.launchedAt,
      restartPolicy: r.restartPolicy,
      metadata: r.metadata,
      keyName: r.keyName,
      ...(r.status === 'ERROR' && r.fault ? { fault: r.fault } : {}),
    };
  }
}

export class InstancePage {
  @ApiProperty({ type: [InstanceView] }) items!: InstanceView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class InstanceBuild {
  @ApiProperty({ type: InstanceView }) instance!: InstanceView;
  @ApiProperty({ format: 'uuid', description: 'Poll GET /v1/operations/{id}' }) operationId!: string;
}

export class InstanceAccepted extends InstanceBuild {
  @ApiProperty({
    type: [InstanceBuild],
    description: 'Every instance of the request (one unless count, minCount or maxCount)',
  })
  instances!: InstanceBuild[];
}

export class OperationAccepted {
  @ApiProperty({ format: 'uuid', description: 'Poll GET /v1/operations/{id}' }) operationId!: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'snapshot: the new image (saving until the operation ends)' })
  imageId?: string;
}

/** One move of an instance between hosts, as its record keeps it. */
export class MigrationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) instanceId!: string;
  @ApiProperty({ format: 'uuid', description: 'The migrate (or evacuate) operation' }) operationId!: string;
  @ApiProperty({
    enum: MIGRATION_KINDS,
    description: 'migration (the source alive), or evacuation (rebuilt elsewhere from its image; its host was down)',
  })
  kind!: MigrationKind;
  @ApiProperty({ nullable: true, type: String, description: 'An evacuation: what the rebuild could not keep' })
  lost!: string | null;
  @ApiProperty({
    enum: MIGRATION_STATUSES,
    description:
      'queued, pre-migrating (source: stop, commit, push), migrating (target: pull), post-migrating (target: ' +
      'create, start), finished (awaiting confirm or revert), then confirmed or reverted; error when a step ' +
      'failed (it was reverted) or a clean-up did',
  })
  status!: MigrationStatus;
  @ApiProperty() sourceHost!: string;
  @ApiProperty({ nullable: true, type: String }) targetHost!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The host the admin named' }) requestedHost!: string | null;
  @ApiProperty({ description: 'Whether the instance ran before the move (it runs after it)' }) wasRunning!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Where the snapshot went (containers)' })
  snapshotRef!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The step that failed' }) failedStep!: string | null;
  @ApiProperty({ nullable: true, type: FaultView }) fault!: Fault | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  /** Field by field: what the record holds for the conductor (pending steps, claims, the parent) stays inside. */
  static of(r: MigrationRow): MigrationView {
    return {
      id: r.id,
      instanceId: r.instanceId,
      operationId: r.operationId,
      kind: r.kind,
      lost: r.lost,
      status: r.status,
      sourceHost: r.sourceHost,
      targetHost: r.targetHost,
      requestedHost: r.requestedHost,
      wasRunning: r.wasRunning,
      snapshotRef: r.snapshotRef,
      failedStep: r.failedStep,
      fault: r.fault,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    };
  }
}

export class MigrationList {
  @ApiProperty({ type: [MigrationView] }) items!: MigrationView[];
}
