import { TestApi } from '../api-harness';

/**
 * What a tenant sees of its instances' hosts (real PostgreSQL): an opaque hostId per project, equal for instances on
 * one host and different across hosts and across projects, in the instance and in its events; the host's name and
 * row id only for the cloud admin.
 */
describe("an instance's host as its tenant sees it", () => {
  let api: TestApi;
  const hosts: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const as = (project: string) => ({ authorization: `Bearer ${tokens[project]}` });

  beforeAll(async () => {
    api = await TestApi.start();
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 64, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.66.0.0/24', gateway: '10.66.0.1' });
    for (const name of ['h1', 'h2']) {
      const [row] = await api.sql<{ id: string }>(
        `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
         VALUES ($1, '192.0.2.1', '{container}', 64, 65536, 1000, 1, 1, 1, now()) RETURNING id`,
        [name],
      );
      hosts[name] = row!.id;
    }
    const user = (await api.call('POST', '/v1/users', { name: 'alice' })).body.id;
    for (const project of ['shop', 'bank']) {
      const id = (await api.call('POST', '/v1/projects', { name: project })).body.id;
      tokens[project] = (await api.call('POST', '/v1/tokens', { user, project: id, role: 'member' })).body.token;
    }
    // shop: a and b on h1, c on h2; bank: d on h1.
    for (const [name, project, host] of [
      ['a', 'shop', 'h1'],
      ['b', 'shop', 'h1'],
      ['c', 'shop', 'h2'],
      ['d', 'bank', 'h1'],
    ] as const) {
      const body = { name, kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan' };
      const res = await api.call('POST', '/v1/instances', body, as(project));
      expect(res.status).toBe(202);
      expect(res.body.instance.hostId).toBeNull();
      ids[name] = res.body.instance.id;
      await api.sql(
        `UPDATE instances SET status = 'ACTIVE', task_state = NULL, power_state = 'RUNNING', host_id = $2 WHERE id = $1`,
        [ids[name], hosts[host]],
      );
    }
  });
  afterAll(() => api.stop());

  const seen = async (name: string, project: string) =>
    (await api.call('GET', `/v1/instances/${ids[name]}`, undefined, as(project))).body;

  it('tells a tenant same host or not, and nothing of the host itself', async () => {
    const [a, b, c] = [await seen('a', 'shop'), await seen('b', 'shop'), await seen('c', 'shop')];
    expect(a.hostId).toMatch(/^[0-9a-f]{56}$/);
    expect(a.hostId).toBe(b.hostId);
    expect(a.hostId).not.toBe(c.hostId);
    for (const view of [a, b, c]) {
      expect(view).not.toHaveProperty('host');
      expect(JSON.stringify(view)).not.toContain(hosts['h1']);
      expect(JSON.stringify(view)).not.toContain(hosts['h2']);
    }
    // The list says the same.
    const list = (await api.call('GET', '/v1/instances', undefined, as('shop'))).body.items;
    expect(list.find((i: any) => i.id === ids['a'])).toMatchObject({ hostId: a.hostId });
    expect(list.every((i: any) => !('host' in i))).toBe(true);
  });

  it('gives another project on the same host a different hostId, so sharing a host does not show', async () => {
    expect((await seen('d', 'bank')).hostId).not.toBe((await seen('a', 'shop')).hostId);
  });

  it('shows the cloud admin the host name as well', async () => {
    const a = (await api.call('GET', `/v1/instances/${ids['a']}`)).body;
    expect(a).toMatchObject({ host: 'h1', hostId: (await seen('a', 'shop')).hostId });
  });

  it("puts the same hostId in the instance's events, never the host's row id", async () => {
    const base = await api.baseUrl();
    const res = await fetch(`${base}/v1/events?after=0&types=instance`, { headers: as('shop') });
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes(`"hostId":"${(await seen('c', 'shop')).hostId}"`)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    await reader.cancel();
    expect(text).toContain(`"hostId":"${(await seen('a', 'shop')).hostId}"`);
    expect(text).not.toContain(hosts['h1']);
    expect(text).not.toContain(hosts['h2']);
  });
});
