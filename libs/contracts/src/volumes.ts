import type { Fault, InstanceSpec } from './instance';
import type { CONTRACT_VERSION } from './jobs';

/**
 * A block volume: a disk that outlives the instances it is attached to (Cinder's volume, an Incus custom volume).
 * It lives on one host's storage (local, as Nova's local disks), and is attached only to instances there.
 *
 * creating -> available <-> attaching -> in-use <-> detaching; available -> extending -> available;
 * available -> deleting (gone); a failed create ends in error (nothing of it left on the host, and it can only be
 * deleted); a failed attach, detach or extend ends where it started, with the fault recorded.
 */
export const VOLUME_STATUSES = [
  'creating',
  'available',
  'attaching',
  'in-use',
  'detaching',
  'extending',
  'deleting',
  'error',
] as const;
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];

/** The storage backends a host can offer volumes from; `file`: a pool directory of raw files (loop devices for containers). */
export const VOLUME_BACKENDS = ['file'] as const;
export type VolumeBackendName = (typeof VOLUME_BACKENDS)[number];

/** What a host needs to know of a volume to hold it. */
export interface VolumeSpec {
  id: string;
  sizeGb: number;
  backend: VolumeBackendName;
}

/** API -> scheduler: find a host with room for a new volume (or check the one it must live on), claim, create. */
export interface PlaceVolumeJob {
  v: typeof CONTRACT_VERSION;
  volumeId: string;
  operationId: string;
  projectId: string;
  volume: VolumeSpec;
  /** Cinder's local_to_instance: the host of this instance, and no other. */
  hostId: string | null;
  zone: string | null;
}
export const PLACE_VOLUME = 'volumes.place';

/** The I/O limits a volume's type gives it where it is attached (null: unlimited). */
export interface VolumeThrottle {
  readIops: number | null;
  writeIops: number | null;
  readBps: number | null;
  writeBps: number | null;
}

/** A volume as an instance holds it: where a container mounts it, the serial a VM's guest sees, its limits. */
export interface VolumeAttachment {
  volume: VolumeSpec;
  /** A container's mount point (absolute); null for a VM. */
  path: string | null;
  /** What a VM's guest reads as the disk's serial (the volume's id by default; virtio shows its first 20 bytes). */
  serial: string;
  throttle: VolumeThrottle;
}

export const VOLUME_COMMANDS = [
  'volume.create',
  'volume.delete',
  'volume.extend',
  'volume.attach',
  'volume.detach',
] as const;
export type VolumeCommandType = (typeof VOLUME_COMMANDS)[number];

/** Scheduler or API -> the volume's host. Each is idempotent: a volume already as asked succeeds unchanged. */
export interface VolumeCommand {
  v: typeof CONTRACT_VERSION;
  type: VolumeCommandType;
  operationId: string;
  volume: VolumeSpec;
  /** attach and detach: the instance (its spec, without this volume for a detach) and the attachment. */
  instance?: InstanceSpec;
  attachment?: VolumeAttachment;
}

/** Compute agent -> scheduler: how a volume command ended. */
export interface VolumeResult {
  v: typeof CONTRACT_VERSION;
  type: 'volume.result';
  operationId: string;
  volumeId: string;
  command: VolumeCommandType;
  at: string;
  /** Absent when it succeeded. */
  fault?: Fault;
  /** The bytes the volume's disk now has (its apparent size), read back from the host. */
  bytes?: number;
}
