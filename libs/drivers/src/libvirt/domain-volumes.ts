import type { InstanceSpec, VolumeAttachment } from '@berth/contracts';
import { Failpoints, type CommandRunner } from '@berth/platform';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, parseStringPromise } from 'xml2js';
import { domainName } from './domain-xml';
import { volumeDiskElement, type VolumeDisk } from './volume-disk';

/** The targets volumes take, after the instance's disk (vda) and config drive (vdb). */
const VOLUME_DEVS = 'cdefghijklmnopqrstuvwxyz'.split('').map((c) => `vd${c}`);

/** How long a guest may take to let go of a disk unplugged live (it must answer the PCI hot-unplug). */
const UNPLUG_WAIT_MS = 60_000;

/** The disks of an instance's volumes in a new definition: in the order of its spec, from vdc on. */
export function volumeDisksOf(spec: InstanceSpec, fileOf?: (a: VolumeAttachment) => string): VolumeDisk[] {
  return (spec.volumes ?? []).map((a, i) => {
    if (!fileOf) throw new Error('this host holds no volumes');
    const dev = VOLUME_DEVS[i];
    if (!dev) throw new Error(`a VM holds at most ${VOLUME_DEVS.length} volumes`);
    return { file: fileOf(a), serial: a.serial, dev, throttle: a.throttle };
  });
}

/** The disks a domain's XML holds: each one's target and source file. */
export async function disksIn(xml: string): Promise<Array<{ dev: string; file: string | null }>> {
  const doc = (await parseStringPromise(xml, { explicitArray: true })) as {
    domain?: {
      devices?: Array<{
        disk?: Array<{ target?: Array<{ $?: { dev?: string } }>; source?: Array<{ $?: { file?: string } }> }>;
      }>;
    };
  };
  return (doc.domain?.devices?.[0]?.disk ?? []).map((d) => ({
    dev: d.target?.[0]?.$?.dev ?? '',
    file: d.source?.[0]?.$?.file ?? null,
  }));
}

/** The running domain's XML and its persistent definition, as virsh prints them. */
export interface DomainViews {
  live: string | null;
  config: string;
}

/**
 * Plugs a volume into a VM with virsh: into its definition (kept across stop and start) and, while it runs, live.
 * A scope that already has the file is left as it is, so a repeated attach changes nothing; a new disk takes the
 * first target free in both.
 */
export async function plugVolume(
  run: CommandRunner,
  uri: string,
  spec: InstanceSpec,
  disk: Omit<VolumeDisk, 'dev'>,
  views: DomainViews,
): Promise<void> {
  const live = views.live === null ? null : await disksIn(views.live);
  const config = await disksIn(views.config);
  const scopes = [
    ...(config.some((d) => d.file === disk.file) ? [] : ['--config']),
    ...(live === null || live.some((d) => d.file === disk.file) ? [] : ['--live']),
  ];
  if (scopes.length === 0) return;
  // A disk one scope already has keeps its target in the other; a new one takes the first free in both.
  const present = [...config, ...(live ?? [])].find((d) => d.file === disk.file)?.dev;
  const taken = new Set([...config, ...(live ?? [])].map((d) => d.dev));
  const dev = present ?? VOLUME_DEVS.find((d) => !taken.has(d));
  if (!dev) throw new Error(`a VM holds at most ${VOLUME_DEVS.length} volumes`);
  await withDiskXml({ ...disk, dev }, (path) =>
    run(['virsh', '-c', uri, 'attach-device', domainName(spec.id), path, ...scopes]),
  );
}

/**
 * Unplugs a volume from a VM: from its definition, and live, waiting until the guest has let the disk go (QEMU
 * holds the file until then). One the domain does not hold succeeds.
 */
export async function unplugVolume(
  run: CommandRunner,
  uri: string,
  spec: InstanceSpec,
  file: string,
  views: () => Promise<DomainViews>,
  failpoints: Failpoints = new Failpoints(),
): Promise<void> {
  const now = await views();
  const inLive = now.live === null ? undefined : (await disksIn(now.live)).find((d) => d.file === file);
  const inConfig = (await disksIn(now.config)).find((d) => d.file === file);
  const virsh = (...args: string[]) => run(['virsh', '-c', uri, ...args]);
  if (inConfig) await virsh('detach-disk', domainName(spec.id), inConfig.dev, '--config');
  await failpoints.check('volume.unplug');
  if (!inLive) return;
  await virsh('detach-disk', domainName(spec.id), inLive.dev, '--live');
  const end = Date.now() + UNPLUG_WAIT_MS;
  for (;;) {
    const { live } = await views();
    if (live === null || !(await disksIn(live)).some((d) => d.file === file)) return;
    if (Date.now() > end) {
      throw new Error(`the guest did not release ${inLive.dev} in ${UNPLUG_WAIT_MS / 1000} s; it stays attached`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The volumes of this host's VMs: plugged as raw virtio disks (live while the domain runs, and in its definition),
 * with the attachment's serial and the volume type's throttles as QEMU's iotune.
 */
export class DomainVolumes {
  constructor(
    private readonly run: CommandRunner,
    private readonly uri: string,
    /** Whether this host's domain of the instance runs; null when it has none. */
    private readonly running: (instanceId: string) => Promise<boolean | null>,
    /** volume.plug (attach) and volume.unplug (detach) fail here on purpose in tests. */
    private readonly failpoints: Failpoints = new Failpoints(),
  ) {}

  async attach(spec: InstanceSpec, a: VolumeAttachment, file: string): Promise<void> {
    try {
      await plugVolume(this.run, this.uri, spec, this.disk(a, file), await this.views(spec.id));
      await this.failpoints.check('volume.plug');
    } catch (error) {
      // Nothing of a failed attach stays: neither in the definition nor in the running guest.
      await unplugVolume(this.run, this.uri, spec, file, () => this.views(spec.id)).catch(() => undefined);
      throw error;
    }
  }

  /** A detach that fails midway plugs the disk back where it went, so that it is attached or not, never half. */
  async detach(spec: InstanceSpec, a: VolumeAttachment, file: string): Promise<void> {
    try {
      await unplugVolume(this.run, this.uri, spec, file, () => this.views(spec.id), this.failpoints);
    } catch (error) {
      await plugVolume(this.run, this.uri, spec, this.disk(a, file), await this.views(spec.id)).catch(() => undefined);
      throw error;
    }
  }

  private disk(a: VolumeAttachment, file: string) {
    return { file, serial: a.serial, throttle: a.throttle };
  }

  private async views(instanceId: string): Promise<DomainViews> {
    const running = await this.running(instanceId);
    if (running === null) throw new Error(`instance ${instanceId} does not exist on this host`);
    const dump = (...flags: string[]) =>
      this.run(['virsh', '-c', this.uri, 'dumpxml', domainName(instanceId), ...flags]);
    return { live: running ? await dump() : null, config: await dump('--inactive') };
  }
}

/** Runs `use` with a file holding the disk's XML (virsh reads a device from a file), removed afterwards. */
async function withDiskXml<T>(disk: VolumeDisk, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-disk-'));
  try {
    const path = join(dir, 'disk.xml');
    const xml = new Builder({ headless: true, rootName: 'disk' }).buildObject(volumeDiskElement(disk));
    await writeFile(path, xml, { mode: 0o600 });
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
