import { randomInt } from 'node:crypto';
import { TestStack } from './stack';
import { testEnv } from './test-env';
import { onlyTestbedHosts } from './testbed';

// Shared by the cold-migration tests and their fault-injection runs: a stack of testbed agents with a
// catalog, builds on a chosen host, and a migrate that waits for its operation.

const tb = testEnv().testbed;
export const registry = `${tb.gateway}:5000`;
export const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
export const HOSTS = [1, 2, 3];

export async function startStack(
  testbedFailpoints: Record<number, string[]> = {},
  env: Record<string, string> = {},
  hosts: number[] = HOSTS,
): Promise<TestStack> {
  const stack = await TestStack.start({
    agent: false,
    testbedHosts: hosts,
    testbedFailpoints,
    // Tests switch hosts on and off between builds: the scheduler re-reads them almost at once.
    env: { BERTH_SNAPSHOT_REGISTRY: registry, BERTH_HOST_CACHE_MS: '50', ...env },
  });
  for (const [path, body] of [
    [
      '/v1/flavors',
      {
        name: 'm1.qos',
        vcpus: 1,
        ramMb: 128,
        diskGb: 1,
        cpuQuota: 50,
        diskWriteIops: 500,
        netIngressMbps: 40,
        netEgressMbps: 30,
      },
    ],
    ['/v1/images', { name: 'busybox', kind: 'container', ref: tb.image }],
    ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` }],
  ] as const) {
    expect((await stack.call('POST', path, body)).status).toBe(201);
  }
  return stack;
}

/** Creates an instance on testbed host `host` (the stack's other hosts disabled meanwhile). */
export async function createOn(stack: TestStack, host: number, name: string, hosts: number[] = HOSTS): Promise<any> {
  await onlyTestbedHosts(stack, host);
  const made = await stack.createInstance({ name, flavor: 'm1.qos', network: 'vlan100' });
  await onlyTestbedHosts(stack, ...hosts);
  expect(made).toMatchObject({ status: 'ACTIVE', host: stack.testbedHostNames[hosts.indexOf(host)] });
  return made;
}

export async function migrate(stack: TestStack, id: string, host: number): Promise<any> {
  const res = await stack.call('POST', `/v1/instances/${id}/actions`, {
    action: 'migrate',
    host: stack.testbedHostNames[host - 1],
  });
  expect(res.status).toBe(202);
  return stack.operation(res.body.operationId, 120_000);
}

/** What identifies the instance and bounds it, as the API read it back from the host. */
export const identity = (i: any) => ({
  id: i.id,
  ip: i.ip,
  mac: i.mac,
  vlan: i.vlan,
  portId: i.portId,
  limits: i.limits,
});
