import type { AppliedLimits, ComputeCommand, ComputeCommandType, Fault, PowerState } from '@berth/contracts';
import { FakeDriver } from '@berth/drivers';
import { sampleSpec } from '@berth/drivers/testing';
import { createLogger, Failpoints } from '@berth/platform';
import { CommandHandler } from './command-handler';
import type { Reporter } from './reporter';

const spec = sampleSpec();

type Result = { command: ComputeCommandType; power: PowerState; fault?: Fault; applied: AppliedLimits | null };

function harness(failpoints: string[] = []) {
  const results: Result[] = [];
  const steps: string[] = [];
  const reporter = {
    step: (_op: string, step: string) => Promise.resolve(void steps.push(step)),
    result: (
      _op: string,
      _id: string,
      command: ComputeCommandType,
      power: PowerState,
      { fault, applied }: { fault?: Fault; applied?: AppliedLimits | null } = {},
    ) => Promise.resolve(void results.push({ command, power, ...(fault ? { fault } : {}), applied: applied ?? null })),
  } as unknown as Reporter;
  const driver = new FakeDriver('container', new Failpoints(failpoints));
  const handler = new CommandHandler(
    new Map([['container', driver]]),
    reporter,
    createLogger('test', 'silent'),
    'host-a',
  );
  const send = (type: ComputeCommandType, instance = spec) =>
    handler.handle({ v: 1, type, operationId: `op-${type}`, instance } satisfies ComputeCommand);
  return { results, steps, send, driver, handler };
}

describe('CommandHandler', () => {
  it('reports each step and the power state after success', async () => {
    const { results, steps, send } = harness();
    await send('instance.create');
    await send('instance.stop');
    expect(steps).toEqual(['create', 'start', 'network', 'limits', 'stop']);
    expect(results).toEqual([
      {
        command: 'instance.create',
        power: 'RUNNING',
        applied: expect.objectContaining({ ramMb: spec.limits.ramMb, pidsLimit: spec.limits.pidsLimit }),
      },
      { command: 'instance.stop', power: 'SHUTDOWN', applied: null },
    ]);
  });

  it('reports a failure with the failing step, and what the hypervisor then says', async () => {
    const { results, send } = harness(['fake.network']);
    await send('instance.create');
    expect(results).toEqual([
      {
        command: 'instance.create',
        power: 'NOSTATE',
        fault: expect.objectContaining({ step: 'network', message: 'injected failure at fake.network' }),
        applied: null,
      },
    ]);
  });

  it('runs commands for one instance in arrival order', async () => {
    const { results, send } = harness();
    await Promise.all([
      send('instance.create'),
      send('instance.stop'),
      send('instance.start'),
      send('instance.delete'),
    ]);
    expect(results.map((r) => `${r.command}:${r.power}`)).toEqual([
      'instance.create:RUNNING',
      'instance.stop:SHUTDOWN',
      'instance.start:RUNNING',
      'instance.delete:NOSTATE',
    ]);
  });

  it('refuses to build an instance whose delete it already ran', async () => {
    const { results, send, driver } = harness();
    await send('instance.delete');
    await send('instance.create');
    expect(results[1]).toMatchObject({ command: 'instance.create', fault: { step: 'create' } });
    expect(driver.holds(spec.id)).toBe(false);
  });

  it('reports a missing driver instead of throwing', async () => {
    const { results, send } = harness();
    await send('instance.create', { ...spec, kind: 'vm' });
    expect(results).toEqual([
      {
        command: 'instance.create',
        power: 'NOSTATE',
        fault: expect.objectContaining({ step: 'driver' }),
        applied: null,
      },
    ]);
  });

  it('changes limits live and reports what the host read back', async () => {
    const { results, send, handler } = harness();
    await send('instance.create');
    const grown = { ...spec, limits: { ...spec.limits, ramMb: 256, pidsLimit: 200 } };
    await handler.handle({
      v: 1,
      type: 'instance.set-limits',
      operationId: 'op-resize',
      instance: grown,
      previous: spec.limits,
    });
    expect(results[1]).toEqual({
      command: 'instance.set-limits',
      power: 'RUNNING',
      applied: expect.objectContaining({ ramMb: 256, pidsLimit: 200 }),
    });
  });

  it('a failed limits change reports the previous limits, which are back in effect', async () => {
    const { results, send, handler } = harness(['fake.set-limits']);
    await send('instance.create');
    const grown = { ...spec, limits: { ...spec.limits, ramMb: 256 } };
    await handler.handle({
      v: 1,
      type: 'instance.set-limits',
      operationId: 'op',
      instance: grown,
      previous: spec.limits,
    });
    expect(results[1]).toEqual({
      command: 'instance.set-limits',
      power: 'RUNNING',
      fault: expect.objectContaining({ step: 'limits' }),
      applied: expect.objectContaining({ ramMb: spec.limits.ramMb }),
    });
  });
});
