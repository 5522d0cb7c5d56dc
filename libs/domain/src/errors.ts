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
  'rate_limited',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Why a request conflicts with the state of things: the rule a client can act on (the field error's rule on the
 * wire). A closed list, so that code deciding on a refusal switches on it exhaustively, never on a message.
 */
export const CONFLICT_REASONS = [
  /** The resource's state does not allow it now (a task in flight, the wrong status). */
  'state',
  /** No room: a host or the capacity left cannot take it. */
  'capacity',
  /** The instance's host is down, or it has none. */
  'host',
  /** The driver of the instance's host does not claim the capability this needs (live-resize, cold-migrate). */
  'capability',
  /** The host must be down for this (an evacuation). */
  'down',
  /** Something of that name or content exists already. */
  'unique',
  /** Still used by something that must go first. */
  'inUse',
  'notInUse',
  /** The project's default group stays. */
  'notDefault',
  /** Only a running instance has it (usage, a console). */
  'running',
  /** A port without port security has no security groups. */
  'noGroups',
  /** Security groups need port security on the port. */
  'portSecurity',
  /** A reservation outside its window. */
  'window',
  /** Nothing to act on yet (an image no host caches). */
  'empty',
  /** An address taken, or none left. */
  'free',
  'exhausted',
  /** Any other conflict. */
  'conflict',
] as const;
export type ConflictReason = (typeof CONFLICT_REASONS)[number];

export class BerthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: readonly FieldError[] = [],
    /** For quota_exceeded: each resource that would pass its limit. */
    readonly quota: readonly QuotaExcess[] = [],
    /** For conflict: why, from a closed list (the field error's rule on the wire). */
    readonly reason: ConflictReason | null = null,
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

  static conflict(message: string, field?: string, reason: ConflictReason = 'conflict'): BerthError {
    return new BerthError('conflict', message, field ? [{ field, rule: reason, message }] : [], [], reason);
  }
}

/** The error of an address the network could not give: a taken or exhausted address is a conflict, a malformed one invalid. */
export function addressError(pick: {
  errors: readonly FieldError[];
  refusal: 'invalid' | 'free' | 'exhausted';
}): BerthError {
  switch (pick.refusal) {
    case 'free':
    case 'exhausted':
      return new BerthError('conflict', pick.errors.map((e) => e.message).join('; '), pick.errors, [], pick.refusal);
    case 'invalid':
      return BerthError.invalid(pick.errors);
  }
}

/** Too many requests: a rate limit or a cap on concurrent streams. The client may try again after `retryAfterSec`. */
export class RateLimited extends BerthError {
  constructor(
    message: string,
    readonly retryAfterSec: number,
  ) {
    super('rate_limited', message);
    this.name = 'RateLimited';
  }
}
