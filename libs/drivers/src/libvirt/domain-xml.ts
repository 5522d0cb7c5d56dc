import type { InstanceLimits, InstanceSpec, PortSpec } from '@berth/contracts';
import { join } from 'node:path';
import { formatCpuList } from '@berth/domain';
import { Builder } from 'xml2js';
import { CPU_PERIOD_US } from '../limits';
import type { VirtType } from './virt-type';
import { iotuneOf, volumeDiskElement, type VolumeDisk } from './volume-disk';

/** The XML namespace of Berth's own metadata inside a domain. */
export const BERTH_XMLNS = 'https://berth.dev/xmlns/instance/1';

/** libvirt domains are named after the instance id, never the user's name (which goes to <title>). */
export function domainName(instanceId: string): string {
  return `berth-${instanceId}`;
}

/** The tap libvirt makes for the instance's port: "bvt" + 12 hex digits of the port id, like the veth's "bvh". */
export function tapName(portId: string): string {
  return `bvt${portId.replace(/-/g, '').slice(0, 12)}`;
}

/** Everything a VM's domain is made of, resolved by the driver (paths on this host, the bridge, the type). */
export interface DomainSpec {
  instanceId: string;
  /** The user's instance name, kept only as the domain's title. */
  title: string;
  hostName: string;
  /** kvm where /dev/kvm runs guests, qemu (TCG) elsewhere. */
  virtType: 'kvm' | 'qemu';
  limits: InstanceLimits;
  /** vCPUs the domain may grow to while it runs (live scale-up); at least limits.vcpus. */
  maxVcpus: number;
  /** Host CPUs shared vCPUs float over (a kernel CPU list). */
  sharedCpus: string;
  disk: { path: string; format: 'qcow2' };
  /** The NoCloud config drive (an ISO), attached read-only as the second disk. */
  seedPath: string;
  /** Direct kernel boot for images that carry a kernel; otherwise the disk boots. */
  boot: { kernel: string; initrd: string | null; cmdline: string } | null;
  port: PortSpec;
  bridge: string;
  /** The volumes attached to the instance, as disks after the config drive. */
  volumes?: VolumeDisk[];
  /** Everything the serial console prints, kept across boots. */
  consoleLog: string;
  /** The serial console's socket on the host (root only): an operator's way into the guest, as virsh console. */
  consoleSocket: string;
}

const MIB = 1024 * 1024;

/**
 * The domain XML, built as a tree and serialised by xml2js, which escapes every text and attribute
 * (&, <, >, quotes, and newlines in attributes), so no user string can change the document's shape.
 */
export function domainXml(spec: DomainSpec): string {
  const { limits, port } = spec;
  const dedicated = limits.cpuPolicy === 'dedicated';
  const domain = {
    domain: {
      $: { type: spec.virtType },
      name: domainName(spec.instanceId),
      uuid: spec.instanceId,
      // libvirt refuses a title with a line break; the name API-side never has one, but the XML holds anyway.
      title: spec.title.replace(/[\r\n]+/g, ' '),
      metadata: {
        'berth:instance': {
          $: { 'xmlns:berth': BERTH_XMLNS },
          'berth:id': spec.instanceId,
          'berth:port': port.id,
          'berth:host': spec.hostName,
        },
      },
      memory: { $: { unit: 'KiB' }, _: String((limits.ramMb * MIB) / 1024) },
      vcpu: {
        $: {
          placement: 'static',
          current: String(limits.vcpus),
          ...(dedicated ? {} : { cpuset: spec.sharedCpus }),
        },
        _: String(dedicated ? limits.vcpus : Math.max(limits.vcpus, spec.maxVcpus)),
      },
      ...(limits.diskWeight === null ? {} : { blkiotune: { weight: String(limits.diskWeight) } }),
      cputune: cputuneOf(limits),
      os: {
        type: { $: { arch: 'x86_64', machine: 'pc' }, _: 'hvm' },
        ...(spec.boot
          ? {
              kernel: spec.boot.kernel,
              ...(spec.boot.initrd ? { initrd: spec.boot.initrd } : {}),
              cmdline: spec.boot.cmdline,
            }
          : { boot: { $: { dev: 'hd' } } }),
      },
      features: { acpi: '' },
      on_poweroff: 'destroy',
      on_reboot: 'restart',
      on_crash: 'destroy',
      devices: devicesOf(spec),
    },
  };
  return new Builder({ headless: true, renderOpts: { pretty: true, indent: '  ', newline: '\n' } }).buildObject(domain);
}

/** Pinned vCPUs for a dedicated instance; shares, period and quota for a shared one. */
function cputuneOf(limits: InstanceLimits) {
  if (limits.cpuPolicy === 'dedicated') {
    return { vcpupin: limits.pinnedCpus.map((cpu, vcpu) => ({ $: { vcpu: String(vcpu), cpuset: String(cpu) } })) };
  }
  return {
    shares: String(1024 * limits.vcpus),
    period: String(CPU_PERIOD_US),
    quota: String(Math.round((limits.cpuQuota * CPU_PERIOD_US) / 100)),
  };
}

/** The data disk, the config drive, the port's tap on the OVS bridge, and the serial console. */
function devicesOf(spec: DomainSpec) {
  const { port } = spec;
  const { limits: l } = spec;
  const iotune = iotuneOf({
    readBps: l.diskReadBps,
    writeBps: l.diskWriteBps,
    readIops: l.diskReadIops,
    writeIops: l.diskWriteIops,
  });
  const offloadsOff = { csum: 'off', tso4: 'off', tso6: 'off', ecn: 'off', ufo: 'off' };
  return {
    disk: [
      {
        $: { type: 'file', device: 'disk' },
        driver: { $: { name: 'qemu', type: spec.disk.format, cache: 'none', io: 'native' } },
        source: { $: { file: spec.disk.path } },
        target: { $: { dev: 'vda', bus: 'virtio' } },
        ...(Object.keys(iotune).length > 0 ? { iotune } : {}),
      },
      {
        $: { type: 'file', device: 'disk' },
        driver: { $: { name: 'qemu', type: 'raw' } },
        source: { $: { file: spec.seedPath } },
        target: { $: { dev: 'vdb', bus: 'virtio' } },
        readonly: '',
      },
      ...(spec.volumes ?? []).map(volumeDiskElement),
    ],
    interface: {
      $: { type: 'bridge' },
      mac: { $: { address: port.mac } },
      source: { $: { bridge: spec.bridge } },
      virtualport: { $: { type: 'openvswitch' }, parameters: { $: { interfaceid: port.id } } },
      vlan: { tag: { $: { id: String(port.vlan) } } },
      target: { $: { dev: tapName(port.id) } },
      model: { $: { type: 'virtio' } },
      // A userspace (netdev) OVS bridge drops TCP whose checksums were offloaded (docs/platform.md, the tx offload quirk).
      driver: { $: { name: 'qemu' }, host: { $: offloadsOff }, guest: { $: offloadsOff } },
    },
    serial: {
      $: { type: 'unix' },
      source: { $: { mode: 'bind', path: spec.consoleSocket } },
      log: { $: { file: spec.consoleLog, append: 'on' } },
      target: { $: { port: '0' } },
    },
  };
}

/** The kernel command line of a direct-boot image: the serial console, and the address for images without a seed reader. */
export function kernelCmdline(port: PortSpec, extra: string): string {
  const ip = `berth.ip=${port.ip}/${port.prefixLength} berth.gw=${port.gateway}`;
  return [`console=ttyS0`, 'panic=-1', ip, extra].filter(Boolean).join(' ');
}

/** The CPUs a domain may run on, as a kernel list, for read-back comparisons. */
export function domainCpuset(limits: InstanceLimits, sharedCpus: string): string {
  return limits.cpuPolicy === 'dedicated' ? formatCpuList(limits.pinnedCpus) : sharedCpus;
}

/** The domain of an instance on this host, its files in `dir` (disk, config drive, console). */
export function instanceDomainXml(
  spec: InstanceSpec,
  o: { hostName: string; virtType: VirtType; maxVcpus: number; sharedCpus: string; bridge: string },
  image: { kernel: string | null; initrd: string | null },
  dir: string,
  volumes: VolumeDisk[] = [],
): string {
  return domainXml({
    instanceId: spec.id,
    title: spec.name,
    hostName: o.hostName,
    virtType: o.virtType,
    limits: spec.limits,
    maxVcpus: o.maxVcpus,
    sharedCpus: o.sharedCpus,
    disk: { path: join(dir, 'disk.qcow2'), format: 'qcow2' },
    seedPath: join(dir, 'seed.iso'),
    boot: image.kernel
      ? { kernel: image.kernel, initrd: image.initrd, cmdline: kernelCmdline(spec.port, spec.boot?.cmdline ?? '') }
      : null,
    port: spec.port,
    bridge: o.bridge,
    consoleLog: join(dir, 'console.log'),
    consoleSocket: join(dir, 'console.sock'),
    volumes,
  });
}
