import { CommandError } from '@berth/platform';
import { assertIfname } from './guards';
import type { HostNet } from './host-net';
import { interfaceExternalId, vsctl, type DatapathType } from './ovs';
import { FORWARDING_TABLE } from './tables';

/** Bandwidth limits of an instance's port in Mbit/s, from the instance's point of view; null: none. */
export interface PortRates {
  /** Traffic to the instance: OVS sends it out of the port, shaped by linux-htb QoS there. */
  ingressMbps: number | null;
  /** Traffic from the instance: OVS receives it on the port and polices it (a meter, or ingress policing). */
  egressMbps: number | null;
}

export const NO_PORT_RATES: PortRates = { ingressMbps: null, egressMbps: null };

export interface QosTarget {
  /** The OVS port: the host end of the instance's veth (or its tap). */
  name: string;
  /** Berth's port id: tags the QoS rows and names the meter's flow. */
  portId: string;
  datapath: DatapathType;
}

/** Policers drop what exceeds the rate; a burst of 1/5 s keeps TCP near the rate (measured). */
const burstKbit = (kbps: number) => Math.max(1000, Math.round(kbps / 5));

function assertRate(mbps: number | null, what: string): void {
  if (mbps !== null && (!Number.isInteger(mbps) || mbps < 1 || mbps > 100_000)) {
    throw new Error(`${what} must be 1-100000 Mbit/s, got ${mbps}`);
  }
}

/** The cookie of the port's meter flow: 64 bits of the port id, so the flow is found without state. */
export function meterCookie(portId: string): string {
  const hex = portId.replace(/-/g, '').slice(0, 16);
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new Error(`not a port id: ${JSON.stringify(portId)}`);
  return `0x${hex}`;
}

/**
 * Sets both directions' limits on the port (null removes one), as the datapath allows: linux-htb
 * QoS for traffic to the instance; for traffic from it, an OpenFlow meter on a userspace (netdev)
 * bridge, or OVS ingress policing on a kernel datapath (which needs act_police). Idempotent.
 */
export async function setPortRates(net: HostNet, target: QosTarget, rates: PortRates): Promise<void> {
  assertIfname(target.name);
  assertRate(rates.ingressMbps, 'ingress rate');
  assertRate(rates.egressMbps, 'egress rate');
  // The two directions touch different rows and tables, so they are set side by side.
  await Promise.all([
    setShaping(net, target, rates.ingressMbps),
    target.datapath === 'netdev' ? setMeter(net, target, rates.egressMbps) : setPolicing(net, target, rates.egressMbps),
  ]);
}

/** What the kernel (tc) and OVS hold for the port now. */
export async function readPortRates(net: HostNet, target: QosTarget): Promise<PortRates> {
  assertIfname(target.name);
  const [ingressMbps, egressMbps] = await Promise.all([
    readShaping(net, target.name),
    target.datapath === 'netdev' ? readMeter(net, target) : readPolicing(net, target.name),
  ]);
  return { ingressMbps, egressMbps };
}

/**
 * Removes what setPortRates made that outlives the port: QoS and Queue rows (root tables in OVSDB,
 * never collected), the meter and its flow. Safe to repeat, and safe after the port is gone.
 */
export async function clearPortRates(net: HostNet, target: Pick<QosTarget, 'name' | 'portId'>): Promise<void> {
  assertIfname(target.name);
  // The port (and the meter id on its Interface row) may already be gone, as when a failed build's
  // undo deletes the port first; its flow outlives it and names the meter.
  const flows = await hasFlows(net, target.portId);
  const meters = new Set(flows ? await flowMeters(net, target.portId) : []);
  const recorded = await interfaceMeter(net, target.name);
  if (recorded !== null) meters.add(recorded);
  if (flows) await delFlows(net, target.portId);
  for (const meter of meters) await ofctl(net, ['del-meter', net.bridge, `meter=${meter}`]);
  await vsctl(net, ['--if-exists', 'clear', 'Port', target.name, 'qos']);
  const { qos, queues } = await qosRows(net, target.portId);
  await clearQosRows(net, qos, queues);
}

/**
 * What of a port's rates is still on the host, for leftover checks: its QoS and Queue rows and its
 * meter flow, and any meter on the bridge that no flow uses (a meter names no port once its flow is gone).
 */
export async function portRateLeftovers(net: HostNet, portId: string): Promise<string[]> {
  const { qos, queues } = await qosRows(net, portId);
  const flows = (await ofctl(net, ['dump-flows', net.bridge, `cookie=${meterCookie(portId)}/-1`]))
    .split('\n')
    .filter((l) => l.includes('cookie='));
  const meters = [...(await ofctl(net, ['dump-meters', net.bridge])).matchAll(/^meter=(\d+)/gm)].map((m) =>
    Number(m[1]),
  );
  const used = new Set(metersIn(await ofctl(net, ['dump-flows', net.bridge])));
  return [
    ...qos.map((u) => `QoS ${u}`),
    ...queues.map((u) => `Queue ${u}`),
    ...flows.map((f) => `flow ${f.trim()}`),
    ...meters.filter((m) => !used.has(m)).map((m) => `meter ${m} (no flow uses it)`),
  ];
}

const metersIn = (flows: string) => [...flows.matchAll(/meter:(\d+)/g)].map((m) => Number(m[1]));

/** The meters the port's flows send its traffic through. */
async function flowMeters(net: HostNet, portId: string): Promise<number[]> {
  return metersIn(await ofctl(net, ['dump-flows', net.bridge, `cookie=${meterCookie(portId)}/-1`]));
}

async function setShaping(net: HostNet, target: QosTarget, mbps: number | null): Promise<void> {
  const { qos, queues } = await qosRows(net, target.portId);
  const [q] = qos;
  const [queue] = queues;
  if (mbps === null) {
    if (q === undefined && queue === undefined) return;
    await vsctl(net, ['--if-exists', 'clear', 'Port', target.name, 'qos']);
    await clearQosRows(net, qos, queues);
    return;
  }
  const rate = `other_config:max-rate=${mbps * 1_000_000}`;
  if (q !== undefined && queue !== undefined) {
    await vsctl(net, [
      'set',
      'QoS',
      q,
      rate,
      '--',
      'set',
      'Queue',
      queue,
      rate,
      '--',
      'set',
      'Port',
      target.name,
      `qos=${q}`,
    ]);
    return;
  }
  await clearQosRows(net, qos, queues);
  const tag = `external_ids:berth-port=${JSON.stringify(target.portId)}`;
  await vsctl(net, [
    'set',
    'Port',
    target.name,
    'qos=@q',
    '--',
    '--id=@q',
    'create',
    'QoS',
    'type=linux-htb',
    rate,
    tag,
    'queues:0=@q0',
    '--',
    '--id=@q0',
    'create',
    'Queue',
    rate,
    tag,
  ]);
}

async function clearQosRows(net: HostNet, qos: string[], queues: string[]): Promise<void> {
  for (const u of qos) await vsctl(net, ['--if-exists', 'destroy', 'QoS', u]);
  for (const u of queues) await vsctl(net, ['--if-exists', 'destroy', 'Queue', u]);
}

/** The QoS and Queue rows tagged with the port id, in one ovs-vsctl call. */
async function qosRows(net: HostNet, portId: string): Promise<{ qos: string[]; queues: string[] }> {
  const tag = `external_ids:berth-port=${JSON.stringify(portId)}`;
  const out = await vsctl(net, [
    '--format=json',
    '--columns=_uuid',
    'find',
    'QoS',
    tag,
    '--',
    '--columns=_uuid',
    'find',
    'Queue',
    tag,
  ]);
  const [qos = [], queues = []] = out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { data: Array<[[string, string]]> }).data.map((row) => row[0][1]));
  return { qos, queues };
}

/**
 * The shaping rate the kernel enforces on the device: OVS's linux-htb puts a root class (the QoS
 * max-rate) over one class per queue (its ceil); the smaller one holds. Null when there is no htb.
 */
async function readShaping(net: HostNet, device: string): Promise<number | null> {
  const out = await net.run(['tc', 'class', 'show', 'dev', device]);
  const rates: number[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('class htb')) continue;
    const ceil = /\bceil (\S+)/.exec(line)?.[1];
    const rate = /\brate (\S+)/.exec(line)?.[1];
    const bits = parseTcRate(line.includes(' root ') ? rate : ceil);
    if (bits !== null) rates.push(bits);
  }
  return rates.length === 0 ? null : Math.min(...rates) / 1_000_000;
}

/** tc prints rates in SI units: "20Mbit", "512Kbit", "1Gbit", "999bit". */
export function parseTcRate(text: string | undefined): number | null {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)bit$/.exec(text ?? '');
  if (!m) return null;
  const scale = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * scale);
}

/** ovs-ofctl speaking OpenFlow 1.3, which meters need (about 12 ms a flow command here, against 4 in 1.0). */
function ofctl(net: HostNet, args: readonly string[]): Promise<string> {
  return net.run(['ovs-ofctl', '-O', 'OpenFlow13', ...args]);
}

/** Deletes the port's flows. OpenFlow 1.0 (with Nicira's cookie masks) is enough, and three times faster. */
async function delFlows(net: HostNet, portId: string): Promise<void> {
  await net.run(['ovs-ofctl', 'del-flows', net.bridge, `cookie=${meterCookie(portId)}/-1`]);
}

/** Whether any flow carries the port's cookie (OpenFlow 1.0 lists them, though it cannot show a meter). */
async function hasFlows(net: HostNet, portId: string): Promise<boolean> {
  const out = await net.run(['ovs-ofctl', 'dump-flows', net.bridge, `cookie=${meterCookie(portId)}/-1`]);
  return out.includes('cookie=');
}

async function interfaceMeter(net: HostNet, name: string): Promise<number | null> {
  const value = await interfaceExternalId(net, name, 'berth-meter');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

/** The port's OpenFlow port number and the meter id recorded on it (null when none), in one call. */
async function portMeter(net: HostNet, name: string): Promise<{ ofport: number; recorded: number | null }> {
  const [ofport = '', recorded = ''] = (
    await vsctl(net, [
      'get',
      'Interface',
      name,
      'ofport',
      '--',
      '--if-exists',
      'get',
      'Interface',
      name,
      'external_ids:berth-meter',
    ])
  ).split('\n');
  const meter = recorded.trim().replace(/^"|"$/g, '');
  return { ofport: Number(ofport.trim()), recorded: /^\d+$/.test(meter) ? Number(meter) : null };
}

/** The meter's id is the port's OpenFlow port number: unique on the bridge while the port exists. */
async function setMeter(net: HostNet, target: QosTarget, mbps: number | null): Promise<void> {
  const cookie = meterCookie(target.portId);
  const { ofport, recorded } = await portMeter(net, target.name);
  if (mbps === null) {
    // Nothing recorded: no meter was set through this port (a stray flow would show in the read-back).
    if (recorded === null) return;
    await delFlows(net, target.portId);
    await ofctl(net, ['del-meter', net.bridge, `meter=${recorded}`]);
    await vsctl(net, ['remove', 'Interface', target.name, 'external_ids', 'berth-meter']);
    return;
  }
  if (!Number.isInteger(ofport) || ofport < 1) throw new Error(`port ${target.name} has no OpenFlow port number`);
  const kbps = mbps * 1000;
  const meter = `meter=${ofport},kbps,burst,band=type=drop,rate=${kbps},burst_size=${burstKbit(kbps)}`;
  // A meter this port already made is modified; otherwise added (modified if a leftover holds the id).
  const [first, second] = recorded === ofport ? ['mod-meter', 'add-meter'] : ['add-meter', 'mod-meter'];
  try {
    await ofctl(net, [first, net.bridge, meter]);
  } catch (error) {
    if (!(error instanceof CommandError && /METER_EXISTS|UNKNOWN_METER/.test(error.stderr))) throw error;
    await ofctl(net, [second, net.bridge, meter]);
  }
  if (recorded !== ofport) await vsctl(net, ['set', 'Interface', target.name, `external_ids:berth-meter=${ofport}`]);
  // In the forwarding table, which a frame the port's admission flows let in goes on to (port-security.ts).
  // Same match and priority replaces the flow, so this is idempotent.
  await ofctl(net, [
    'add-flow',
    net.bridge,
    `table=${FORWARDING_TABLE},cookie=${cookie},priority=100,in_port=${ofport},actions=meter:${ofport},NORMAL`,
  ]);
}

/** The rate of the meter the port's flow sends its traffic through; null when there is no such flow or meter. */
async function readMeter(net: HostNet, target: QosTarget): Promise<number | null> {
  // The common case, no meter at all, is settled with the fast OpenFlow 1.0 listing.
  if (!(await hasFlows(net, target.portId))) return null;
  const [meter] = await flowMeters(net, target.portId);
  if (meter === undefined) return null;
  const out = await ofctl(net, ['dump-meters', net.bridge, `meter=${meter}`]);
  const kbps = /\brate=(\d+)/.exec(out)?.[1];
  return kbps === undefined ? null : Number(kbps) / 1000;
}

async function setPolicing(net: HostNet, target: QosTarget, mbps: number | null): Promise<void> {
  const kbps = mbps === null ? 0 : mbps * 1000;
  await vsctl(net, [
    'set',
    'Interface',
    target.name,
    `ingress_policing_rate=${kbps}`,
    `ingress_policing_burst=${kbps === 0 ? 0 : burstKbit(kbps)}`,
  ]);
}

async function readPolicing(net: HostNet, name: string): Promise<number | null> {
  const kbps = Number((await vsctl(net, ['get', 'Interface', name, 'ingress_policing_rate'])).trim());
  return kbps > 0 ? kbps / 1000 : null;
}

type OvsValue = string | number | boolean | ['uuid', string] | ['set', OvsValue[]] | ['map', Array<[string, string]>];

const uuidsIn = (value: OvsValue | undefined): string[] =>
  Array.isArray(value) && value[0] === 'uuid'
    ? [value[1]]
    : Array.isArray(value) && value[0] === 'set'
      ? value[1].flatMap((v) => uuidsIn(v))
      : [];

const berthPortOf = (value: OvsValue | undefined): string | undefined =>
  Array.isArray(value) && value[0] === 'map' ? value[1].find(([k]) => k === 'berth-port')?.[1] : undefined;

/**
 * QoS and Queue rows of Berth's (tagged berth-port) that no port uses any more: OVS keeps them (both
 * tables are roots) after the port they shaped is deleted without clearing them first, as when a
 * host died mid-unplug. A QoS row is attached in the transaction that creates it, so an unattached
 * one is left over.
 */
export async function orphanQosRows(net: HostNet): Promise<{ qos: string[]; queues: string[] }> {
  const out = await vsctl(net, [
    '--format=json',
    '--columns=_uuid,external_ids',
    'list',
    'QoS',
    '--',
    '--columns=qos',
    'list',
    'Port',
    '--',
    '--columns=_uuid,external_ids',
    'list',
    'Queue',
  ]);
  const [qosTable, portTable, queueTable] = out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { data: OvsValue[][] }).data);
  const attached = new Set((portTable ?? []).flatMap(([qos]) => uuidsIn(qos)));
  const tagged = (qosTable ?? []).flatMap(([uuid, ids]) => {
    const port = berthPortOf(ids);
    return port === undefined ? [] : [{ uuid: uuidsIn(uuid)[0] ?? '', port }];
  });
  const orphans = tagged.filter((q) => !attached.has(q.uuid));
  const livePorts = new Set(tagged.filter((q) => attached.has(q.uuid)).map((q) => q.port));
  const queues = (queueTable ?? []).flatMap(([uuid, ids]) => {
    const port = berthPortOf(ids);
    return port !== undefined && !livePorts.has(port) ? uuidsIn(uuid) : [];
  });
  return { qos: orphans.map((q) => q.uuid), queues };
}

/** Destroys rows orphanQosRows found (a row already gone counts as destroyed). */
export async function destroyQosRows(net: HostNet, rows: { qos: string[]; queues: string[] }): Promise<void> {
  await clearQosRows(net, rows.qos, rows.queues);
}
