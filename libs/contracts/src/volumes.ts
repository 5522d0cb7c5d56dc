import type { Fault } from './instance';
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

export const VOLUME_COMMANDS = ['volume.create', 'volume.delete', 'volume.extend'] as const;
export type VolumeCommandType = (typeof VOLUME_COMMANDS)[number];

/** Scheduler or API -> the volume's host. Each is idempotent: a volume already as asked succeeds unchanged. */
export interface VolumeCommand {
  v: typeof CONTRACT_VERSION;
  type: VolumeCommandType;
  operationId: string;
  volume: VolumeSpec;
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
