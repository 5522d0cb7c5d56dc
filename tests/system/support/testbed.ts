import { runCommand } from '@berth/platform';
import { eth0Of } from './probes';
import type { TestStack } from './stack';
import { testEnv } from './test-env';

/** Looks at testbed hosts (deploy/testbed.sh) through their own dockerd and OVS, as an operator would. */
const tb = testEnv().testbed;

export const dockerSocketOf = (host: number) => `${tb.runDir(host)}/docker.sock`;

export function docker(host: number, ...args: string[]): Promise<string> {
  return runCommand(['/usr/bin/docker', '-H', `unix://${dockerSocketOf(host)}`, ...args], { timeoutMs: 30_000 });
}

export function vsctl(host: number, ...args: string[]): Promise<string> {
  return runCommand(['ovs-vsctl', `--db=unix:${tb.runDir(host)}/db.sock`, '--timeout=10', ...args]);
}

/**
 * What testbed host `host` holds of this stack's: containers labelled with the stack's name for that host
 * and br-int interfaces tagged with it. Another stack's (or another checkout's) instances on the same
 * testbed host are not counted.
 */
export async function testbedLeftovers(stack: TestStack, host: number): Promise<string[]> {
  const name = stack.testbedHostNames.find((n) => n.startsWith(`tb${host}-`));
  if (!name) throw new Error(`the stack runs no agent on testbed host ${host}`);
  const containers = await docker(host, 'ps', '-aq', '--filter', `label=berth.host=${name}`);
  const ports = await vsctl(host, '--bare', '--columns=name', 'find', 'Interface', `external_ids:berth-host=${name}`);
  return [
    ...containers
      .split('\n')
      .filter(Boolean)
      .map((c) => `tb${host} container ${c}`),
    ...ports
      .split('\n')
      .filter(Boolean)
      .map((p) => `tb${host} port ${p}`),
  ];
}

/** What testbed host `host` still holds of one instance: its container and its OVS port. */
export async function testbedTracesOf(host: number, instanceId: string): Promise<string[]> {
  const containers = await docker(host, 'ps', '-aq', '--filter', `label=berth.instance=${instanceId}`);
  const ports = await vsctl(
    host,
    '--bare',
    '--columns=name',
    'find',
    'Interface',
    `external_ids:berth-instance=${instanceId}`,
  );
  return [...containers.split('\n'), ...ports.split('\n')].filter(Boolean).map((x) => `tb${host} ${x}`);
}

/** The container's init pid on its testbed host. */
export async function testbedPid(host: number, instanceId: string): Promise<number> {
  return Number((await docker(host, 'inspect', '-f', '{{.State.Pid}}', `berth-${instanceId}`)).trim());
}

/** eth0 as the instance itself sees it, on its testbed host. */
export async function testbedInsideView(host: number, instanceId: string): Promise<{ mac: string; ip: string[] }> {
  const { mac, addresses } = await eth0Of(await testbedPid(host, instanceId));
  return { mac, ip: addresses };
}

/** Lets only these testbed hosts (by number) take new instances. */
export async function onlyTestbedHosts(stack: TestStack, ...hosts: number[]): Promise<void> {
  const all = (await stack.call('GET', '/v1/hosts')).body.items as Array<{ id: string; name: string }>;
  for (const h of all) {
    const n = stack.testbedHostNames.indexOf(h.name) + 1;
    const enabled = hosts.includes(n);
    const body = enabled ? { enabled: true } : { enabled: false, disabledReason: 'test placement' };
    const res = await stack.call('PATCH', `/v1/hosts/${h.id}`, body);
    if (res.status !== 200) throw new Error(`PATCH host ${h.name} answered ${res.status}`);
  }
}
