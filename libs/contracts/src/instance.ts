import type { VolumeAttachment } from './volumes';
/** Vocabulary shared by every process. States and their rules live in libs/domain. */

/**
 * How a VM image boots besides its disk: a kernel (with an initrd and a command line) for direct
 * kernel boot, or nothing (the disk boots). Each file is a path on the hosts or an http(s) URL they
 * can reach; each host caches what it fetched.
 */
export interface VmBoot {
  kernelRef: string | null;
  initrdRef: string | null;
  cmdline: string | null;
}
import type { InstanceLimits } from './limits';

export const INSTANCE_KINDS = ['container', 'vm'] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

/** What the hypervisor says, as Nova's power_state. */
export const POWER_STATES = ['NOSTATE', 'RUNNING', 'SHUTDOWN', 'CRASHED', 'PAUSED'] as const;
export type PowerState = (typeof POWER_STATES)[number];

/** Everything a host needs to make one port real: identity, addressing and its VLAN. */
/** An address a port may also send from (Neutron's allowed address pair): an IPv4 address or CIDR, and a MAC. */
export interface AddressPair {
  ip: string;
  mac: string;
}

export interface PortSpec {
  id: string;
  networkId: string;
  mac: string;
  ip: string;
  prefixLength: number;
  gateway: string;
  vlan: number;
  /** Whether the port admits only its own addresses (and allowedAddressPairs). Absent from older jobs: true. */
  portSecurity?: boolean;
  /** More addresses the port may send from. Absent from older jobs: none. */
  allowedAddressPairs?: AddressPair[];
  /**
   * What its security groups allow, resolved for the host (remote groups as their members' addresses).
   * Absent (older jobs, or port security off): the port's traffic is not filtered.
   */
  firewall?: PortFirewall;
}

export const RULE_DIRECTIONS = ['ingress', 'egress'] as const;
export type RuleDirection = (typeof RULE_DIRECTIONS)[number];
export const RULE_PROTOCOLS = ['tcp', 'udp', 'icmp', 'any'] as const;
export type RuleProtocol = (typeof RULE_PROTOCOLS)[number];

/** One allow rule of a port's security groups, as a host applies it (security groups are allow lists). */
export interface FirewallRule {
  /** The rule's id: connections it admitted carry it (their conntrack label), so a removal can cut them. */
  id: string;
  direction: RuleDirection;
  protocol: RuleProtocol;
  /** Destination port range (tcp, udp); null: every port. */
  portMin: number | null;
  portMax: number | null;
  /** The remote side: addresses or CIDRs (a remote group's members, resolved); ['0.0.0.0/0'] for anyone. */
  remoteCidrs: string[];
}

export interface PortFirewall {
  rules: FirewallRule[];
  /** Rules removed with "cut": connections they admitted are dropped, not left to finish. */
  cut: string[];
  /**
   * When it was read (the database's statement time, in microseconds): a host never replaces a port's firewall
   * with one read before it, however its commands are ordered. Absent from older specs: always applied.
   */
  version?: number;
}

/**
 * Everything a host needs to run an instance, carried by every command that (re)creates or
 * powers it on, so an agent needs no database and a reboot or migration keeps the same identity.
 */
export interface InstanceSpec {
  id: string;
  name: string;
  kind: InstanceKind;
  diskGb: number;
  imageRef: string;
  /** Size, CPU placement and throttles, applied at creation and changed live by instance.set-limits. */
  limits: InstanceLimits;
  /** A VM's boot files besides its disk (imageRef); absent for containers. */
  boot?: VmBoot;
  port: PortSpec;
  /**
   * Capabilities a cloud admin gave back through the flavor (extra spec `sandbox:net_raw=true`: NET_RAW for a
   * packet capture or a routing appliance). Absent: none.
   */
  grants?: Grant[];
  /**
   * OpenSSH public key lines for root's authorized keys (the instance's key pair), put in when the guest is built
   * from its image: a container before it first starts, a VM through its config drive. Absent: none.
   */
  publicKeys?: string[];
  /** The volumes attached to it, each mounted again (a container) or kept in its definition (a VM) at every start. */
  volumes?: VolumeAttachment[];
}

export const GRANTS = ['NET_RAW'] as const;
export type Grant = (typeof GRANTS)[number];
/** The flavor extra spec that gives an instance NET_RAW back. */
export const NET_RAW_EXTRA_SPEC = 'sandbox:net_raw';

/** What a flavor's extra specs give back of the sandbox. */
export function grantsOf(extraSpecs: Readonly<Record<string, string>> | null | undefined): Grant[] {
  return extraSpecs?.[NET_RAW_EXTRA_SPEC] === 'true' ? ['NET_RAW'] : [];
}

/** Why an operation failed: the step that failed and what it said. Shown to users as `fault`. */
export interface Fault {
  step: string;
  message: string;
  at: string;
  /** A create no host could take: the filter that turned down the most hosts (NoHosts: none to turn down). */
  reason?: string;
}
