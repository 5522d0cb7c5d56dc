import { errorMessage, RevertedError, withRevert, type Reverter } from '@berth/platform';
import { DriverError, type StepListener } from './compute-driver';

/**
 * Runs a driver command as named steps under one Reverter: the listener hears each step as it
 * starts, and a failure is undone and rethrown as a DriverError that names the step.
 */
export async function runSteps<T = void>(
  onStep: StepListener,
  body: (step: (name: string) => Promise<void>, reverter: Reverter) => Promise<T>,
): Promise<T> {
  let current = 'prepare';
  const step = async (name: string) => {
    current = name;
    await onStep(name);
  };
  try {
    return await withRevert((reverter) => body(step, reverter));
  } catch (error) {
    if (error instanceof DriverError) throw error;
    if (error instanceof RevertedError) {
      throw new DriverError(
        current,
        errorMessage(error.cause),
        error.revertFailures.map((f) => `${f.label}: ${f.error}`),
      );
    }
    throw new DriverError(current, errorMessage(error));
  }
}
