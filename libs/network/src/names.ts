/**
 * Interface names on the host, derived from the port id so that any process can find (and the
 * sweeper can remove) the interfaces of a port: "bvh" + 12 hex digits is the host end of the veth,
 * "bvp" + the same digits the instance end before it moves into the instance and becomes eth0.
 * Linux allows 15 characters; 48 bits of the port's UUID make a clash practically impossible.
 */
export const HOST_VETH_PREFIX = 'bvh';
export const PEER_VETH_PREFIX = 'bvp';
export const INSTANCE_IFNAME = 'eth0';

/** The 12 hex digits of a port's id that its interface names end in. */
export function portSuffix(portId: string): string {
  const hex = portId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`port id is not a UUID: ${JSON.stringify(portId)}`);
  return hex.slice(0, 12);
}

export function hostVethName(portId: string): string {
  return HOST_VETH_PREFIX + portSuffix(portId);
}

export function peerVethName(portId: string): string {
  return PEER_VETH_PREFIX + portSuffix(portId);
}
