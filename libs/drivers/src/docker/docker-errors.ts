/** dockerode reports HTTP failures as errors carrying the Engine API status code. */
export function dockerStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    return typeof error.statusCode === 'number' ? error.statusCode : undefined;
  }
  return undefined;
}

export const isNotFound = (error: unknown) => dockerStatus(error) === 404;
/** "container already started / already stopped". */
export const isNotModified = (error: unknown) => dockerStatus(error) === 304;
