/**
 * bench/firewall: what port security costs on the wire and in a port's set-up.
 *
 * 1. Throughput: iperf3 (TCP, 5 s) between two containers on one VLAN with their admission flows (every
 *    frame matched against the port's MAC and address, then table 10), against the same pair with those
 *    flows taken off both ports so that br-int switches their frames with its plain `actions=NORMAL`; the two
 *    alternate, `rounds` times each, in the same run.
 * 2. Set-up: installing one port's admission flows as Berth does (record on the Interface row, its OpenFlow
 *    port number, one OpenFlow 1.4 bundle), against one `ovs-ofctl add-flow` of a NORMAL flow by hand.
 *
 *   deploy/up.sh && . .berth/env && node dist/bench/firewall.js [rounds]
 */
import { applyPortSecurity, hostNet, removePortSecurity, type PortSecurityTarget } from '@berth/network';
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

const portName = (i: any) => `bvh${(i.portId as string).replace(/-/g, '').slice(0, 12)}`;
const admission = (i: any): PortSecurityTarget => ({
  name: portName(i),
  portId: i.portId,
  allowed: [{ mac: i.mac, ip: i.ip }],
  firewall: null,
});
const ofportOf = async (i: any) =>
  Number((await runCommand(['ovs-vsctl', 'get', 'Interface', portName(i), 'ofport'])).trim());

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
  const berthSetup: number[] = [];
  const handSetup: number[] = [];
  try {
    const client = await create('bench-fw-client');
    const server = await create('bench-fw-server');
    made.push(client.id, server.id);
    const pair = [client, server];
    const protect = () => Promise.all(pair.map((i) => applyPortSecurity(ovs, admission(i))));
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

    const ofport = await ofportOf(server);
    for (let r = 0; r < 20; r += 1) {
      let started = performance.now();
      await applyPortSecurity(ovs, admission(server));
      berthSetup.push(performance.now() - started);
      started = performance.now();
      await runCommand(['ovs-ofctl', 'add-flow', bridge, `table=0,priority=100,in_port=${ofport},actions=NORMAL`]);
      handSetup.push(performance.now() - started);
    }
    await applyPortSecurity(ovs, admission(server));
  } finally {
    for (const id of made) {
      const del = await api('DELETE', `/v1/instances/${id}`);
      await finished(del.operationId);
    }
    await api('DELETE', `/v1/networks/${network.id}`).catch((error: unknown) => console.error(String(error)));
  }

  const ratio = median(guarded) / median(open);
  const mbit = (v: number[]) => v.map((x) => x.toFixed(0)).join(', ');
  const table = [
    '| | median | runs |',
    '|---|---|---|',
    `| iperf3 with port security (admission flows, then table 10) | ${median(guarded).toFixed(0)} Mbit/s | ${mbit(guarded)} |`,
    `| iperf3 with the flows taken off (br-int's actions=NORMAL) | ${median(open).toFixed(0)} Mbit/s | ${mbit(open)} |`,
    `| installing one port's admission flows (Berth: record, ofport, bundle) | ${ms(median(berthSetup))} | 20 |`,
    `| one ovs-ofctl add-flow by hand | ${ms(median(handSetup))} | 20 |`,
  ].join('\n');
  console.log(table);
  console.log(`throughput ratio ${ratio.toFixed(2)}`);
  writeSection(
    'firewall',
    `## firewall

\`node dist/bench/firewall.js ${rounds}\`: iperf3 (TCP, 5 s) between two containers on one VLAN with port security, and
the same pair with the admission flows taken off both ports so that br-int switches them with \`actions=NORMAL\`,
alternating, ${rounds} runs each; then 20 installs of one port's admission flows against one \`ovs-ofctl add-flow\`
by hand. ${machineLine()} The bridge is OVS's userspace (netdev) datapath, which moves about 400 Mbit/s here
(PLATFORM.md): the figures compare the two, not the hardware.

${table}

**Throughput ratio with port security / NORMAL (medians): ${ratio.toFixed(2)}.** Security groups (conntrack) are not
built yet; their cost will be measured here too.`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
