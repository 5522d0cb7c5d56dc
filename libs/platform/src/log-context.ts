import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line written on behalf of one request carries, whichever process writes it. */
export interface LogFields {
  requestId?: string;
}

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` added to every log line written inside it, and to every job it enqueues. */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** The fields of the request being served, if any. */
export function logContext(): LogFields {
  return storage.getStore() ?? {};
}

/**
 * A job's payload with the request id of the current request added (if there is one and the
 * payload has none), so that the worker that takes it logs under the same id.
 */
export function withRequestId<T extends object>(payload: T): T {
  const { requestId } = logContext();
  return requestId === undefined || 'requestId' in payload ? payload : { ...payload, requestId };
}

/** The request id a job's payload carries, if it is a well-formed one. */
export function requestIdOf(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || !('requestId' in payload)) return undefined;
  const { requestId } = payload;
  return typeof requestId === 'string' && /^[A-Za-z0-9._-]{8,64}$/.test(requestId) ? requestId : undefined;
}
