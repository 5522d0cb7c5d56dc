import type { TestStack } from '../system/support/stack';

/** What every fault test builds from: m1.tiny, a busybox image (`imageRef`), and vlan100 on `/24` network `prefix`.0. */
export async function faultCatalog(stack: TestStack, imageRef: string, prefix: string): Promise<void> {
  expect((await stack.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 })).status).toBe(
    201,
  );
  expect((await stack.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: imageRef })).status).toBe(
    201,
  );
  const net = { name: 'vlan100', vlan: 100, cidr: `${prefix}.0/24`, gateway: `${prefix}.1` };
  expect((await stack.call('POST', '/v1/networks', net)).status).toBe(201);
}

/** Lifts every quota of the admin project, for tests that create many instances at once. */
export async function unlimitedAdminQuota(stack: TestStack): Promise<void> {
  const projects = (await stack.call('GET', '/v1/projects')).body.items as Array<{ id: string; name: string }>;
  const admin = projects.find((p) => p.name === 'admin');
  const quotas = { instances: -1, vcpus: -1, ramMb: -1, diskGb: -1, ips: -1 };
  expect((await stack.call('PUT', `/v1/projects/${admin?.id}/quotas`, quotas)).status).toBe(200);
}
