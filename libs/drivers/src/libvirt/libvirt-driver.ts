import type {
  AppliedLimits,
  DiskArtifact,
  InstanceLimits,
  InstanceSpec,
  InstanceUsage,
  PowerState,
  SshPeer,
  DriverCapability,
} from '@berth/contracts';
import { formatCpuList, parseCpuList } from '@berth/domain';
import {
  clearPortRates,
  applyPortSecurity,
  portSecurityOf,
  ensureBridge,
  ensurePipeline,
  removePortSecurity,
  probeDatapath,
  readPortRates,
  setPortRates,
  deletePort,
  listPorts,
  type DatapathType,
  type HostNet,
} from '@berth/network';
import { runCommand, type CommandRunner } from '@berth/platform';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as LibvirtModule from '@unraid/libvirt';
import { parseStringPromise } from 'xml2js';
import { DriverError, type ComputeDriver, type StepListener } from '../compute-driver';
import { CPU_PERIOD_US, DEFAULT_DISK_WEIGHT, expectedApplied, mismatches, portRatesOf } from '../limits';
import { lastLines } from '../console-tail';
import { reportedAddresses } from './guest-console';
import { runSteps } from '../run-steps';
import { createOverlay } from './disk';
import { fetchOverSsh, parseArtifactRef, sha256File } from './disk-transfer';
import { ImageCache } from './image-cache';
import { domainName, domainXml, kernelCmdline, tapName, BERTH_XMLNS } from './domain-xml';
import { usageOfDomstats } from './domstats';
import { buildSeedIso, nocloudFiles } from './seed';
import type { VirtType } from './virt-type';

type Libvirt = typeof LibvirtModule;
type Hypervisor = LibvirtModule.Hypervisor;
type Domain = LibvirtModule.Domain;

export interface LibvirtDriverOptions {
  net: HostNet;
  hostName: string;
  uri: string;
  /** kvm or qemu (TCG), as probed by the agent (probeVirtType) or set by the operator. */
  virtType: VirtType;
  /** One directory per instance: its overlay disk, config drive, domain XML and console log. */
  instancesDir: string;
  /** This host's copies of VM image files (ImageCache). */
  imageCacheDir: string;
  stopTimeoutSec: number;
  sharedCpus: string;
  /** vCPUs a shared VM may grow to while it runs. */
  maxVcpus: number;
  /** The cloud's SSH key for fetching a migrating VM's disk from its source host (installed at enrollment). */
  migrationKeyPath: string;
  run?: CommandRunner;
}

/** Left in an instance's directory by a migration's fetch: spawn starts from the disk it brought, not a new one. */
const RECEIVED = 'received';
/** virDomainState's "shut off": the QEMU process is gone. */
const VIR_DOMAIN_SHUTOFF = 5;
/** How long a started domain's tap may take to appear on the bridge. */
const TAP_WAIT_MS = 30_000;

/**
 * KVM/QEMU guests through libvirt: @unraid/libvirt for the connection and lifecycle, virsh (argv
 * only) where the binding stops (live vCPU, iotune and CPU quota changes). A VM image is a directory
 * on the host holding disk.qcow2 and, for direct kernel boot, vmlinuz and initrd.img.
 */
export class LibvirtDriver implements ComputeDriver {
  readonly name = 'libvirt';
  readonly kind = 'vm' as const;
  readonly capabilities: readonly DriverCapability[] = ['live-resize', 'cold-migrate'];
  private hypervisor: Hypervisor | null = null;
  private datapath: DatapathType = 'netdev';
  private readonly cache: ImageCache;

  constructor(private readonly options: LibvirtDriverOptions) {
    this.cache = new ImageCache(options.imageCacheDir);
  }

  private get run(): CommandRunner {
    return this.options.run ?? runCommand;
  }

  private get net(): HostNet {
    return this.options.net;
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
    if (existing && (await this.stateOf(existing)) === 'RUNNING' && (await this.isPlugged(spec))) {
      return runSteps(onStep, async (step) => {
        await step('limits');
        return this.applyLimits(spec);
      });
    }
    if (existing) await this.remove(spec);

    return runSteps(onStep, async (step, reverter) => {
      await step('image');
      const image = await this.image(spec);
      const dir = this.dir(spec.id);
      await step('disk');
      await mkdir(dir, { recursive: true });
      reverter.add(`remove ${dir}`, () => this.remove(spec));
      // A migration's target starts from the disk it fetched (fetchSnapshot), already on this host's base.
      const received = await readFile(join(dir, RECEIVED), 'utf8').then(
        () => true,
        () => false,
      );
      if (!received) await createOverlay(this.run, image.disk, join(dir, 'disk.qcow2'), spec.diskGb);
      await step('seed');
      await buildSeedIso(this.run, join(dir, 'seed.iso'), nocloudFiles(spec.id, spec.name, spec.port));
      await step('define');
      await this.net.failpoints.check('libvirt.define');
      const xml = domainXml({
        instanceId: spec.id,
        title: spec.name,
        hostName: this.options.hostName,
        virtType: this.options.virtType,
        limits: spec.limits,
        maxVcpus: this.options.maxVcpus,
        sharedCpus: this.options.sharedCpus,
        disk: { path: join(dir, 'disk.qcow2'), format: 'qcow2' },
        seedPath: join(dir, 'seed.iso'),
        boot: image.kernel
          ? { kernel: image.kernel, initrd: image.initrd, cmdline: kernelCmdline(spec.port, spec.boot?.cmdline ?? '') }
          : null,
        port: spec.port,
        bridge: this.net.bridge,
        consoleLog: join(dir, 'console.log'),
        consoleSocket: join(dir, 'console.sock'),
      });
      await writeFile(join(dir, 'domain.xml'), xml);
      const domain = await this.hv.domainDefineXML(xml);
      await step('start');
      await this.net.failpoints.check('libvirt.start');
      await domain.create();
      await step('network');
      await this.waitForTap(spec);
      await step('limits');
      const applied = await this.applyLimits(spec);
      await rm(join(dir, RECEIVED), { force: true });
      return applied;
    });
  }

  async powerOff(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('stop');
      const domain = await this.lookup(spec.id);
      if (!domain) throw new DriverError('stop', `instance ${spec.id} does not exist on this host`);
      await this.stop(domain);
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
      if ((await this.stateOf(domain)) !== 'RUNNING') {
        await step('start');
        await domain.create();
        reverter.add('stop the domain', () => this.stop(domain).then(() => this.unplug(spec)));
      }
      await step('network');
      await this.waitForTap(spec);
      await step('limits');
      return this.applyLimits(spec);
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
      const running = (await this.stateOf(domain)) === 'RUNNING';
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
      reverter.add('restore the previous limits', () => this.changeLimits(spec.id, previous, running, spec));
      await this.changeLimits(spec.id, next, running, spec);
      await this.net.failpoints.check('libvirt.set-limits');
      return running ? this.applyLimits(spec) : null;
    });
  }

  async readLimits(spec: InstanceSpec): Promise<AppliedLimits | null> {
    const domain = await this.lookup(spec.id);
    if (!domain || (await this.stateOf(domain)) !== 'RUNNING') return null;
    return this.readApplied(spec, domain);
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
    return domain ? this.stateOf(domain) : 'NOSTATE';
  }

  async listInstances(): Promise<Array<{ instanceId: string; powerState: PowerState }>> {
    const found: Array<{ instanceId: string; powerState: PowerState }> = [];
    for (const domain of await this.hv.connectListAllDomains()) {
      const name = await domain.getName();
      if (!name.startsWith('berth-')) continue;
      const meta = await this.metadata(domain);
      if (meta?.host !== this.options.hostName) continue;
      found.push({ instanceId: meta.id, powerState: await this.stateOf(domain) });
    }
    return found;
  }

  /**
   * What the guest said on its serial console since it last booted about the interface with the port's MAC
   * (cloud-init's network table: guest-console.ts), or null before it said anything.
   */
  async readInterface(spec: InstanceSpec): Promise<{ mac: string; addresses: string[] } | null> {
    if ((await this.powerState(spec.id)) !== 'RUNNING') return null;
    const log = await readFile(join(this.dir(spec.id), 'console.log'), 'utf8').catch(() => '');
    const said = reportedAddresses(log, spec.port.mac);
    return said.length > 0 ? { mac: spec.port.mac, addresses: said.slice(-1) } : null;
  }

  /** The guest's serial console, kept in the instance's directory across its boots. */
  async consoleTail(spec: InstanceSpec, lines: number): Promise<string[]> {
    const log = await readFile(join(this.dir(spec.id), 'console.log'), 'utf8').catch(() => '');
    return lastLines(log, lines);
  }

  async cacheImage(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    await this.cache.file(ref);
    await onProgress('cached on this host');
  }

  cachedImages(): Promise<string[]> {
    return this.cache.refs();
  }

  /**
   * libvirt's security drivers for QEMU as its capabilities list them ("dac": QEMU runs as an unprivileged
   * user; "apparmor", "selinux": sVirt), then the port security Berth adds on each tap.
   */
  async confinement(): Promise<string[]> {
    const caps = await this.run(['virsh', '-c', this.options.uri, 'capabilities']);
    const models = [...caps.matchAll(/<secmodel>\s*<model>([a-z0-9-]+)<\/model>/g)].map((m) => m[1] ?? '');
    return [...models.filter((m) => m && m !== 'none').map((m) => `libvirt-${m}`), 'port-security'];
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
      await this.stop(domain);
      await this.unplug(spec);
      await step('export');
      await this.net.failpoints.check('libvirt.export');
      const path = join(this.dir(spec.id), 'disk.qcow2');
      const { sha256, bytes } = await sha256File(path);
      // The definition as it stands now (live changes included) is what a revert defines again.
      await writeFile(join(this.dir(spec.id), 'domain.xml'), await domain.getXMLDesc());
      await domain.undefine();
      return { path, sha256, bytes };
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
    const { artifact } = parseArtifactRef(ref);
    const image = await this.image(spec);
    await this.net.failpoints.check('libvirt.fetch');
    const dir = this.dir(spec.id);
    await mkdir(dir, { recursive: true });
    const part = join(dir, 'disk.qcow2.part');
    try {
      const key = await readFile(this.options.migrationKeyPath, 'utf8');
      await fetchOverSsh(peer, key, artifact, part, onProgress);
      await this.run(['qemu-img', 'rebase', '-u', '-F', 'qcow2', '-b', image.disk, part]);
      await rename(part, join(dir, 'disk.qcow2'));
      await writeFile(join(dir, RECEIVED), `${ref}\n`);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
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

  /** The image's files on this host (fetched into the cache once): its disk, and a kernel and initrd to boot directly. */
  private async image(spec: InstanceSpec): Promise<{ disk: string; kernel: string | null; initrd: string | null }> {
    const cached = (ref: string | null | undefined) => (ref ? this.cache.file(ref) : Promise.resolve(null));
    const [disk, kernel, initrd] = await Promise.all([
      this.cache.file(spec.imageRef),
      cached(spec.boot?.kernelRef),
      cached(spec.boot?.initrdRef),
    ]);
    return { disk, kernel, initrd };
  }

  /** CPU, memory, disks and interface of the running domain, from `virsh domstats`. */
  async usage(instanceId: string): Promise<InstanceUsage | null> {
    const domain = await this.lookup(instanceId);
    if (!domain || (await this.stateOf(domain)) !== 'RUNNING') return null;
    const monotonicMs = performance.now();
    const out = await this.run([
      'virsh',
      '-c',
      this.options.uri,
      'domstats',
      '--cpu-total',
      '--balloon',
      '--interface',
      '--block',
      domainName(instanceId),
    ]);
    return usageOfDomstats(out, monotonicMs);
  }

  /** This host's domain of the instance; a domain of that name that another host defined is not ours. */
  private async lookup(instanceId: string): Promise<Domain | null> {
    const domain = await this.anyDomain(instanceId);
    if (!domain) return null;
    const meta = await this.metadata(domain);
    return meta && meta.host !== this.options.hostName ? null : domain;
  }

  private async anyDomain(instanceId: string): Promise<Domain | null> {
    try {
      return await this.hv.domainLookupByName(domainName(instanceId));
    } catch (error) {
      if (/Domain not found/i.test(String((error as Error).message))) return null;
      throw error;
    }
  }

  /** libvirt's virDomainState, by number (the binding's enum is ESM-only). */
  private async stateOf(domain: Domain): Promise<PowerState> {
    const { state } = await domain.getInfo();
    switch (Number(state)) {
      case 1:
      case 2:
        return 'RUNNING';
      case 3:
      case 7:
        return 'PAUSED';
      case 6:
        return 'CRASHED';
      case 4:
      case 5:
        return 'SHUTDOWN';
      default:
        return 'NOSTATE';
    }
  }

  private async metadata(domain: Domain): Promise<{ id: string; host: string } | null> {
    const xml = await domain.getXMLDesc();
    const doc = (await parseStringPromise(xml, { explicitArray: false })) as {
      domain?: {
        metadata?: Record<string, { $?: Record<string, string>; 'berth:id'?: string; 'berth:host'?: string }>;
      };
    };
    const meta = Object.values(doc.domain?.metadata ?? {}).find((m) => m.$?.['xmlns:berth'] === BERTH_XMLNS);
    return meta?.['berth:id'] && meta['berth:host'] ? { id: meta['berth:id'], host: meta['berth:host'] } : null;
  }

  /**
   * Graceful shutdown (ACPI), then destroy after the stop timeout. Done only once the domain is shut off:
   * a guest that has begun to shut down ("in shutdown") still holds its disk and its tap, and a start
   * asked of it then fails as "already running".
   */
  private async stop(domain: Domain): Promise<void> {
    const shutOff = async () => Number((await domain.getInfo()).state) === VIR_DOMAIN_SHUTOFF;
    if (await shutOff()) return;
    await domain.shutdown().catch(() => undefined);
    const end = Date.now() + this.options.stopTimeoutSec * 1000;
    while (Date.now() < end) {
      if (await shutOff()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The guest may have shut itself off between the last look and now: that is a stop, not an error.
    await domain.destroy().catch(async (error: unknown) => {
      if (!(await shutOff())) throw error;
    });
  }

  /** Removes the domain (running or not), its directory, and what its port left in OVS. */
  private async remove(spec: InstanceSpec): Promise<void> {
    const hadDomain = await this.removeDomain(spec.id);
    // Where a libvirtd and an OVS serve several agents (tests), the tap of a domain another host now
    // runs (a migration's target) is that host's.
    if (!hadDomain && (await this.anyDomain(spec.id))) return;
    await this.unplug(spec);
  }

  /** Stops and undefines this host's domain of the instance (if any) and removes its directory; says whether there was one. */
  private async removeDomain(instanceId: string): Promise<boolean> {
    const domain = await this.lookup(instanceId);
    if (domain) {
      if ((await this.stateOf(domain)) !== 'SHUTDOWN') await domain.destroy().catch(() => undefined);
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

  private async isPlugged(spec: InstanceSpec): Promise<boolean> {
    return (await listPorts(this.net)).includes(tapName(spec.port.id));
  }

  async applyFirewall(spec: InstanceSpec): Promise<boolean> {
    if (!(await this.isPlugged(spec))) return false;
    await applyPortSecurity(this.net, portSecurityOf(tapName(spec.port.id), spec.port));
    return true;
  }

  /** Libvirt plugs the tap as it starts the domain: a running domain whose tap is on the bridge is whole. */
  async runsAsSpecified(spec: InstanceSpec): Promise<boolean> {
    const domain = await this.lookup(spec.id);
    return domain !== null && (await this.stateOf(domain)) === 'RUNNING' && (await this.isPlugged(spec));
  }

  private async waitForTap(spec: InstanceSpec): Promise<void> {
    // libvirt adds the tap as QEMU starts; on a loaded host that takes seconds, so the wait is by the clock.
    const end = Date.now() + TAP_WAIT_MS;
    while (!(await this.isPlugged(spec))) {
      if (Date.now() > end) {
        throw new Error(
          `the VM's tap ${tapName(spec.port.id)} never joined ${this.net.bridge} in ${TAP_WAIT_MS / 1000} s`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** virsh for what the binding lacks: vCPU count, CPU quota, iotune, on the live domain and its definition. */
  private async changeLimits(
    instanceId: string,
    l: InstanceLimits,
    running: boolean,
    spec: InstanceSpec,
  ): Promise<void> {
    const name = domainName(instanceId);
    const scope = running ? ['--live', '--config'] : ['--config'];
    const virsh = (...args: string[]) => this.run(['virsh', '-c', this.options.uri, ...args]);
    await virsh('setvcpus', name, String(l.vcpus), ...scope);
    if (l.cpuPolicy === 'shared') {
      await virsh(
        'schedinfo',
        name,
        ...scope,
        `cpu_shares=${1024 * l.vcpus}`,
        `vcpu_period=${CPU_PERIOD_US}`,
        `vcpu_quota=${Math.round((l.cpuQuota * CPU_PERIOD_US) / 100)}`,
      );
    }
    const iops = (v: number | null) => String(v ?? 0);
    await virsh(
      'blkdeviotune',
      name,
      'vda',
      ...scope,
      '--read-bytes-sec',
      iops(l.diskReadBps),
      '--write-bytes-sec',
      iops(l.diskWriteBps),
      '--read-iops-sec',
      iops(l.diskReadIops),
      '--write-iops-sec',
      iops(l.diskWriteIops),
    );
    // Unset goes back to the kernel's default, which a weight once set would otherwise keep; a domain at the
    // default already (or on a kernel without BFQ, where libvirt refuses any weight, and a definition holding
    // one would then fail the domain's next start) is left alone.
    const weight = l.diskWeight ?? DEFAULT_DISK_WEIGHT;
    if (l.diskWeight !== null || ((await this.readWeight(instanceId)) ?? DEFAULT_DISK_WEIGHT) !== weight) {
      await virsh('blkiotune', name, ...scope, '--weight', String(weight));
    }
    if (running) await setPortRates(this.net, this.qosTarget(spec), portRatesOf(l));
  }

  /**
   * The tap's admission flows (libvirt plugs it as QEMU starts, seconds before the guest's kernel can send),
   * its rates, then every limit read back and compared, as the docker driver does.
   */
  private async applyLimits(spec: InstanceSpec): Promise<AppliedLimits> {
    await applyPortSecurity(this.net, portSecurityOf(tapName(spec.port.id), spec.port));
    await setPortRates(this.net, this.qosTarget(spec), portRatesOf(spec.limits));
    await this.net.failpoints.check('libvirt.limits');
    const domain = await this.lookup(spec.id);
    if (!domain) throw new Error('the domain vanished while its limits were applied');
    const applied = await this.readApplied(spec, domain);
    // Throttles are QEMU's and OVS's, the weight its cgroup's; a VM has no pids limit (its processes are its guest's).
    const host = {
      sharedCpus: this.options.sharedCpus,
      diskThrottles: true,
      pidsLimits: false,
      diskWeight: applied.diskWeight !== null,
    };
    const wrong = mismatches(expectedApplied(spec.limits, host, true), applied);
    if (wrong.length > 0) throw new Error(`limits not in effect: ${wrong.join('; ')}`);
    return applied;
  }

  /** The live domain's XML (vCPUs, pinning, quota, memory, iotune) and the tap's rates. */
  private async readApplied(spec: InstanceSpec, domain: Domain): Promise<AppliedLimits> {
    const { domain: d } = (await parseStringPromise(await domain.getXMLDesc(), { explicitArray: false })) as {
      domain: LiveDomain;
    };
    const vcpu = typeof d.vcpu === 'string' ? { _: d.vcpu } : d.vcpu;
    const vcpus = Number(vcpu?.$?.current ?? vcpu?._ ?? 0);
    const pins = list(d.cputune?.vcpupin).map((p) => Number(p.$.cpuset));
    const quota = d.cputune?.quota === undefined ? null : Number(d.cputune.quota);
    const period = Number(d.cputune?.period ?? CPU_PERIOD_US);
    const iotune = list(d.devices?.disk).find((x) => x.target?.$?.dev === 'vda')?.iotune ?? {};
    const io = (k: keyof IoTune) => (iotune[k] === undefined || Number(iotune[k]) === 0 ? null : Number(iotune[k]));
    const rates = (await this.isPlugged(spec)) ? await readPortRates(this.net, this.qosTarget(spec)) : null;
    const diskWeight = await this.readWeight(spec.id);
    return {
      cpuset: pins.length > 0 ? formatCpuList(pins) : formatCpuList(parseCpuList(vcpu?.$?.cpuset ?? '') ?? []),
      cpus: quota === null || quota < 0 ? null : (vcpus * quota) / period,
      ramMb: Number((d.currentMemory ?? d.memory)?._ ?? 0) / 1024,
      pidsLimit: null,
      diskReadIops: io('read_iops_sec'),
      diskWriteIops: io('write_iops_sec'),
      diskReadBps: io('read_bytes_sec'),
      diskWriteBps: io('write_bytes_sec'),
      diskWeight,
      netIngressMbps: rates?.ingressMbps ?? null,
      netEgressMbps: rates?.egressMbps ?? null,
      // A guest's own kernel shows its own memory and CPUs.
      procView: 'guest',
      readAt: new Date().toISOString(),
    };
  }

  /** The running domain's IO weight as libvirt reads it from its cgroup; null when the host has none. */
  private async readWeight(instanceId: string): Promise<number | null> {
    const out = await this.run(['virsh', '-c', this.options.uri, 'blkiotune', domainName(instanceId)]).catch(() => '');
    const weight = /^weight\s*:\s*(\d+)\s*$/m.exec(out)?.[1];
    return weight === undefined || Number(weight) === 0 ? null : Number(weight);
  }

  private qosTarget(spec: InstanceSpec) {
    return { name: tapName(spec.port.id), portId: spec.port.id, datapath: this.datapath };
  }
}

/** The parts of a live domain's XML (xml2js, explicitArray off) the read-back uses; amounts in KiB. */
interface IoTune {
  read_bytes_sec?: string;
  write_bytes_sec?: string;
  read_iops_sec?: string;
  write_iops_sec?: string;
}
interface LiveDomain {
  vcpu?: string | { _?: string; $?: { current?: string; cpuset?: string } };
  cputune?: { vcpupin?: OneOrMany<{ $: { vcpu: string; cpuset: string } }>; quota?: string; period?: string };
  memory?: { _?: string };
  currentMemory?: { _?: string };
  devices?: { disk?: OneOrMany<{ target?: { $?: { dev?: string } }; iotune?: IoTune }> };
}
type OneOrMany<T> = T | T[];
const list = <T>(v: OneOrMany<T> | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
