import {
  CONTRACT_VERSION,
  grantsOf,
  type ComputeCommand,
  type InstanceLimits,
  type InstanceSpec,
  type RequestSpec,
} from '@berth/contracts';
import type { FlavorSize, InstanceRecord, PendingResize } from '@berth/data';

/*
 * The one builder of each shape a host or the scheduler receives for an instance: InstanceSpec (what a host
 * runs), InstanceLimits (its size and throttles), RequestSpec (what it asks of a host, Nova's RequestSpec). Every
 * workflow builds them here from the instance's record, so that a field added to one reaches every path.
 */

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
    ...(r.keyData ? { publicKeys: [r.keyData] } : {}),
    ...(r.volumes.length > 0 ? { volumes: r.volumes } : {}),
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

/** The limits of a size (the instance's own, a flavor's, or a resize's target) on the CPUs pinned for it. */
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
      limits: instanceLimitsOf(to),
    },
    previous: current.limits,
  };
}

/**
 * What the instance asks of a host, for its placement: at its own size, or at `size` (a cold resize's target).
 * `reservation: 'none'` claims in the common pool (a move, or a rebuild elsewhere: the reservation's slot went with
 * the first claim).
 */
export function requestSpecOf(
  r: InstanceRecord,
  options: { size?: FlavorSize; reservation: 'keep' | 'none' },
): RequestSpec {
  if (r.vlan === null) throw new Error(`instance ${r.id} has no port`);
  const size = options.size ?? r;
  return {
    kind: r.kind,
    projectId: r.projectId,
    cpuPolicy: size.cpuPolicy,
    vcpus: size.vcpus,
    ramMb: size.ramMb,
    diskGb: size.diskGb,
    pidsLimit: size.throttles.pidsLimit,
    zone: r.zone,
    extraSpecs: r.extraSpecs ?? {},
    vlan: r.vlan,
    imageRef: r.imageRef,
    serverGroupId: r.serverGroupId,
    reservationId: options.reservation === 'keep' ? r.reservationId : null,
  };
}
