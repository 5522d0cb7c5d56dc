import type { ComputeCommand, ComputeCommandType, Fault, PowerState } from '@berth/contracts';
import { FakeDriver } from '@berth/drivers';
import { sampleSpec } from '@berth/drivers/testing';
import { createLogger, Failpoints } from '@berth/platform';
import { CommandHandler } from './command-handler';
import type { Reporter } from './reporter';

const spec = sampleSpec();

type Result = { command: ComputeCommandType; power: PowerState; fault?: Fault };

function harness(failpoints: string[] = []) {
  const results: Result[] = [];
  const steps: string[] = [];
  const reporter = {
    step: (_op: string, step: string) => Promise.resolve(void steps.push(step)),
    result: (_op: string, _id: string, command: ComputeCommandType, power: PowerState, fault?: Fault) =>
      Promise.resolve(void results.push({ command, power, ...(fault ? { fault } : {}) })),
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
  return { results, steps, send, driver };
}

describe('CommandHandler', () => {
  it('reports each step and the power state after success', async () => {
    const { results, steps, send } = harness();
    await send('instance.create');
    await send('instance.stop');
    expect(steps).toEqual(['create', 'start', 'network', 'stop']);
    expect(results).toEqual([
      { command: 'instance.create', power: 'RUNNING' },
      { command: 'instance.stop', power: 'SHUTDOWN' },
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
      { command: 'instance.create', power: 'NOSTATE', fault: expect.objectContaining({ step: 'driver' }) },
    ]);
  });
});
