import type { InstanceSpec, PowerState } from '@berth/contracts';
import { listPorts, type HostNet } from '@berth/network';
import type * as LibvirtModule from '@unraid/libvirt';
import { parseStringPromise } from 'xml2js';
import { domainName, BERTH_XMLNS, tapName } from './domain-xml';

type Hypervisor = LibvirtModule.Hypervisor;
type Domain = LibvirtModule.Domain;

/** libvirt's VIR_DOMAIN_SHUTOFF. */
const VIR_DOMAIN_SHUTOFF = 5;

/* This host's libvirt domains: found by name, their state, Berth's metadata in them, and a graceful stop. */

export async function anyDomain(hv: Hypervisor, instanceId: string): Promise<Domain | null> {
  try {
    return await hv.domainLookupByName(domainName(instanceId));
  } catch (error) {
    if (/Domain not found/i.test(String((error as Error).message))) return null;
    throw error;
  }
}

/** libvirt's virDomainState, by number (the binding's enum is ESM-only). */
export async function stateOf(domain: Domain): Promise<PowerState> {
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

export async function domainMetadata(domain: Domain): Promise<{ id: string; host: string } | null> {
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
export async function stopDomain(domain: Domain, stopTimeoutSec: number): Promise<void> {
  const shutOff = async () => Number((await domain.getInfo()).state) === VIR_DOMAIN_SHUTOFF;
  if (await shutOff()) return;
  await domain.shutdown().catch(() => undefined);
  const end = Date.now() + stopTimeoutSec * 1000;
  while (Date.now() < end) {
    if (await shutOff()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  // The guest may have shut itself off between the last look and now: that is a stop, not an error.
  await domain.destroy().catch(async (error: unknown) => {
    if (!(await shutOff())) throw error;
  });
}

/** The instances whose domains this host defined (Berth's domains of other hosts sharing the daemon are not its). */
export async function hostDomains(
  hv: Hypervisor,
  hostName: string,
): Promise<Array<{ instanceId: string; powerState: PowerState }>> {
  const found: Array<{ instanceId: string; powerState: PowerState }> = [];
  for (const domain of await hv.connectListAllDomains()) {
    const name = await domain.getName();
    if (!name.startsWith('berth-')) continue;
    const meta = await domainMetadata(domain);
    if (meta?.host !== hostName) continue;
    found.push({ instanceId: meta.id, powerState: await stateOf(domain) });
  }
  return found;
}

/** Whether the instance's tap is on the bridge (libvirt plugs it as QEMU starts, and unplugs it as QEMU ends). */
export async function tapPlugged(net: HostNet, spec: InstanceSpec): Promise<boolean> {
  return (await listPorts(net)).includes(tapName(spec.port.id));
}

/** How long a started domain's tap may take to appear on the bridge. */
const TAP_WAIT_MS = 30_000;

/** Waits for the tap libvirt adds as QEMU starts; on a loaded host that takes seconds, so the wait is by the clock. */
export async function waitForTap(net: HostNet, spec: InstanceSpec): Promise<void> {
  const tap = tapName(spec.port.id);
  const end = Date.now() + TAP_WAIT_MS;
  while (!(await listPorts(net)).includes(tap)) {
    if (Date.now() > end) throw new Error(`the VM's tap ${tap} never joined ${net.bridge} in ${TAP_WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `work` with the guest paused (a domain that runs), resumed afterwards whatever happened. */
export async function whilePaused(domain: Domain, work: () => Promise<void>): Promise<void> {
  const running = (await stateOf(domain)) === 'RUNNING';
  if (running) await domain.suspend();
  try {
    await work();
  } finally {
    if (running) await domain.resume();
  }
}
