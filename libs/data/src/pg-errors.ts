/** PostgreSQL error codes Berth reacts to (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const DEADLOCK_DETECTED = '40P01';

interface PgError {
  code?: string;
  constraint?: string;
}

/** TypeORM wraps the driver's error in a QueryFailedError; the codes live on the driver's error. */
function pgError(error: unknown): PgError {
  if (typeof error !== 'object' || error === null) return {};
  const inner: unknown = 'driverError' in error ? error.driverError : error;
  return typeof inner === 'object' && inner !== null ? inner : {};
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = pgError(error);
  return e.code === UNIQUE_VIOLATION && (constraint === undefined || e.constraint === constraint);
}

export function isForeignKeyViolation(error: unknown): boolean {
  return pgError(error).code === FOREIGN_KEY_VIOLATION;
}

export function violatedConstraint(error: unknown): string | undefined {
  return pgError(error).constraint;
}

/** PostgreSQL broke a deadlock by failing this transaction: running it again may succeed. */
export function isDeadlock(error: unknown): boolean {
  return pgError(error).code === DEADLOCK_DETECTED;
}
