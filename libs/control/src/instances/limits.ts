import { computeQueue, jobId } from '@berth/contracts';
import {
  applyThrottleChanges,
  beginAction,
  BerthError,
  flavorThrottles,
  free,
  keptCpus,
  planResize,
  quotaExcesses,
  resourcesOf,
  shortfalls,
  type LimitAction,
  type QuotaSet,
  type Resources,
  type ThrottleChanges,
} from '@berth/domain';
import {
  enqueue,
  growAllocation,
  insertOperation,
  loadHostState,
  lockProjectQuota,
  setPendingResize,
  type Actor,
  type FlavorSize,
  type FlavorSpec,
  type InstanceRecord,
  type PendingResize,
} from '@berth/data';
import type { DataSource, EntityManager } from 'typeorm';
import { startMigration } from '../moves/start';
import { requireCapability } from './capabilities';
import { limitsCommandOf } from '../specs/instance-spec';
import { lockLiveInstance, taskOrConflict } from './begin';

/** A live change of an instance's size (resize, to a flavor) or of its throttles (set-limits). */
export interface LimitsChange {
  action: LimitAction;
  /** The new flavor of a resize; the instance's throttles then start from the flavor's. */
  flavor: FlavorSpec | null;
  /** Throttles to change, as the request gave them (checked here). */
  changes: ThrottleChanges;
  /** A project member's change must stay within the flavor's bounds; an admin's need not. */
  bounded: boolean;
  defaultPidsLimit: number;
  /** A resize the host lacks room for moves the instance to a host with room (cold: it restarts). */
  allowMove?: boolean;
  /**
   * Nova's resize: the new size applies and awaits verification (VERIFY_MIGRATION) with the old one still held,
   * until a confirm gives the old one back or a revert returns to it.
   */
  verify?: boolean;
}

export interface LimitsSettings {
  /** Quota limits of a project that has not set its own. */
  quotaDefaults: QuotaSet;
  /** A host silent this long is down: live changes wait for it to come back. */
  downAfterSec: number;
}

/**
 * Starts a live resize or limits change, in one transaction: checks the change, claims the growth on the
 * instance's host (409 with what is short when the host lacks room or is down), records the target, and sends the
 * host its command. The claim holds the larger of the two sizes until the host reports; then the shrink (on
 * success) or the growth (on failure) is given back. A resize the host has no room for may move instead (allowMove).
 */
export function requestLimits(
  dataSource: DataSource,
  settings: LimitsSettings,
  id: string,
  projectId: string | null,
  change: LimitsChange,
  actor: Actor,
): Promise<string> {
  return dataSource.transaction(async (m) => {
    const instance = await lockLiveInstance(m, id, projectId);
    const taskState = taskOrConflict(beginAction(instance, change.action));
    if (!instance.hostId || !instance.hostName) {
      throw BerthError.conflict(`instance ${id} has no host to apply limits on`, 'action', 'state');
    }
    requireCapability(instance, 'live-resize');
    const to = targetSize(instance, change);
    const plan = planResize(
      resourcesOf({ ...instance, pidsLimit: instance.throttles.pidsLimit }),
      resourcesOf({ ...to, kind: instance.kind, pidsLimit: to.throttles.pidsLimit }),
    );
    const { limits, usage } = await lockProjectQuota(m, instance.projectId, settings.quotaDefaults);
    const excesses = quotaExcesses(limits, usage, {
      vcpus: plan.grow.vcpus + plan.grow.pcpus,
      ramMb: plan.grow.ramMb,
      diskGb: plan.grow.diskGb,
    });
    if (excesses.length > 0) throw BerthError.quotaExceeded(excesses);
    const claimed = await growAllocation(m, id, instance.hostId, plan.grow, settings.downAfterSec);
    if (!claimed) return moveOrRefuse(m, settings, instance, change, to, plan.grow, actor);
    const pinnedCpus = [...keptCpus(instance.pinnedCpus, to.cpuPolicy === 'dedicated', to.vcpus), ...claimed];
    const pending: PendingResize = {
      to: { ...to, pinnedCpus },
      grow: plan.grow,
      shrink: plan.shrink,
      claimedCpus: claimed,
      releasedCpus: instance.pinnedCpus.filter((c) => !pinnedCpus.includes(c)),
      ...(change.verify ? { verify: true } : {}),
    };
    await setPendingResize(m, id, taskState, pending);
    const operationId = await insertOperation(
      m,
      { ...actor, projectId: instance.projectId },
      { action: `instance.${change.action}`, targetType: 'instance', targetId: id },
    );
    const command = limitsCommandOf(instance, pending.to, operationId);
    await enqueue(m, {
      queue: computeQueue(instance.hostName),
      name: command.type,
      jobId: jobId(operationId, change.action),
      payload: command,
    });
    return operationId;
  });
}

/** The size the change asks for: a resize's flavor (its throttles from the flavor's) or the instance's own. */
function targetSize(instance: InstanceRecord, change: LimitsChange): FlavorSize {
  const flavor = change.flavor;
  const base = flavor ? flavorThrottles(flavor.throttles, change.defaultPidsLimit) : instance.throttles;
  const bounds = flavor ? flavor.limitBounds : instance.limitBounds;
  const throttles = applyThrottleChanges(base, change.changes, change.bounded ? bounds : null);
  if (!throttles.ok) throw BerthError.invalid(throttles.errors);
  const to: FlavorSize = {
    flavorId: flavor ? flavor.id : instance.flavorId,
    flavorName: flavor ? flavor.name : instance.flavorName,
    vcpus: flavor ? flavor.vcpus : instance.vcpus,
    ramMb: flavor ? flavor.ramMb : instance.ramMb,
    diskGb: flavor ? flavor.diskGb : instance.diskGb,
    cpuPolicy: flavor ? flavor.cpuPolicy : instance.cpuPolicy,
    throttles: throttles.value,
    limitBounds: bounds,
  };
  if (to.diskGb < instance.diskGb) {
    throw BerthError.invalid([
      {
        field: 'flavor',
        rule: 'disk',
        message: `flavor ${to.flavorName} has ${to.diskGb} GB of disk; a disk never shrinks (now ${instance.diskGb} GB)`,
      },
    ]);
  }
  return to;
}

/**
 * The host lacks room for the growth (or is down). A resize with allowMove becomes a cold resize: the same path as a
 * migration, claiming the new size on a host with room. Anything else is a 409 that says what is short.
 */
async function moveOrRefuse(
  m: EntityManager,
  settings: LimitsSettings,
  instance: InstanceRecord,
  change: LimitsChange,
  to: FlavorSize,
  grow: Resources,
  actor: Actor,
): Promise<string> {
  const host = await loadHostState(m, settings.downAfterSec, instance.hostId ?? '');
  const hostName = instance.hostName ?? '?';
  if (!host?.up) {
    throw BerthError.conflict(`host ${hostName} is down; limits can change once it is back`, 'action', 'host');
  }
  if (!change.allowMove || change.action !== 'resize') {
    const short = shortfalls(free(host), grow);
    throw BerthError.conflict(
      `host ${hostName} lacks room to apply this live: it needs ${short.join(', ')}. ` +
        'Nothing changed; a smaller size fits, or resize with allowMove to move it to a host with room (it restarts)',
      'action',
      'capacity',
    );
  }
  requireCapability(instance, 'cold-migrate');
  const operationId = await insertOperation(
    m,
    { ...actor, projectId: instance.projectId },
    { action: 'instance.resize', targetType: 'instance', targetId: instance.id },
  );
  await startMigration(m, instance, operationId, {
    host: null,
    resize: { to, previous: sizeOf(instance) },
    ...(change.verify ? { verify: true } : {}),
  });
  return operationId;
}

/** The instance's size as a flavor gives it (what a resize keeps to undo). */
export function sizeOf(i: InstanceRecord): FlavorSize {
  return {
    flavorId: i.flavorId,
    flavorName: i.flavorName,
    vcpus: i.vcpus,
    ramMb: i.ramMb,
    diskGb: i.diskGb,
    cpuPolicy: i.cpuPolicy,
    throttles: i.throttles,
    limitBounds: i.limitBounds,
  };
}
