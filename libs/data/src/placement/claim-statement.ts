import { CONTRACT_VERSION, computeQueue, jobId, type ComputeCommand, type InstanceSpec } from '@berth/contracts';
import type { Resources } from '@berth/domain';
import { withRequestId } from '@berth/platform';
import type { Pool } from 'pg';
import type { EntityManager } from 'typeorm';
import { fitsPidsSql, freeCpusSql, pinCpusSql, pinnedNowSql, type HostLimits } from './allocations';
import { one } from '../sql';

export type ClaimResult = 'claimed' | 'host-full' | 'gone';

export interface BuildClaim {
  instanceId: string;
  operationId: string;
  host: { id: string; name: string };
  /** Hosts to rebuild on, in order, if this build fails. */
  alternates: string[];
  resources: Resources;
  reservationId: string | null;
}

/**
 * One build claim as one SQL statement, whose data-modifying parts commit together or not at all:
 * lock the instance if it still waits for a host; claim the room on the host with a conditional
 * UPDATE (enabled, up, below its instance limit, fits after ratios and in its pids, takes its dedicated CPUs); then,
 * only if both held, the allocation, the instance on its host with its pinned CPUs, the operation's
 * step and the build command in the outbox (with the pinned CPUs written into its spec).
 * Alone it needs no transaction (one round trip); inside one it joins it.
 */
const CLAIM_SQL = `
  WITH inst AS (
    SELECT id FROM instances WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling' FOR UPDATE
  ), host AS (
    UPDATE hosts SET used_vcpus = used_vcpus + $3, used_pcpus = used_pcpus + $15::int, used_ram_mb = used_ram_mb + $4,
                     used_disk_gb = used_disk_gb + $5, used_pids = used_pids + $16, used_instances = used_instances + 1,
                     ${pinCpusSql('$15::int')}
     WHERE id = $2 AND EXISTS (SELECT 1 FROM inst) AND enabled
       AND last_heartbeat_at > now() - make_interval(secs => $7) AND used_instances < $6
       AND used_vcpus + $3 <= floor(vcpus * cpu_ratio) AND ${freeCpusSql('$15::int')}
       AND used_ram_mb + $4 <= floor(ram_mb * ram_ratio) AND used_disk_gb + $5 <= floor(disk_gb * disk_ratio)
       AND ${fitsPidsSql('$16')}
    RETURNING id, ${pinnedNowSql('$15::int')}
  ), alloc AS (
    INSERT INTO allocations (instance_id, host_id, vcpus, pcpus, ram_mb, disk_gb, pids, pinned_cpus)
    SELECT $1, id, $3, $15, $4, $5, $16, pinned FROM host RETURNING id
  ), moved AS (
    UPDATE instances SET host_id = $2, task_state = 'spawning', alternates = $8, updated_at = now(),
                         pinned_cpus = (SELECT pinned FROM host)
     WHERE id = $1 AND EXISTS (SELECT 1 FROM host) RETURNING id
  ), step AS (
    UPDATE operations SET steps = steps || $9::jsonb, updated_at = now()
     WHERE id = $10 AND status = 'running' AND EXISTS (SELECT 1 FROM moved) RETURNING id
  ), box AS (
    INSERT INTO outbox (queue, job_name, job_id, payload)
    SELECT $11, $12, $13, jsonb_set($14::jsonb, '{instance,limits,pinnedCpus}', to_jsonb(host.pinned))
      FROM moved, host RETURNING id
  )
  SELECT (SELECT count(*) FROM inst)::int AS waiting, (SELECT count(*) FROM host)::int AS claimed,
         (SELECT count(*) FROM alloc)::int + (SELECT count(*) FROM step)::int + (SELECT count(*) FROM box)::int AS written`;

function claimParams(c: BuildClaim, spec: InstanceSpec, limits: HostLimits): unknown[] {
  const command: ComputeCommand = {
    v: CONTRACT_VERSION,
    type: 'instance.create',
    operationId: c.operationId,
    instance: spec,
  };
  const step = [
    { name: 'schedule', status: 'running', startedAt: new Date().toISOString(), detail: `host ${c.host.name}` },
  ];
  return [
    c.instanceId,
    c.host.id,
    c.resources.vcpus,
    c.resources.ramMb,
    c.resources.diskGb,
    limits.maxInstancesPerHost,
    limits.downAfterSec,
    c.alternates,
    JSON.stringify(step),
    c.operationId,
    computeQueue(c.host.name),
    command.type,
    jobId(c.operationId, `create-${c.host.name}`),
    JSON.stringify(withRequestId(command)),
    c.resources.pcpus,
    c.resources.pids,
  ];
}

function outcome(result: { waiting: number; claimed: number } | null | undefined): ClaimResult {
  if (!result || result.waiting === 0) return 'gone';
  return result.claimed === 0 ? 'host-full' : 'claimed';
}

/** The claim within a transaction (or on its own) through TypeORM. */
export async function claimBuild(
  manager: EntityManager,
  c: BuildClaim,
  spec: InstanceSpec,
  limits: HostLimits,
): Promise<ClaimResult> {
  return outcome(await one<{ waiting: number; claimed: number }>(manager, CLAIM_SQL, claimParams(c, spec, limits)));
}

/**
 * The claim on its own, as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of at every decision (measured: parse and bind were two thirds of its cost).
 */
export async function claimBuildPrepared(
  pool: Pool,
  c: BuildClaim,
  spec: InstanceSpec,
  limits: HostLimits,
): Promise<ClaimResult> {
  const result = await pool.query<{ waiting: number; claimed: number }>({
    name: 'berth-claim-build',
    text: CLAIM_SQL,
    values: claimParams(c, spec, limits),
  });
  return outcome(result.rows[0]);
}
