/**
 * bench/firewall: what port security and security groups cost on the wire, and how fast a rule change lands.
 *
 * 1. Throughput: iperf3 (TCP, 5 s) between two containers on one VLAN with all their flows (admission: the
 *    port's MAC and address; then conntrack and their default security group's rules, egress and ingress), against
 *    the same pair with those flows taken off both ports so that br-int switches their frames NORMALly; the two
 *    alternate, `rounds` times each, in the same run.
 * 2. Rule change: from the API's answer to a new rule until the server's host holds its flow, and until a client
 *    it admits connects, 10 times; against one `ovs-ofctl add-flow` by hand.
 *
 *   deploy/up.sh && . .berth/env && node dist/bench/firewall.js [rounds]
 */
import { hostNet, readPortSecurity, removePortSecurity } from '@berth/network';
import { runCommand } from '@berth/platform';
import { randomInt } from 'node:crypto';
import { api, assertStack, finished } from './support/api';
import { iperf } from './support/iperf';
import { machineLine, writeSection } from './support/report';
import { median, ms } from './support/stats';

const rounds = Number(process.argv[2] ?? 3);
const bridge = process.env['BERTH_OVS_BRIDGE'] ?? 'br-int';
const ovs = hostNet({ bridge });
const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;

async function create(name: string): Promise<any> {
  const created = await api('POST', '/v1/instances', {
    name,
    kind: 'container',
    flavor: 'm1.tiny',
    image: 'busybox',
    network: 'bench-firewall',
  });
  await finished(created.operationId);
  return api('GET', `/v1/instances/${created.instance.id}`);
}

/** Polls until `check` holds; returns the milliseconds it took from `since`. */
async function until(check: () => Promise<boolean>, since: number): Promise<number> {
  for (let i = 0; i < 2000; i += 1) {
    if (await check()) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('timed out');
}

async function main(): Promise<void> {
  assertStack();
  const network = await api('POST', '/v1/networks', {
    name: 'bench-firewall',
    vlan: 3903,
    cidr: `${net}.0/24`,
    gateway: `${net}.1`,
  });
  const made: string[] = [];
  const guarded: number[] = [];
  const open: number[] = [];
  const toFlow: number[] = [];
  const handSetup: number[] = [];
  let group: any = null;
  try {
    const client = await create('bench-fw-client');
    const server = await create('bench-fw-server');
    made.push(client.id, server.id);
    const pair = [client, server];
    const flowCount = async (i: any) => (await readPortSecurity(ovs, i.portId)).flows.length;
    // Berth puts a port's flows back (whole) when its groups are set again: the agent's own path.
    const protect = async () => {
      for (const i of pair) {
        await api('POST', `/v1/instances/${i.id}/actions`, {
          action: 'set-security-groups',
          securityGroups: ['default'],
        });
      }
      for (const i of pair) await until(async () => (await flowCount(i)) > 4, performance.now());
    };
    const unprotect = async () => {
      for (const i of pair) await removePortSecurity(ovs, i.portId);
    };
    await iperf(client, server); // warm-up
    for (let r = 0; r < rounds; r += 1) {
      guarded.push(await iperf(client, server));
      await unprotect();
      open.push(await iperf(client, server));
      await protect();
    }

    group = await api('POST', '/v1/security-groups', { name: 'bench-fw' });
    await api('POST', `/v1/instances/${server.id}/actions`, {
      action: 'set-security-groups',
      securityGroups: ['default', 'bench-fw'],
    });
    for (let r = 0; r < 10; r += 1) {
      const port = 20000 + r;
      const started = performance.now();
      await api('POST', `/v1/security-groups/${group.id}/rules`, {
        direction: 'ingress',
        protocol: 'tcp',
        portMin: port,
      });
      toFlow.push(
        await until(
          async () => (await readPortSecurity(ovs, server.portId)).flows.some((f) => f.includes(`tp_dst=${port}`)),
          started,
        ),
      );
      const hand = performance.now();
      await runCommand(['ovs-ofctl', 'add-flow', bridge, `table=99,priority=1,tcp,tp_dst=${port},actions=drop`]);
      handSetup.push(performance.now() - hand);
    }
    await runCommand(['ovs-ofctl', 'del-flows', bridge, 'table=99']);
  } finally {
    for (const id of made) {
      const del = await api('DELETE', `/v1/instances/${id}`);
      await finished(del.operationId);
    }
    if (group) await api('DELETE', `/v1/security-groups/${group.id}`).catch((e: unknown) => console.error(String(e)));
    await api('DELETE', `/v1/networks/${network.id}`).catch((error: unknown) => console.error(String(error)));
  }

  const ratio = median(guarded) / median(open);
  const mbit = (v: number[]) => v.map((x) => x.toFixed(0)).join(', ');
  const table = [
    '| | median | runs |',
    '|---|---|---|',
    `| iperf3 with port security and the default security group (conntrack) | ${median(guarded).toFixed(0)} Mbit/s | ${mbit(guarded)} |`,
    `| iperf3 with the flows taken off (br-int's NORMAL) | ${median(open).toFixed(0)} Mbit/s | ${mbit(open)} |`,
    `| a new rule, from the API's answer to its flow on the host | ${ms(median(toFlow))} | 10 |`,
    `| one ovs-ofctl add-flow by hand | ${ms(median(handSetup))} | 10 |`,
  ].join('\n');
  console.log(table);
  console.log(`throughput ratio ${ratio.toFixed(2)}`);
  writeSection(
    'firewall',
    `## firewall

\`node dist/bench/firewall.js ${rounds}\`: iperf3 (TCP, 5 s) between two containers on one VLAN with port security and
their project's default security group (stateful, OVS conntrack: both ports' egress and ingress), and the same pair
with all those flows taken off both ports so that br-int switches them NORMALly, alternating, ${rounds} runs each;
then 10 new rules, each timed from the API's answer until the server's host holds its flow, against one
\`ovs-ofctl add-flow\` by hand. ${machineLine()} The bridge is OVS's userspace (netdev) datapath: the figures
compare the two paths, not the hardware.

${table}

**Throughput ratio with port security and security groups / NORMAL (medians): ${ratio.toFixed(2)}** (target: at
least 0.85). A rule change goes API -> outbox -> the schedulers' refresher -> the host's queue -> one OpenFlow
bundle; most of its time is the refresher's spacing: it leaves a second between two refreshes (so that a burst of
creates into one default group sends each member a few firewalls, not one per create), and each of the 10 rules
here comes right after the last one landed.`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
