import { runCommand } from '@berth/platform';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TestStack } from './support/stack';

// Volumes on the real host: the agent's file pool, each volume a raw file with an ext4 filesystem whose UUID is the
// volume's id, grown with its data kept, and gone at delete. Read back from the files themselves, not from Berth.

const GIB = 1024 ** 3;

/** The filesystem's own header, as dumpe2fs prints it. */
async function superblock(file: string): Promise<Record<string, string>> {
  const out = await runCommand(['dumpe2fs', '-h', file]);
  return Object.fromEntries(
    out.split('\n').flatMap((line) => {
      const at = line.indexOf(':');
      return at > 0 ? [[line.slice(0, at).trim(), line.slice(at + 1).trim()]] : [];
    }),
  );
}

describe('volumes on a real host (file pool)', () => {
  let stack: TestStack;
  const file = (id: string) => join(stack.volumesDir, `${id}.raw`);
  const hostDisk = async () =>
    ((await stack.call('GET', '/v1/hosts')).body.items as any[]).find((h) => h.name === stack.hostName).usage.diskGb;
  const create = async (body: Record<string, unknown>) => {
    const res = await stack.call('POST', '/v1/volumes', body);
    expect(res.status).toBe(202);
    return { res, op: await stack.operation(res.body.operationId) };
  };

  beforeAll(async () => {
    stack = await TestStack.start();
    // Room in the quota for a volume larger than the host: the host, not the quota, is to refuse it.
    const [admin] = (await stack.call('GET', '/v1/projects')).body.items;
    expect((await stack.call('PUT', `/v1/projects/${admin.id}/quotas`, { volumeGb: -1 })).status).toBe(200);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('makes a volume on its host: a raw file of its size with ext4 named by its id, its root the containers’', async () => {
    const before = await hostDisk();
    const { res, op } = await create({ name: 'data', sizeGb: 1 });
    expect(op.status).toBe('succeeded');
    expect(op.steps.map((s: any) => s.name)).toEqual(['schedule', 'create']);
    const volume = (await stack.call('GET', `/v1/volumes/${res.body.id}`)).body;
    expect(volume).toMatchObject({ status: 'available', sizeGb: 1, type: 'local', host: stack.hostName, fault: null });
    expect((await stat(file(volume.id))).size).toBe(GIB);
    const fs = await superblock(file(volume.id));
    expect(fs['Filesystem UUID']).toBe(volume.id);
    expect(Number(fs['Block count']) * Number(fs['Block size'])).toBe(GIB);
    // Its root directory belongs to the uid containers' root is mapped to, so that a container can write there.
    const subuid = /^dockremap:(\d+):/m.exec(await readFile('/etc/subuid', 'utf8').catch(() => ''))?.[1] ?? '0';
    expect(await runCommand(['debugfs', '-R', 'stat /', file(volume.id)])).toMatch(new RegExp(`User:\\s+${subuid}\\s`));
    expect(await hostDisk()).toBe(before + 1);
    const quota = (await stack.call('GET', `/v1/projects/${volume.projectId}/quotas`)).body;
    expect(quota.volumes.used).toBeGreaterThanOrEqual(1);
  });

  it('grows a volume and its filesystem, keeping what was written on it', async () => {
    const { res } = await create({ name: 'grow', sizeGb: 1 });
    const path = file(res.body.id);
    await runCommand(['debugfs', '-w', '-R', 'write /etc/hostname kept', path]);
    const extend = await stack.call('POST', `/v1/volumes/${res.body.id}/actions`, { action: 'extend', sizeGb: 2 });
    expect(extend.status).toBe(202);
    expect(extend.body.status).toBe('extending');
    expect((await stack.operation(extend.body.operationId)).status).toBe('succeeded');
    expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).body).toMatchObject({
      status: 'available',
      sizeGb: 2,
    });
    expect((await stat(path)).size).toBe(2 * GIB);
    const fs = await superblock(path);
    expect(Number(fs['Block count']) * Number(fs['Block size'])).toBe(2 * GIB);
    expect(await runCommand(['debugfs', '-R', 'cat /kept', path])).toBe(await readFile('/etc/hostname', 'utf8'));
    // Grow only: the same size or less is refused, and nothing changes.
    const shrink = await stack.call('POST', `/v1/volumes/${res.body.id}/actions`, { action: 'extend', sizeGb: 1 });
    expect(shrink.status).toBe(400);
    expect(shrink.body.error.details).toEqual([expect.objectContaining({ field: 'sizeGb', rule: 'grow' })]);
    expect((await stat(path)).size).toBe(2 * GIB);
  });

  it('refuses bad input naming the field, and makes nothing', async () => {
    const volumesBefore = (await stack.call('GET', '/v1/volumes')).body.items.length;
    for (const [body, status, field] of [
      [{ name: 'zero', sizeGb: 0 }, 400, 'sizeGb'],
      [{ name: 'negative', sizeGb: -1 }, 400, 'sizeGb'],
      [{ name: 'huge', sizeGb: 16_385 }, 400, 'sizeGb'],
      [{ name: 'half', sizeGb: 1.5 }, 400, 'sizeGb'],
      [{ name: 'not a name!', sizeGb: 1 }, 400, 'name'],
      [{ name: 'near', sizeGb: 1, localTo: 'web-1' }, 400, 'localTo'],
      [{ name: 'typed', sizeGb: 1, type: 'no-such-type' }, 404, 'type'],
    ] as const) {
      const res = await stack.call('POST', '/v1/volumes', body);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    expect((await stack.call('GET', '/v1/volumes')).body.items).toHaveLength(volumesBefore);
  });

  it('fails a volume no host has room for, naming the reason, with nothing left on the host', async () => {
    const free = await hostDisk();
    const { res, op } = await create({ name: 'too-big', sizeGb: 16_000 });
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'schedule', reason: 'DiskCapacity' } });
    expect(op.fault.message).toContain(`${stack.hostName}: DiskCapacity: diskGb needs 16000`);
    expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).body).toMatchObject({
      status: 'error',
      hostId: null,
    });
    await expect(stat(file(res.body.id))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await hostDisk()).toBe(free);
    // A volume that never reached a host goes at once.
    const gone = await stack.call('DELETE', `/v1/volumes/${res.body.id}`);
    expect(gone.status).toBe(202);
    expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).status).toBe(404);
  });

  it('deletes a volume: its file, its record and its room on the host go', async () => {
    const { res } = await create({ name: 'doomed', sizeGb: 1 });
    const before = await hostDisk();
    const del = await stack.call('DELETE', `/v1/volumes/${res.body.id}`);
    expect(del.status).toBe(202);
    expect(del.body.status).toBe('deleting');
    expect((await stack.operation(del.body.operationId)).status).toBe('succeeded');
    expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).status).toBe(404);
    await expect(stat(file(res.body.id))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await hostDisk()).toBe(before - 1);
    const audit = (await stack.call('GET', `/v1/operations?target=${res.body.id}`)).body.items.map(
      (o: any) => o.action,
    );
    expect(audit.sort()).toEqual(['volume.create', 'volume.delete']);
  });
});
