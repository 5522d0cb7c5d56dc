/**
 * bench/volumes: volume attach and detach, and snapshots of a container into an image, against the stack deploy/up.sh
 * runs (its local host holds volumes and runs both drivers). Interleaved with each, the same by hand on the same
 * daemons: a loop device, a mount and a bind into a container's namespace (and back); `virsh attach-device` and
 * `detach-device --live` of a raw disk on the same VM; `docker commit` and `docker push`. Writes the medians and their
 * ratios to docs/benchmarks.md.
 *
 *   deploy/up.sh && . .berth/env && node dist/bench/volumes.js [rounds]
 */
import { deleteFromRegistry, runCommand } from '@berth/platform';
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { api, assertStack, finished } from './support/api';
import { machineLine, writeSection } from './support/report';
import { median, ms } from './support/stats';

const rounds = Number(process.argv[2] ?? 10);
const snapshots = Math.max(3, Math.round(rounds / 2));
const DOCKER = '/usr/bin/docker';
const REGISTRY = process.env['BERTH_SNAPSHOT_REGISTRY'] ?? '127.0.0.1:5000';
const URI = 'qemu:///system';
const instancesDir = process.env['BERTH_INSTANCES_DIR'] ?? '/var/lib/berth/instances';
const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;
const sh = (...argv: string[]) => runCommand(argv, { timeoutMs: 300_000 });
const virsh = (...args: string[]) => sh('virsh', '-c', URI, ...args);

/** Times `work` in ms. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const act = async (id: string, body: Record<string, unknown>) =>
  finished((await api('POST', `/v1/instances/${id}/actions`, body)).operationId);

/** A hand-made volume: a sparse 1 GiB file with ext4, as the file pool makes one. */
async function handVolume(dir: string, name: string): Promise<string> {
  const file = join(dir, `${name}.raw`);
  await sh('truncate', '-s', '1G', file);
  await sh('mkfs.ext4', '-q', '-F', file);
  return file;
}

/**
 * Into a running container by hand: a loop device mounted under a shared host directory the container has bound
 * (rslave) at /data, so the mount appears inside; and back.
 */
async function handContainerRound(file: string, mnt: string): Promise<{ attach: number; detach: number }> {
  let loop = '';
  const at = join(mnt, 'vol');
  const attach = await timed(async () => {
    loop = (await sh('losetup', '--find', '--show', file)).trim();
    await sh('mkdir', '-p', at);
    await sh('mount', '-t', 'ext4', '-o', 'nodev,nosuid', loop, at);
  });
  const detach = await timed(async () => {
    await sh('umount', at);
    await sh('losetup', '-d', loop);
  });
  return { attach, detach };
}

/** On a running VM by hand: virsh attach-device --live, and detach-device --live until the guest let it go. */
async function handVmRound(domain: string, file: string, dir: string): Promise<{ attach: number; detach: number }> {
  const xml = join(dir, 'disk.xml');
  await writeFile(
    xml,
    `<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none' io='native'/>` +
      `<source file='${file}'/><target dev='vdz' bus='virtio'/><serial>hand</serial></disk>`,
  );
  const attach = await timed(() => virsh('attach-device', domain, xml, '--live'));
  const detach = await timed(async () => {
    await virsh('detach-device', domain, xml, '--live');
    while ((await virsh('domblklist', domain)).includes(file)) await new Promise((r) => setTimeout(r, 20));
  });
  return { attach, detach };
}

/** What the run made, filled as it goes, so that the end removes whatever exists even after a failure midway. */
interface Made {
  network?: string;
  container?: string;
  vm?: string;
  volumes: string[];
  hand?: string;
  dir?: string;
  mnt?: string;
}

async function setup(made: Made) {
  assertStack();
  const hosts = (await api('GET', '/v1/hosts')).items as Array<{ name: string; state: string }>;
  if (!hosts.some((h) => h.state === 'up')) throw new Error('no compute host is up: run deploy/up.sh');
  made.network = (
    await api('POST', '/v1/networks', { name: 'bench-vol', vlan: 3904, cidr: `${net}.0/24`, gateway: `${net}.1` })
  ).id;
  const create = async (body: Record<string, unknown>) => {
    const res = await api('POST', '/v1/instances', { flavor: 'm1.tiny', network: 'bench-vol', ...body });
    await finished(res.operationId);
    return res.instance.id as string;
  };
  made.container = await create({ name: 'bench-vol-c', kind: 'container', image: 'busybox' });
  made.vm = await create({ name: 'bench-vol-vm', kind: 'vm', image: 'test-vm' });
  // A guest still booting answers a hot-unplug late: the rounds start once it is up.
  const log = join(instancesDir, made.vm, 'console.log');
  while (!(await readFile(log, 'utf8').catch(() => '')).includes('berth-test-vm: ready')) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const name of ['bench-vol-c', 'bench-vol-vm']) {
    const res = await api('POST', '/v1/volumes', { name, sizeGb: 1, localTo: made.container });
    made.volumes.push(res.id as string);
    await finished(res.operationId);
  }
  // Under /var/lib/berth, which QEMU's user may reach (a directory in /tmp it may not).
  made.dir = await mkdtemp('/var/lib/berth/bench-volumes-');
  await chmod(made.dir, 0o711);
  made.hand = `bench-vol-hand-${randomBytes(3).toString('hex')}`;
  const mnt = join(made.dir, 'mnt');
  await sh('mkdir', '-p', mnt);
  await sh('mount', '--bind', mnt, mnt);
  made.mnt = mnt;
  await sh('mount', '--make-rshared', mnt);
  const bind = `type=bind,source=${mnt},target=/data,bind-propagation=rslave`;
  const image = `${REGISTRY}/busybox:latest`;
  await sh(
    DOCKER,
    'run',
    '-d',
    '--network',
    'none',
    '--init',
    '--name',
    made.hand,
    '--mount',
    bind,
    image,
    'sleep',
    'infinity',
  );
  return {
    container: made.container,
    vm: made.vm,
    forContainer: made.volumes[0]!,
    forVm: made.volumes[1]!,
    hand: made.hand,
    dir: made.dir,
    handFile: await handVolume(made.dir, 'hand'),
    mnt,
  };
}

/** Removes what the run made (each step on its own: one failing does not keep the others). */
async function cleanUp(made: Made): Promise<void> {
  const quietly = (work: () => Promise<unknown>) => work().catch((e: unknown) => console.error(String(e)));
  if (made.hand) await quietly(() => sh(DOCKER, 'rm', '-f', made.hand!));
  for (const id of [made.container, made.vm]) {
    if (id) await quietly(async () => finished((await api('DELETE', `/v1/instances/${id}`)).operationId));
  }
  for (const v of made.volumes)
    await quietly(async () => finished((await api('DELETE', `/v1/volumes/${v}`)).operationId));
  if (made.network) await quietly(() => api('DELETE', `/v1/networks/${made.network}`));
  if (made.mnt) await quietly(() => sh('umount', '-l', made.mnt!));
  if (made.dir) await rm(made.dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const made: Made = { volumes: [] };
  const r: Record<string, number[]> = {};
  const add = (k: string, v: number) => (r[k] ??= []).push(v);
  try {
    const s = await setup(made);
    const vmDomain = `berth-${s.vm}`;
    for (let i = -1; i < rounds; i += 1) {
      const berthC = {
        attach: await timed(() => act(s.container, { action: 'attach', volume: s.forContainer, path: '/data' })),
        detach: await timed(() => act(s.container, { action: 'detach', volume: s.forContainer })),
      };
      const handC = await handContainerRound(s.handFile, s.mnt);
      const berthV = {
        attach: await timed(() => act(s.vm, { action: 'attach', volume: s.forVm })),
        detach: await timed(() => act(s.vm, { action: 'detach', volume: s.forVm })),
      };
      const handV = await handVmRound(vmDomain, s.handFile, s.dir);
      if (i < 0) continue; // the first round warms caches and is not counted
      add('berth-c-attach', berthC.attach);
      add('berth-c-detach', berthC.detach);
      add('hand-c-attach', handC.attach);
      add('hand-c-detach', handC.detach);
      add('berth-vm-attach', berthV.attach);
      add('berth-vm-detach', berthV.detach);
      add('hand-vm-attach', handV.attach);
      add('hand-vm-detach', handV.detach);
    }
    for (let i = -1; i < snapshots; i += 1) {
      const name = `bench-golden-${randomBytes(3).toString('hex')}`;
      let imageId = '';
      const berth = await timed(async () => {
        const res = await api('POST', `/v1/instances/${s.container}/actions`, { action: 'snapshot', name });
        imageId = res.imageId as string;
        await finished(res.operationId);
      });
      await api('DELETE', `/v1/images/${imageId}`);
      const ref = `${REGISTRY}/bench-hand-images/${name}:latest`;
      const byHand = await timed(async () => {
        await sh(DOCKER, 'commit', s.hand, ref);
        await sh(DOCKER, 'push', '-q', ref);
      });
      await sh(DOCKER, 'rmi', ref);
      await deleteFromRegistry(ref);
      if (i < 0) continue;
      add('berth-snapshot', berth);
      add('hand-snapshot', byHand);
    }
  } finally {
    await cleanUp(made);
  }
  report(r);
}

function report(r: Record<string, number[]>): void {
  const m = (k: string) => median(r[k] ?? []);
  const row = (what: string, berth: string, hand: string) =>
    `| ${what} | ${ms(m(berth))} | ${ms(m(hand))} | ${(m(berth) / m(hand)).toFixed(2)} |`;
  const table = [
    '| | Berth (median) | by hand (median) | ratio |',
    '|---|---|---|---|',
    row('container: attach', 'berth-c-attach', 'hand-c-attach'),
    row('container: detach', 'berth-c-detach', 'hand-c-detach'),
    row('VM: attach (live)', 'berth-vm-attach', 'hand-vm-attach'),
    row('VM: detach (live, until the guest let go)', 'berth-vm-detach', 'hand-vm-detach'),
    row('container snapshot into the registry', 'berth-snapshot', 'hand-snapshot'),
  ].join('\n');
  console.log(table);
  writeSection(
    'volumes',
    `## volumes

\`node dist/bench/volumes.js ${rounds}\`: ${rounds} rounds (after one not counted) of attaching and detaching a 1 GiB volume
to a running busybox container and to a running test VM (TCG, its guest up), each timed from \`POST /v1/instances/:id/actions\` to its
operation succeeded, then ${snapshots} snapshots of the container into an image (to the operation
succeeded, the image active). Interleaved with them, the same by hand on the same daemons: \`losetup\` and
\`mount\` under a shared directory the container has bound at \`/data\` (rslave), and back; \`virsh attach-device --live\` of a raw disk on the
same VM, and \`detach-device --live\` until \`domblklist\` no longer shows it; \`docker commit\` and \`docker push\`.
Berth also records each step, checks the filesystem (\`e2fsck -p\`) before mounting, binds from inside the container's
user namespace, writes the volume type's I/O limits, and plugs the VM's disk into its definition as well as live; the
hand runs do none of that. ${machineLine()}

${table}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
