import { beginAction, INSTANCE_STATUSES, settle, type InstanceStatus } from './instance-states';

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
