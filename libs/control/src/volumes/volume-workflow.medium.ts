import { CONTRACT_VERSION, type PlaceVolumeJob, type VolumeCommandType, type VolumeResult } from '@berth/contracts';
import { lockHostUsage, one, operationRow, projectUsage, rows, takeOutboxBatch, volumeRow } from '@berth/data';
import { aHost, anInstance, aNetwork, aProject, freshDatabase, type FreshDatabase } from '@berth/data/testing';
import { BerthError, type QuotaSet } from '@berth/domain';
import type { DataSource } from 'typeorm';
import { AttachmentWorkflow } from './attachments';
import { VolumeHostWorkflow } from './volume-hosts';
import { VolumeWorkflow } from './volume-workflow';

const QUOTA: QuotaSet = {
  instances: 10,
  vcpus: 20,
  ramMb: 51_200,
  diskGb: 1000,
  ips: 10,
  volumes: 3,
  volumeGb: 50,
};

/** The volume workflows against real PostgreSQL: quotas under races, placement's claims, and each host answer. */
describe('volumes (workflows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let api: VolumeWorkflow;
  let hosts: VolumeHostWorkflow;
  const actor = { projectId: null, userId: null, requestId: null };

  beforeAll(async () => {
    db = await freshDatabase('volumes');
    ds = db.dataSource;
    api = new VolumeWorkflow(ds, QUOTA, 60);
    hosts = new VolumeHostWorkflow(ds, 60);
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** The placement job the create queued, as the scheduler takes it. */
  async function placeJob(volumeId: string): Promise<PlaceVolumeJob> {
    const batch = await takeOutboxBatch(ds.manager, 1000);
    const job = batch.map((r) => r.payload as PlaceVolumeJob).find((p) => p.volumeId === volumeId);
    if (!job) throw new Error(`no placement was queued for ${volumeId}`);
    return job;
  }

  const answer = (volumeId: string, operationId: string, command: VolumeCommandType, fault?: string): VolumeResult => ({
    v: CONTRACT_VERSION,
    type: 'volume.result',
    operationId,
    volumeId,
    command,
    at: new Date().toISOString(),
    ...(fault ? { fault: { step: command.slice(7), message: fault, at: new Date().toISOString() } } : {}),
  });

  const hostDisk = async (hostId: string) =>
    (await one<{ used: number }>(ds.manager, 'SELECT used_disk_gb AS used FROM hosts WHERE id = $1', [hostId]))?.used;

  it('lets exactly as many parallel creates through as the quota holds, and counts them from the rows', async () => {
    const projectId = await aProject(ds, 'race');
    const tries = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => api.create({ actor, projectId, name: `v${i}`, description: '', sizeGb: 5 })),
    );
    const made = tries.filter((t) => t.status === 'fulfilled');
    const refused = tries.flatMap((t) => (t.status === 'rejected' ? [t.reason as unknown] : []));
    expect(made).toHaveLength(3);
    expect(refused.every((e) => e instanceof BerthError && e.code === 'quota_exceeded')).toBe(true);
    expect(await projectUsage(ds.manager, projectId)).toMatchObject({ volumes: 3, volumeGb: 15 });
  });

  it('places a volume on the host with the most disk left that offers its backend, and fails one none can hold', async () => {
    const projectId = await aProject(ds, 'placing');
    const small = await aHost(ds, 'vol-small', { diskGb: 20, volumeBackends: ['file'] });
    await aHost(ds, 'vol-none', { diskGb: 500, volumeBackends: [] });
    const big = await aHost(ds, 'vol-big', { diskGb: 35, volumeBackends: ['file'] });
    const { volume, operationId } = await api.create({ actor, projectId, name: 'data', description: '', sizeGb: 10 });
    expect(volume).toMatchObject({ status: 'creating', hostId: null });
    expect(await hosts.place(await placeJob(volume.id))).toEqual({ host: 'vol-big' });
    expect(await hostDisk(big)).toBe(10);
    // The host's command is queued with the claim; its answer makes the volume available.
    const command = (await takeOutboxBatch(ds.manager, 1000)).find((r) => r.queue === 'compute.vol-big');
    expect(command?.payload).toMatchObject({ type: 'volume.create', volume: { id: volume.id, sizeGb: 10 } });
    await hosts.result(answer(volume.id, operationId, 'volume.create'));
    expect(await volumeRow(ds.manager, volume.id, null)).toMatchObject({ status: 'available', hostName: 'vol-big' });
    expect((await operationRow(ds.manager, operationId, null))?.status).toBe('succeeded');

    const huge = await api.create({ actor, projectId, name: 'huge', description: '', sizeGb: 40 });
    expect(await hosts.place(await placeJob(huge.volume.id))).toEqual({ host: null });
    const refused = await volumeRow(ds.manager, huge.volume.id, null);
    expect(refused?.status).toBe('error');
    expect(refused?.fault).toMatchObject({ step: 'schedule', reason: 'DiskCapacity' });
    expect(refused?.fault?.message).toContain('vol-none: VolumeBackend: host offers no file volumes');
    expect(await hostDisk(small)).toBe(0);
  });

  it('grows a volume and its claim, gives the growth back when its host fails, and frees all at delete', async () => {
    const projectId = await aProject(ds, 'growing');
    const hostId = await aHost(ds, 'vol-grow', { diskGb: 100, volumeBackends: ['file'] });
    await ds.query(`UPDATE hosts SET zone = 'growing' WHERE id = $1`, [hostId]);
    const { volume, operationId } = await api.create({
      actor,
      projectId,
      name: 'grow',
      description: '',
      sizeGb: 10,
      zone: 'growing',
    });
    await hosts.place(await placeJob(volume.id));
    await hosts.result(answer(volume.id, operationId, 'volume.create'));

    const failed = await api.extend(actor, volume.id, projectId, 30);
    expect(failed.volume).toMatchObject({ status: 'extending', pendingSizeGb: 30 });
    expect(await hostDisk(hostId)).toBe(30);
    expect(await projectUsage(ds.manager, projectId)).toMatchObject({ volumeGb: 30 });
    await hosts.result(answer(volume.id, failed.operationId, 'volume.extend', 'resize2fs: no space'));
    expect(await volumeRow(ds.manager, volume.id, null)).toMatchObject({
      status: 'available',
      sizeGb: 10,
      pendingSizeGb: null,
      fault: { step: 'extend', message: 'resize2fs: no space' },
    });
    expect(await hostDisk(hostId)).toBe(10);

    const grown = await api.extend(actor, volume.id, projectId, 20);
    await hosts.result(answer(volume.id, grown.operationId, 'volume.extend'));
    await hosts.result(answer(volume.id, grown.operationId, 'volume.extend'));
    expect(await volumeRow(ds.manager, volume.id, null)).toMatchObject({
      status: 'available',
      sizeGb: 20,
      fault: null,
    });
    expect(await hostDisk(hostId)).toBe(20);
    await expect(api.extend(actor, volume.id, projectId, 20)).rejects.toMatchObject({ code: 'invalid' });

    const deleting = await api.delete(actor, volume.id, projectId);
    expect(deleting.volume.status).toBe('deleting');
    await hosts.result(answer(volume.id, deleting.operationId, 'volume.delete'));
    expect(await volumeRow(ds.manager, volume.id, null)).toBeNull();
    expect(await hostDisk(hostId)).toBe(0);
    // The audit finds every host's counters as its allocations sum them, volumes included.
    const audit = await ds.transaction((m) => lockHostUsage(m));
    for (const h of audit) expect(h.recorded).toEqual(h.actual);
  });

  it("refuses a change a volume's status does not allow, and another project's volume as not found", async () => {
    const projectId = await aProject(ds, 'owner');
    const other = await aProject(ds, 'stranger');
    const { volume } = await api.create({ actor, projectId, name: 'busy', description: '', sizeGb: 1 });
    await expect(api.delete(actor, volume.id, projectId)).rejects.toMatchObject({ code: 'conflict' });
    await expect(api.extend(actor, volume.id, other, 5)).rejects.toMatchObject({ code: 'not_found' });
    expect(
      await rows(ds.manager, 'SELECT id FROM volumes WHERE id = $1 AND status = $2', [volume.id, 'creating']),
    ).toHaveLength(1);
  });

  it('attaches an available volume to a container on its host, in use once the host answers, and lets it go', async () => {
    const attachments = new AttachmentWorkflow(ds);
    const projectId = await aProject(ds, 'attaching');
    const hostId = await aHost(ds, 'vol-attach', { diskGb: 100, volumeBackends: ['file'] });
    const elsewhere = await aHost(ds, 'vol-else', { diskGb: 100, volumeBackends: ['file'] });
    await ds.query(`UPDATE hosts SET zone = 'attach', capabilities = '{"container": ["volumes"]}' WHERE id = $1`, [
      hostId,
    ]);
    const networkId = await aNetwork(ds, 'attach-net', 3300);
    const { instanceId } = await anInstance(ds, { projectId, hostId, port: { networkId, ip: '10.12.228.20' } });
    const { instanceId: far } = await anInstance(ds, {
      projectId,
      hostId: elsewhere,
      port: { networkId, ip: '10.12.228.21', mac: '02:be:00:00:00:02' },
    });
    const { volume, operationId } = await api.create({
      actor,
      projectId,
      name: 'att',
      description: '',
      sizeGb: 1,
      zone: 'attach',
    });
    await hosts.place(await placeJob(volume.id));
    await hosts.result(answer(volume.id, operationId, 'volume.create'));

    // Refused, each by the field it is about, with nothing changed.
    await expect(attachments.attach(actor, far, projectId, { volume: volume.id, path: '/data' })).rejects.toMatchObject(
      {
        code: 'conflict',
        reason: 'host',
      },
    );
    await expect(
      attachments.attach(actor, instanceId, projectId, { volume: volume.id, path: '/proc/x' }),
    ).rejects.toMatchObject({ code: 'invalid' });
    await expect(attachments.attach(actor, instanceId, projectId, { volume: volume.id })).rejects.toMatchObject({
      code: 'invalid',
    });
    expect((await volumeRow(ds.manager, volume.id, null))?.status).toBe('available');

    const attachOp = await attachments.attach(actor, instanceId, projectId, { volume: volume.id, path: '/data' });
    expect(await volumeRow(ds.manager, volume.id, null)).toMatchObject({
      status: 'attaching',
      instanceId,
      attachPath: '/data',
    });
    const sent = (await takeOutboxBatch(ds.manager, 1000)).find((r) => r.jobName === 'volume.attach');
    expect(sent?.payload).toMatchObject({
      instance: { id: instanceId },
      attachment: { volume: { id: volume.id }, path: '/data', serial: volume.id.replace(/-/g, '').slice(0, 20) },
    });
    await hosts.result(answer(volume.id, attachOp, 'volume.attach'));
    expect((await volumeRow(ds.manager, volume.id, null))?.status).toBe('in-use');
    // The instance's spec now mounts it at every start.
    await expect(
      attachments.attach(actor, instanceId, projectId, { volume: volume.id, path: '/data' }),
    ).rejects.toMatchObject({ code: 'conflict' });

    const detachOp = await attachments.detach(actor, instanceId, projectId, volume.id);
    await hosts.result(answer(volume.id, detachOp, 'volume.detach', 'umount: target is busy'));
    expect(await volumeRow(ds.manager, volume.id, null)).toMatchObject({ status: 'in-use', fault: { step: 'detach' } });
    const again = await attachments.detach(actor, instanceId, projectId, volume.id);
    await hosts.result(answer(volume.id, again, 'volume.detach'));
    expect(await volumeRow(ds.manager, volume.id, null)).toMatchObject({
      status: 'available',
      instanceId: null,
      attachPath: null,
      fault: null,
    });
  });
});
