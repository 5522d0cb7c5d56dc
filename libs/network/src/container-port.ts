import type { PortSpec } from '@berth/contracts';
import type { Reverter } from '@berth/platform';
import { assertIPv4, assertMac, assertPid, assertPrefixLength, assertVlan } from './guards';
import type { HostNet } from './host-net';
import { announceAddress, configureInstanceAddress } from './instance-address';
import { createVethPair, deleteLink, moveIntoNamespace } from './link';
import { hostVethName, INSTANCE_IFNAME, peerVethName } from './names';
import { disableTxOffload } from './offload';
import { addAccessPort, deletePort, type DatapathType } from './ovs';
import {
  applyPortSecurity,
  portSecurityOf,
  portSecurityRecord,
  removePortSecurity,
  type PortSecurityTarget,
} from './port-security';
import { clearPortRates } from './qos';

export interface ContainerPortTarget {
  instanceId: string;
  /** The compute host it is plugged on: tagged on the OVS port, so that the host's sweep can find its leftovers. */
  hostName: string;
  /** Any process in the container's network namespace (its init). */
  pid: number;
  port: PortSpec;
  datapath: DatapathType;
}

/**
 * Plugs a container into OVS, the nova-docker way: a veth pair whose host end becomes an access
 * port on the port's VLAN, whose other end moves into the container as eth0 with the port's MAC,
 * static address and default route. Each step registers its undo on `reverter`; if a step fails
 * the caller's revert removes what was made (deleting the host end removes both ends).
 */
export async function plugContainerPort(net: HostNet, target: ContainerPortTarget, reverter: Reverter): Promise<void> {
  const { port, pid } = target;
  assertPid(pid);
  assertMac(port.mac);
  assertIPv4(port.ip, 'ip');
  assertIPv4(port.gateway, 'gateway');
  assertPrefixLength(port.prefixLength);
  assertVlan(port.vlan);
  const hostEnd = hostVethName(port.id);
  const peerEnd = peerVethName(port.id);

  await net.failpoints.check('network.veth');
  await createVethPair(net, hostEnd, peerEnd, port.mac);
  reverter.add(`delete veth ${hostEnd}`, () => deleteLink(net, hostEnd));

  if (target.datapath === 'netdev') await disableTxOffload(net, peerEnd);
  await moveIntoNamespace(net, peerEnd, pid, INSTANCE_IFNAME, hostEnd);

  await net.failpoints.check('network.ovs-port');
  await addAccessPort(net, {
    name: hostEnd,
    vlan: port.vlan,
    externalIds: {
      'berth-instance': target.instanceId,
      'berth-host': target.hostName,
      'berth-port': port.id,
      'iface-id': port.id,
      'attached-mac': port.mac,
      ...portSecurityRecord(containerPortSecurity(port)),
    },
  });
  reverter.add(`delete OVS port ${hostEnd}`, () => deletePort(net, hostEnd));

  // Before eth0 comes up (with its address, below), so that no frame of the instance's passes unchecked.
  await net.failpoints.check('network.port-security');
  await applyPortSecurity(net, containerPortSecurity(port), { recorded: true });
  reverter.add(`remove port security of ${hostEnd}`, () => removePortSecurity(net, port.id));

  await net.failpoints.check('network.address');
  await configureInstanceAddress(net, pid, {
    ifname: INSTANCE_IFNAME,
    ip: port.ip,
    prefixLength: port.prefixLength,
    gateway: port.gateway,
  });
  await announceAddress(net, pid, INSTANCE_IFNAME, port.ip);
}

/** What a container's port may send from: its own MAC and address, and its allowed address pairs. */
export function containerPortSecurity(port: PortSpec): PortSecurityTarget {
  return portSecurityOf(hostVethName(port.id), port);
}

/**
 * Removes a container's port from the host: its rate limits, the OVS port and the veth. Idempotent. Deleting the veth
 * explicitly matters: the kernel tears down a dead namespace's interfaces asynchronously, so
 * a veth can outlive its container for a moment and collide with the next plug of the same port.
 */
export async function unplugContainerPort(net: HostNet, portId: string): Promise<void> {
  const hostEnd = hostVethName(portId);
  await clearPortRates(net, { name: hostEnd, portId });
  // Before the port: flows naming a port number that is gone are a stray for the sweeper to find.
  await removePortSecurity(net, portId);
  await deletePort(net, hostEnd);
  await deleteLink(net, hostEnd);
  await deleteLink(net, peerVethName(portId));
}
