import { BerthError, type QuotaSet } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

interface ProjectQuotaRow {
  quotaInstances: number | null;
  quotaVcpus: number | null;
  quotaRamMb: number | null;
  quotaDiskGb: number | null;
  quotaIps: number | null;
  quotaVolumes: number | null;
  quotaVolumeGb: number | null;
}

const QUOTA_COLUMNS = `quota_instances AS "quotaInstances", quota_vcpus AS "quotaVcpus", quota_ram_mb AS "quotaRamMb",
                       quota_disk_gb AS "quotaDiskGb", quota_ips AS "quotaIps", quota_volumes AS "quotaVolumes",
                       quota_volume_gb AS "quotaVolumeGb"`;

/** A project's limits: its own where set, the configured default otherwise. */
export function limitsOf(row: ProjectQuotaRow, defaults: QuotaSet): QuotaSet {
  return {
    instances: row.quotaInstances ?? defaults.instances,
    vcpus: row.quotaVcpus ?? defaults.vcpus,
    ramMb: row.quotaRamMb ?? defaults.ramMb,
    diskGb: row.quotaDiskGb ?? defaults.diskGb,
    ips: row.quotaIps ?? defaults.ips,
    volumes: row.quotaVolumes ?? defaults.volumes,
    volumeGb: row.quotaVolumeGb ?? defaults.volumeGb,
  };
}

/**
 * What a project holds, counted from the rows themselves: live instances, their ports and volumes. An
 * instance being resized counts at the larger of its two sizes until its host has applied the change, and so does a
 * volume being extended.
 */
export async function projectUsage(m: EntityManager, projectId: string): Promise<QuotaSet> {
  const usage = await one<QuotaSet>(
    m,
    `SELECT count(*)::int AS instances, coalesce(sum(greatest(i.vcpus, (i.pending_resize->'to'->>'vcpus')::int)), 0)::int AS vcpus,
            coalesce(sum(greatest(i.ram_mb, (i.pending_resize->'to'->>'ramMb')::int)), 0)::int AS "ramMb",
            coalesce(sum(greatest(i.disk_gb, (i.pending_resize->'to'->>'diskGb')::int)), 0)::int AS "diskGb",
            count(p.id)::int AS ips,
            (SELECT count(*) FROM volumes v WHERE v.project_id = $1)::int AS volumes,
            (SELECT coalesce(sum(greatest(v.size_gb, v.pending_size_gb)), 0) FROM volumes v WHERE v.project_id = $1)::int
              AS "volumeGb"
       FROM instances i LEFT JOIN ports p ON p.instance_id = i.id
      WHERE i.project_id = $1 AND i.deleted_at IS NULL`,
    [projectId],
  );
  if (!usage) throw new Error('an aggregate query returned no row');
  return usage;
}

/** Limits and usage of a project, without locking. Null when the project does not exist. */
export async function projectQuota(
  m: EntityManager,
  projectId: string,
  defaults: QuotaSet,
): Promise<{ limits: QuotaSet; usage: QuotaSet } | null> {
  const row = await one<ProjectQuotaRow>(m, `SELECT ${QUOTA_COLUMNS} FROM projects WHERE id = $1`, [projectId]);
  return row ? { limits: limitsOf(row, defaults), usage: await projectUsage(m, projectId) } : null;
}

/**
 * Locks the project row, then reads its limits and usage. Every transaction that adds to a project's
 * usage takes this lock first, so parallel requests are checked one after another and can never
 * pass a limit together.
 */
export async function lockProjectQuota(
  m: EntityManager,
  projectId: string,
  defaults: QuotaSet,
): Promise<{ limits: QuotaSet; usage: QuotaSet }> {
  const row = await one<ProjectQuotaRow>(m, `SELECT ${QUOTA_COLUMNS} FROM projects WHERE id = $1 FOR UPDATE`, [
    projectId,
  ]);
  if (!row) throw BerthError.notFound('project', projectId, 'project');
  return { limits: limitsOf(row, defaults), usage: await projectUsage(m, projectId) };
}

/** A project's own limits that a change sets (the others stay); -1: unlimited. */
export type QuotaChange = Partial<QuotaSet>;

const QUOTA_COLUMN: Record<keyof QuotaSet, string> = {
  instances: 'quota_instances',
  vcpus: 'quota_vcpus',
  ramMb: 'quota_ram_mb',
  diskGb: 'quota_disk_gb',
  ips: 'quota_ips',
  volumes: 'quota_volumes',
  volumeGb: 'quota_volume_gb',
};

/** Sets the project's own limits named in `change`; false when the project does not exist. */
export async function setProjectQuota(m: EntityManager, projectId: string, change: QuotaChange): Promise<boolean> {
  const keys = (Object.keys(QUOTA_COLUMN) as Array<keyof QuotaSet>).filter((k) => change[k] !== undefined);
  const set = keys.map((k, i) => `${QUOTA_COLUMN[k]} = $${i + 2}`).join(', ');
  const updated = await rows<{ id: string }>(m, `UPDATE projects SET ${set} WHERE id = $1 RETURNING id`, [
    projectId,
    ...keys.map((k) => change[k]),
  ]);
  return updated.length > 0;
}

/** Every project's id and name, by name. */
export function projectNames(m: EntityManager): Promise<Array<{ id: string; name: string }>> {
  return rows(m, 'SELECT id, name FROM projects ORDER BY name');
}
