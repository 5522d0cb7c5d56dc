import { TestApi } from '../api-harness';
import { osClient } from './os-client';

const PASSWORD = 'correct horse battery';

/**
 * What the OpenStack face writes besides servers (real PostgreSQL): Glance images registered by reference (the body
 * the openstack client sends, its empty upload, a refused one) and deleted, with /v1's rules on who may do what.
 */
describe('the OpenStack face: images registered and deleted', () => {
  let api: TestApi;
  const { call, as, conforms, login, members } = osClient(() => api);
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
    await members(
      [
        ['shop', 'alice'],
        ['bank', 'bob'],
      ],
      PASSWORD,
    );
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

/**
 * Neutron's writes, the cloud admin's (real PostgreSQL): a provider network made first and its subnet after, as the
 * openstack client does; instances take addresses only once the subnet is there; subnet and network go only without
 * ports; refusals name the field as the Neutron body has it.
 */
describe('the OpenStack face: provider networks and subnets', () => {
  let api: TestApi;
  const { call, as, conforms, login, members } = osClient(() => api);
  let admin: Record<string, string> = {};
  let alice = '';

  /** What `openstack network create --provider-network-type vlan --provider-segment N NAME` sends. */
  const networkBody = (name: string, vlan: unknown, extra: Record<string, unknown> = {}) => ({
    network: {
      'provider:physical_network': 'physnet1',
      name,
      admin_state_up: true,
      'provider:network_type': 'vlan',
      'provider:segmentation_id': vlan,
      ...extra,
    },
  });
  const subnetBody = (networkId: string, extra: Record<string, unknown> = {}) => ({
    subnet: { enable_dhcp: false, network_id: networkId, name: 'sub', ip_version: 4, cidr: '10.61.0.0/24', ...extra },
  });
  const counts = async () =>
    (
      await api.sql<{ n: number; plans: number }>(`SELECT count(*)::int AS n, count(cidr)::int AS plans FROM networks`)
    )[0];

  beforeAll(async () => {
    api = await TestApi.start();
    admin = as(api.adminToken);
    await members([['shop', 'alice']], PASSWORD);
    await api.unlimitedQuota('shop');
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 64, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    alice = await login('alice', 'shop', PASSWORD);
  });
  afterAll(() => api.stop());

  it('makes the network, then its subnet; an instance gets an address only once the subnet is there', async () => {
    const net = conforms(await call('POST', '/network/v2.0/networks', networkBody('net61', 61), admin), 201, 'network');
    expect(net.network).toMatchObject({ name: 'net61', subnets: [], 'provider:segmentation_id': 61 });
    const id = net.network.id as string;
    expect((await call('GET', `/v1/networks/${id}`, undefined, admin)).body).toMatchObject({ cidr: null, ipsTotal: 0 });
    const instance = { name: 'early', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'net61' };
    const early = await call('POST', '/v1/instances', instance, { authorization: `Bearer ${alice}` });
    expect(early).toMatchObject({ status: 409, body: { error: { details: [{ field: 'network', rule: 'state' }] } } });

    const made = conforms(await call('POST', '/network/v2.0/subnets', subnetBody(id), admin), 201, 'subnet');
    // Neutron's default gateway, the first host; the pool is every host address, of which the gateway is never given.
    expect(made.subnet).toMatchObject({
      name: 'sub',
      network_id: id,
      cidr: '10.61.0.0/24',
      gateway_ip: '10.61.0.1',
      enable_dhcp: false,
      allocation_pools: [{ start: '10.61.0.1', end: '10.61.0.254' }],
    });
    const shown = conforms(await call('GET', `/network/v2.0/networks/${id}`, undefined, as(alice)), 200, 'network');
    expect(shown.network.subnets).toEqual([made.subnet.id]);
    conforms(await call('GET', `/network/v2.0/subnets/${made.subnet.id}`, undefined, as(alice)), 200, 'subnet');
    const again = await call('POST', '/network/v2.0/subnets', subnetBody(id, { cidr: '10.62.0.0/24' }), admin);
    expect(conforms(again, 409, 'neutronError').NeutronError.message).toBe(
      'the network has its subnet already: it holds one',
    );

    const later = await call('POST', '/v1/instances', instance, { authorization: `Bearer ${alice}` });
    expect(later.status).toBe(202);
    const ip = later.body.instance.ip as string;
    expect(ip).toBe('10.61.0.2');
    // With a port on it, neither the subnet nor the network goes.
    conforms(await call('DELETE', `/network/v2.0/subnets/${made.subnet.id}`, undefined, admin), 409, 'neutronError');
    conforms(await call('DELETE', `/network/v2.0/networks/${id}`, undefined, admin), 409, 'neutronError');
    await api.sql(`DELETE FROM ports WHERE network_id = $1`, [id]);
    expect((await call('DELETE', `/network/v2.0/subnets/${made.subnet.id}`, undefined, admin)).status).toBe(204);
    const bare = conforms(await call('GET', `/network/v2.0/networks/${id}`, undefined, admin), 200, 'network');
    expect(bare.network.subnets).toEqual([]);
    conforms(await call('GET', `/network/v2.0/subnets/${made.subnet.id}`, undefined, admin), 404, 'neutronError');
    expect((await call('DELETE', `/network/v2.0/networks/${id}`, undefined, admin)).status).toBe(204);
    conforms(await call('DELETE', `/network/v2.0/networks/${id}`, undefined, admin), 404, 'neutronError');
  });

  it("keeps a subnet's gateway and pool as given, and refuses a member's network or subnet", async () => {
    const id = conforms(await call('POST', '/network/v2.0/networks', networkBody('net63', 63), admin), 201, 'network')
      .network.id;
    const pool = {
      cidr: '10.63.0.0/24',
      gateway_ip: '10.63.0.254',
      allocation_pools: [{ start: '10.63.0.20', end: '10.63.0.30' }],
    };
    conforms(await call('POST', '/network/v2.0/subnets', subnetBody(id, pool), as(alice)), 403, 'neutronError');
    const made = conforms(await call('POST', '/network/v2.0/subnets', subnetBody(id, pool), admin), 201, 'subnet');
    expect(made.subnet).toMatchObject({ gateway_ip: '10.63.0.254', allocation_pools: pool.allocation_pools });
    expect((await call('GET', `/v1/networks/${id}`, undefined, admin)).body).toMatchObject({ ipsTotal: 11 });
    conforms(await call('POST', '/network/v2.0/networks', networkBody('mine', 64), as(alice)), 403, 'neutronError');
  });

  it('refuses bad input naming the field as the Neutron body has it, and changes nothing', async () => {
    const id = conforms(await call('POST', '/network/v2.0/networks', networkBody('net65', 65), admin), 201, 'network')
      .network.id;
    const before = await counts();
    for (const [body, field, status] of [
      [networkBody('vx', 70, { 'provider:network_type': 'vxlan' }), 'network.provider:network_type', 400],
      [
        networkBody('nophys', 70, { 'provider:physical_network': 'physnet2' }),
        'network.provider:physical_network',
        400,
      ],
      [networkBody('novlan', undefined), 'network.provider:segmentation_id', 400],
      [networkBody('big', 4095), 'network.provider:segmentation_id', 400],
      [networkBody('twin', 65), 'another network already uses this VLAN', 409],
      [networkBody('a b', 70), 'network.name', 400],
      [networkBody('private', 70, { shared: false }), 'network.shared', 400],
      [{ network: 'net' }, 'network', 400],
    ] as const) {
      const res = await call('POST', '/network/v2.0/networks', body, admin);
      expect(conforms(res, status, 'neutronError').NeutronError.message).toContain(field);
    }
    for (const [extra, field] of [
      [{ enable_dhcp: true }, 'subnet.enable_dhcp'],
      [{ ip_version: 6 }, 'subnet.ip_version'],
      [{ cidr: '10.65.0.0/33' }, 'subnet.cidr'],
      [{ cidr: undefined }, 'subnet.cidr'],
      [{ gateway_ip: '10.99.0.1' }, 'subnet.gateway_ip'],
      [{ gateway_ip: null }, 'subnet.gateway_ip'],
      [
        {
          allocation_pools: [
            { start: '10.65.0.9', end: '10.65.0.10' },
            { start: '10.65.0.20', end: '10.65.0.30' },
          ],
        },
        'subnet.allocation_pools',
      ],
      [{ allocation_pools: [{ start: '10.66.0.9', end: '10.65.0.10' }] }, 'subnet.allocation_pools.0.start'],
      [{ network_id: 'net65' }, 'subnet.network_id'],
    ] as const) {
      const body = subnetBody(id, extra);
      if ('cidr' in extra && extra.cidr === undefined) delete (body.subnet as Record<string, unknown>)['cidr'];
      const res = await call('POST', '/network/v2.0/subnets', body, admin);
      expect({ field, status: res.status }).toEqual({ field, status: field === 'subnet.network_id' ? 404 : 400 });
      expect(conforms(res, res.status, 'neutronError').NeutronError.message).toContain(
        field.replace('subnet.network_id', 'net65'),
      );
    }
    expect(await counts()).toEqual(before);
  });
});
