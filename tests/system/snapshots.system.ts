import { runCommand } from '@berth/platform';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { guestExec, readyBoot } from './support/probes';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';
import { vmHost } from './support/vm-host';

// Snapshots of instances into images (POST /v1/instances/:id/actions {action: snapshot, name}) on the real host and
// registry: a container committed and pushed, a VM's disk flattened and uploaded; each new image boots and holds the
// file written before the snapshot, while the source runs on.

const env = testEnv();
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const vms = vmHost('snapshots');
const DOCKER = '/usr/bin/docker';

const exec = (instanceId: string, script: string) =>
  runCommand([DOCKER, 'exec', `berth-${instanceId}`, 'sh', '-c', script], { timeoutMs: 60_000 });

describe('snapshots of instances into images (real dockerd, libvirtd, registry)', () => {
  let stack: TestStack;
  const made: string[] = [];

  /** Asks for a snapshot; returns the accepted answer and how its operation ended. */
  const snapshot = async (instanceId: string, name: string) => {
    const res = await stack.call('POST', `/v1/instances/${instanceId}/actions`, { action: 'snapshot', name });
    expect({ status: res.status, body: res.status === 202 ? 'ok' : res.body }).toEqual({ status: 202, body: 'ok' });
    made.push(res.body.imageId);
    const op = await stack.operation(res.body.operationId, 180_000);
    return { imageId: res.body.imageId as string, op };
  };
  const image = async (id: string) => (await stack.call('GET', `/v1/images/${id}`)).body;
  const registryHas = async (repository: string) => {
    const slash = repository.indexOf('/');
    const res = await fetch(`http://${repository.slice(0, slash)}/v2/${repository.slice(slash + 1)}/manifests/latest`, {
      method: 'HEAD',
      headers: {
        accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    return res.status === 200;
  };

  beforeAll(async () => {
    stack = await TestStack.start({ env: vms.env });
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: env.image }],
      [
        '/v1/images',
        {
          name: 'test-vm',
          kind: 'vm',
          ref: join(env.vmImageDir, 'disk.qcow2'),
          kernelRef: join(env.vmImageDir, 'vmlinuz'),
          initrdRef: join(env.vmImageDir, 'initrd.img'),
        },
      ],
      ['/v1/networks', { name: 'lan', vlan: 3901, cidr: `${net}.0/24`, gateway: `${net}.1` }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
  });
  afterAll(async () => {
    // Each image this test made goes, with its copy in the registry.
    for (const id of made) await stack?.call('DELETE', `/v1/images/${id}`);
    await stack?.stop();
    await vms.remove();
  });

  it('commits and pushes a running container into a private image that boots with its file, and pre-warms it', async () => {
    const source = await stack.createInstance({ name: 'snap-c', network: 'lan' });
    const marker = `marker-${randomInt(1e9)}`;
    await exec(source.id, `mkdir -p /srv && echo ${marker} > /srv/marker && sync`);
    const { imageId, op } = await snapshot(source.id, 'snap-c-golden');
    expect({ status: op.status, fault: op.fault }).toEqual({ status: 'succeeded', fault: null });
    expect(op.steps.map((s: any) => s.name)).toEqual(['commit', 'push']);
    const made = await image(imageId);
    expect(made).toMatchObject({
      name: 'snap-c-golden',
      kind: 'container',
      status: 'active',
      visibility: 'private',
      projectId: source.projectId,
      sourceInstanceId: source.id,
      ref: `${env.image.split('/')[0]}/berth-images/${imageId}:latest`,
    });
    expect(made.sizeBytes).toBeGreaterThan(0);
    // The source ran on: it was paused for the commit, not stopped.
    expect((await stack.call('GET', `/v1/instances/${source.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      taskState: null,
    });
    expect((await exec(source.id, 'cat /srv/marker')).trim()).toBe(marker);

    const copy = await stack.createInstance({ name: 'snap-c-copy', network: 'lan', image: imageId });
    expect(copy).toMatchObject({ status: 'ACTIVE', image: { id: imageId } });
    expect((await exec(copy.id, 'cat /srv/marker')).trim()).toBe(marker);

    const warm = await stack.call('POST', `/v1/images/${imageId}/prewarm`, { hosts: [stack.hostName] });
    expect(warm.status).toBe(202);
    expect((await stack.operation(warm.body.operationId)).status).toBe('succeeded');

    // A second image of the same name in the project is refused, naming the field; nothing is made.
    const again = await stack.call('POST', `/v1/instances/${source.id}/actions`, {
      action: 'snapshot',
      name: 'snap-c-golden',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.details.map((d: any) => d.field)).toEqual(['name']);
    expect((await stack.call('GET', `/v1/instances/${source.id}`)).body.taskState).toBeNull();

    for (const id of [copy.id, source.id]) expect((await stack.remove(id)).status).toBe('succeeded');
    // Deleting the image takes its copy out of the registry.
    expect(await registryHas(`${env.image.split('/')[0]}/berth-images/${imageId}`)).toBe(true);
    expect((await stack.call('DELETE', `/v1/images/${imageId}`)).status).toBe(204);
    expect(await registryHas(`${env.image.split('/')[0]}/berth-images/${imageId}`)).toBe(false);
  });

  it("flattens a running VM's disk into an image in the registry that boots with the file its guest wrote", async () => {
    const consoleLog = (id: string) => readFile(join(vms.dir, id, 'console.log'), 'utf8').catch(() => '');
    const ready = (id: string) =>
      stack.until('the guest to be ready', async () => readyBoot(await consoleLog(id)), 120_000);
    const guest = async (id: string, command: string) => {
      const { code, output } = await guestExec(join(vms.dir, id, 'console.sock'), command, 60_000);
      expect({ command, code }).toEqual({ command, code: 0 });
      return output.trim();
    };
    const source = await stack.createInstance({ name: 'snap-vm', kind: 'vm', image: 'test-vm', network: 'lan' });
    await ready(source.id);
    const marker = `marker-${randomInt(1e9)}`;
    // The image's data disk is mounted at /data by the guest's init.
    await guest(source.id, `echo ${marker} > /data/marker && sync`);
    const { imageId, op } = await snapshot(source.id, 'snap-vm-golden');
    expect({ status: op.status, fault: op.fault }).toEqual({ status: 'succeeded', fault: null });
    expect(op.steps.map((s: any) => s.name)).toEqual(['flatten', 'upload']);
    const made = await image(imageId);
    expect(made).toMatchObject({ kind: 'vm', status: 'active', visibility: 'private', kernelRef: expect.any(String) });
    expect(made.ref).toMatch(new RegExp(`^http://[^/]+/v2/berth-images/${imageId}/blobs/sha256:[0-9a-f]{64}$`));
    // The blob is a standalone qcow2 (no backing file): any host fetches it alone.
    const blob = Buffer.from(await (await fetch(made.ref)).arrayBuffer());
    expect(blob.subarray(0, 4).toString('latin1')).toBe('QFI\xfb');
    expect(blob.length).toBe(made.sizeBytes);
    expect(blob.readBigUInt64BE(8)).toBe(0n);
    expect((await stack.call('GET', `/v1/instances/${source.id}`)).body).toMatchObject({ status: 'ACTIVE' });
    expect(await guest(source.id, 'cat /data/marker')).toContain(marker);

    const copy = await stack.createInstance({ name: 'snap-vm-copy', kind: 'vm', image: imageId, network: 'lan' });
    expect(copy).toMatchObject({ status: 'ACTIVE', image: { id: imageId } });
    await ready(copy.id);
    expect(await guest(copy.id, 'cat /data/marker')).toContain(marker);
    for (const id of [copy.id, source.id]) expect((await stack.remove(id)).status).toBe('succeeded');
  });

  it('refuses a snapshot without a name, or with one it cannot be, changing nothing', async () => {
    const source = await stack.createInstance({ name: 'snap-refused', network: 'lan' });
    const before = (await stack.call('GET', '/v1/images')).body.items.length;
    for (const [body, field] of [
      [{ action: 'snapshot' }, 'name'],
      [{ action: 'snapshot', name: 'bad name!' }, 'name'],
      [{ action: 'snapshot', name: 'ok', flavor: 'm1.tiny' }, 'flavor'],
      [{ action: 'stop', name: 'ok' }, 'name'],
    ] as const) {
      const res = await stack.call('POST', `/v1/instances/${source.id}/actions`, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    expect((await stack.call('GET', '/v1/images')).body.items.length).toBe(before);
    expect((await stack.remove(source.id)).status).toBe('succeeded');
  });
});
