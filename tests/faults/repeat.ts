/**
 * How many times a fault test repeats each scenario: BERTH_FAULT_REPEAT, else 3 (what CI runs, within its time).
 * A soak before a release runs more: BERTH_FAULT_REPEAT=20 npm run test:faults.
 */
export function faultRepeat(): number {
  const asked = Number(process.env['BERTH_FAULT_REPEAT'] ?? 3);
  if (!Number.isInteger(asked) || asked < 1)
    throw new Error('BERTH_FAULT_REPEAT must be a whole number of runs, 1 or more');
  return asked;
}
