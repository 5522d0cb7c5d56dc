// Sums jest's --json results of every tier into the one line CI reads: "N passed, N failed[, N skipped]".
// A test file that could not run at all counts as one failure, and so does a tier that left no results,
// so a broken suite never looks green.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    // A tier whose run ended before jest wrote its results (a crashed global set-up or teardown).
    console.error(`no results in ${file}: that tier did not finish`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || process.argv.length < 3 ? 1 : 0);
