import { CommandError } from '@berth/platform';
import type { HostNet } from './host-net';

export type DatapathType = 'system' | 'netdev';

export function vsctl(net: HostNet, args: readonly string[]): Promise<string> {
  return net.run(['ovs-vsctl', ...(net.ovsDb ? [`--db=${net.ovsDb}`] : []), '--timeout=10', ...args]);
}

/** One external id of an Interface; undefined when it has none, or there is no such Interface. */
export async function interfaceExternalId(net: HostNet, name: string, key: string): Promise<string | undefined> {
  const value = unquote(await vsctl(net, ['--if-exists', 'get', 'Interface', name, `external_ids:${key}`]));
  return value === '' ? undefined : value;
}

/** ovs-vsctl prints strings quoted when they need it; this undoes that. */
function unquote(value: string): string {
  const v = value.trim();
  return v.startsWith('"') ? (JSON.parse(v) as string) : v;
}

export async function bridgeDatapathType(net: HostNet): Promise<DatapathType | null> {
  try {
    const type = unquote(await vsctl(net, ['get', 'Bridge', net.bridge, 'datapath_type']));
    return type === 'netdev' ? 'netdev' : 'system';
  } catch (error) {
    if (error instanceof CommandError && /no row|no bridge/i.test(error.stderr)) return null;
    throw error;
  }
}

/**
 * Creates the integration bridge if it is missing, with the datapath the host supports; an existing
 * bridge is left as the operator made it. Returns the datapath type in use.
 */
export async function ensureBridge(net: HostNet, preferred: DatapathType): Promise<DatapathType> {
  const existing = await bridgeDatapathType(net);
  if (existing) return existing;
  await vsctl(net, [
    '--may-exist',
    'add-br',
    net.bridge,
    '--',
    'set',
    'Bridge',
    net.bridge,
    `datapath_type=${preferred}`,
  ]);
  return preferred;
}

export interface AccessPort {
  name: string;
  vlan: number;
  externalIds: Record<string, string>;
}

/** Adds `port` to the bridge as an access port on `vlan`, tagged with Berth's external ids. */
export async function addAccessPort(net: HostNet, port: AccessPort): Promise<void> {
  const ids = Object.entries(port.externalIds).map(([k, v]) => `external_ids:${k}=${JSON.stringify(v)}`);
  await vsctl(net, [
    '--may-exist',
    'add-port',
    net.bridge,
    port.name,
    `tag=${port.vlan}`,
    '--',
    'set',
    'Interface',
    port.name,
    ...ids,
  ]);
}

export async function deletePort(net: HostNet, name: string): Promise<void> {
  await vsctl(net, ['--if-exists', 'del-port', net.bridge, name]);
}

export async function listPorts(net: HostNet): Promise<string[]> {
  const out = await vsctl(net, ['list-ports', net.bridge]);
  return out.split('\n').filter(Boolean);
}

export async function portVlan(net: HostNet, name: string): Promise<number | null> {
  const tag = (await vsctl(net, ['get', 'Port', name, 'tag'])).trim();
  return tag === '[]' ? null : Number(tag);
}

/** A port on the bridge that names its host and instance in its external ids. */
export interface PortTrace {
  name: string;
  instanceId: string;
  portId: string;
}

/** The bridge's interfaces tagged as this host's (external_ids:berth-host), with the instance each belongs to. */
export async function hostPortTraces(net: HostNet, hostName: string): Promise<PortTrace[]> {
  const out = await vsctl(net, [
    '--format=json',
    '--columns=name,external_ids',
    'find',
    'Interface',
    `external_ids:berth-host=${JSON.stringify(hostName)}`,
  ]);
  const table = JSON.parse(out) as { data: Array<[string, ['map', Array<[string, string]>]]> };
  return table.data.flatMap(([name, [, pairs]]) => {
    const ids = new Map(pairs);
    const instanceId = ids.get('berth-instance');
    const portId = ids.get('berth-port');
    return instanceId && portId ? [{ name, instanceId, portId }] : [];
  });
}
