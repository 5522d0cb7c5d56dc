import { CommandError } from '@berth/platform';
import type { HostNet } from './host-net';
import { HOST_VETH_PREFIX, PEER_VETH_PREFIX } from './names';
import { deletePort } from './ovs';

const VETH_NAME = new RegExp(`^(${HOST_VETH_PREFIX}|${PEER_VETH_PREFIX})([0-9a-f]{12})$`);

/** Creates a veth pair in the host namespace; the peer gets the instance's MAC from the start. */
export async function createVethPair(net: HostNet, hostEnd: string, peerEnd: string, peerMac: string): Promise<void> {
  await net.run(['ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', peerEnd, 'address', peerMac]);
}

/** Deletes a link (for a veth, both ends). A link that is already gone counts as deleted. */
export async function deleteLink(net: HostNet, name: string): Promise<void> {
  try {
    await net.run(['ip', 'link', 'del', name]);
  } catch (error) {
    if (error instanceof CommandError && /Cannot find device|does not exist/.test(error.stderr)) return;
    throw error;
  }
}

export async function linkExists(net: HostNet, name: string): Promise<boolean> {
  try {
    await net.run(['ip', 'link', 'show', name]);
    return true;
  } catch (error) {
    if (error instanceof CommandError && /does not exist|Cannot find device/.test(error.stderr)) return false;
    throw error;
  }
}

/**
 * Moves `name` into the network namespace of process `pid`, renaming it on the way (the kernel
 * applies the name in the target namespace), and brings the host end up, in one `ip -batch`.
 */
export async function moveIntoNamespace(
  net: HostNet,
  name: string,
  pid: number,
  newName: string,
  hostEnd: string,
): Promise<void> {
  const batch = [`link set dev ${name} netns ${pid} name ${newName}`, `link set dev ${hostEnd} up`].join('\n');
  await net.run(['ip', '-batch', '-'], { input: `${batch}\n` });
}

/**
 * Veths of Berth's naming that a plug left half made: a peer end ("bvp...") still in the host's
 * namespace, or a host end ("bvh...") on no bridge port. Either means the process that made it
 * died between the veth and the OVS port. Returned by the 12-digit suffix both ends share.
 */
export async function halfMadeVeths(net: HostNet, ovsPorts: readonly string[]): Promise<string[]> {
  const out = await net.run(['ip', '-o', 'link', 'show', 'type', 'veth']);
  const names = out
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  const inOvs = new Set(ovsPorts);
  const suffixes = names.flatMap((name) => {
    const match = VETH_NAME.exec(name);
    if (!match) return [];
    return match[1] === PEER_VETH_PREFIX || !inOvs.has(name) ? [match[2] as string] : [];
  });
  return [...new Set(suffixes)];
}

/** Removes a half-made veth pair by its suffix (deleting either end removes both), and its OVS port if it got one. */
export async function deleteHalfMadeVeth(net: HostNet, suffix: string): Promise<void> {
  await deletePort(net, HOST_VETH_PREFIX + suffix);
  await deleteLink(net, HOST_VETH_PREFIX + suffix);
  await deleteLink(net, PEER_VETH_PREFIX + suffix);
}

/** A link's traffic counters as the kernel keeps them, in the link's own direction. */
export interface LinkCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

/**
 * The counters of `name` (`ip -s -j link show`, in the namespace the host's runner reaches), or
 * null when there is no such link (an instance that is stopped has none).
 */
export async function linkCounters(net: HostNet, name: string): Promise<LinkCounters | null> {
  let text: string;
  try {
    text = await net.run(['ip', '-s', '-j', 'link', 'show', 'dev', name]);
  } catch (error) {
    if (error instanceof CommandError && /does not exist|Cannot find device/.test(error.stderr)) return null;
    throw error;
  }
  const [link] = JSON.parse(text) as Array<{
    stats64?: { rx: { bytes: number; packets: number }; tx: { bytes: number; packets: number } };
  }>;
  const stats = link?.stats64;
  if (!stats) throw new Error(`ip gave no counters for ${name}`);
  return { rxBytes: stats.rx.bytes, txBytes: stats.tx.bytes, rxPackets: stats.rx.packets, txPackets: stats.tx.packets };
}
