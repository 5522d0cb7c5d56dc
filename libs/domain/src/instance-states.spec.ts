import {
  beginAction,
  INSTANCE_STATUSES,
  settle,
  statusFollowingPower,
  syncPowerState,
  type InstanceStatus,
} from './instance-states';

describe('beginAction', () => {
  const idle = (status: InstanceStatus) => ({ status, taskState: null });

  it.each([
    ['stop', 'ACTIVE', 'powering-off'],
    ['start', 'SHUTOFF', 'powering-on'],
    ['reboot', 'ACTIVE', 'rebooting'],
    ['delete', 'ERROR', 'deleting'],
    ['delete', 'BUILDING', 'deleting'],
  ] as const)('%s from %s sets task %s', (action, status, task) => {
    expect(beginAction(idle(status), action)).toEqual({ ok: true, taskState: task });
  });

  it.each([
    ['stop', 'SHUTOFF'],
    ['start', 'ACTIVE'],
    ['reboot', 'SHUTOFF'],
    ['reboot', 'ERROR'],
    ['delete', 'DELETED'],
  ] as const)('%s from %s conflicts', (action, status) => {
    expect(beginAction(idle(status), action).ok).toBe(false);
  });

  it('refuses a power action while another task runs, but lets delete interrupt it', () => {
    const busy = { status: 'ACTIVE' as const, taskState: 'rebooting' as const };
    expect(beginAction(busy, 'stop')).toEqual({ ok: false, reason: 'cannot stop while the instance is rebooting' });
    expect(beginAction(busy, 'delete')).toEqual({ ok: true, taskState: 'deleting' });
  });

  it('refuses everything, delete included, while deleting', () => {
    for (const status of INSTANCE_STATUSES) {
      expect(beginAction({ status, taskState: 'deleting' }, 'delete').ok).toBe(false);
    }
  });
});

describe('settle', () => {
  it('puts a built instance in ACTIVE and a failed build in ERROR', () => {
    expect(settle('instance.create', true, 'RUNNING')).toEqual({
      expectedTask: 'spawning',
      status: 'ACTIVE',
      powerState: 'RUNNING',
    });
    expect(settle('instance.create', false, 'NOSTATE').status).toBe('ERROR');
  });

  it('follows the hypervisor when a power action fails', () => {
    expect(settle('instance.stop', false, 'RUNNING').status).toBe('ACTIVE');
    expect(settle('instance.start', false, 'SHUTDOWN').status).toBe('SHUTOFF');
    expect(settle('instance.reboot', false, 'NOSTATE').status).toBe('ERROR');
  });

  it('marks a deleted instance DELETED and a failed delete ERROR', () => {
    expect(settle('instance.delete', true, 'SHUTDOWN')).toMatchObject({ status: 'DELETED', powerState: 'NOSTATE' });
    expect(settle('instance.delete', false, 'RUNNING').status).toBe('ERROR');
  });
});

describe('syncPowerState', () => {
  it('follows a guest that shut itself down or crashed to SHUTOFF', () => {
    expect(syncPowerState({ status: 'ACTIVE', powerState: 'RUNNING' }, 'SHUTDOWN')).toEqual({
      status: 'SHUTOFF',
      powerState: 'SHUTDOWN',
    });
    expect(syncPowerState({ status: 'ACTIVE', powerState: 'RUNNING' }, 'CRASHED')).toEqual({
      status: 'SHUTOFF',
      powerState: 'CRASHED',
    });
  });

  it('changes nothing when the record already matches', () => {
    expect(syncPowerState({ status: 'ACTIVE', powerState: 'RUNNING' }, 'RUNNING')).toBeNull();
    expect(syncPowerState({ status: 'SHUTOFF', powerState: 'SHUTDOWN' }, 'SHUTDOWN')).toBeNull();
    expect(syncPowerState({ status: 'ERROR', powerState: 'NOSTATE' }, undefined)).toBeNull();
  });

  it('keeps a stopped instance found running SHUTOFF, showing the power state', () => {
    expect(syncPowerState({ status: 'SHUTOFF', powerState: 'SHUTDOWN' }, 'RUNNING')).toEqual({
      status: 'SHUTOFF',
      powerState: 'RUNNING',
    });
  });

  it('records a pause without changing the status', () => {
    expect(syncPowerState({ status: 'ACTIVE', powerState: 'RUNNING' }, 'PAUSED')).toEqual({
      status: 'ACTIVE',
      powerState: 'PAUSED',
    });
  });

  it.each<InstanceStatus>(['ACTIVE', 'SHUTOFF'])(
    'puts a %s instance whose workload is gone in ERROR with a fault',
    (status) => {
      const out = syncPowerState({ status, powerState: 'RUNNING' }, undefined);
      expect(out).toMatchObject({ status: 'ERROR', powerState: 'NOSTATE', fault: { step: 'sync' } });
      expect(out?.fault?.message).toMatch(/gone from its host/);
      expect(syncPowerState({ status, powerState: 'RUNNING' }, 'NOSTATE')).toMatchObject({ status: 'ERROR' });
    },
  );

  it('leaves instances in other states alone when their workload is missing', () => {
    for (const status of ['BUILDING', 'MIGRATING', 'VERIFY_MIGRATION', 'DELETED'] as const) {
      expect(syncPowerState({ status, powerState: 'NOSTATE' }, undefined)).toBeNull();
    }
  });
});

describe('statusFollowingPower', () => {
  it('is ACTIVE only while running; any other power state leaves the instance SHUTOFF', () => {
    expect(statusFollowingPower('RUNNING')).toBe('ACTIVE');
    for (const power of ['SHUTDOWN', 'CRASHED', 'PAUSED', 'NOSTATE'] as const)
      expect(statusFollowingPower(power)).toBe('SHUTOFF');
  });
});
