/**
 * The little of the registry's HTTP API (distribution v2) Berth needs besides docker push and pull:
 * deleting a snapshot's manifest after its migration is confirmed or undone. The registry's blobs are
 * reclaimed by its own garbage collector. Plain http, as the private registry is configured here.
 */

/** `host:port/path/name:tag` into docker's repo and tag. */
export function splitRef(ref: string): { registry: string; name: string; repo: string; tag: string } {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  if (slash < 0 || colon <= slash) throw new Error(`not a registry reference with a tag: ${ref}`);
  return {
    registry: ref.slice(0, slash),
    name: ref.slice(slash + 1, colon),
    repo: ref.slice(0, colon),
    tag: ref.slice(colon + 1),
  };
}

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ');

/** Deletes the manifest a tag points at; a tag the registry does not have is already gone. */
export async function deleteFromRegistry(ref: string): Promise<void> {
  const { registry, name, tag } = splitRef(ref);
  const base = `http://${registry}/v2/${name}/manifests`;
  const head = await fetch(`${base}/${encodeURIComponent(tag)}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_TYPES },
    signal: AbortSignal.timeout(10_000),
  });
  if (head.status === 404) return;
  const digest = head.headers.get('docker-content-digest');
  if (!head.ok || !digest) throw new Error(`registry ${registry} answered ${head.status} for ${name}:${tag}`);
  const del = await fetch(`${base}/${digest}`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
  if (!del.ok && del.status !== 404)
    throw new Error(`registry ${registry} refused to delete ${name}:${tag} (${del.status})`);
}

/**
 * Deletes what a snapshot image put in the registry (its repository's `latest`): a container's image, or the
 * artifact holding a VM's disk. Its blobs go at the registry's next garbage collection.
 */
export function deleteRepositoryLatest(repository: string): Promise<void> {
  return deleteFromRegistry(`${repository}:latest`);
}
