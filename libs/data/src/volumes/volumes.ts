import type { Fault, VolumeBackendName, VolumeStatus } from '@berth/contracts';
import type { VolumeHost } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

/** An admin's class of volume: where it is held and the I/O limits a volume of it gets. */
export interface VolumeTypeRow {
  id: string;
  name: string;
  description: string;
  backend: VolumeBackendName;
  isDefault: boolean;
  readIops: number | null;
  writeIops: number | null;
  readBps: number | null;
  writeBps: number | null;
  createdAt: Date;
}

const TYPE_SQL = `SELECT id, name, description, backend, is_default AS "isDefault", read_iops AS "readIops",
                         write_iops AS "writeIops", read_bps::float8 AS "readBps", write_bps::float8 AS "writeBps",
                         created_at AS "createdAt"
                    FROM volume_types`;

export function volumeTypeRows(m: EntityManager): Promise<VolumeTypeRow[]> {
  return rows<VolumeTypeRow>(m, `${TYPE_SQL} ORDER BY name`);
}

/** A type by id or name; null when there is none. */
export function volumeTypeRow(m: EntityManager, idOrName: string): Promise<VolumeTypeRow | null> {
  return one<VolumeTypeRow>(m, `${TYPE_SQL} WHERE id::text = $1 OR name = $1 ORDER BY (id::text = $1) DESC LIMIT 1`, [
    idOrName,
  ]);
}

/** The type a volume gets when none is asked; null when the admin left none the default. */
export function defaultVolumeType(m: EntityManager): Promise<VolumeTypeRow | null> {
  return one<VolumeTypeRow>(m, `${TYPE_SQL} WHERE is_default`);
}

export type NewVolumeType = Omit<VolumeTypeRow, 'id' | 'createdAt'>;

/** Adds a type; a new default takes the place of the old one. Returns its id. */
export async function insertVolumeType(m: EntityManager, t: NewVolumeType): Promise<string> {
  if (t.isDefault) await m.query('UPDATE volume_types SET is_default = false WHERE is_default');
  const row = await one<{ id: string }>(
    m,
    `INSERT INTO volume_types (name, description, backend, is_default, read_iops, write_iops, read_bps, write_bps)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [t.name, t.description, t.backend, t.isDefault, t.readIops, t.writeIops, t.readBps, t.writeBps],
  );
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return row.id;
}

/** How many volumes are of the type (a type in use cannot be deleted). */
export async function volumesOfType(m: EntityManager, typeId: string): Promise<number> {
  return (await one<{ n: number }>(m, 'SELECT count(*)::int AS n FROM volumes WHERE type_id = $1', [typeId]))?.n ?? 0;
}

export async function deleteVolumeType(m: EntityManager, id: string): Promise<boolean> {
  return (await rows(m, 'DELETE FROM volume_types WHERE id = $1 RETURNING id', [id])).length > 0;
}

/** A volume as its project sees it, with its type and the host that holds it. */
export interface VolumeRow {
  id: string;
  projectId: string;
  name: string;
  description: string;
  sizeGb: number;
  typeId: string;
  typeName: string;
  backend: VolumeBackendName;
  status: VolumeStatus;
  hostId: string | null;
  hostName: string | null;
  zone: string | null;
  fault: Fault | null;
  /** While an extend runs: the size it grows to. */
  pendingSizeGb: number | null;
  /** The instance it is attached to (or being attached to, or detached from), its mount path and serial. */
  instanceId: string | null;
  instanceName: string | null;
  attachPath: string | null;
  serial: string | null;
  /** Deleted when the instance it is attached to is (Nova's delete_on_termination). */
  deleteOnTermination: boolean;
  readIops: number | null;
  writeIops: number | null;
  readBps: number | null;
  writeBps: number | null;
  createdAt: Date;
  updatedAt: Date;
}

const VOLUME_SQL = `
  SELECT v.id, v.project_id AS "projectId", v.name, v.description, v.size_gb AS "sizeGb", v.type_id AS "typeId",
         t.name AS "typeName", v.backend, v.status, v.host_id AS "hostId", h.name AS "hostName", v.zone, v.fault,
         v.pending_size_gb AS "pendingSizeGb", v.instance_id AS "instanceId", i.name AS "instanceName",
         v.attach_path AS "attachPath", v.serial, v.delete_on_termination AS "deleteOnTermination", t.read_iops AS "readIops", t.write_iops AS "writeIops",
         t.read_bps::float8 AS "readBps", t.write_bps::float8 AS "writeBps",
         v.created_at AS "createdAt", v.updated_at AS "updatedAt"
    FROM volumes v JOIN volume_types t ON t.id = v.type_id LEFT JOIN hosts h ON h.id = v.host_id
    LEFT JOIN instances i ON i.id = v.instance_id`;

/** The volumes of `projectId` (null: every project's), oldest first. */
export function volumeRows(m: EntityManager, projectId: string | null): Promise<VolumeRow[]> {
  return rows<VolumeRow>(m, `${VOLUME_SQL} WHERE ($1::uuid IS NULL OR v.project_id = $1) ORDER BY v.created_at, v.id`, [
    projectId,
  ]);
}

/** One volume of `projectId` (null: any project's); with `lock`, its row is locked until the transaction ends. */
export function volumeRow(
  m: EntityManager,
  id: string,
  projectId: string | null,
  lock = false,
): Promise<VolumeRow | null> {
  return one<VolumeRow>(
    m,
    `${VOLUME_SQL} WHERE v.id = $1 AND ($2::uuid IS NULL OR v.project_id = $2)${lock ? ' FOR UPDATE OF v' : ''}`,
    [id, projectId],
  );
}

export interface NewVolume {
  projectId: string;
  userId: string | null;
  name: string;
  description: string;
  sizeGb: number;
  type: VolumeTypeRow;
  zone: string | null;
}

/** Records a volume being created (status creating, on no host yet); returns its id. */
export async function insertVolume(m: EntityManager, v: NewVolume): Promise<string> {
  const row = await one<{ id: string }>(
    m,
    `INSERT INTO volumes (project_id, user_id, name, description, size_gb, type_id, backend, status, zone)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'creating', $8) RETURNING id`,
    [v.projectId, v.userId, v.name, v.description, v.sizeGb, v.type.id, v.type.backend, v.zone],
  );
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return row.id;
}

/**
 * Moves a volume from one of `from` to `to` (a compare-and-swap), setting what `set` names; false when it was in
 * none of them (another request changed it first, or a repeated report). A move clears the fault unless `set` has one.
 */
export async function setVolumeStatus(
  m: EntityManager,
  id: string,
  from: readonly VolumeStatus[],
  to: VolumeStatus,
  set: {
    hostId?: string;
    fault?: Fault | null;
    sizeGb?: number;
    pendingSizeGb?: number | null;
    /** Attached to an instance at a path with a serial (and whether it goes with the instance), or (null) to none. */
    attachment?: { instanceId: string; path: string | null; serial: string; deleteOnTermination?: boolean } | null;
  } = {},
): Promise<boolean> {
  const a = set.attachment;
  const changed = await rows(
    m,
    `UPDATE volumes SET status = $3, fault = $4,
            host_id = CASE WHEN $5::boolean THEN $6::uuid ELSE host_id END,
            size_gb = coalesce($7, size_gb),
            pending_size_gb = CASE WHEN $8::boolean THEN $9::int ELSE pending_size_gb END,
            instance_id = CASE WHEN $10::boolean THEN $11::uuid ELSE instance_id END,
            attach_path = CASE WHEN $10::boolean THEN $12 ELSE attach_path END,
            serial = CASE WHEN $10::boolean THEN $13 ELSE serial END,
            delete_on_termination = CASE WHEN $10::boolean THEN $14 ELSE delete_on_termination END,
            updated_at = now()
      WHERE id = $1 AND status = ANY($2) RETURNING id`,
    [
      id,
      from,
      to,
      set.fault ?? null,
      set.hostId !== undefined,
      set.hostId ?? null,
      set.sizeGb ?? null,
      set.pendingSizeGb !== undefined,
      set.pendingSizeGb ?? null,
      a !== undefined,
      a?.instanceId ?? null,
      a?.path ?? null,
      a?.serial ?? null,
      a?.deleteOnTermination ?? false,
    ],
  );
  return changed.length > 0;
}

/** Removes the volume's row (its allocation goes with it); false when it was already gone. */
export async function deleteVolumeRow(m: EntityManager, id: string): Promise<boolean> {
  return (await rows(m, 'DELETE FROM volumes WHERE id = $1 RETURNING id', [id])).length > 0;
}

/** Every host (or only `hostId`) as a volume's placement sees it: state, backends, disk left after its ratio. */
export function volumeHosts(m: EntityManager, downAfterSec: number, hostId: string | null): Promise<VolumeHost[]> {
  return rows<VolumeHost>(
    m,
    `SELECT id, name, zone, enabled, last_heartbeat_at > now() - make_interval(secs => $1) AS up,
            volume_backends AS backends, (floor(disk_gb * disk_ratio) - used_disk_gb)::int AS "freeDiskGb"
       FROM hosts WHERE $2::uuid IS NULL OR id = $2 ORDER BY name`,
    [downAfterSec, hostId],
  );
}

/** The volumes attached to an instance (in use, or on their way in or out), oldest attachment first. */
export function instanceVolumes(m: EntityManager, instanceId: string): Promise<VolumeRow[]> {
  return rows<VolumeRow>(m, `${VOLUME_SQL} WHERE v.instance_id = $1 ORDER BY v.updated_at, v.id`, [instanceId]);
}

/**
 * Lets go of every volume attached to the instance (it was deleted): each is available again with its data, but
 * those that were to go with it, which are `deleting` now; returns those, for their hosts to remove.
 */
export async function releaseInstanceVolumes(m: EntityManager, instanceId: string): Promise<VolumeRow[]> {
  const released = await rows<{ id: string; status: VolumeStatus }>(
    m,
    `UPDATE volumes SET status = CASE WHEN delete_on_termination THEN 'deleting' ELSE 'available' END,
            instance_id = NULL, attach_path = NULL, serial = NULL, delete_on_termination = false, fault = NULL,
            updated_at = now()
      WHERE instance_id = $1
      RETURNING id, status`,
    [instanceId],
  );
  const ids = released.filter((v) => v.status === 'deleting').map((v) => v.id);
  return ids.length === 0 ? [] : rows<VolumeRow>(m, `${VOLUME_SQL} WHERE v.id = ANY ($1::uuid[]) ORDER BY v.id`, [ids]);
}

/** The instance's delete takes its volumes with it: each attached to it is deleted once the instance is. */
export async function deleteVolumesWithInstance(m: EntityManager, instanceId: string): Promise<void> {
  await m.query('UPDATE volumes SET delete_on_termination = true WHERE instance_id = $1', [instanceId]);
}

/** The end of a build with volumes: those reserved for it (`attaching`) are in use, or (it failed) available again. */
export async function settleBuildVolumes(m: EntityManager, instanceId: string, built: boolean): Promise<void> {
  await m.query(
    built
      ? `UPDATE volumes SET status = 'in-use', fault = NULL, updated_at = now() WHERE instance_id = $1 AND status = 'attaching'`
      : `UPDATE volumes SET status = 'available', instance_id = NULL, attach_path = NULL, serial = NULL, updated_at = now()
          WHERE instance_id = $1 AND status = 'attaching'`,
    [instanceId],
  );
}

/**
 * A host's agent started holding the volumes `held`: each volume recorded on the host, at rest (available or in use),
 * whose file the host no longer holds is `error`, with the fault saying so (its record and any attachment kept for
 * the admin to look at); what the host holds that no record of it names is kept on the host, listed as the host's
 * strays. Volumes with a command in flight are left to their command. Returns both lists.
 */
export async function reconcileHostVolumes(
  m: EntityManager,
  hostId: string,
  held: readonly string[],
  at: string,
): Promise<{ missing: string[]; strays: string[] }> {
  const fault: Fault = {
    step: 'reconcile',
    message: "its host no longer holds the volume's data (found missing as the host's agent started)",
    at,
  };
  const missing = await rows<{ id: string }>(
    m,
    `UPDATE volumes SET status = 'error', fault = $3, updated_at = now()
      WHERE host_id = $1 AND status IN ('available', 'in-use') AND NOT (id::text = ANY ($2::text[]))
      RETURNING id`,
    [hostId, held, JSON.stringify(fault)],
  );
  const strays = await rows<{ id: string }>(
    m,
    `SELECT h.id FROM unnest($2::text[]) AS h(id)
      WHERE NOT EXISTS (SELECT 1 FROM volumes v WHERE v.host_id = $1 AND v.id::text = h.id)
      ORDER BY h.id`,
    [hostId, held],
  );
  await m.query('UPDATE hosts SET stray_volumes = $2 WHERE id = $1', [hostId, strays.map((s) => s.id)]);
  return { missing: missing.map((v) => v.id), strays: strays.map((s) => s.id) };
}

/**
 * A cold move of the instance ended on `targetHostId` (its source let go of its copies): its volumes are recorded
 * there, and so is each one's claim on disk, which the instance's claim on the target held while it moved (so the
 * target's use is unchanged and the source's drops by their size).
 */
export async function moveInstanceVolumes(
  m: EntityManager,
  instanceId: string,
  sourceHostId: string,
  targetHostId: string,
): Promise<string[]> {
  const moved = await rows<{ id: string; sizeGb: number }>(
    m,
    `UPDATE volumes SET host_id = $3, updated_at = now()
      WHERE instance_id = $1 AND host_id = $2 RETURNING id, size_gb AS "sizeGb"`,
    [instanceId, sourceHostId, targetHostId],
  );
  if (moved.length === 0) return [];
  const ids = moved.map((v) => v.id);
  const gb = moved.reduce((sum, v) => sum + v.sizeGb, 0);
  await m.query('UPDATE allocations SET host_id = $2 WHERE volume_id = ANY ($1::uuid[])', [ids, targetHostId]);
  await m.query('UPDATE hosts SET used_disk_gb = used_disk_gb - $2 WHERE id = $1', [sourceHostId, gb]);
  await m.query('UPDATE allocations SET disk_gb = disk_gb - $3 WHERE instance_id = $1 AND host_id = $2', [
    instanceId,
    targetHostId,
    gb,
  ]);
  return ids;
}
