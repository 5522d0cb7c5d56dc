import { computeQueue, type HostFacts, type VolumeCommand } from '@berth/contracts';
import { hostFacts } from '../host-facts';
import { PlacementHarness } from './placement-harness';

const facts = (name: string, ramMb: number, over: Partial<HostFacts> = {}): HostFacts =>
  hostFacts(name, { vcpus: 64, cpuSharedSet: '0-63', ramMb, diskGb: 1000, ...over });

/**
 * Instances built with volumes (`POST /v1/instances {volumes}`) through the API and the scheduler's placement on real
 * PostgreSQL and Redis, the hosts' answers played: the volumes are reserved with the instance, it lands on their host
 * or nowhere (naming them), and the build's end makes them in use or available again.
 */
describe('instances built with volumes', () => {
  let h: PlacementHarness;

  beforeAll(async () => {
    h = await PlacementHarness.start();
    // The volumes' host has less room than the other, so that only the volumes put an instance there.
    await h.reports.heartbeat(facts('vol-home', 2048));
    await h.reports.heartbeat(facts('vol-roomy', 8192));
    await h.onlyHosts('vol-home', 'vol-roomy');
  });
  afterAll(() => h.stop());

  /** An available volume of `project` on `host`, as a finished create leaves it. */
  async function aVolume(name: string, host: string, project = 'admin'): Promise<string> {
    const [row] = await h.api.sql<{ id: string }>(
      `INSERT INTO volumes (project_id, name, size_gb, type_id, backend, status, host_id)
       SELECT p.id, $1, 1, t.id, 'file', 'available', h.id
         FROM projects p, volume_types t, hosts h WHERE p.name = $2 AND t.name = 'local' AND h.name = $3
       RETURNING id`,
      [name, project, host],
    );
    if (!row) throw new Error(`no volume ${name} was made`);
    return row.id;
  }
  const volume = async (id: string) => (await h.api.call('GET', `/v1/volumes/${id}`)).body;

  it('reserves the volumes with the instance, lands it on their host, and puts them in use when it is built', async () => {
    const data = await aVolume('data', 'vol-home');
    const logs = await aVolume('logs', 'vol-home');
    const { job, ids } = await h.create({
      name: 'with-volumes',
      volumes: [
        { volume: data, path: '/data' },
        { volume: logs.toUpperCase(), path: '/var/log/app' },
      ],
    });
    const id = ids[0]!;
    expect(job.request.volumes).toEqual({ hostId: expect.any(String), ids: [data, logs] });
    // The host's spec lists them as it mounts them (in the order they were attached, then by id).
    const listed = job.members[0]?.spec.volumes?.map((a) => [a.volume.id, a.path, a.serial]);
    expect(listed?.sort()).toEqual(
      [
        [data, '/data', data.replace(/-/g, '').slice(0, 20)],
        [logs, '/var/log/app', logs.replace(/-/g, '').slice(0, 20)],
      ].sort(),
    );
    expect(await volume(data)).toMatchObject({ status: 'attaching', attachment: { instanceId: id, path: '/data' } });

    await h.placement.place(job);
    expect(await h.instance(id)).toMatchObject({ status: 'BUILDING', taskState: 'spawning', host: 'vol-home' });
    await h.hostResult(job.members[0]!.operationId, id, 'instance.create');
    expect(await volume(data)).toMatchObject({ status: 'in-use', attachment: { instanceId: id, path: '/data' } });
    expect(await volume(logs)).toMatchObject({ status: 'in-use' });
  });

  it('fails the build when no host can take it, naming the volume, and lets the volume go', async () => {
    const data = await aVolume('stranded', 'vol-home');
    await h.onlyHosts('vol-roomy');
    try {
      const { job, ids } = await h.create({ name: 'stranded', volumes: [{ volume: data, path: '/data' }] });
      await h.placement.place(job);
      const failed = await h.instance(ids[0]!);
      expect(failed).toMatchObject({ status: 'ERROR', fault: { step: 'schedule' } });
      expect(failed.fault.message).toContain(`vol-roomy: VolumeHost: volume ${data} lives on another host`);
      expect(await volume(data)).toMatchObject({ status: 'available', attachment: null });
    } finally {
      await h.onlyHosts('vol-home', 'vol-roomy');
    }
  });

  it('lets the volumes go when the build fails on their host', async () => {
    const data = await aVolume('unlucky', 'vol-home');
    const { job, ids } = await h.create({ name: 'unlucky', volumes: [{ volume: data, path: '/data' }] });
    await h.placement.place(job);
    await h.hostResult(job.members[0]!.operationId, ids[0]!, 'instance.create', { ok: false });
    expect(await h.instance(ids[0]!)).toMatchObject({ status: 'ERROR' });
    expect(await volume(data)).toMatchObject({ status: 'available', attachment: null });
  });

  it('refuses what cannot be attached, naming the field, and changes nothing', async () => {
    await h.reports.heartbeat(facts('vol-other', 2048));
    const home = await aVolume('home', 'vol-home');
    const elsewhere = await aVolume('elsewhere', 'vol-other');
    const busy = await aVolume('busy', 'vol-home');
    await h.api.sql(`UPDATE volumes SET status = 'in-use' WHERE id = $1`, [busy]);
    const res = await h.api.call('POST', '/v1/projects', { name: 'vol-strangers' });
    expect(res.status).toBe(201);
    const theirs = await aVolume('theirs', 'vol-home', 'vol-strangers');
    const before = await h.api.counts();
    const refusals: Array<[Record<string, unknown>, number, string]> = [
      [{ volumes: [{ volume: home, path: '/proc/x' }] }, 400, 'volumes[0].path'],
      [{ volumes: [{ volume: home }] }, 400, 'volumes[0].path'],
      [{ volumes: [{ volume: home, path: '/data' }], count: 2 }, 400, 'volumes'],
      [{ volumes: [{ volume: theirs, path: '/data' }] }, 404, 'volumes[0].volume'],
      [{ volumes: [{ volume: busy, path: '/data' }] }, 409, 'volumes[0].volume'],
      [
        {
          volumes: [
            { volume: home, path: '/a' },
            { volume: elsewhere, path: '/b' },
          ],
        },
        409,
        'volumes',
      ],
    ];
    for (const [body, status, field] of refusals) {
      const refused = await h.api.call('POST', '/v1/instances', {
        name: 'refused',
        kind: 'container',
        flavor: 'm1.tiny',
        image: 'busybox',
        network: 'lan',
        ...body,
      });
      expect({ body, status: refused.status }).toEqual({ body, status });
      expect(refused.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    expect(await h.api.counts()).toEqual(before);
    // The volume a refused create named first is as it was.
    expect(await volume(home)).toMatchObject({ status: 'available', attachment: null });
  });

  /** Builds an instance with these volumes on their host, played to ACTIVE; returns its id. */
  async function builtWith(name: string, volumes: Array<Record<string, unknown>>): Promise<string> {
    const { job, ids } = await h.create({ name, volumes });
    await h.placement.place(job);
    await h.hostResult(job.members[0]!.operationId, ids[0]!, 'instance.create');
    return ids[0]!;
  }
  /** Deletes the instance as its host would answer; returns the volume commands its host was then sent. */
  async function deleted(id: string, query = ''): Promise<Array<{ name: string; volumeId: string }>> {
    const res = await h.api.call('DELETE', `/v1/instances/${id}${query}`);
    expect(res.status).toBe(202);
    await h.hostResult(res.body.operationId, id, 'instance.delete');
    expect((await h.api.call('GET', `/v1/instances/${id}`)).status).toBe(404);
    const jobs = await h.queue(computeQueue('vol-home')).getJobs(['waiting', 'delayed', 'prioritized']);
    return jobs
      .filter((j) => j.name.startsWith('volume.'))
      .map((j) => ({ name: j.name, volumeId: (j.data as VolumeCommand).volume.id }));
  }

  it('keeps an instance’s volumes when it is deleted, and deletes those asked to go with it', async () => {
    const kept = await aVolume('kept', 'vol-home');
    const going = await aVolume('going', 'vol-home');
    const id = await builtWith('deleting', [
      { volume: kept, path: '/kept' },
      { volume: going, path: '/going', deleteOnTermination: true },
    ]);
    expect(await volume(going)).toMatchObject({ attachment: { deleteOnTermination: true } });
    const sent = await deleted(id);
    expect(await volume(kept)).toMatchObject({ status: 'available', attachment: null });
    expect(await volume(going)).toMatchObject({ status: 'deleting', attachment: null });
    expect(sent).toContainEqual({ name: 'volume.delete', volumeId: going });
    expect(sent).not.toContainEqual({ name: 'volume.delete', volumeId: kept });
  });

  it('deletes every volume with the instance when its delete asks deleteVolumes, and refuses a bad value', async () => {
    const data = await aVolume('all-go', 'vol-home');
    const id = await builtWith('deleting-all', [{ volume: data, path: '/data' }]);
    const bad = await h.api.call('DELETE', `/v1/instances/${id}?deleteVolumes=yes`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.field)).toEqual(['deleteVolumes']);
    expect(await volume(data)).toMatchObject({ status: 'in-use', attachment: { deleteOnTermination: false } });
    const sent = await deleted(id, '?deleteVolumes=true');
    expect(await volume(data)).toMatchObject({ status: 'deleting' });
    expect(sent).toContainEqual({ name: 'volume.delete', volumeId: data });
  });
});
