import type { AgentReport, MigrationKind } from '@berth/contracts';
import { BerthError, beginMigrationAction, type MigrationCheck } from '@berth/domain';
import {
  addPendingSteps,
  disableHost,
  finishOperation,
  finishPart,
  hostLiveness,
  insertOperation,
  lockEvacuatedFrom,
  lockHost,
  lockInstancesOnHost,
  recordStep,
  releaseAllocations,
  setMigrationStatus,
  setTaskState,
  type Actor,
  type InstanceRecord,
} from '@berth/data';
import type { DataSource } from 'typeorm';
import { lacking } from '../instances/capabilities';
import { heldByVolumes, startMigration } from './start';
import { partOf, sendStep } from './steps';

/**
 * API: evacuates a host that is down (no heartbeat for `downAfterSec`): every instance on it is rebuilt elsewhere
 * from its image with the same identity (id, port, MAC, address, VLAN, limits); what it had written to its own disk
 * is lost, and the record says so. The old host's claim stays until it is back and has removed its stale copies
 * (cleanupEvacuated). Refused while the host is up.
 */
export async function evacuateHost(
  dataSource: DataSource,
  hostId: string,
  actor: Actor,
  downAfterSec: number,
): Promise<string> {
  const host = await hostLiveness(dataSource.manager, hostId, downAfterSec);
  if (!host) throw BerthError.notFound('host', hostId);
  if (host.up) {
    throw BerthError.conflict(
      `host ${host.name} is up: evacuate only a host that is down (and fenced); migrate or drain instead`,
      'host',
      'down',
    );
  }
  return moveAllOff(dataSource, hostId, actor, 'evacuation');
}

/**
 * Drains (kind migration) or evacuates a host. It leaves scheduling at once, and every instance that can move is
 * moved off it and confirmed without waiting (one migration each, a step each in the parent operation); those that
 * cannot move are failed steps saying why. The parent operation ends when the last move does.
 */
export function moveAllOff(dataSource: DataSource, hostId: string, actor: Actor, kind: MigrationKind): Promise<string> {
  return dataSource.transaction(async (m) => {
    const host = await lockHost(m, hostId);
    if (!host) throw BerthError.notFound('host', hostId);
    await disableHost(m, hostId, kind === 'evacuation' ? 'evacuated' : 'draining');
    const action = kind === 'evacuation' ? 'host.evacuate' : 'host.drain';
    const parentId = await insertOperation(m, actor, { action, targetType: 'host', targetId: hostId });
    const at = new Date().toISOString();
    const held = await lockInstancesOnHost(m, hostId);
    if (held.length === 0) {
      await recordStep(m, parentId, 'disable', at, `host ${host.name} takes no new instances; it holds none`);
      await finishOperation(m, parentId, null);
      return parentId;
    }
    await addPendingSteps(
      m,
      parentId,
      held.map((i) => partOf(kind, i.id)),
      at,
    );
    for (const instance of held) {
      const movable = movableOff(instance, kind);
      if (!movable.ok) {
        const detail = `${instance.name}: ${movable.reason}`;
        await finishPart(m, parentId, partOf(kind, instance.id), { ok: false, detail, at });
        continue;
      }
      const operationId = await insertOperation(
        m,
        { ...actor, projectId: instance.projectId },
        {
          action: `instance.${kind === 'evacuation' ? 'evacuate' : 'migrate'}`,
          targetType: 'instance',
          targetId: instance.id,
        },
      );
      await startMigration(m, instance, operationId, { host: null, parent: { id: parentId, kind } });
      await setTaskState(m, instance.id, movable.taskState);
    }
    return parentId;
  });
}

/** An evacuation also rebuilds what was in ERROR on the dead host, as Nova does. */
function movableOff(instance: InstanceRecord, kind: MigrationKind): MigrationCheck {
  // Its volumes live on the dead host's storage: an instance holding them is not rebuilt elsewhere (a drain moves them).
  const pinned = kind === 'evacuation' ? heldByVolumes(instance) : null;
  if (pinned) return { ok: false, reason: pinned };
  if (kind === 'evacuation' && instance.status === 'ERROR' && instance.taskState === null) {
    return { ok: true, taskState: 'migrating' };
  }
  // A drain moves a stopped copy, which the host's driver must be able to make; an evacuation rebuilds elsewhere.
  const cannot = kind === 'migration' ? lacking(instance, 'cold-migrate') : null;
  return cannot ? { ok: false, reason: cannot } : beginMigrationAction(instance, 'migrate');
}

/**
 * Scheduler, on a host's power sync: evacuations from that host whose stale copy it still lists are cleaned there
 * (migration.drop); those it no longer holds only give back the host's claim.
 */
export function cleanupEvacuated(
  dataSource: DataSource,
  report: Extract<AgentReport, { type: 'host.power-states' }>,
): Promise<number> {
  const listed = new Set([...report.instances.map((i) => i.instanceId), ...report.busy]);
  return dataSource.transaction(async (m) => {
    const due = await lockEvacuatedFrom(m, report.host);
    for (const mig of due) {
      if (listed.has(mig.instanceId)) {
        await setMigrationStatus(m, mig.id, 'cleaning');
        await sendStep(m, { ...mig, status: 'cleaning' }, mig.operationId, 'migration.drop', 'source');
      } else if ((report.kinds as string[]).includes(mig.instanceKind)) {
        await setMigrationStatus(m, mig.id, 'confirmed');
        await releaseAllocations(m, { migrationId: mig.id });
      }
    }
    return due.length;
  });
}
