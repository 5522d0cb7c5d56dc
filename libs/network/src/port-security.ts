import type { PortFirewall, PortSpec } from '@berth/contracts';
import { firewallFlows, firewallPipeline } from './firewall';
import { assertIfname, assertIPv4, assertMac } from './guards';
import type { HostNet } from './host-net';
import { interfaceExternalId, vsctl } from './ovs';
import { ADMISSION_TABLE, CLASSIFY_TABLE, EGRESS_TABLE, FORWARDING_TABLE } from './tables';

export { FORWARDING_TABLE };

/**
 * Port security: what an instance may send into the bridge. OpenFlow table 0 admits a frame from an
 * instance's port only when it carries the port's MAC and, for IPv4, one of its addresses, and ARP only for
 * its own address and MAC (Neutron's anti-spoofing rules); everything else from the port is dropped and
 * counted, forged MACs never reach MAC learning, and an instance cannot answer DHCP for its neighbours.
 * Admitted frames continue to the port's security groups (firewall.ts), if it has any, and are then
 * switched in FORWARDING_TABLE, where a port's rate meter sits. Frames from ports Berth does not own (an
 * uplink, a trunk) skip admission.
 */

/** An address the port may send from: its own, or an allowed address pair (an IPv4 address or CIDR). */
export interface AllowedAddress {
  mac: string;
  ip: string;
}

export interface PortSecurityTarget {
  /** The OVS port: the host end of the instance's veth (or its tap). */
  name: string;
  /** Berth's port id: names the port's flows (their cookie), so they are found without state. */
  portId: string;
  /** The port's own MAC and address first, then any allowed pairs; null: port security is off for it. */
  allowed: readonly AllowedAddress[] | null;
  /** Its security groups' rules, and its VLAN (their conntrack zone); null: its traffic is not filtered. */
  firewall: (PortFirewall & { vlan: number }) | null;
}

/** What the instance's port `name` (its veth's host end, or its tap) may send from, by its spec. */
export function portSecurityOf(name: string, port: PortSpec): PortSecurityTarget {
  if (port.portSecurity === false) return { name, portId: port.id, allowed: null, firewall: null };
  return {
    name,
    portId: port.id,
    allowed: [{ mac: port.mac, ip: port.ip }, ...(port.allowedAddressPairs ?? [])],
    firewall: port.firewall ? { ...port.firewall, vlan: port.vlan } : null,
  };
}

const PRIORITY = { dhcpServer: 120, allow: 110, drop: 100 } as const;

/** The Interface's external id that records what its port may send from: "mac@ip mac@ip/prefix". */
const ALLOWED_KEY = 'berth-allowed';
/** The Interface's external id that records its firewall: its JSON, base64url (a bare OVSDB string). */
const FIREWALL_KEY = 'berth-firewall';
const OFF = 'any';
const recordOf = (allowed: readonly AllowedAddress[] | null) =>
  allowed === null ? OFF : allowed.map((a) => `${a.mac}@${a.ip}`).join(' ');
function parseRecord(record: string): AllowedAddress[] | null {
  if (record === OFF) return null;
  return record
    .split(' ')
    .filter(Boolean)
    .map((pair) => {
      const [mac = '', ip = ''] = pair.split('@');
      return { mac, ip };
    });
}

/** The cookie of the port's admission flows: the last 64 bits of the port id (its meter flow has the first). */
export function portSecurityCookie(portId: string): string {
  const hex = portId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`not a port id: ${JSON.stringify(portId)}`);
  return `0x${hex.slice(16)}`;
}

function assertAllowed(address: AllowedAddress): void {
  assertMac(address.mac);
  const [ip, prefix, ...rest] = address.ip.split('/');
  assertIPv4(ip ?? '', 'allowed address');
  if (rest.length > 0 || (prefix !== undefined && !/^([0-9]|[12][0-9]|3[0-2])$/.test(prefix))) {
    throw new Error(`not an IPv4 address or CIDR: ${JSON.stringify(address.ip)}`);
  }
}

/**
 * The admission flows of the port, as ovs-ofctl add-flows lines. They name the port (ovs-ofctl turns the
 * name into its OpenFlow port number as it installs them), so no lookup comes first.
 */
export function admissionFlows(target: PortSecurityTarget): string[] {
  const cookie = portSecurityCookie(target.portId);
  const head = `table=${ADMISSION_TABLE},cookie=${cookie}`;
  const next = `actions=resubmit(,${CLASSIFY_TABLE})`;
  // IPv4 from a port with security groups meets its egress rules, after conntrack.
  const nextIp = target.firewall ? `actions=ct(table=${EGRESS_TABLE},zone=${target.firewall.vlan})` : next;
  const port = target.name;
  // Switched off by an admin: the port's frames go on unchecked (to its meter, if any).
  if (target.allowed === null) return [`${head},priority=${PRIORITY.drop},in_port=${port},${next}`];
  const flows = [`${head},priority=${PRIORITY.dhcpServer},in_port=${port},udp,tp_src=67,actions=drop`];
  for (const { mac, ip } of target.allowed) {
    flows.push(`${head},priority=${PRIORITY.allow},in_port=${port},dl_src=${mac},ip,nw_src=${ip},${nextIp}`);
    flows.push(
      `${head},priority=${PRIORITY.allow},in_port=${port},dl_src=${mac},arp,arp_sha=${mac},arp_spa=${ip},${next}`,
    );
  }
  flows.push(`${head},priority=${PRIORITY.drop},in_port=${port},actions=drop`);
  const own = target.allowed[0];
  if (target.firewall && own) {
    flows.push(
      ...firewallFlows({ name: port, mac: own.mac, vlan: target.firewall.vlan, firewall: target.firewall }, cookie),
    );
  }
  return flows;
}

/** The bridge-wide flows every port's flows lead into: the same on every host. */
export function pipelineFlows(): string[] {
  return [
    // Frames from ports that are not an instance's (an uplink) skip admission.
    `table=${ADMISSION_TABLE},priority=1,actions=resubmit(,${CLASSIFY_TABLE})`,
    ...firewallPipeline(),
    `table=${FORWARDING_TABLE},priority=0,actions=NORMAL`,
  ];
}

/**
 * The bridge-wide flows (pipelineFlows). Idempotent; the agent ensures them at start and at every sweep (a
 * restarted ovs-vswitchd starts with no flows).
 */
export async function ensurePipeline(net: HostNet): Promise<void> {
  await net.run(['ovs-ofctl', '-O', 'OpenFlow14', 'add-flows', net.bridge, '-'], {
    input: `${pipelineFlows().join('\n')}\n`,
  });
}

/**
 * Installs (or replaces) the port's admission flows in one OpenFlow bundle, so that the port is never
 * without them once it has them: its old flows go and its new ones come in one transaction. Whatever table
 * 0 held for the port's OpenFlow port number goes too: a number OVS gives again must not inherit a deleted
 * port's allowed addresses. Call it after the port joins the bridge and before the instance's interface
 * comes up. Idempotent. A firewall older than the one the port has (its version) changes nothing: the
 * commands of two refreshes may reach a host in either order. Returns whether it applied.
 */
export async function applyPortSecurity(
  net: HostNet,
  target: PortSecurityTarget,
  options: { recorded?: boolean } = {},
): Promise<boolean> {
  assertIfname(target.name);
  if (target.allowed?.length === 0) throw new Error('port security needs at least the port’s own address');
  target.allowed?.forEach(assertAllowed);
  const version = target.firewall?.version;
  if (!options.recorded && version !== undefined) {
    const current = parseFirewall(await interfaceExternalId(net, target.name, FIREWALL_KEY))?.version;
    if (current !== undefined && current > version) return false;
  }
  // Recorded on the port first (the sweeper puts back from it the flows an ovs-vswitchd restart takes),
  // unless the port was made with its record (portSecurityRecord).
  if (!options.recorded) {
    const record = Object.entries(portSecurityRecord(target)).map(([key, value]) => `external_ids:${key}=${value}`);
    await vsctl(net, ['set', 'Interface', target.name, ...record]);
  }
  const bundle = [
    `delete cookie=${portSecurityCookie(target.portId)}/-1`,
    `delete table=0,in_port=${target.name}`,
    ...admissionFlows(target).map((f) => `add ${f}`),
  ];
  await net.run(['ovs-ofctl', '-O', 'OpenFlow14', '--bundle', 'add-flows', net.bridge, '-'], {
    input: `${bundle.join('\n')}\n`,
  });
  return true;
}

/** The external id that records what the port may send from, for a port made with it (addAccessPort). */
export function portSecurityRecord(target: PortSecurityTarget): Record<string, string> {
  return {
    [ALLOWED_KEY]: recordOf(target.allowed),
    [FIREWALL_KEY]: target.firewall ? Buffer.from(JSON.stringify(target.firewall)).toString('base64url') : OFF,
  };
}

function parseFirewall(record: string | undefined): PortSecurityTarget['firewall'] {
  if (!record || record === OFF) return null;
  return JSON.parse(Buffer.from(record, 'base64url').toString('utf8')) as PortSecurityTarget['firewall'];
}

/** Removes the port's admission flows. Idempotent. */
export async function removePortSecurity(net: HostNet, portId: string): Promise<void> {
  await net.run(['ovs-ofctl', 'del-flows', net.bridge, `cookie=${portSecurityCookie(portId)}/-1`]);
}

export interface PortSecurityState {
  /** The admission flows the bridge holds for the port, in add-flows form without counters. */
  flows: string[];
  /** Frames from the port its drop flows have dropped. */
  dropped: number;
}

/** What the bridge holds for the port now. */
export async function readPortSecurity(net: HostNet, portId: string): Promise<PortSecurityState> {
  const out = await net.run(['ovs-ofctl', 'dump-flows', net.bridge, `cookie=${portSecurityCookie(portId)}/-1`]);
  const flows: string[] = [];
  let dropped = 0;
  for (const line of out.split('\n')) {
    if (!line.includes('cookie=')) continue;
    const packets = Number(/n_packets=(\d+)/.exec(line)?.[1] ?? 0);
    if (/actions=drop\b/.test(line)) dropped += packets;
    flows.push(
      line
        .trim()
        .replace(/\b(duration|n_packets|n_bytes|idle_age|hard_age)=[^,\s]+,?\s*/g, '')
        .replace(/,\s*/g, ','),
    );
  }
  return { flows, dropped };
}

/** Removes the flows (admission and firewall) under a port-security cookie: a gone port's, found by a sweep. */
export async function removeFlowsOfCookie(net: HostNet, cookie: string): Promise<void> {
  if (!/^0x[0-9a-f]{1,16}$/.test(cookie)) throw new Error(`not a cookie: ${JSON.stringify(cookie)}`);
  await net.run(['ovs-ofctl', 'del-flows', net.bridge, `cookie=${cookie}/-1`]);
}

/** What a sweep of the bridge found (surveyAdmission). */
export interface AdmissionSurvey {
  /** Ports that record what they may send from but have no admission flows: an ovs-vswitchd restart's loss. */
  lost: PortSecurityTarget[];
  /** Cookies of ports whose admission flows name only OpenFlow port numbers no interface on the bridge has. */
  strays: string[];
  /** Whether the bridge holds every bridge-wide flow (a restarted ovs-vswitchd comes back without them). */
  pipeline: boolean;
}

/**
 * One look at the bridge for the agent's sweeper, in three commands: its flows, then its interfaces (a
 * port's flows come after it joins and go before it leaves, so a port is never taken for a stray).
 */
export async function surveyAdmission(net: HostNet): Promise<AdmissionSurvey> {
  const flows = await net.run(['ovs-ofctl', 'dump-flows', net.bridge]);
  const onBridge = new Set((await vsctl(net, ['list-ifaces', net.bridge])).split('\n').filter(Boolean));
  const rows = JSON.parse(
    await vsctl(net, ['--format=json', '--columns=name,ofport,external_ids', 'list', 'Interface']),
  ) as { data: Array<[string, number | ['set', []], ['map', Array<[string, string]>]]> };
  const guarded = new Set<number>();
  const named = new Map<string, number[]>();
  const wanted = new Set(pipelineFlows().map(pipelineKey));
  for (const line of flows.split('\n')) {
    wanted.delete(pipelineKey(line));
    if (!line.includes('table=0,')) continue;
    const port = /\bin_port=(\d+)/.exec(line)?.[1];
    const cookie = /cookie=(0x[0-9a-f]+),/.exec(line)?.[1];
    if (!port || !cookie || cookie === '0x0') continue;
    named.set(cookie, [...(named.get(cookie) ?? []), Number(port)]);
    if (line.includes(`priority=${PRIORITY.drop},in_port=${port} `)) guarded.add(Number(port));
  }
  const live = new Set<number>();
  const lost: PortSecurityTarget[] = [];
  for (const [name, number, [, pairs]] of rows.data) {
    if (!onBridge.has(name) || typeof number !== 'number' || number < 1) continue;
    live.add(number);
    const ids = new Map(pairs);
    const record = ids.get(ALLOWED_KEY);
    const portId = ids.get('berth-port');
    if (record && portId && !guarded.has(number)) {
      lost.push({ name, portId, allowed: parseRecord(record), firewall: parseFirewall(ids.get(FIREWALL_KEY)) });
    }
  }
  const strays = [...named]
    .filter(([, ports]) => ports.every((n) => !live.has(n)))
    .map(([cookie]) => cookie)
    .sort();
  return { lost, strays, pipeline: wanted.size === 0 };
}

/** A bridge-wide flow as dump-flows shows it and as pipelineFlows writes it: its table, priority and match. */
function pipelineKey(flow: string): string {
  const table = /table=(\d+)/.exec(flow)?.[1] ?? '0';
  const priority = /priority=(\d+)/.exec(flow)?.[1] ?? '';
  const match = /ct_state=([^,\s]+)/.exec(flow)?.[1] ?? '';
  return /cookie=0x[1-9a-f]/.test(flow) ? '' : `${table}/${priority}/${match}`;
}
