import type { InstanceSpec } from './instance';

/** Version of the job and report payloads below. A change that old readers cannot parse bumps it. */
export const CONTRACT_VERSION = 1;

/** API -> scheduler: find a host for an instance in BUILDING/scheduling. */
export interface PlaceInstanceJob {
  v: typeof CONTRACT_VERSION;
  operationId: string;
  instanceId: string;
}
export const PLACE_INSTANCE = 'instance.place';

export const COMPUTE_COMMANDS = [
  'instance.create',
  'instance.start',
  'instance.stop',
  'instance.reboot',
  'instance.delete',
] as const;
export type ComputeCommandType = (typeof COMPUTE_COMMANDS)[number];

/**
 * Scheduler or API -> one compute host; the BullMQ job name is `type`. Every command carries the
 * whole spec, so a host can unplug a port even when the container behind it has vanished.
 */
export interface ComputeCommand {
  v: typeof CONTRACT_VERSION;
  type: ComputeCommandType;
  operationId: string;
  instance: InstanceSpec;
}
