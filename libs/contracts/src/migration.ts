import type { InstanceSpec } from './instance';
import type { CONTRACT_VERSION } from './jobs';
import type { RequestSpec } from './jobs';

/**
 * Cold migration, run by the scheduler as conductor: each step is one command to one host, and each
 * host's report moves the migration on (or back). States of the migration record:
 * queued -> pre-migrating (source: stop, commit, push) -> migrating (target: pull) -> post-migrating
 * (target: create and start) -> finished (instance VERIFY_MIGRATION) -> confirming -> confirmed, or
 * -> reverting -> reverted. A failed step reverts on its own and ends in `error`, naming the step.
 */
export const MIGRATION_STATUSES = [
  'queued',
  'pre-migrating',
  'migrating',
  'post-migrating',
  'finished',
  'confirming',
  'confirmed',
  'reverting',
  'reverted',
  'error',
  /** An evacuation rebuilt the instance elsewhere; its old host has not cleaned up yet (it is down). */
  'evacuated',
  /** The old host is back and removing its stale copy. */
  'cleaning',
] as const;
export type MigrationStatus = (typeof MIGRATION_STATUSES)[number];

/** API -> scheduler: choose a target (or check the named one), claim on it, start the move. */
export interface MigrateInstanceJob {
  v: typeof CONTRACT_VERSION;
  migrationId: string;
  operationId: string;
  instanceId: string;
  sourceHostId: string;
  /** The host the admin named; absent: the scheduler chooses. */
  requestedHost: string | null;
  request: RequestSpec;
}
export const MIGRATE_INSTANCE = 'instance.migrate';

/**
 * A move with the source alive (migration), a rebuild elsewhere of what a down host held (evacuation), or a resize
 * applied live on the instance's own host that awaits verification (resize: source and target are that host, as
 * Nova records a same-host resize; no migration step runs for it).
 */
export const MIGRATION_KINDS = ['migration', 'evacuation', 'resize'] as const;
export type MigrationKind = (typeof MIGRATION_KINDS)[number];

export const MIGRATION_COMMANDS = [
  /** Source: stop the instance, commit it to the snapshot, push the snapshot. */
  'migration.snapshot',
  /** Target: pull the snapshot. */
  'migration.fetch',
  /** Target: create the instance from the snapshot with the same identity, start it if it ran. */
  'migration.receive',
  /** One host: remove the instance and the snapshot's local copy (and, with `forgetSnapshot`, the registry's). */
  'migration.drop',
  /** Source, on a revert: remove the snapshot, start the instance again if it ran before. */
  'migration.restore',
] as const;
export type MigrationCommandType = (typeof MIGRATION_COMMANDS)[number];

/** A VM's moved disk: its overlay on the source, with its size and SHA-256 for the target to check. */
export interface DiskArtifact {
  path: string;
  sha256: string;
  bytes: number;
}

/** The source host's SSH, as the target reaches it for a VM's disk, with the key pinned for it. */
export interface SshPeer {
  address: string;
  port: number;
  username: string;
  /** OpenSSH SHA256 fingerprint the source must present; null: not pinned (accepted, and reported). */
  fingerprint: string | null;
}

/** Scheduler -> one compute host, for one step of a migration. */
export interface MigrationCommand {
  v: typeof CONTRACT_VERSION;
  type: MigrationCommandType;
  operationId: string;
  migrationId: string;
  /** As this host must hold it: on the target, with the snapshot as its image and the target's CPUs. */
  instance: InstanceSpec;
  /**
   * A container's: `<registry>/berth-snapshots/<instance id>:<migration id>`. A VM's, once exported:
   * `sftp://<source>:<port><overlay path>#sha256=<hex>&bytes=<n>`. Null for an evacuation (rebuilt from the image).
   */
  snapshotRef: string | null;
  /** receive, restore: whether the instance runs afterwards (it did before the move). */
  powerOn: boolean;
  /** drop: also delete the snapshot from the registry (after a confirm, or when a move is undone). */
  forgetSnapshot: boolean;
  /** fetch of a VM's disk or of volumes: where the source is. */
  peer?: SshPeer;
  /**
   * fetch: the instance's volumes as the source exported them (each checked against its SHA-256 once copied into
   * the target's pool). Absent or empty: it moves with none.
   */
  volumes?: VolumeArtifact[];
  /** drop: this host's copy of the instance's volumes goes too (the move ended with them on the other host). */
  dropVolumes?: boolean;
}

/** A volume's file on the source host, at rest, with its size and SHA-256, for the target to copy and check. */
export interface VolumeArtifact extends DiskArtifact {
  volumeId: string;
}

/** Where a cold migration's snapshot goes: one repository per instance, one tag per migration. */
export function snapshotRef(registry: string, instanceId: string, migrationId: string): string {
  return `${registry}/berth-snapshots/${instanceId}:${migrationId}`;
}

/** `sftp://<address>:<port><path>#sha256=<hex>&bytes=<n>`: the artifact as the migration record keeps it. */
export function artifactRef(address: string, port: number, a: DiskArtifact): string {
  return `sftp://${address}:${port}${a.path}#sha256=${a.sha256}&bytes=${a.bytes}`;
}

export function parseArtifactRef(ref: string): { address: string; port: number; artifact: DiskArtifact } {
  const m = /^sftp:\/\/([^/:]+):(\d+)(\/[^#]+)#sha256=([0-9a-f]{64})&bytes=(\d+)$/.exec(ref);
  if (!m) throw new Error(`not a disk artifact reference: ${ref}`);
  return {
    address: m[1] ?? '',
    port: Number(m[2]),
    artifact: { path: m[3] ?? '', sha256: m[4] ?? '', bytes: Number(m[5]) },
  };
}
