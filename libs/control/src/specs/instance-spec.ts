import {
  CONTRACT_VERSION,
  grantsOf,
  type ComputeCommand,
  type InstanceLimits,
  type InstanceSpec,
} from '@berth/contracts';
import type { InstanceRecord, PendingResize } from '@berth/data';

/** The spec a host needs to run this instance. */
export function specOf(r: InstanceRecord): InstanceSpec {
  if (!r.portId || !r.networkId || !r.mac || !r.ip || r.prefixLength === null || !r.gateway || r.vlan === null) {
    throw new Error(`instance ${r.id} has no port`);
  }
  const grants = grantsOf(r.extraSpecs);
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    diskGb: r.diskGb,
    ...(grants.length > 0 ? { grants } : {}),
    imageRef: r.imageRef,
    ...(r.boot ? { boot: r.boot } : {}),
    limits: instanceLimitsOf(r),
    port: {
      id: r.portId,
      networkId: r.networkId,
      mac: r.mac,
      ip: r.ip,
      prefixLength: r.prefixLength,
      gateway: r.gateway,
      vlan: r.vlan,
      portSecurity: r.portSecurity ?? true,
      allowedAddressPairs: r.allowedAddressPairs ?? [],
      ...(r.firewall ? { firewall: r.firewall } : {}),
    },
  };
}

/** The limits in effect for the instance (not those of a resize in flight). */
export function instanceLimitsOf(
  r: Pick<InstanceRecord, 'vcpus' | 'ramMb' | 'cpuPolicy' | 'throttles' | 'pinnedCpus'>,
): InstanceLimits {
  return { ...r.throttles, vcpus: r.vcpus, ramMb: r.ramMb, cpuPolicy: r.cpuPolicy, pinnedCpus: r.pinnedCpus };
}

/** The command of a live resize: the instance as it is to become, and the limits to restore if it fails. */
export function limitsCommandOf(r: InstanceRecord, to: PendingResize['to'], operationId: string): ComputeCommand {
  const current = specOf(r);
  return {
    v: CONTRACT_VERSION,
    type: 'instance.set-limits',
    operationId,
    instance: {
      ...current,
      diskGb: to.diskGb,
      limits: { ...to.throttles, vcpus: to.vcpus, ramMb: to.ramMb, cpuPolicy: to.cpuPolicy, pinnedCpus: to.pinnedCpus },
    },
    previous: current.limits,
  };
}
