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
}

/** Why an operation failed: the step that failed and what it said. Shown to users as `fault`. */
export interface Fault {
  step: string;
  message: string;
  at: string;
}
