import type { ComputeCommandType, PowerState } from '@berth/contracts';

/**
 * The instance state machine, in one place as Nova keeps vm_states and task_states.
 * `status` is what users see; `taskState` names the operation in flight (null when idle);
 * `powerState` is what the hypervisor last reported. A transition is a compare-and-swap on the row:
 * the API asks `beginAction` and writes only if the row still holds the state it checked.
 */
export const INSTANCE_STATUSES = [
  'BUILDING',
  'ACTIVE',
  'SHUTOFF',
  'MIGRATING',
  'VERIFY_MIGRATION',
  'ERROR',
  'DELETED',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/** An idle instance's status follows the power state its hypervisor last reported. */
export function statusFollowingPower(power: PowerState): InstanceStatus {
  return power === 'RUNNING' ? 'ACTIVE' : 'SHUTOFF';
}

export const TASK_STATES = [
  'scheduling',
  'spawning',
  'powering-off',
  'powering-on',
  'rebooting',
  'resizing',
  'image-snapshot',
  'migrating',
  'confirming',
  'reverting',
  'deleting',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** What the power sync does with an instance it finds stopped outside Berth: leave it SHUTOFF, or start it again. */
export const RESTART_POLICIES = ['never', 'always'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/** Actions a user asks for on an existing instance. */
export const POWER_ACTIONS = ['stop', 'start', 'reboot'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];
/** Live changes of size or throttles on the instance's host (a cold resize comes with migration). */
export const LIMIT_ACTIONS = ['resize', 'set-limits'] as const;
export type LimitAction = (typeof LIMIT_ACTIONS)[number];
export type InstanceAction = PowerAction | LimitAction | 'delete' | 'snapshot';

interface ActionRule {
  from: readonly InstanceStatus[];
  taskState: TaskState;
  command: ComputeCommandType;
  /** Delete may interrupt any task, as in Nova; the agent serialises commands per instance. */
  interruptsTask: boolean;
}

export const ACTION_RULES: Readonly<Record<InstanceAction, ActionRule>> = {
  stop: { from: ['ACTIVE'], taskState: 'powering-off', command: 'instance.stop', interruptsTask: false },
  start: { from: ['SHUTOFF'], taskState: 'powering-on', command: 'instance.start', interruptsTask: false },
  reboot: { from: ['ACTIVE'], taskState: 'rebooting', command: 'instance.reboot', interruptsTask: false },
  resize: { from: ['ACTIVE', 'SHUTOFF'], taskState: 'resizing', command: 'instance.set-limits', interruptsTask: false },
  'set-limits': {
    from: ['ACTIVE', 'SHUTOFF'],
    taskState: 'resizing',
    command: 'instance.set-limits',
    interruptsTask: false,
  },
  // Nova's image_snapshot: a container is committed (paused for it), a VM's disk copied (the guest paused for it).
  snapshot: {
    from: ['ACTIVE', 'SHUTOFF'],
    taskState: 'image-snapshot',
    command: 'instance.snapshot',
    interruptsTask: false,
  },
  delete: {
    // A migration holds the instance on two hosts: it ends (confirm or revert) before a delete.
    from: INSTANCE_STATUSES.filter((s) => s !== 'DELETED' && s !== 'MIGRATING' && s !== 'VERIFY_MIGRATION'),
    taskState: 'deleting',
    command: 'instance.delete',
    interruptsTask: true,
  },
};

export type ActionCheck = { ok: true; taskState: TaskState } | { ok: false; reason: string };

export function beginAction(
  current: { status: InstanceStatus; taskState: TaskState | null },
  action: InstanceAction,
): ActionCheck {
  const rule = ACTION_RULES[action];
  if (current.taskState === 'deleting') return { ok: false, reason: 'the instance is being deleted' };
  if (current.taskState !== null && !rule.interruptsTask) {
    return { ok: false, reason: `cannot ${action} while the instance is ${current.taskState}` };
  }
  if (action === 'delete' && (current.status === 'MIGRATING' || current.status === 'VERIFY_MIGRATION')) {
    return { ok: false, reason: 'the instance is being migrated: confirm or revert the migration first' };
  }
  if (!rule.from.includes(current.status)) {
    return { ok: false, reason: `cannot ${action} an instance in status ${current.status}` };
  }
  return { ok: true, taskState: rule.taskState };
}

/** The task state a host command runs under; a report for that command applies only while it holds. */
export const TASK_OF_COMMAND: Readonly<Record<ComputeCommandType, TaskState>> = {
  'instance.create': 'spawning',
  'instance.start': 'powering-on',
  'instance.stop': 'powering-off',
  'instance.reboot': 'rebooting',
  'instance.delete': 'deleting',
  'instance.set-limits': 'resizing',
  'instance.snapshot': 'image-snapshot',
};

export interface Settlement {
  expectedTask: TaskState;
  status: InstanceStatus;
  powerState: PowerState;
}

/**
 * Where an instance lands when its host reports the outcome of a command. A failed build or delete
 * is ERROR; a failed power action leaves the status that matches what the hypervisor now reports.
 */
export function settle(command: ComputeCommandType, succeeded: boolean, powerState: PowerState): Settlement {
  const expectedTask = TASK_OF_COMMAND[command];
  if (succeeded) {
    switch (command) {
      case 'instance.create':
      case 'instance.start':
      case 'instance.reboot':
        return { expectedTask, status: 'ACTIVE', powerState };
      case 'instance.stop':
        return { expectedTask, status: 'SHUTOFF', powerState };
      case 'instance.delete':
        return { expectedTask, status: 'DELETED', powerState: 'NOSTATE' };
      case 'instance.set-limits':
      case 'instance.snapshot':
        return { expectedTask, status: statusFromPower(powerState), powerState };
    }
  }
  switch (command) {
    case 'instance.create':
    case 'instance.delete':
      return { expectedTask, status: 'ERROR', powerState };
    case 'instance.start':
    case 'instance.stop':
    case 'instance.reboot':
    case 'instance.set-limits':
    case 'instance.snapshot':
      return { expectedTask, status: statusFromPower(powerState), powerState };
  }
}

function statusFromPower(powerState: PowerState): InstanceStatus {
  switch (powerState) {
    case 'RUNNING':
      return 'ACTIVE';
    case 'SHUTDOWN':
      return 'SHUTOFF';
    case 'NOSTATE':
    case 'CRASHED':
    case 'PAUSED':
      return 'ERROR';
  }
}

/** What the power-state sync makes of an idle instance, given what its host now reports. */
export interface PowerSync {
  status: InstanceStatus;
  powerState: PowerState;
  /** Set when the instance moves to ERROR because its workload is gone. */
  fault?: { step: 'sync'; message: string };
}

/**
 * The periodic power-state sync (Nova's _sync_power_states): the record follows the hypervisor for an
 * idle instance. A guest that shut itself down (or crashed) is SHUTOFF, so it can be started again;
 * a workload gone from its host is ERROR with a fault. An instance recorded SHUTOFF but found
 * running keeps its status: the record holds the owner's intent, and power_state shows the
 * difference until someone stops it. `reported` is undefined when the host no longer has it.
 * Returns null when nothing changes.
 */
export function syncPowerState(
  current: { status: InstanceStatus; powerState: PowerState },
  reported: PowerState | undefined,
): PowerSync | null {
  if (reported === undefined || reported === 'NOSTATE') {
    if (current.status === 'ERROR') {
      return current.powerState === 'NOSTATE' ? null : { status: 'ERROR', powerState: 'NOSTATE' };
    }
    if (current.status !== 'ACTIVE' && current.status !== 'SHUTOFF') return null;
    return {
      status: 'ERROR',
      powerState: 'NOSTATE',
      fault: { step: 'sync', message: 'the instance is gone from its host: it was removed outside Berth' },
    };
  }
  const stopped = reported === 'SHUTDOWN' || reported === 'CRASHED';
  const status = current.status === 'ACTIVE' && stopped ? 'SHUTOFF' : current.status;
  if (status === current.status && reported === current.powerState) return null;
  return { status, powerState: reported };
}
