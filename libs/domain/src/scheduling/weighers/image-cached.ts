import type { HostWeigher } from '../types';

/** A host that already holds the image starts the instance without a pull. */
export const imageCachedWeigher: HostWeigher = {
  name: 'ImageCached',
  appliesTo: (request) => request.imageRef !== null,
  weigh: (request, host) => (request.imageRef !== null && host.cachedImages.has(request.imageRef) ? 1 : 0),
};
