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

/** Scheduler or API -> one compute host. The BullMQ job name is `type`. */
export type ComputeCommand =
  | { v: typeof CONTRACT_VERSION; type: 'instance.create'; operationId: string; instance: InstanceSpec }
  | { v: typeof CONTRACT_VERSION; type: 'instance.start'; operationId: string; instance: InstanceSpec }
  | { v: typeof CONTRACT_VERSION; type: 'instance.reboot'; operationId: string; instance: InstanceSpec }
  | { v: typeof CONTRACT_VERSION; type: 'instance.stop'; operationId: string; instanceId: string }
  | { v: typeof CONTRACT_VERSION; type: 'instance.delete'; operationId: string; instanceId: string };

export type ComputeCommandType = ComputeCommand['type'];
