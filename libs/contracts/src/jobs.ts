import type { InstanceKind, InstanceSpec } from './instance';
import type { CpuPolicy, InstanceLimits } from './limits';
import type { MigrationCommand } from './migration';
import type { InstanceTerminalCommand } from './terminal';
import type { InstanceStatsQuery } from './usage';

/** Version of the job and report payloads below. A change that old readers cannot parse bumps it. */
export const CONTRACT_VERSION = 1;

/** What every instance of one create request asks of a host (Nova's RequestSpec). */
export interface RequestSpec {
  kind: InstanceKind;
  projectId: string;
  cpuPolicy: CpuPolicy;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  /** Each container's pids limit, claimed against its host's pids (a VM claims a fixed share instead). */
  pidsLimit: number;
  zone: string | null;
  extraSpecs: Record<string, string>;
  vlan: number;
  imageRef: string;
  serverGroupId: string | null;
  reservationId: string | null;
  /** An instance built with volumes lands on their host (they live on one host's storage). */
  volumes?: { hostId: string; ids: string[] };
  /** A move of an instance holding volumes: its target must offer their backends (their size is in diskGb). */
  volumeBackends?: string[];
}

/**
 * API -> scheduler: find hosts for the instances of one create request, all in BUILDING/scheduling.
 * At least `minCount` must be placed or none is (all or nothing); the others are a best effort.
 */
export interface PlaceInstancesJob {
  v: typeof CONTRACT_VERSION;
  /**
   * Each instance of the request, with the operation that tracks its build and the spec its host
   * will need (complete when the instance is recorded, and unchanged while it waits for a host).
   */
  members: Array<{ instanceId: string; operationId: string; spec: InstanceSpec }>;
  minCount: number;
  request: RequestSpec;
}
export const PLACE_INSTANCES = 'instances.place';

export const COMPUTE_COMMANDS = [
  'instance.create',
  'instance.start',
  'instance.stop',
  'instance.reboot',
  'instance.delete',
  'instance.set-limits',
  'instance.snapshot',
] as const;
export type ComputeCommandType = (typeof COMPUTE_COMMANDS)[number];

/**
 * Scheduler or API -> one compute host; the BullMQ job name is `type`. Every command carries the
 * whole spec, so a host can unplug a port even when the container behind it has vanished.
 */
export interface ComputeCommand {
  v: typeof CONTRACT_VERSION;
  type: ComputeCommandType;
  operationId: string;
  instance: InstanceSpec;
  /** instance.set-limits: the limits in effect before, which the host restores if the change fails. */
  previous?: InstanceLimits;
  /**
   * instance.create sent again after the host's agent restarted mid-build: the host finishes it only
   * if the instance already runs with its port plugged, and otherwise removes what exists and fails.
   */
  recovery?: boolean;
  /**
   * instance.snapshot: the new image's id and the registry repository its copy goes to (`<registry>/berth-images/<id>`):
   * a container is committed and pushed there, a VM's disk flattened and uploaded there as a blob.
   */
  image?: SnapshotTarget;
}

export interface SnapshotTarget {
  imageId: string;
  repository: string;
}

/** A new image, as its host made it from an instance: where hosts fetch it, and its size in the registry. */
export interface SnapshotImage {
  /** A Docker reference (a container's) or the URL of the disk's blob in the registry (a VM's). */
  ref: string;
  bytes: number;
}

/** API -> one compute host: pull an image ahead of need (pre-warm before a peak). */
export interface ImagePullCommand {
  v: typeof CONTRACT_VERSION;
  type: 'image.pull';
  operationId: string;
  imageRef: string;
  /** Which driver fetches it; absent (older senders): container. */
  kind?: InstanceKind;
}
export const IMAGE_PULL = 'image.pull';

/** API -> one compute host, answered at once: the last lines of an instance's console. */
export interface InstanceConsoleQuery {
  v: typeof CONTRACT_VERSION;
  type: 'instance.console';
  instance: InstanceSpec;
  lines: number;
}
export const INSTANCE_CONSOLE = 'instance.console';

/** The answer to an InstanceConsoleQuery (the job's return value). */
export interface ConsoleTail {
  lines: string[];
}

/**
 * Scheduler -> one compute host: remove workloads and port leftovers that no record owns (strays),
 * seen on the host for longer than the grace period.
 */
export interface HostPurgeCommand {
  v: typeof CONTRACT_VERSION;
  type: 'host.purge';
  instanceIds: string[];
}
export const HOST_PURGE = 'host.purge';

/**
 * API -> the compute host of an instance: its security groups changed (a rule, its groups, or the members
 * of a group its rules name), so its port's firewall flows are replaced by the spec's. A host where the
 * port is not plugged (the instance is off) does nothing: the next start carries the same spec.
 */
export interface PortFirewallCommand {
  v: typeof CONTRACT_VERSION;
  type: 'port.firewall';
  instance: InstanceSpec;
}
export const PORT_FIREWALL = 'port.firewall';

/** Everything a compute host's queue carries. */
export type HostCommand =
  | ComputeCommand
  | ImagePullCommand
  | InstanceConsoleQuery
  | InstanceStatsQuery
  | InstanceTerminalCommand
  | MigrationCommand
  | HostPurgeCommand
  | PortFirewallCommand;
