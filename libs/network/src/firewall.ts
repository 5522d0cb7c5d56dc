import type { FirewallRule, PortFirewall } from '@berth/contracts';
import { assertIPv4, assertMac, assertVlan } from './guards';
import { CLASSIFY_TABLE, EGRESS_TABLE, FORWARDING_TABLE, INGRESS_TABLE } from './tables';

/**
 * Security groups on br-int, stateful through OVS conntrack, laid out as Neutron's OVS firewall driver lays
 * out its tables. A frame admitted by port security (table 0) that carries IPv4 from a port with a firewall
 * goes through conntrack into EGRESS_TABLE, where established and related traffic passes and a new
 * connection passes only if one of the port's egress rules allows it (it is then committed, labelled with
 * the rule's id). Everything that passes, and whatever enters from elsewhere (another host's uplink), then
 * meets CLASSIFY_TABLE: IPv4 to the MAC of a local port with a firewall goes through conntrack again into
 * INGRESS_TABLE, where that port's ingress rules decide in the same way. What passes is switched in
 * FORWARDING_TABLE (meters, then NORMAL).
 *
 * The conntrack zone is the port's VLAN, as Neutron uses one zone per network: a connection between two
 * ports of one host is one entry, seen by the sender's egress and the receiver's ingress.
 */
const PRIORITY = { cut: 190, invalid: 180, established: 170, rule: 100, classify: 100 } as const;

/** What a port's firewall flows need besides its rules. */
export interface FirewalledPort {
  /** The OVS port's name (its flows name it; ovs-ofctl resolves the number). */
  name: string;
  mac: string;
  vlan: number;
  firewall: PortFirewall;
}

/** The label a connection admitted by the rule carries: the rule's id, as 128 bits. */
export function ruleLabel(ruleId: string): string {
  const hex = ruleId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`not a rule id: ${JSON.stringify(ruleId)}`);
  return `0x${hex}`;
}

/**
 * A port range as OpenFlow value/mask matches: the fewest aligned power-of-two blocks that cover it
 * exactly (1-65535 is 16 of them; 8080-8080 one).
 */
export function portRangeMatches(min: number, max: number): string[] {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
    throw new Error(`not a port range: ${min}-${max}`);
  }
  const matches: string[] = [];
  let start = min;
  while (start <= max) {
    let size = 1;
    while (start % (size * 2) === 0 && start + size * 2 - 1 <= max) size *= 2;
    matches.push(size === 1 ? String(start) : `0x${start.toString(16)}/0x${(0xffff & ~(size - 1)).toString(16)}`);
    start += size;
  }
  return matches;
}

function assertCidr(cidr: string): void {
  const [ip = '', prefix, ...rest] = cidr.split('/');
  assertIPv4(ip, 'remote address');
  if (rest.length > 0 || (prefix !== undefined && !/^([0-9]|[12][0-9]|3[0-2])$/.test(prefix))) {
    throw new Error(`not an IPv4 address or CIDR: ${JSON.stringify(cidr)}`);
  }
}

/** The matches of one rule's traffic, without the port: protocol, ports and the remote side. */
function ruleMatches(rule: FirewallRule): string[] {
  const remoteField = rule.direction === 'ingress' ? 'nw_src' : 'nw_dst';
  const protocol = rule.protocol === 'any' ? 'ip' : rule.protocol;
  const ports =
    (rule.protocol === 'tcp' || rule.protocol === 'udp') && rule.portMin !== null
      ? portRangeMatches(rule.portMin, rule.portMax ?? rule.portMin).map((m) => `,tp_dst=${m}`)
      : [''];
  const remotes = rule.remoteCidrs.map((cidr) => {
    assertCidr(cidr);
    return cidr === '0.0.0.0/0' ? '' : `,${remoteField}=${cidr}`;
  });
  return remotes.flatMap((remote) => ports.map((port) => `${protocol}${port}${remote}`));
}

/**
 * The port's flows in the firewall tables, in add-flows form, all under `cookie` (the port's port-security
 * cookie, so that one bundle replaces them with its admission flows and one delete removes them all).
 */
export function firewallFlows(port: FirewalledPort, cookie: string): string[] {
  assertMac(port.mac);
  assertVlan(port.vlan);
  const zone = port.vlan;
  const flows = [
    `table=${CLASSIFY_TABLE},cookie=${cookie},priority=${PRIORITY.classify},ip,dl_dst=${port.mac},actions=ct(table=${INGRESS_TABLE},zone=${zone})`,
  ];
  for (const id of port.firewall.cut) {
    const label = ruleLabel(id);
    flows.push(
      `table=${EGRESS_TABLE},cookie=${cookie},priority=${PRIORITY.cut},ct_state=+trk,ct_label=${label},in_port=${port.name},actions=drop`,
      `table=${INGRESS_TABLE},cookie=${cookie},priority=${PRIORITY.cut},ct_state=+trk,ct_label=${label},dl_dst=${port.mac},actions=drop`,
    );
  }
  for (const rule of port.firewall.rules) {
    const commit = `ct(commit,zone=${zone},exec(set_field:${ruleLabel(rule.id)}->ct_label))`;
    for (const match of ruleMatches(rule)) {
      flows.push(
        rule.direction === 'egress'
          ? `table=${EGRESS_TABLE},cookie=${cookie},priority=${PRIORITY.rule},ct_state=+new+trk,in_port=${port.name},${match},actions=${commit},resubmit(,${CLASSIFY_TABLE})`
          : `table=${INGRESS_TABLE},cookie=${cookie},priority=${PRIORITY.rule},ct_state=+new+trk,dl_dst=${port.mac},${match},actions=${commit},resubmit(,${FORWARDING_TABLE})`,
      );
    }
  }
  return flows;
}

/**
 * The bridge-wide flows of the firewall tables, the same on every host: invalid packets drop, established
 * and related ones pass, a new connection no rule allowed drops, and anything not bound for a local port
 * with a firewall is forwarded.
 */
export function firewallPipeline(): string[] {
  const pass = { [EGRESS_TABLE]: `resubmit(,${CLASSIFY_TABLE})`, [INGRESS_TABLE]: `resubmit(,${FORWARDING_TABLE})` };
  const flows: string[] = [];
  for (const table of [EGRESS_TABLE, INGRESS_TABLE] as const) {
    flows.push(
      `table=${table},priority=${PRIORITY.invalid},ct_state=+inv+trk,actions=drop`,
      `table=${table},priority=${PRIORITY.established},ct_state=+est-rel-inv+trk,actions=${pass[table]}`,
      `table=${table},priority=${PRIORITY.established},ct_state=+rel-inv+trk,actions=${pass[table]}`,
      `table=${table},priority=0,actions=drop`,
    );
  }
  flows.push(`table=${CLASSIFY_TABLE},priority=0,actions=resubmit(,${FORWARDING_TABLE})`);
  return flows;
}
