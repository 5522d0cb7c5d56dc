import type { HostNet } from './host-net';

export interface InstanceAddress {
  ifname: string;
  ip: string;
  prefixLength: number;
  gateway: string;
}

/**
 * Gives the instance's interface its static address and default route from inside the instance's
 * network namespace. There is no DHCP in Berth. `nsenter --net` rather than `ip netns exec`, which
 * remounts /sys (docs/platform.md), and `-batch` so it is one process whatever the number of steps.
 */
export async function configureInstanceAddress(net: HostNet, pid: number, address: InstanceAddress): Promise<void> {
  const batch = [
    'link set dev lo up',
    `addr add ${address.ip}/${address.prefixLength} dev ${address.ifname}`,
    `link set dev ${address.ifname} up`,
    `route add default via ${address.gateway} dev ${address.ifname}`,
  ].join('\n');
  await net.run(['nsenter', `--target=${pid}`, '--net', 'ip', '-batch', '-'], { input: `${batch}\n` });
}

/**
 * Announces the instance's address and MAC to its VLAN (one gratuitous ARP, from inside its namespace with the
 * host's busybox), so that switches and neighbours that knew the MAC elsewhere (before a migration) learn where
 * it is now, as Nova's hosts announce a moved guest. Best effort: a lost announcement only delays that.
 */
export async function announceAddress(net: HostNet, pid: number, ifname: string, ip: string): Promise<void> {
  await net
    .run(['nsenter', `--target=${pid}`, '--net', 'busybox', 'arping', '-U', '-c', '1', '-I', ifname, ip])
    .catch(() => undefined);
}

export interface ObservedInterface {
  mac: string;
  addresses: string[];
}

/** What the instance really has, read from inside its namespace. */
export async function readInstanceInterface(net: HostNet, pid: number, ifname: string): Promise<ObservedInterface> {
  const out = await net.run(['nsenter', `--target=${pid}`, '--net', 'ip', '-json', 'addr', 'show', 'dev', ifname]);
  const [link] = JSON.parse(out) as Array<{
    address: string;
    addr_info: Array<{ family: string; local: string; prefixlen: number }>;
  }>;
  if (!link) throw new Error(`no interface ${ifname} in the namespace of ${pid}`);
  return {
    mac: link.address,
    addresses: link.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  };
}
