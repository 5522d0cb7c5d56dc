import { createHash } from 'node:crypto';

/**
 * What a tenant sees of an instance's host, as Nova's hostId: a digest of the project and the host, the same for two
 * of the project's instances on one host and different on two hosts, so that affinity can be checked, while the
 * host itself (its name, its id) and whether another project's instances share it stay hidden.
 */
export function tenantHostId(projectId: string, hostId: string): string {
  return createHash('sha224').update(`${projectId}${hostId}`).digest('hex');
}
