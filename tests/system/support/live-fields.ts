/**
 * Fields that move on their own between two reads of the same resource: a host's heartbeat and what
 * it reports with each beat, and the write stamps and power state the power sync may touch. A test that
 * compares two reads made a moment apart (the CLI's and the API's, say) compares them without these;
 * a test about one of them reads it on its own.
 */
export const LIVE_FIELDS = [
  'lastHeartbeatAt',
  'unavailableDrivers',
  'cachedImages',
  'state',
  'powerState',
  'updatedAt',
] as const;

/** The value with every LIVE_FIELDS key removed, at any depth. */
export function withoutLiveFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLiveFields);
  if (value === null || typeof value !== 'object') return value;
  const live: readonly string[] = LIVE_FIELDS;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !live.includes(key))
      .map(([key, v]) => [key, withoutLiveFields(v)]),
  );
}
