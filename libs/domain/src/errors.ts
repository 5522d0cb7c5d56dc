import type { FieldError } from './field-error';
import { describeExcess, type QuotaExcess } from './quotas';

/**
 * Errors a request can end in, as plain values with a code. The API maps each code to an HTTP
 * status in exactly one place (its exception filter), with an exhaustive switch.
 */
export const ERROR_CODES = [
  'invalid',
  'not_found',
  'conflict',
  'unauthenticated',
  'forbidden',
  'quota_exceeded',
  'payload_too_large',
  'unavailable',
  'gone',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class BerthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: readonly FieldError[] = [],
    /** For quota_exceeded: each resource that would pass its limit. */
    readonly quota: readonly QuotaExcess[] = [],
  ) {
    super(message);
    this.name = 'BerthError';
  }

  static quotaExceeded(excesses: readonly QuotaExcess[]): BerthError {
    return new BerthError('quota_exceeded', excesses.map(describeExcess).join('; '), [], excesses);
  }

  static forbidden(message: string): BerthError {
    return new BerthError('forbidden', message);
  }

  static invalid(errors: readonly FieldError[]): BerthError {
    return new BerthError('invalid', errors.map((e) => e.message).join('; '), errors);
  }

  /** A referenced or addressed resource that does not exist (or that the caller may not see). */
  static notFound(what: string, ref: string, field?: string): BerthError {
    const details = field ? [{ field, rule: 'exists', message: `${what} ${JSON.stringify(ref)} not found` }] : [];
    return new BerthError('not_found', `${what} ${JSON.stringify(ref)} not found`, details);
  }

  /** A host or service the request needs did not answer in time; retrying later may work. */
  static unavailable(message: string): BerthError {
    return new BerthError('unavailable', message);
  }

  /** What was asked for existed once and is no longer kept (a resume token older than the history). */
  static gone(message: string, field: string, rule: string): BerthError {
    return new BerthError('gone', message, [{ field, rule, message }]);
  }

  static conflict(message: string, field?: string, rule = 'conflict'): BerthError {
    return new BerthError('conflict', message, field ? [{ field, rule, message }] : []);
  }
}

/** Address errors: a taken or exhausted address is a conflict, a malformed one invalid. */
export function addressError(errors: readonly FieldError[]): BerthError {
  const conflict = errors.find((e) => e.rule === 'free' || e.rule === 'exhausted');
  return conflict ? new BerthError('conflict', conflict.message, errors) : BerthError.invalid(errors);
}
