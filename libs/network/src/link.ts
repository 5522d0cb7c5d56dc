import { CommandError } from '@berth/platform';
import type { HostNet } from './host-net';

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
