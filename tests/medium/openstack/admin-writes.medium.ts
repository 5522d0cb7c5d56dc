import { TestApi } from '../api-harness';
import { osClient } from './os-client';

const PASSWORD = 'correct horse battery';

/**
 * What the OpenStack face writes besides servers (real PostgreSQL): Glance images registered by reference (the body
 * the openstack client sends, its empty upload, a refused one) and deleted, with /v1's rules on who may do what.
 */
describe('the OpenStack face: images registered and deleted', () => {
  let api: TestApi;
  const { call, as, conforms, login } = osClient(() => api);
  let alice = '';
  let bob = '';

  /** What `openstack image create` sends (openstacksdk adds its owner_specified properties). */
  const imageBody = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    container_format: 'docker',
    disk_format: 'raw',
    berth_ref: '127.0.0.1:5000/busybox:1',
    'owner_specified.openstack.md5': '',
    'owner_specified.openstack.sha256': '',
    'owner_specified.openstack.object': `images/${name}`,
    ...extra,
  });
  const imageCount = async () => Number((await api.sql<{ n: number }>(`SELECT count(*)::int AS n FROM images`))[0]?.n);

  beforeAll(async () => {
    api = await TestApi.start();
    for (const [project, user] of [
      ['shop', 'alice'],
      ['bank', 'bob'],
    ] as const) {
      const id = (await api.call('POST', '/v1/projects', { name: project })).body.id as string;
      await api.call('POST', '/v1/users', { name: user, password: PASSWORD });
      await api.call('PUT', `/v1/projects/${id}/members/${user}`, { role: 'member' });
    }
    alice = await login('alice', 'shop', PASSWORD);
    bob = await login('bob', 'bank', PASSWORD);
  });
  afterAll(() => api.stop());

  it("registers a member's private container image by reference, shown as Glance shows images", async () => {
    const made = conforms(await call('POST', '/image/v2/images', imageBody('shop-app'), as(alice)), 201, 'image');
    expect(made).toMatchObject({
      name: 'shop-app',
      status: 'active',
      visibility: 'private',
      container_format: 'docker',
      disk_format: 'raw',
      berth_ref: '127.0.0.1:5000/busybox:1',
    });
    // The same image through /v1, in alice's project; bob's project sees none of it.
    const v1 = (await call('GET', `/v1/images/${made.id}`, undefined, as(alice))).body;
    expect(v1).toMatchObject({ kind: 'container', ref: '127.0.0.1:5000/busybox:1', visibility: 'private' });
    conforms(await call('GET', `/image/v2/images/${made.id}`, undefined, as(bob)), 404, 'glanceError');
    // The client's empty upload (its stdin is no terminal) changes nothing; bytes are refused, as Glance refuses an
    // upload to an active image.
    const upload = (token: string, data: string) =>
      call('PUT', `/image/v2/images/${made.id}/file`, data, {
        ...as(token),
        'content-type': 'application/octet-stream',
      });
    expect((await upload(alice, '')).status).toBe(204);
    const refused = conforms(await upload(alice, 'qcow2 bytes'), 409, 'glanceError');
    expect(refused.message).toMatch(/by reference/);
    conforms(await upload(bob, ''), 404, 'glanceError');
    const json = await call('PUT', `/image/v2/images/${made.id}/file`, { data: 'x' }, as(alice));
    expect(conforms(json, 400, 'glanceError').message).toMatch(/^body must be the image data/);
    // Another project cannot delete it; its owner can, once.
    conforms(await call('DELETE', `/image/v2/images/${made.id}`, undefined, as(bob)), 404, 'glanceError');
    expect((await call('DELETE', `/image/v2/images/${made.id}`, undefined, as(alice))).status).toBe(204);
    conforms(await call('DELETE', `/image/v2/images/${made.id}`, undefined, as(alice)), 404, 'glanceError');
    conforms(await call('DELETE', '/image/v2/images/shop-app', undefined, as(alice)), 404, 'glanceError');
  });

  it("registers the cloud admin's public VM image with its kernel, and refuses both to a member", async () => {
    const vm = {
      name: 'test-vm',
      container_format: 'bare',
      disk_format: 'qcow2',
      visibility: 'public',
      berth_ref: '/var/lib/berth/images/test-vm/disk.qcow2',
      berth_kernel_ref: '/var/lib/berth/images/test-vm/vmlinuz',
      berth_initrd_ref: '/var/lib/berth/images/test-vm/initrd.img',
    };
    const made = conforms(await call('POST', '/image/v2/images', vm, as(api.adminToken)), 201, 'image');
    expect(made).toMatchObject({ visibility: 'public', container_format: 'bare', disk_format: 'qcow2' });
    expect((await call('GET', `/v1/images/${made.id}`, undefined, as(api.adminToken))).body).toMatchObject({
      kind: 'vm',
      kernelRef: vm.berth_kernel_ref,
      initrdRef: vm.berth_initrd_ref,
    });
    conforms(await call('GET', `/image/v2/images/${made.id}`, undefined, as(bob)), 200, 'image');
    const before = await imageCount();
    conforms(await call('POST', '/image/v2/images', { ...vm, name: 'mine' }, as(alice)), 403, 'glanceError');
    const published = { ...imageBody('everyone'), visibility: 'public' };
    conforms(await call('POST', '/image/v2/images', published, as(alice)), 403, 'glanceError');
    conforms(await call('DELETE', `/image/v2/images/${made.id}`, undefined, as(alice)), 403, 'glanceError');
    expect(await imageCount()).toBe(before);
  });

  it('refuses bad input naming the field as the Glance body has it, and registers nothing', async () => {
    const before = await imageCount();
    for (const [change, field] of [
      [{ name: undefined }, 'name'],
      [{ name: 'a b' }, 'name'],
      [{ container_format: undefined }, 'container_format'],
      [{ container_format: 'ovf' }, 'container_format'],
      [{ disk_format: 'qcow2' }, 'disk_format'],
      [{ container_format: 'bare', disk_format: 'vmdk' }, 'disk_format'],
      [{ berth_ref: undefined }, 'berth_ref'],
      [{ berth_ref: 'not a reference' }, 'berth_ref'],
      [{ berth_kernel_ref: '/boot/vmlinuz' }, 'berth_kernel_ref'],
      [{ visibility: 'shared' }, 'visibility'],
      [{ visibility: 7 }, 'visibility'],
    ] as const) {
      const body = Object.fromEntries(
        Object.entries({ ...imageBody('bad'), ...change }).filter(([, v]) => v !== undefined),
      );
      const res = conforms(await call('POST', '/image/v2/images', body, as(alice)), 400, 'glanceError');
      expect({ change, message: res.message }).toEqual({ change, message: expect.stringContaining(field) });
    }
    expect(await imageCount()).toBe(before);
  });
});
