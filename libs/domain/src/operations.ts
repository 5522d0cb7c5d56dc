/**
 * An operation's progress as a list of steps. Hosts report a step when it starts; the previous
 * running step is then done. Reports arrive at least once, so applying one twice changes nothing.
 */
export const OPERATION_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

/** pending: created ahead, not started yet (one step per host of a pre-warm, one per instance of a drain). */
export const STEP_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface OperationStep {
  name: string;
  status: StepStatus;
  startedAt: string;
  finishedAt?: string;
  detail?: string;
}

/**
 * A step started, or reports progress. A step of that name already pending or running is updated in
 * place (steps of a multi-host operation run side by side); otherwise the running step is closed as
 * succeeded and the new one appended.
 */
export function startStep(steps: readonly OperationStep[], name: string, at: string, detail?: string): OperationStep[] {
  const open = steps.findIndex((s) => s.name === name && (s.status === 'pending' || s.status === 'running'));
  if (open >= 0) {
    return steps.map((s, i) =>
      i === open
        ? {
            ...s,
            status: 'running',
            startedAt: s.status === 'pending' ? at : s.startedAt,
            ...(detail === undefined ? {} : { detail }),
          }
        : s,
    );
  }
  if (steps.some((s) => s.name === name && s.startedAt === at)) return [...steps];
  return inSequence([
    ...steps,
    { name, status: 'running', startedAt: at, ...(detail === undefined ? {} : { detail }) },
  ]);
}

/**
 * Orders the steps by start (reports may arrive out of order) and ends each step where the next one
 * starts: a running step with a later step is succeeded, and no step ends after its successor began.
 */
function inSequence(steps: OperationStep[]): OperationStep[] {
  const ordered = steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.startedAt.localeCompare(b.s.startedAt) || a.i - b.i);
  return ordered.map(({ s }, k) => {
    const next = ordered[k + 1]?.s;
    if (!next || s.status === 'pending' || s.status === 'failed') return s;
    if (s.status === 'running') return { ...s, status: 'succeeded', finishedAt: next.startedAt };
    return s.finishedAt !== undefined && next.startedAt < s.finishedAt ? { ...s, finishedAt: next.startedAt } : s;
  });
}

/**
 * A step whose report is applied after its operation finished: reports are applied in parallel, so a
 * host's result can overtake the report of its last step. The step happened within the operation,
 * so it is added, ended by its successor or by the operation's end; the failing step, which
 * finishSteps already recorded, and a report delivered twice change nothing.
 */
export function lateStep(
  steps: readonly OperationStep[],
  name: string,
  at: string,
  end: { at: string; outcome: 'succeeded' | 'failed'; failedStep?: string | undefined },
  detail?: string,
): OperationStep[] {
  const failed = end.outcome === 'failed' && name === end.failedStep;
  if (steps.some((s) => s.name === name && (s.startedAt === at || (failed && s.status === 'failed')))) {
    return [...steps];
  }
  return inSequence([
    ...steps,
    {
      name,
      status: failed ? 'failed' : 'succeeded',
      startedAt: at,
      finishedAt: at > end.at ? at : end.at,
      ...(detail === undefined ? {} : { detail }),
    },
  ]);
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
  // Pending steps (other hosts of a multi-host operation) are not this step's to close.
  return steps.map((s) => (s.status === 'running' ? { ...s, status, finishedAt: at } : s));
}
