import type { DiskArtifact, VolumeBackendName, VolumeSpec } from '@berth/contracts';

/**
 * The contract a host's volume storage keeps (the file pool here; LVM-thin or Ceph RBD can be added beside it, and an
 * LVM-thin pool must be made with `--discards ignore`: dm-thin discards crashed hosts of the cloud Berth replaces).
 * Like ComputeDriver, each method says what holds after success and after failure, and each is idempotent: the agent
 * may run a command twice.
 *
 * Every volume carries one ext4 filesystem whose UUID is the volume's id, made at create: a container mounts it, a VM
 * sees it as a disk (by its serial), and the same data moves between the two.
 */
export interface VolumeBackend {
  readonly name: VolumeBackendName;

  /** Prepares the pool (its directory); fails when the host cannot hold volumes. */
  init(): Promise<void>;

  /**
   * Creates the volume with an empty ext4 filesystem of exactly `sizeGb` GiB, its root owned by `rootOwner` (the uid
   * containers' root maps to, so that it can write there). After success it exists at its full size; after failure
   * nothing of it exists. One that already exists at that size succeeds unchanged.
   */
  create(volume: VolumeSpec, rootOwner: number): Promise<void>;

  /**
   * Grows the volume and its filesystem to `volume.sizeGb` GiB. Only a volume attached nowhere (the filesystem is
   * checked first). After failure it has its old size and its data. One already that large succeeds unchanged;
   * a smaller size is refused.
   */
  extend(volume: VolumeSpec): Promise<void>;

  /** Removes the volume and its data. A missing one succeeds; one that is attached (a loop device holds it) fails. */
  delete(volumeId: string): Promise<void>;

  /** The volume's size in bytes as the host holds it, or null when it does not exist here. */
  bytes(volumeId: string): Promise<number | null>;

  /** The volumes this pool holds, by id. */
  list(): Promise<string[]>;

  /**
   * A volume attached nowhere, as a file another host copies (a cold move): its path, size and SHA-256. Changes
   * nothing; one that is attached, or missing, is refused.
   */
  export(volumeId: string): Promise<DiskArtifact>;

  /**
   * Takes in a volume another host exported: `fetch` writes it to the path it is given, and once it is whole the
   * volume exists here. After failure nothing of it exists here; one that already exists succeeds unchanged.
   */
  receive(volumeId: string, fetch: (path: string) => Promise<void>): Promise<void>;

  /** Where a hypervisor finds the volume's data on this host (a file here; a block device for LVM or RBD). */
  source(volumeId: string): { file: string };
}
