/**
 * Undo log for a multi-step host change, after Incus' shared/revert: after each step that changes
 * the host, register how to undo it; if a later step fails, `revert()` runs the undos newest first.
 * An undo that itself fails does not stop the others; its error is collected and returned.
 */
export class Reverter {
  private undos: Array<{ label: string; undo: () => Promise<unknown> }> = [];

  add(label: string, undo: () => Promise<unknown>): void {
    this.undos.push({ label, undo });
  }

  /** The change is complete: forget the undos. */
  success(): void {
    this.undos = [];
  }

  async revert(): Promise<RevertFailure[]> {
    const failures: RevertFailure[] = [];
    for (const { label, undo } of this.undos.reverse()) {
      try {
        await undo();
      } catch (error) {
        failures.push({ label, error: error instanceof Error ? error.message : String(error) });
      }
    }
    this.undos = [];
    return failures;
  }
}

export interface RevertFailure {
  label: string;
  error: string;
}

/** Error thrown after a failed change was undone; `revertFailures` lists undos that failed too. */
export class RevertedError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly revertFailures: RevertFailure[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = cause instanceof Error ? cause.name : 'RevertedError';
  }
}

/** Runs `change` with a fresh Reverter; on failure undoes what it did and rethrows. */
export async function withRevert<T>(change: (reverter: Reverter) => Promise<T>): Promise<T> {
  const reverter = new Reverter();
  try {
    const result = await change(reverter);
    reverter.success();
    return result;
  } catch (error) {
    const failures = await reverter.revert();
    if (failures.length === 0) throw error;
    throw new RevertedError(error, failures);
  }
}
