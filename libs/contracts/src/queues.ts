/**
 * Queue names. Placement and reports are shared by all schedulers; each compute host has its own
 * command queue, so a command reaches exactly the host that holds the instance.
 */
export const PLACEMENT_QUEUE = 'placement';
export const REPORTS_QUEUE = 'reports';

const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function computeQueue(hostName: string): string {
  if (!HOST_NAME.test(hostName)) throw new Error(`invalid host name for a queue: ${JSON.stringify(hostName)}`);
  return `compute.${hostName}`;
}

/**
 * A BullMQ job id that is stable across redeliveries (operation id plus step), so the outbox relay
 * can re-send a row after a crash without enqueuing it twice.
 */
export function jobId(operationId: string, step: string): string {
  return `${operationId}.${step}`;
}
