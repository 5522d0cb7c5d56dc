import { TestApi } from '../api-harness';

const flavor = { name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 5 };
const image = { name: 'busybox', kind: 'container', ref: '127.0.0.1:5000/busybox:latest' };
const network = { name: 'vlan100', vlan: 100, cidr: '10.0.0.0/24', gateway: '10.0.0.1' };

describe('flavors, images and networks (real PostgreSQL)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(() => api.stop());

  /** Sends a request that must be refused, and proves it wrote nothing. */
  async function refused(method: 'POST' | 'DELETE' | 'GET', url: string, body: unknown, status: number) {
    const before = await api.counts();
    const res = await api.call(method, url, body);
    expect(res.status).toBe(status);
    expect(await api.counts()).toEqual(before);
    return res.body.error as { code: string; message: string; details: Array<{ field: string; rule: string }> };
  }

  describe('flavors', () => {
    it('creates, lists, gets and deletes, recording each change as an operation', async () => {
      const created = await api.call('POST', '/v1/flavors', flavor);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ ...flavor, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect((await api.call('GET', '/v1/flavors')).body.items).toEqual([created.body]);
      expect((await api.call('GET', `/v1/flavors/${created.body.id}`)).body).toEqual(created.body);
      expect((await api.call('DELETE', `/v1/flavors/${created.body.id}`)).status).toBe(204);
      expect((await api.call('GET', `/v1/flavors/${created.body.id}`)).status).toBe(404);
      const ops = await api.sql<{ action: string; status: string }>(
        `SELECT action, status FROM operations WHERE target_id = $1 ORDER BY started_at`,
        [created.body.id],
      );
      expect(ops).toEqual([
        { action: 'flavor.create', status: 'succeeded' },
        { action: 'flavor.delete', status: 'succeeded' },
      ]);
    });

    it('refuses a duplicate name with 409 naming the field', async () => {
      await api.call('POST', '/v1/flavors', { ...flavor, name: 'dup' });
      const error = await refused('POST', '/v1/flavors', { ...flavor, name: 'dup' }, 409);
      expect(error.details).toEqual([expect.objectContaining({ field: 'name', rule: 'unique' })]);
    });

    it.each([
      [{ ...flavor, vcpus: 0 }, 'vcpus', 'min'],
      [{ ...flavor, vcpus: 1.5 }, 'vcpus', 'isInt'],
      [{ ...flavor, vcpus: '2' }, 'vcpus', 'isInt'],
      [{ ...flavor, ramMb: 2 ** 31 }, 'ramMb', 'max'],
      [{ ...flavor, diskGb: -1 }, 'diskGb', 'min'],
      [{ ...flavor, name: '' }, 'name', 'matches'],
      [{ ...flavor, name: 'a'.repeat(64) }, 'name', 'matches'],
      [{ ...flavor, name: 'rm -rf' }, 'name', 'matches'],
      [{ ...flavor, name: '-x' }, 'name', 'matches'],
      [{ ...flavor, extra: true }, 'extra', 'unknownField'],
      [{ vcpus: 1, ramMb: 1, diskGb: 1 }, 'name', 'isString'],
    ])('refuses %j: 400 on %s (%s)', async (body, field, rule) => {
      const error = await refused('POST', '/v1/flavors', body, 400);
      expect(error.code).toBe('invalid');
      expect(error.details).toContainEqual(expect.objectContaining({ field, rule }));
    });

    it.each([
      ['malformed JSON', '{"name":', 400],
      ['a JSON array', '[1,2]', 400],
      ['a JSON string', '"flavor"', 400],
    ])('refuses %s with a 4xx, never a 500', async (_case, raw, status) => {
      await refused('POST', '/v1/flavors', raw, status);
    });

    it('refuses an oversized body with 413', async () => {
      const error = await refused('POST', '/v1/flavors', { ...flavor, name: 'x'.repeat(300_000) }, 413);
      expect(error.code).toBe('payload_too_large');
    });

    it('answers 400 to an id that is not a UUID and 404 to an unknown one', async () => {
      const error = await refused('GET', '/v1/flavors/..%2F..%2Fetc', undefined, 400);
      expect(error.details).toEqual([expect.objectContaining({ field: 'id', rule: 'isUuid' })]);
      await refused('DELETE', '/v1/flavors/00000000-0000-4000-8000-000000000000', undefined, 404);
    });
  });

  describe('images', () => {
    it('registers a VM image by its disk, kernel and initrd, paths or URLs the hosts reach', async () => {
      const vm = {
        name: 'test-vm',
        kind: 'vm',
        ref: 'http://images.example:8080/test-vm/disk.qcow2',
        kernelRef: '/var/lib/berth/images/test-vm/vmlinuz',
        initrdRef: '/var/lib/berth/images/test-vm/initrd.img',
        cmdline: 'quiet loglevel=3',
      };
      const res = await api.call('POST', '/v1/images', vm);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject(vm);
    });

    it('creates a container image from a registry reference', async () => {
      const res = await api.call('POST', '/v1/images', image);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject(image);
    });

    it.each([
      [{ ...image, name: 'i2', kind: 'vm' }, 'ref', 'matches'],
      [{ ...image, name: 'i7', kind: 'vm', ref: '/var/lib/../etc' }, 'ref', 'matches'],
      [{ ...image, name: 'i8', kind: 'vm', ref: 'relative/dir' }, 'ref', 'matches'],
      [{ ...image, name: 'i10', kind: 'vm', ref: 'http://user:pw@host/disk.qcow2' }, 'ref', 'matches'],
      [{ ...image, name: 'i11', kind: 'vm', ref: 'file:///etc/shadow' }, 'ref', 'matches'],
      [{ ...image, name: 'i12', kind: 'vm', ref: '/d.qcow2', initrdRef: '/i.img' }, 'initrdRef', 'kernelRef'],
      [{ ...image, name: 'i13', kind: 'vm', ref: '/d.qcow2', kernelRef: '/k', cmdline: 'a\nb' }, 'cmdline', 'matches'],
      [{ ...image, name: 'i14', kernelRef: '/k' }, 'kernelRef', 'kind'],
      [{ ...image, name: 'i9', kind: 'disk' }, 'kind', 'isIn'],
      [{ ...image, name: 'i3', ref: '-busybox' }, 'ref', 'matches'],
      [{ ...image, name: 'i4', ref: 'busybox;id' }, 'ref', 'matches'],
      [{ ...image, name: 'i5', ref: 'Bad/Name' }, 'ref', 'matches'],
      [{ ...image, name: 'i6', ref: `a/${'b'.repeat(300)}` }, 'ref', 'maxLength'],
    ])('refuses %j: 400 on %s (%s)', async (body, field, rule) => {
      const error = await refused('POST', '/v1/images', body, 400);
      expect(error.details).toContainEqual(expect.objectContaining({ field, rule }));
    });
  });

  describe('networks', () => {
    it('creates a network with the default pool and reports its address use', async () => {
      const res = await api.call('POST', '/v1/networks', network);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        ...network,
        allocationStart: '10.0.0.1',
        allocationEnd: '10.0.0.254',
        ipsUsed: 0,
        ipsTotal: 253,
      });
    });

    it('allows the same CIDR on another VLAN', async () => {
      const res = await api.call('POST', '/v1/networks', { ...network, name: 'vlan200', vlan: 200 });
      expect(res.status).toBe(201);
    });

    it.each([
      [{ ...network, name: 'n1', vlan: 0 }, 'vlan', 'min'],
      [{ ...network, name: 'n1', vlan: 4095 }, 'vlan', 'max'],
      [{ ...network, name: 'n1', vlan: 101, cidr: '10.0.0.0' }, 'cidr', 'cidr'],
      [{ ...network, name: 'n1', vlan: 101, cidr: '10.0.0.0/33' }, 'cidr', 'prefixLength'],
      [{ ...network, name: 'n1', vlan: 101, cidr: '10.0.0.7/24' }, 'cidr', 'networkAddress'],
      [{ ...network, name: 'n1', vlan: 101, gateway: '10.0.1.1' }, 'gateway', 'inSubnet'],
      [{ ...network, name: 'n1', vlan: 101, gateway: '10.0.0.255' }, 'gateway', 'inSubnet'],
      [
        { ...network, name: 'n1', vlan: 101, allocationStart: '10.0.0.50', allocationEnd: '10.0.0.40' },
        'allocationEnd',
        'order',
      ],
      [{ ...network, name: 'n1', vlan: 101, allocationStart: '192.168.0.5' }, 'allocationStart', 'inSubnet'],
      [{ ...network, name: '../n', vlan: 101 }, 'name', 'matches'],
    ])('refuses %j: 400 on %s (%s)', async (body, field, rule) => {
      const error = await refused('POST', '/v1/networks', body, 400);
      expect(error.details).toContainEqual(expect.objectContaining({ field, rule }));
    });

    it('refuses a VLAN another network uses, and a name in use, with 409', async () => {
      expect((await refused('POST', '/v1/networks', { ...network, name: 'other' }, 409)).details).toEqual([
        expect.objectContaining({ field: 'vlan', rule: 'unique' }),
      ]);
      expect((await refused('POST', '/v1/networks', { ...network, vlan: 300 }, 409)).details).toEqual([
        expect.objectContaining({ field: 'name', rule: 'unique' }),
      ]);
    });
  });
});
