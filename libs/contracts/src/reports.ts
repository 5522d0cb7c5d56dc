import type { VolumeBackendName, VolumeResult } from './volumes';
import type { InstanceKind, PowerState, Fault } from './instance';
import type { CONTRACT_VERSION, ComputeCommandType, SnapshotImage } from './jobs';
import type { AppliedLimits } from './limits';
import type { DiskArtifact, MigrationCommandType, VolumeArtifact } from './migration';

/**
 * What a host's driver can do beyond running instances, so that the API refuses early and by name what it cannot
 * (Nova's driver capabilities): change limits while an instance runs, move a stopped copy to another host, attach
 * and detach volumes.
 */
export const DRIVER_CAPABILITIES = ['live-resize', 'cold-migrate', 'volumes'] as const;
export type DriverCapability = (typeof DRIVER_CAPABILITIES)[number];

/** What an agent knows about its host; sent at start and with every heartbeat. */
export interface HostFacts {
  name: string;
  address: string;
  drivers: InstanceKind[];
  /** CPUs shared instances float over (the VCPU inventory, before the allocation ratio). */
  vcpus: number;
  /** CPUs dedicated instances are pinned to, one instance per CPU (the PCPU inventory). */
  pcpus: number;
  /** Kernel CPU lists ("0-3,8") of the two sets; they never overlap. */
  cpuSharedSet: string;
  cpuDedicatedSet: string;
  /** lxcfs runs, so instances see their own limits in /proc. */
  lxcfs: boolean;
  ramMb: number;
  diskGb: number;
  agentVersion: string;
  /** The VLANs this host's integration bridge carries, e.g. "1-4094" or "100-199,300". */
  vlanRanges: string;
  /** Image references this host holds and can start without a pull. */
  cachedImages: string[];
  /**
   * Kinds whose hypervisor (dockerd, libvirtd) did not answer at this heartbeat: the host takes no
   * new instance of that kind until it answers again. Absent from older agents: none.
   */
  unavailable?: InstanceKind[];
  /**
   * How the host keeps instances apart besides their limits, e.g. ["seccomp", "no-new-privileges",
   * "cap-drop:NET_RAW,MKNOD", "port-security", "userns"]. Absent from older agents: unknown.
   */
  confinement?: string[];
  /** kernel.pid_max: the most processes and threads the host can have at once. Absent from older agents. */
  pidMax?: number;
  /**
   * Pids the host offers instances: pidMax less its reserve. The scheduler claims each instance's pids
   * limit against it. Absent from older agents: the host is held to none.
   */
  pids?: number;
  /** Each driver's capabilities, by the kind it runs. Absent from older agents: not known (nothing is refused). */
  capabilities?: Partial<Record<InstanceKind, DriverCapability[]>>;
  /** The volume storage backends this host offers (its pool answered at this heartbeat). Absent: none. */
  volumeBackends?: VolumeBackendName[];
}

/** A host command that an agent died running. */
export interface InterruptedCommand {
  command: ComputeCommandType | MigrationCommandType;
  operationId: string;
  instanceId: string;
  migrationId?: string;
}

/** Compute agent -> reports queue -> scheduler's reports worker -> database. */
export type AgentReport =
  | { v: typeof CONTRACT_VERSION; type: 'host.heartbeat'; host: HostFacts; at: string }
  | {
      v: typeof CONTRACT_VERSION;
      type: 'operation.step';
      operationId: string;
      step: string;
      status: 'started' | 'succeeded' | 'failed';
      at: string;
      detail?: string;
    }
  | {
      v: typeof CONTRACT_VERSION;
      type: 'instance.result';
      operationId: string;
      instanceId: string;
      command: ComputeCommandType;
      /** What the hypervisor reports after the command, success or not. */
      powerState: PowerState;
      at: string;
      fault?: Fault;
      /** The limits in effect, read back from the host after the command; null when not running. */
      applied?: AppliedLimits | null;
      /** instance.snapshot that succeeded: the image it made. */
      image?: SnapshotImage;
    }
  | {
      v: typeof CONTRACT_VERSION;
      type: 'host.power-states';
      host: string;
      /** The kinds whose driver answered: an instance of another kind is not judged missing. */
      kinds: InstanceKind[];
      /** Every instance the host holds, with what its hypervisor says. */
      instances: Array<{ instanceId: string; powerState: PowerState }>;
      /** Instances with a command queued or running on the host, or one since the listing began: not judged. */
      busy: string[];
      /** Ports on the host's bridge tagged with its name whose instance has no workload here (a cut-short plug, a lost container). */
      traces: Array<{ instanceId: string; portId: string }>;
      at: string;
    }
  | {
      v: typeof CONTRACT_VERSION;
      /**
       * Sent once as an agent starts: the scheduler recovers the tasks the host's previous agent left
       * unfinished. `incarnation` is new at every start, so a repeated report is recognised.
       */
      type: 'host.started';
      host: string;
      incarnation: string;
      kinds: InstanceKind[];
      /**
       * The commands a previous agent had taken from the host's queue and not finished (jobs still
       * active when this agent started, before it took any): only these are recovered. Commands
       * still waiting in the queue are simply run.
       */
      interrupted: InterruptedCommand[];
      /** The volumes this host's pools hold (by id), so that the records and the host are compared; absent: none. */
      volumes?: string[];
      at: string;
    }
  | {
      v: typeof CONTRACT_VERSION;
      type: 'migration.result';
      operationId: string;
      migrationId: string;
      instanceId: string;
      command: MigrationCommandType;
      /** What the hypervisor of the reporting host says of the instance afterwards. */
      powerState: PowerState;
      at: string;
      fault?: Fault;
      /** receive: the limits the target read back. */
      applied?: AppliedLimits | null;
      /** snapshot of a VM: the exported disk the target is to fetch. */
      artifact?: DiskArtifact;
      /** snapshot: the instance's volumes, at rest on the source, for the target to fetch. */
      volumes?: VolumeArtifact[];
    }
  | {
      v: typeof CONTRACT_VERSION;
      type: 'image.result';
      operationId: string;
      host: string;
      imageRef: string;
      at: string;
      /** Absent when the pull succeeded. */
      error?: string;
    }
  | VolumeResult;

export type AgentReportType = AgentReport['type'];
