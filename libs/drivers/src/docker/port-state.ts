import type { InstanceSpec } from '@berth/contracts';
import { hostVethName, INSTANCE_IFNAME, listPorts, readInstanceInterface, type HostNet } from '@berth/network';
import type Docker from 'dockerode';

/** Whether the instance's port (its veth) is on the host's bridge. */
export async function portPlugged(net: HostNet, spec: InstanceSpec): Promise<boolean> {
  return (await listPorts(net)).includes(hostVethName(spec.port.id));
}

/**
 * Running, and plugged all the way: the veth is an OVS port and eth0 inside has the port's MAC
 * and address. A plug cut short (a veth outside OVS, an eth0 without its address) is not whole.
 */
export async function runsWhole(net: HostNet, spec: InstanceSpec, info: Docker.ContainerInspectInfo): Promise<boolean> {
  if (!info.State.Running || !(await portPlugged(net, spec))) return false;
  const seen = await readInstanceInterface(net, info.State.Pid, INSTANCE_IFNAME).catch(() => null);
  return seen?.mac === spec.port.mac.toLowerCase() && seen.addresses.some((a) => a.split('/')[0] === spec.port.ip);
}
