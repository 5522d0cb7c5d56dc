/**
 * bench/vm-create-to-active: VM creates timed from POST /v1/instances to ACTIVE (the domain runs) and
 * to the guest having applied its address (its console says so), against the stack deploy/up.sh runs.
 * Interleaved with each, the same by hand: qemu-img overlay, xorriso config drive, and virsh create
 * of an equivalent hand-written domain, timed to running and to the same console line.
 *
 *   deploy/up.sh && . .berth/env && node dist/bench/vm-create-to-active.js [count]
 */
import { runCommand } from '@berth/platform';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { api, assertStack, finished } from './support/api';
import { machineLine, writeSection } from './support/report';
import { median, ms } from './support/stats';

const count = Number(process.argv[2] ?? 5);
const bridge = process.env['BERTH_OVS_BRIDGE'] ?? 'br-int';
const instancesDir = process.env['BERTH_INSTANCES_DIR'] ?? '/var/lib/berth/instances';
const vlan = 3903;
const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;

/** Polls a console log until it holds `line`; returns when it did. */
async function consoleSays(path: string, line: string): Promise<number> {
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.includes(line)) return performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function berthCreate(i: number): Promise<{ active: number; ip: number; id: string }> {
  const started = performance.now();
  const created = await api('POST', '/v1/instances', {
    name: `bench-vm-${i}`,
    kind: 'vm',
    flavor: 'm1.tiny',
    image: 'test-vm',
    network: 'bench-vm',
  });
  let active = 0;
  for (;;) {
    const instance = await api('GET', `/v1/instances/${created.instance.id}`);
    if (instance.status === 'ACTIVE') {
      active = performance.now();
      break;
    }
    if (instance.status === 'ERROR') throw new Error(`bench-vm-${i}: ${JSON.stringify(instance.fault)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const id = created.instance.id as string;
  const ip = await consoleSays(join(instancesDir, id, 'console.log'), `eth0 ${created.instance.ip}/24`);
  return { active: active - started, ip: ip - started, id };
}

/** The same VM by hand: overlay, config drive, and virsh create of a hand-written domain. */
interface VmImage {
  ref: string;
  kernelRef: string;
  initrdRef: string;
}

async function handCreate(
  i: number,
  image: VmImage,
): Promise<{ active: number; ip: number; dir: string; name: string }> {
  const dir = `/var/lib/berth/bench-hand/${randomUUID()}`;
  const name = `bench-hand-${i}`;
  const ip = `${net}.${200 + i}`;
  const mac = `02:be:ee:00:00:${(10 + i).toString(16).padStart(2, '0')}`;
  const started = performance.now();
  await mkdir(join(dir, 'seed'), { recursive: true });
  await runCommand([
    'qemu-img',
    'create',
    '-q',
    '-f',
    'qcow2',
    '-b',
    image.ref,
    '-F',
    'qcow2',
    join(dir, 'disk.qcow2'),
    '1G',
  ]);
  await writeFile(join(dir, 'seed', 'meta-data'), `instance-id: ${name}\nlocal-hostname: ${name}\n`);
  await writeFile(
    join(dir, 'seed', 'network-config'),
    `version: 2\nethernets:\n  eth0:\n    addresses:\n      - ${ip}/24\n    gateway4: ${net}.1\n`,
  );
  await runCommand([
    'xorriso',
    '-as',
    'mkisofs',
    '-quiet',
    '-V',
    'cidata',
    '-J',
    '-r',
    '-o',
    join(dir, 'seed.iso'),
    join(dir, 'seed'),
  ]);
  const off = "csum='off' tso4='off' tso6='off' ecn='off' ufo='off'";
  await writeFile(
    join(dir, 'domain.xml'),
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>${image.kernelRef}</kernel><initrd>${image.initrdRef}</initrd>
<cmdline>console=ttyS0 panic=-1</cmdline></os><features><acpi/></features><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none' io='native'/><source file='${dir}/disk.qcow2'/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${dir}/seed.iso'/><target dev='vdb' bus='virtio'/><readonly/></disk>
<interface type='bridge'><mac address='${mac}'/><source bridge='${bridge}'/><virtualport type='openvswitch'/><vlan><tag id='${vlan}'/></vlan>
<model type='virtio'/><driver name='qemu'><host ${off}/><guest ${off}/></driver></interface>
<serial type='unix'><source mode='bind' path='${dir}/console.sock'/><log file='${dir}/console.log' append='on'/><target port='0'/></serial></devices></domain>`,
  );
  await runCommand(['virsh', '-c', 'qemu:///system', 'create', join(dir, 'domain.xml')]);
  const active = performance.now();
  const applied = await consoleSays(join(dir, 'console.log'), `eth0 ${ip}/24`);
  return { active: active - started, ip: applied - started, dir, name };
}

async function main(): Promise<void> {
  assertStack();
  const image = (await api('GET', '/v1/images')).items.find((i: any) => i.name === 'test-vm') as VmImage | undefined;
  if (!image?.kernelRef) throw new Error('no test-vm image with a kernel: run deploy/up.sh');
  const network = await api('POST', '/v1/networks', {
    name: 'bench-vm',
    vlan,
    cidr: `${net}.0/24`,
    gateway: `${net}.1`,
    allocationEnd: `${net}.199`,
  });
  const berth = { active: [] as number[], ip: [] as number[] };
  const hand = { active: [] as number[], ip: [] as number[] };
  try {
    for (let i = 0; i < count; i += 1) {
      const b = await berthCreate(i);
      berth.active.push(b.active);
      berth.ip.push(b.ip);
      await finished((await api('DELETE', `/v1/instances/${b.id}`)).operationId);
      const h = await handCreate(i, image);
      hand.active.push(h.active);
      hand.ip.push(h.ip);
      await runCommand(['virsh', '-c', 'qemu:///system', 'destroy', h.name]);
      await rm(h.dir, { recursive: true, force: true });
    }
  } finally {
    await rm('/var/lib/berth/bench-hand', { recursive: true, force: true });
    await api('DELETE', `/v1/networks/${network.id}`).catch((error: unknown) => console.error(String(error)));
  }
  const row = (what: string, b: number[], h: number[]) =>
    `| ${what} | ${ms(median(b))} | ${ms(median(h))} | ${(median(b) / median(h)).toFixed(2)} |`;
  const table = [
    '| median of each | Berth | by hand (virsh create) | ratio |',
    '|---|---|---|---|',
    row('to the domain running (ACTIVE)', berth.active, hand.active),
    row('to the guest having applied its address (console)', berth.ip, hand.ip),
  ].join('\n');
  console.log(table);
  writeSection(
    'vm-create-to-active',
    `## vm-create-to-active

\`node dist/bench/vm-create-to-active.js ${count}\`: ${count} VM creates (flavor m1.tiny, image test-vm, domain type qemu:
TCG, as this machine's KVM cannot run Linux guests), each timed from \`POST /v1/instances\` to ACTIVE and to the
guest's console saying it applied the address from its config drive, and deleted before the next. Interleaved
with them, the same by hand: \`qemu-img create\` of the overlay, \`xorriso\` for the config drive, \`virsh create\`
of an equivalent hand-written domain. Berth also reads every limit back before ACTIVE. ${machineLine()}

${table}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
