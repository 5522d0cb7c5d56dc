/**
 * bench/create-to-active: 20 sequential container creates, timed from POST /v1/instances to ACTIVE,
 * against the stack deploy/up.sh runs. Interleaved with each, the same work done by hand: docker run
 * --network none and the same ip/ethtool/ovs-vsctl/ovs-ofctl/nsenter commands Berth runs. Writes the medians
 * and their ratio to docs/benchmarks.md.
 *
 *   deploy/up.sh && . .berth/env && node dist/bench/create-to-active.js [count]
 */
import { runCommand } from '@berth/platform';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { api, assertStack, finished } from './support/api';
import { machineLine, writeSection } from './support/report';
import { median, ms, percentile } from './support/stats';

const DOCKER = '/usr/bin/docker';
const count = Number(process.argv[2] ?? 20);
const bridge = process.env['BERTH_OVS_BRIDGE'] ?? 'br-int';
const vlan = 3901;
const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;

/** One create, timed to ACTIVE; `portSecurity` false (an admin's choice) builds it without admission or firewall. */
async function berthCreate(i: number, portSecurity = true): Promise<{ ms: number; id: string }> {
  const started = performance.now();
  const created = await api('POST', '/v1/instances', {
    name: `bench-${i}${portSecurity ? '' : '-open'}`,
    kind: 'container',
    flavor: 'm1.tiny',
    image: 'busybox',
    network: 'bench',
    ...(portSecurity ? {} : { portSecurity: false }),
  });
  for (;;) {
    const instance = await api('GET', `/v1/instances/${created.instance.id}`);
    if (instance.status === 'ACTIVE') return { ms: performance.now() - started, id: instance.id };
    if (instance.status === 'ERROR') throw new Error(`bench-${i}: ${JSON.stringify(instance.fault)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What an operator would type for one container, step for step what the agent does. */
async function handCreate(i: number, image: string): Promise<{ ms: number; name: string; veth: string }> {
  const name = `bench-hand-${i}-${randomBytes(3).toString('hex')}`;
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  const [veth, peer] = [`bvh${suffix}`, `bvp${suffix}`];
  const mac = `02:be:ff:00:00:${i.toString(16).padStart(2, '0')}`;
  const started = performance.now();
  await runCommand([
    DOCKER,
    'run',
    '-d',
    '--network',
    'none',
    '--init',
    '--name',
    name,
    '--label',
    'berth.bench=1',
    '--memory',
    '256m',
    '--memory-swap',
    '256m',
    '--cpus',
    '1',
    '--pids-limit',
    '1024',
    '--security-opt',
    'no-new-privileges',
    '--cap-drop',
    'NET_RAW',
    '--cap-drop',
    'MKNOD',
    image,
  ]);
  const pid = (await runCommand([DOCKER, 'inspect', '-f', '{{.State.Pid}}', name])).trim();
  await runCommand(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', peer, 'address', mac]);
  await runCommand(['ethtool', '-K', peer, 'tx', 'off']);
  await runCommand(['ip', '-batch', '-'], {
    input: `link set dev ${peer} netns ${pid} name eth0\nlink set dev ${veth} up\n`,
  });
  await runCommand(['ovs-vsctl', '--may-exist', 'add-port', bridge, veth, `tag=${vlan}`]);
  // Port security, as Berth's port gets it: its own MAC and address in, the rest dropped.
  const ip = `${net}.${200 + i}`;
  const flows = [
    `table=0,cookie=0xbe,priority=120,in_port=${veth},udp,tp_src=67,actions=drop`,
    `table=0,cookie=0xbe,priority=110,in_port=${veth},dl_src=${mac},ip,nw_src=${ip},actions=resubmit(,10)`,
    `table=0,cookie=0xbe,priority=110,in_port=${veth},dl_src=${mac},arp,arp_sha=${mac},arp_spa=${ip},actions=resubmit(,10)`,
    `table=0,cookie=0xbe,priority=100,in_port=${veth},actions=drop`,
  ];
  await runCommand(['ovs-ofctl', 'add-flows', bridge, '-'], { input: `${flows.join('\n')}\n` });
  await runCommand(['nsenter', `--target=${pid}`, '--net', 'ip', '-batch', '-'], {
    input: `link set dev lo up\naddr add ${ip}/24 dev eth0\nlink set dev eth0 up\nroute add default via ${net}.1 dev eth0\n`,
  });
  return { ms: performance.now() - started, name, veth };
}

async function berthDelete(id: string): Promise<void> {
  await finished((await api('DELETE', `/v1/instances/${id}`)).operationId);
}

async function handDelete(made: { name: string; veth: string }): Promise<void> {
  await runCommand(['ovs-ofctl', 'del-flows', bridge, `table=0,in_port=${made.veth}`]);
  await runCommand(['ovs-vsctl', '--if-exists', 'del-port', bridge, made.veth]);
  await runCommand([DOCKER, 'rm', '-f', made.name]);
  await runCommand(['ip', 'link', 'del', made.veth]).catch(() => undefined);
}

async function main(): Promise<void> {
  assertStack();
  const network = await api('POST', '/v1/networks', {
    name: 'bench',
    vlan,
    cidr: `${net}.0/24`,
    gateway: `${net}.1`,
    allocationEnd: `${net}.199`,
  });
  const image = (await api('GET', '/v1/images')).items.find((i: any) => i.name === 'busybox').ref as string;
  const berth: number[] = [];
  const open: number[] = [];
  const hand: number[] = [];
  try {
    // Each instance is removed right after it is timed, so every create sees the same, empty host.
    await berthDelete((await berthCreate(99)).id); // warm-up, not counted
    for (let i = 0; i < count; i += 1) {
      const b = await berthCreate(i);
      berth.push(b.ms);
      await berthDelete(b.id);
      const o = await berthCreate(i, false);
      open.push(o.ms);
      await berthDelete(o.id);
      const h = await handCreate(i, image);
      hand.push(h.ms);
      await handDelete(h);
    }
  } finally {
    await api('DELETE', `/v1/networks/${network.id}`).catch((error: unknown) => console.error(String(error)));
  }

  const ratio = median(berth) / median(hand);
  const firewallCost = median(berth) / median(open);
  const table = [
    '| | median | p90 | min | max |',
    '|---|---|---|---|---|',
    `| Berth: POST /v1/instances → ACTIVE | ${ms(median(berth))} | ${ms(percentile(berth, 90))} | ${ms(Math.min(...berth))} | ${ms(Math.max(...berth))} |`,
    `| Berth, port security off (no admission flows, no security groups) | ${ms(median(open))} | ${ms(percentile(open, 90))} | ${ms(Math.min(...open))} | ${ms(Math.max(...open))} |`,
    `| by hand: docker run --network none + plumbing | ${ms(median(hand))} | ${ms(percentile(hand, 90))} | ${ms(Math.min(...hand))} | ${ms(Math.max(...hand))} |`,
  ].join('\n');
  console.log(table);
  console.log(`ratio ${ratio.toFixed(2)}; with / without port security ${firewallCost.toFixed(2)}`);
  writeSection(
    'create-to-active',
    `## create-to-active

\`node dist/bench/create-to-active.js ${count}\`: ${count} sequential container creates (flavor m1.tiny, image busybox),
each timed from \`POST /v1/instances\` to the API showing ACTIVE (polled every 5 ms) and deleted before the next;
as many again with port security off (an admin's \`portSecurity: false\`: no admission flows, no security groups).
Interleaved with them, the same work by hand: \`docker run -d --network none --init\` with the same limits and
dropped capabilities, then the same \`ip\`, \`ethtool\`, \`ovs-vsctl\`, \`ovs-ofctl\` (the port's four admission flows)
and \`nsenter\` commands the agent runs. Berth's build also binds lxcfs's
files, writes the disk throttles and reads every limit back from the cgroup files, tc and OVS (its \`limits\` step);
the hand run does not. Both run on the same dockerd, which remaps users and keeps its data on btrfs (deploy/lib.sh). ${machineLine()}

${table}

**Ratio Berth / by hand (medians): ${ratio.toFixed(2)}** (target for issue 2: at most 1.5).
**With / without port security and its default security group (medians): ${firewallCost.toFixed(2)}** (target for
issue 16: at most 1.05).`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
