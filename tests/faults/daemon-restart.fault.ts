import { runCommand } from '@berth/platform';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TestStack } from '../system/support/stack';
import { faultCatalog } from './catalog';
import { testEnv } from '../system/support/test-env';
import { onlyTestbedHosts } from '../system/support/testbed';

/**
 * A host whose dockerd goes away (testbed host 3's own dockerd, stopped and started again by the
 * testbed script) leaves scheduling for containers while it is gone, its agent keeps running and
 * heartbeating, and the host takes containers again once dockerd is back.
 */
const tb = testEnv().testbed;
const ROOT = resolve(__dirname, '../..');

async function processGone(pid: number): Promise<boolean> {
  return readFile(`/proc/${pid}/stat`, 'utf8').then(
    () => false,
    () => true,
  );
}

describe('dockerd restarting on a host', () => {
  let stack: TestStack;
  const host = () => stack.testbedHostNames[0] ?? '';

  beforeAll(async () => {
    stack = await TestStack.start({ agent: false, testbedHosts: [3], env: { BERTH_HOST_CACHE_MS: '50' } });
    await faultCatalog(stack, tb.image, '10.94.0');
    await onlyTestbedHosts(stack, 1);
  });
  afterAll(async () => {
    // Whatever happened, the testbed host gets its dockerd back.
    await runCommand(['bash', resolve(ROOT, 'deploy/testbed.sh'), 'up', '3', '--no-agents']).catch(() => undefined);
    await stack?.stop();
  });

  const hostView = async () =>
    ((await stack.call('GET', '/v1/hosts')).body.items as any[]).find((h) => h.name === host());

  it('takes no container while dockerd is down, and takes them again once it is back', async () => {
    const pid = Number((await readFile(`${tb.runDir(3)}/docker.pid`, 'utf8')).trim());
    await runCommand(['kill', String(pid)]);
    await stack.until('dockerd to stop', () => processGone(pid), 60_000);

    const down = await stack.until('the host to report containers unavailable', async () => {
      const h = await hostView();
      return h?.unavailableDrivers?.includes('container') ? h : null;
    });
    expect(down.state).toBe('up');
    const refused = await stack.call('POST', '/v1/instances', {
      name: 'nowhere',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'vlan100',
    });
    expect(refused.status).toBe(202);
    const op = await stack.operation(refused.body.operationId);
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'schedule', reason: 'DriverKind' } });
    expect(op.fault.message).toBe(`No valid host: ${host()}: DriverKind: host has no container driver (offers none)`);
    expect((await stack.remove(refused.body.instance.id)).status).toBe('succeeded');

    await runCommand(['bash', resolve(ROOT, 'deploy/testbed.sh'), 'up', '3', '--no-agents']);
    await stack.until('the host to report containers available', async () => {
      const h = await hostView();
      return h?.state === 'up' && h.unavailableDrivers.length === 0;
    });
    const made = await stack.createInstance({ name: 'after', network: 'vlan100' });
    expect(made).toMatchObject({ status: 'ACTIVE', host: host() });
    expect((await stack.remove(made.id)).status).toBe('succeeded');
  });
});
