import type {
  AppliedLimits,
  DiskArtifact,
  InstanceLimits,
  InstanceSpec,
  InstanceUsage,
  PowerState,
  SshPeer,
  DriverCapability,
  TerminalSize,
  SnapshotImage,
  SnapshotTarget,
  VolumeAttachment,
} from '@berth/contracts';
import { formatCpuList } from '@berth/domain';
import {
  clearPortRates,
  applyPortSecurity,
  portSecurityOf,
  ensureBridge,
  ensurePipeline,
  removePortSecurity,
  probeDatapath,
  deletePort,
  type DatapathType,
  type HostNet,
} from '@berth/network';
import { runCommand, type CommandRunner } from '@berth/platform';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as LibvirtModule from '@unraid/libvirt';
import { DriverError, type ComputeDriver, type StepListener } from '../compute-driver';
import type { Terminal, TerminalListener } from '../terminal';
import { SerialConsoles } from './serial-console';
import { runSteps } from '../run-steps';
import { createOverlay } from './disk';
import { ImageCache, imageFiles } from './image-cache';
import { exportDisk } from './image-export';
import { domainName, instanceDomainXml, tapName } from './domain-xml';
import { readDomstats } from './domstats';
import { buildSeedIso, nocloudFiles } from './seed';
import type { LibvirtDriverOptions } from './libvirt-options';

export type { LibvirtDriverOptions } from './libvirt-options';
import { exportForMigration, fetchForMigration, forgetReceived, wasReceived } from './migration-disk';
import { libvirtConfinement } from './confinement';
import {
  anyDomain,
  domainMetadata,
  hostDomains,
  stateOf,
  stopDomain,
  tapPlugged,
  waitForTap,
  whilePaused,
} from './domains';
import { DomainVolumes, volumeDisksOf } from './domain-volumes';
import { applyDomainLimits, changeDomainLimits, readDomainLimits, type DomainLimitsContext } from './domain-limits';

type Libvirt = typeof LibvirtModule;
type Hypervisor = LibvirtModule.Hypervisor;
type Domain = LibvirtModule.Domain;

/**
 * KVM/QEMU guests through libvirt: @unraid/libvirt for the connection and lifecycle, virsh (argv
 * only) where the binding stops (live vCPU, iotune and CPU quota changes). A VM image is a directory
 * on the host holding disk.qcow2 and, for direct kernel boot, vmlinuz and initrd.img.
 */
export class LibvirtDriver implements ComputeDriver {
  readonly name = 'libvirt';
  readonly kind = 'vm' as const;
  readonly capabilities: readonly DriverCapability[];
  private hypervisor: Hypervisor | null = null;
  private datapath: DatapathType = 'netdev';
  private readonly cache: ImageCache;
  private readonly serial = new SerialConsoles((id) => this.dir(id));
  private readonly volumes: DomainVolumes;

  constructor(private readonly options: LibvirtDriverOptions) {
    this.cache = new ImageCache(options.imageCacheDir);
    this.capabilities = ['live-resize', 'cold-migrate', ...(options.volumes ? (['volumes'] as const) : [])];
    const running = async (id: string) => {
      const domain = await this.lookup(id);
      return domain ? (await stateOf(domain)) === 'RUNNING' : null;
    };
    this.volumes = new DomainVolumes(this.run, options.uri, running, options.net.failpoints);
  }

  private get run(): CommandRunner {
    return this.options.run ?? runCommand;
  }

  private get net(): HostNet {
    return this.options.net;
  }

  /** What setting and reading a domain's limits needs of this host (known once init has run). */
  private get limitsContext(): DomainLimitsContext {
    const { uri, net, sharedCpus } = this.options;
    return { run: this.run, uri, net, datapath: this.datapath, sharedCpus };
  }

  async init(): Promise<void> {
    const libvirt: Libvirt = await import('@unraid/libvirt');
    this.hypervisor = new libvirt.Hypervisor({ uri: this.options.uri });
    await this.hypervisor.connectOpen();
    this.datapath = await ensureBridge(this.net, await probeDatapath());
    await ensurePipeline(this.net);
    await mkdir(this.options.instancesDir, { recursive: true });
  }

  async spawn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    const existing = await this.lookup(spec.id);
    if (existing && (await stateOf(existing)) === 'RUNNING' && (await tapPlugged(this.net, spec))) {
      return runSteps(onStep, async (step) => {
        await step('limits');
        return applyDomainLimits(this.limitsContext, spec, () => this.lookup(spec.id));
      });
    }
    if (existing) await this.remove(spec);

    return runSteps(onStep, async (step, reverter) => {
      await step('image');
      const image = await imageFiles(this.cache, spec);
      const dir = this.dir(spec.id);
      await step('disk');
      await mkdir(dir, { recursive: true });
      reverter.add(`remove ${dir}`, () => this.remove(spec));
      // A migration's target starts from the disk it fetched (fetchSnapshot), already on this host's base.
      if (!(await wasReceived(dir))) await createOverlay(this.run, image.disk, join(dir, 'disk.qcow2'), spec.diskGb);
      await step('seed');
      await buildSeedIso(this.run, join(dir, 'seed.iso'), nocloudFiles(spec.id, spec.name, spec.port, spec.publicKeys));
      await step('define');
      await this.net.failpoints.check('libvirt.define');
      const volumes = volumeDisksOf(spec, this.options.volumes?.fileOf);
      const xml = instanceDomainXml(spec, { ...this.options, bridge: this.net.bridge }, image, dir, volumes);
      await writeFile(join(dir, 'domain.xml'), xml);
      const domain = await this.hv.domainDefineXML(xml);
      await step('start');
      await this.net.failpoints.check('libvirt.start');
      await domain.create();
      await step('network');
      await waitForTap(this.net, spec);
      await step('limits');
      const applied = await applyDomainLimits(this.limitsContext, spec, () => this.lookup(spec.id));
      await forgetReceived(dir);
      return applied;
    });
  }

  async powerOff(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('stop');
      const domain = await this.lookup(spec.id);
      if (!domain) throw new DriverError('stop', `instance ${spec.id} does not exist on this host`);
      await stopDomain(domain, this.options.stopTimeoutSec);
      await step('unplug');
      await this.unplug(spec);
    });
  }

  async powerOn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    // A domain a migration's export undefined comes back from its kept definition (a revert's restore).
    const kept = await readFile(join(this.dir(spec.id), 'domain.xml'), 'utf8').catch(() => null);
    const domain = (await this.lookup(spec.id)) ?? (kept ? await this.hv.domainDefineXML(kept) : null);
    if (!domain) throw new DriverError('start', `instance ${spec.id} does not exist on this host`);
    return runSteps(onStep, async (step, reverter) => {
      if ((await stateOf(domain)) !== 'RUNNING') {
        await step('start');
        await domain.create();
        reverter.add('stop the domain', () =>
          stopDomain(domain, this.options.stopTimeoutSec).then(() => this.unplug(spec)),
        );
      }
      await step('network');
      await waitForTap(this.net, spec);
      await step('limits');
      return applyDomainLimits(this.limitsContext, spec, () => this.lookup(spec.id));
    });
  }

  async reboot(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    await this.powerOff(spec, onStep);
    return this.powerOn(spec, onStep);
  }

  /**
   * Live where libvirt can (vCPUs up to the maximum, CPU quota, iotune; bandwidth on the OVS port),
   * and in the persistent definition for the next start. Memory and dedicated CPUs change only while
   * the domain is off: a running VM asked for either fails, and keeps what it had.
   */
  async setLimits(spec: InstanceSpec, previous: InstanceLimits, onStep: StepListener): Promise<AppliedLimits | null> {
    return runSteps(onStep, async (step, reverter) => {
      await step('limits');
      const domain = await this.lookup(spec.id);
      if (!domain) throw new DriverError('limits', `instance ${spec.id} does not exist on this host`);
      const running = (await stateOf(domain)) === 'RUNNING';
      const next = spec.limits;
      if (
        running &&
        (next.ramMb !== previous.ramMb ||
          next.cpuPolicy !== previous.cpuPolicy ||
          (next.cpuPolicy === 'dedicated' && formatCpuList(next.pinnedCpus) !== formatCpuList(previous.pinnedCpus)))
      ) {
        throw new DriverError('limits', 'memory and dedicated CPUs of a running VM change only while it is stopped');
      }
      if (running && next.vcpus > this.options.maxVcpus) {
        throw new DriverError('limits', `a running VM grows to at most ${this.options.maxVcpus} vCPUs`);
      }
      reverter.add('restore the previous limits', () =>
        changeDomainLimits(this.limitsContext, spec.id, previous, running, spec),
      );
      await changeDomainLimits(this.limitsContext, spec.id, next, running, spec);
      await this.net.failpoints.check('libvirt.set-limits');
      return running ? applyDomainLimits(this.limitsContext, spec, () => this.lookup(spec.id)) : null;
    });
  }

  async readLimits(spec: InstanceSpec): Promise<AppliedLimits | null> {
    const domain = await this.lookup(spec.id);
    if (!domain || (await stateOf(domain)) !== 'RUNNING') return null;
    return readDomainLimits(this.limitsContext, spec, domain);
  }

  async destroy(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('delete');
      await this.remove(spec);
    });
  }

  /** Libvirt removes a destroyed domain's tap from the bridge itself. */
  async purge(instanceId: string): Promise<void> {
    await this.removeDomain(instanceId);
  }

  async powerState(instanceId: string): Promise<PowerState> {
    const domain = await this.lookup(instanceId);
    return domain ? stateOf(domain) : 'NOSTATE';
  }

  listInstances(): Promise<Array<{ instanceId: string; powerState: PowerState }>> {
    return hostDomains(this.hv, this.options.hostName);
  }

  /** What the guest said about its interface on its serial console since it last booted (guest-console.ts). */
  async readInterface(spec: InstanceSpec): Promise<{ mac: string; addresses: string[] } | null> {
    if ((await this.powerState(spec.id)) !== 'RUNNING') return null;
    return this.serial.reportedInterface(spec.id, spec.port.mac);
  }

  consoleTail(spec: InstanceSpec, lines: number): Promise<string[]> {
    return this.serial.tail(spec.id, lines);
  }

  async openTerminal(spec: InstanceSpec, _size: TerminalSize, listener: TerminalListener): Promise<Terminal> {
    return this.serial.open(spec.id, (await this.powerState(spec.id)) === 'RUNNING', listener);
  }

  async cacheImage(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    await this.cache.file(ref);
    await onProgress('cached on this host');
  }

  cachedImages(): Promise<string[]> {
    return this.cache.refs();
  }

  /** libvirt's security drivers for QEMU, then port security (virt-type.ts). */
  confinement(): Promise<string[]> {
    return libvirtConfinement(this.run, this.options.uri);
  }

  /**
   * Cold migration, source side: shuts the guest down, checksums its overlay disk, and undefines the
   * domain while keeping its directory (disk, config drive, definition), so the target can define the
   * same name and a revert can define it here again (powerOn). Returns the disk for the target to fetch.
   */
  async snapshot(spec: InstanceSpec, _ref: string, onStep: StepListener): Promise<DiskArtifact> {
    return runSteps(onStep, async (step) => {
      await step('stop');
      const domain = await this.lookup(spec.id);
      if (!domain) throw new Error(`instance ${spec.id} does not exist on this host`);
      await stopDomain(domain, this.options.stopTimeoutSec);
      await this.unplug(spec);
      await step('export');
      await this.net.failpoints.check('libvirt.export');
      return exportForMigration(domain, this.dir(spec.id));
    });
  }

  /**
   * Cold migration, target side: makes sure this host caches the image's files, copies the overlay from
   * the source over SSH (checked against its SHA-256) and points it at this host's copy of its base.
   */
  async fetchSnapshot(
    spec: InstanceSpec,
    ref: string,
    peer: SshPeer | null,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<void> {
    if (!peer) throw new Error('a VM disk is fetched from its source host: no peer was given');
    const image = await imageFiles(this.cache, spec);
    await this.net.failpoints.check('libvirt.fetch');
    const key = await readFile(this.options.migrationKeyPath, 'utf8');
    await fetchForMigration(
      { dir: this.dir(spec.id), baseDisk: image.disk, ref, peer, key, run: this.run },
      onProgress,
    );
  }

  /** A volume as a virtio disk with its serial and iotune, live while the domain runs and in its definition. */
  attachVolume(spec: InstanceSpec, attachment: VolumeAttachment, file: string): Promise<void> {
    return this.volumes.attach(spec, attachment, file);
  }

  detachVolume(spec: InstanceSpec, attachment: VolumeAttachment, file: string): Promise<void> {
    return this.volumes.detach(spec, attachment, file);
  }

  /** The guest paused (if it runs) while its disk is flattened, then put in the registry (image-export.ts). */
  async captureImage(spec: InstanceSpec, target: SnapshotTarget, onStep: StepListener): Promise<SnapshotImage> {
    return runSteps(onStep, async (step) => {
      await step('flatten');
      const domain = await this.lookup(spec.id);
      if (!domain) throw new Error(`instance ${spec.id} does not exist on this host`);
      const scratch = join(this.dir(spec.id), `image-${target.imageId}.qcow2`);
      const paused = (work: () => Promise<void>) => whilePaused(domain, work);
      return exportDisk(this.run, join(this.dir(spec.id), 'disk.qcow2'), scratch, target, paused, step);
    });
  }

  /** A VM's snapshot is its own disk, removed with its directory: nothing else to forget. */
  forgetSnapshot(): Promise<void> {
    return Promise.resolve();
  }

  private get hv(): Hypervisor {
    if (!this.hypervisor) throw new Error('the libvirt driver is not initialised');
    return this.hypervisor;
  }

  private dir(instanceId: string): string {
    return join(this.options.instancesDir, instanceId);
  }

  /** CPU, memory, disks and interface of the running domain, from `virsh domstats`. */
  async usage(instanceId: string): Promise<InstanceUsage | null> {
    const domain = await this.lookup(instanceId);
    if (!domain || (await stateOf(domain)) !== 'RUNNING') return null;
    return readDomstats(this.run, this.options.uri, domainName(instanceId));
  }

  /** This host's domain of the instance; a domain of that name that another host defined is not ours. */
  private async lookup(instanceId: string): Promise<Domain | null> {
    const domain = await anyDomain(this.hv, instanceId);
    if (!domain) return null;
    const meta = await domainMetadata(domain);
    return meta && meta.host !== this.options.hostName ? null : domain;
  }

  /** Removes the domain (running or not), its directory, and what its port left in OVS. */
  private async remove(spec: InstanceSpec): Promise<void> {
    const hadDomain = await this.removeDomain(spec.id);
    // Where a libvirtd and an OVS serve several agents (tests), the tap of a domain another host now
    // runs (a migration's target) is that host's.
    if (!hadDomain && (await anyDomain(this.hv, spec.id))) return;
    await this.unplug(spec);
  }

  /** Stops and undefines this host's domain of the instance (if any) and removes its directory; says whether there was one. */
  private async removeDomain(instanceId: string): Promise<boolean> {
    const domain = await this.lookup(instanceId);
    if (domain) {
      if ((await stateOf(domain)) !== 'SHUTDOWN') await domain.destroy().catch(() => undefined);
      await domain.undefine();
    }
    await rm(this.dir(instanceId), { recursive: true, force: true });
    return domain !== null;
  }

  private async unplug(spec: InstanceSpec): Promise<void> {
    const tap = tapName(spec.port.id);
    await clearPortRates(this.net, { name: tap, portId: spec.port.id });
    await removePortSecurity(this.net, spec.port.id);
    await deletePort(this.net, tap);
  }

  async applyFirewall(spec: InstanceSpec): Promise<boolean> {
    if (!(await tapPlugged(this.net, spec))) return false;
    await applyPortSecurity(this.net, portSecurityOf(tapName(spec.port.id), spec.port));
    return true;
  }

  /** Libvirt plugs the tap as it starts the domain: a running domain whose tap is on the bridge is whole. */
  async runsAsSpecified(spec: InstanceSpec): Promise<boolean> {
    const domain = await this.lookup(spec.id);
    return domain !== null && (await stateOf(domain)) === 'RUNNING' && (await tapPlugged(this.net, spec));
  }
}
