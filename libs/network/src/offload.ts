import type { HostNet } from './host-net';

/**
 * Turns TX checksum offload off. On a userspace (netdev) OVS bridge, packets that leave a veth with
 * the checksum left to "hardware" arrive with a bad checksum: ping works, TCP does not (docs/platform.md).
 */
export async function disableTxOffload(net: HostNet, ifname: string): Promise<void> {
  await net.run(['ethtool', '-K', ifname, 'tx', 'off']);
}
