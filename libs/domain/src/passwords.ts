import { invalid, ok, type Checked } from './field-error';

/*
 * Passwords and password logins. The hash itself (Argon2id) is the control plane's; these are the rules.
 */

export const PASSWORD_MIN_LENGTH = 10;
/** Argon2 takes any length; a bound keeps one login from costing more than any other. */
export const PASSWORD_MAX_LENGTH = 256;

/** A password a user may set: 10 to 256 characters, not only spaces. */
export function checkPassword(input: unknown, field = 'password'): Checked<string> {
  if (typeof input !== 'string') return invalid(field, 'isString', `${field} must be a string`);
  const length = [...input].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    return invalid(field, 'length', `${field} must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`);
  }
  if (input.trim() === '') return invalid(field, 'notBlank', `${field} must not be only spaces`);
  return ok(input);
}

/** How repeated failures lock a user out of password logins. */
export interface LockoutPolicy {
  /** Failures in a row that lock the user out (0: never). */
  maxFailures: number;
  /** How long a lock-out lasts. */
  lockoutSec: number;
}

/**
 * After a failed login: the user's failures in a row, and until when it is locked out (null: not locked). The
 * count starts again once a lock-out is given, so that each further run of failures earns its own.
 */
export function afterFailedLogin(
  failures: number,
  policy: LockoutPolicy,
  now: Date,
): { failures: number; lockedUntil: Date | null } {
  const next = failures + 1;
  if (policy.maxFailures <= 0 || next < policy.maxFailures) return { failures: next, lockedUntil: null };
  return { failures: 0, lockedUntil: new Date(now.getTime() + policy.lockoutSec * 1000) };
}
