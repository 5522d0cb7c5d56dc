/** Vocabulary shared by every process. States and their rules live in libs/domain. */
import type { InstanceLimits } from './limits';

export const INSTANCE_KINDS = ['container', 'vm'] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

/** What the hypervisor says, as Nova's power_state. */
export const POWER_STATES = ['NOSTATE', 'RUNNING', 'SHUTDOWN', 'CRASHED', 'PAUSED'] as const;
export type PowerState = (typeof POWER_STATES)[number];

/** Everything a host needs to make one port real: identity, addressing and its VLAN. */
export interface PortSpec {
  id: string;
  networkId: string;
  mac: string;
  ip: string;
  prefixLength: number;
  gateway: string;
  vlan: number;
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
  port: PortSpec;
}

/** Why an operation failed: the step that failed and what it said. Shown to users as `fault`. */
export interface Fault {
  step: string;
  message: string;
  at: string;
}
