import type { AppliedLimits, InstanceLimits, InstanceSpec } from '@berth/contracts';
import { formatCpuList, parseCpuList } from '@berth/domain';
import {
  applyPortSecurity,
  portSecurityOf,
  readPortRates,
  setPortRates,
  listPorts,
  type DatapathType,
  type HostNet,
} from '@berth/network';
import { type CommandRunner } from '@berth/platform';
import type * as LibvirtModule from '@unraid/libvirt';
import { parseStringPromise } from 'xml2js';
import { CPU_PERIOD_US, DEFAULT_DISK_WEIGHT, expectedApplied, mismatches, portRatesOf } from '../limits';
import { domainName, tapName } from './domain-xml';

type Domain = LibvirtModule.Domain;

/** What setting and reading a domain's limits needs of its host. */
export interface DomainLimitsContext {
  run: CommandRunner;
  uri: string;
  net: HostNet;
  datapath: DatapathType;
  sharedCpus: string;
}

/** virsh for what the binding lacks: vCPU count, CPU quota, iotune, on the live domain and its definition. */
export async function changeDomainLimits(
  ctx: DomainLimitsContext,
  instanceId: string,
  l: InstanceLimits,
  running: boolean,
  spec: InstanceSpec,
): Promise<void> {
  const name = domainName(instanceId);
  const scope = running ? ['--live', '--config'] : ['--config'];
  const virsh = (...args: string[]) => ctx.run(['virsh', '-c', ctx.uri, ...args]);
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
  if (l.diskWeight !== null || ((await readWeight(ctx, instanceId)) ?? DEFAULT_DISK_WEIGHT) !== weight) {
    await virsh('blkiotune', name, ...scope, '--weight', String(weight));
  }
  if (running) await setPortRates(ctx.net, qosTarget(ctx, spec), portRatesOf(l));
}

/**
 * The tap's admission flows (libvirt plugs it as QEMU starts, seconds before the guest's kernel can send),
 * its rates, then every limit read back and compared, as the docker driver does.
 */
export async function applyDomainLimits(
  ctx: DomainLimitsContext,
  spec: InstanceSpec,
  lookup: () => Promise<Domain | null>,
): Promise<AppliedLimits> {
  await applyPortSecurity(ctx.net, portSecurityOf(tapName(spec.port.id), spec.port));
  await setPortRates(ctx.net, qosTarget(ctx, spec), portRatesOf(spec.limits));
  await ctx.net.failpoints.check('libvirt.limits');
  const domain = await lookup();
  if (!domain) throw new Error('the domain vanished while its limits were applied');
  const applied = await readDomainLimits(ctx, spec, domain);
  // Throttles are QEMU's and OVS's, the weight its cgroup's; a VM has no pids limit (its processes are its guest's).
  const host = {
    sharedCpus: ctx.sharedCpus,
    diskThrottles: true,
    pidsLimits: false,
    diskWeight: applied.diskWeight !== null,
  };
  const wrong = mismatches(expectedApplied(spec.limits, host, true), applied);
  if (wrong.length > 0) throw new Error(`limits not in effect: ${wrong.join('; ')}`);
  return applied;
}

/** The live domain's XML (vCPUs, pinning, quota, memory, iotune) and the tap's rates. */
export async function readDomainLimits(
  ctx: DomainLimitsContext,
  spec: InstanceSpec,
  domain: Domain,
): Promise<AppliedLimits> {
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
  const rates = (await listPorts(ctx.net)).includes(tapName(spec.port.id))
    ? await readPortRates(ctx.net, qosTarget(ctx, spec))
    : null;
  const diskWeight = await readWeight(ctx, spec.id);
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
async function readWeight(ctx: DomainLimitsContext, instanceId: string): Promise<number | null> {
  const out = await ctx.run(['virsh', '-c', ctx.uri, 'blkiotune', domainName(instanceId)]).catch(() => '');
  const weight = /^weight\s*:\s*(\d+)\s*$/m.exec(out)?.[1];
  return weight === undefined || Number(weight) === 0 ? null : Number(weight);
}

export function qosTarget(ctx: DomainLimitsContext, spec: InstanceSpec) {
  return { name: tapName(spec.port.id), portId: spec.port.id, datapath: ctx.datapath };
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
