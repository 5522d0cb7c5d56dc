/**
 * An operation's progress as a list of steps. Hosts report a step when it starts; the previous
 * running step is then done. Reports arrive at least once, so applying one twice changes nothing.
 */
export const OPERATION_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export interface OperationStep {
  name: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  detail?: string;
}

export function startStep(steps: readonly OperationStep[], name: string, at: string, detail?: string): OperationStep[] {
  if (steps.some((s) => s.name === name && s.startedAt === at)) return [...steps];
  return [
    ...closeRunning(steps, 'succeeded', at),
    { name, status: 'running', startedAt: at, ...(detail === undefined ? {} : { detail }) },
  ];
}

/** Ends the running step, if any: succeeded, or failed with the failing step's name made explicit. */
export function finishSteps(
  steps: readonly OperationStep[],
  outcome: 'succeeded' | 'failed',
  at: string,
  failedStep?: string,
): OperationStep[] {
  const closed = closeRunning(steps, outcome, at);
  if (outcome === 'failed' && failedStep !== undefined && !closed.some((s) => s.name === failedStep)) {
    closed.push({ name: failedStep, status: 'failed', startedAt: at, finishedAt: at });
  }
  return closed;
}

function closeRunning(steps: readonly OperationStep[], status: 'succeeded' | 'failed', at: string): OperationStep[] {
  return steps.map((s) => (s.status === 'running' ? { ...s, status, finishedAt: at } : s));
}
