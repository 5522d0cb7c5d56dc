import type { AgentReport } from '@berth/contracts';
import type { PortTrace } from '@berth/network';
import { FakeDriver } from '@berth/drivers';
import { sampleSpec } from '@berth/drivers/testing';
import { createLogger, Failpoints } from '@berth/platform';
import { CommandHandler } from './command-handler';
import { PowerSync } from './power-sync';
import type { Reporter } from './reporter';

type Sync = Extract<AgentReport, { type: 'host.power-states' }>;

function harness(traces: PortTrace[] = []) {
  const syncs: Array<Omit<Sync, 'v' | 'type' | 'at'>> = [];
  const reporter = {
    step: () => Promise.resolve(),
    result: () => Promise.resolve(),
    powerStates: (sync: Omit<Sync, 'v' | 'type' | 'at'>) => Promise.resolve(void syncs.push(sync)),
  } as unknown as Reporter;
  const driver = new FakeDriver('container', new Failpoints([]));
  const drivers = new Map([['container' as const, driver]]);
  const log = createLogger('test', 'silent');
  const handler = new CommandHandler(drivers, reporter, log, 'host-a');
  const sync = new PowerSync('host-a', drivers, handler, reporter, log, () => Promise.resolve(traces));
  return { syncs, driver, handler, sync };
}

describe('PowerSync', () => {
  it('reports every idle instance with its power state', async () => {
    const { syncs, handler, sync } = harness();
    const a = sampleSpec({ id: '00000000-0000-4000-8000-00000000000a' });
    await handler.handle({ v: 1, type: 'instance.create', operationId: 'op1', instance: a });
    await handler.handle({ v: 1, type: 'instance.stop', operationId: 'op2', instance: a });
    await sync.run();
    expect(syncs).toEqual([
      {
        host: 'host-a',
        kinds: ['container'],
        instances: [{ instanceId: a.id, powerState: 'SHUTDOWN' }],
        busy: [],
        traces: [],
      },
    ]);
  });

  it('reports an instance whose command runs during the listing as busy, not with a state', async () => {
    const { syncs, driver, handler, sync } = harness();
    const a = sampleSpec({ id: '00000000-0000-4000-8000-00000000000a' });
    await handler.handle({ v: 1, type: 'instance.create', operationId: 'op1', instance: a });
    const list = driver.listInstances.bind(driver);
    let stop: Promise<unknown> = Promise.resolve();
    jest.spyOn(driver, 'listInstances').mockImplementationOnce(async () => {
      const seen = await list();
      stop = handler.handle({ v: 1, type: 'instance.stop', operationId: 'op2', instance: a });
      return seen;
    });
    await sync.run();
    await stop;
    expect(syncs).toEqual([{ host: 'host-a', kinds: ['container'], instances: [], busy: [a.id], traces: [] }]);

    await sync.run();
    expect(syncs[1]).toEqual({
      host: 'host-a',
      kinds: ['container'],
      instances: [{ instanceId: a.id, powerState: 'SHUTDOWN' }],
      busy: [],
      traces: [],
    });
  });

  it('leaves out a kind whose hypervisor cannot answer, so none of its instances is judged missing', async () => {
    const { syncs, driver, sync } = harness();
    jest.spyOn(driver, 'listInstances').mockRejectedValue(new Error('connect ENOENT /var/run/docker.sock'));
    await sync.run();
    expect(syncs).toEqual([{ host: 'host-a', kinds: [], instances: [], busy: [], traces: [] }]);
  });

  it("reports the host's tagged ports whose instance it does not hold, as traces", async () => {
    const a = sampleSpec({ id: '00000000-0000-4000-8000-00000000000a' });
    const lost = '00000000-0000-4000-8000-00000000000b';
    const { syncs, handler, sync } = harness([
      { name: 'bvh000000000001', instanceId: a.id, portId: a.port.id },
      { name: 'bvh000000000002', instanceId: lost, portId: '00000000-0000-4000-8000-0000000000f2' },
    ]);
    await handler.handle({ v: 1, type: 'instance.create', operationId: 'op1', instance: a });
    await sync.run();
    expect(syncs[0]?.traces).toEqual([{ instanceId: lost, portId: '00000000-0000-4000-8000-0000000000f2' }]);
  });
});
