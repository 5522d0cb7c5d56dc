import { computeQueue, jobId, type ComputeCommand, type HostFacts } from '@berth/contracts';
import { eventually } from '../api-harness';
import { hostFacts } from '../host-facts';
import { PlacementHarness } from './placement-harness';

const facts = (name: string, over: Partial<HostFacts> = {}): HostFacts =>
  hostFacts(name, { vcpus: 64, cpuSharedSet: '0-63', ramMb: 4096, diskGb: 1000, ...over });

/**
 * Snapshots of instances into images through the API on real PostgreSQL and Redis, the host's answers played: the
 * image is `saving` (and unusable) until its host answers, then active with the ref it made, or gone if it failed.
 */
describe('snapshots of instances into images', () => {
  let h: PlacementHarness;

  beforeAll(async () => {
    h = await PlacementHarness.start();
    await h.reports.heartbeat(facts('snap-host'));
    await h.onlyHosts('snap-host');
  });
  afterAll(() => h.stop());

  const image = (id: string) => h.api.call('GET', `/v1/images/${id}`);
  const answer = (operationId: string, instanceId: string, outcome: { ref?: string; fault?: string }) =>
    h.reports.result({
      v: 1,
      type: 'instance.result',
      operationId,
      instanceId,
      command: 'instance.snapshot',
      powerState: 'RUNNING',
      at: new Date().toISOString(),
      ...(outcome.ref ? { image: { ref: outcome.ref, bytes: 4096 } } : {}),
      ...(outcome.fault ? { fault: { step: 'push', message: outcome.fault, at: new Date().toISOString() } } : {}),
    });
  const ask = async (instanceId: string, name: string) => {
    const res = await h.api.call('POST', `/v1/instances/${instanceId}/actions`, { action: 'snapshot', name });
    expect(res.status).toBe(202);
    return res.body as { operationId: string; imageId: string };
  };

  it('keeps the new image saving and unusable until its host answers, then makes it active with its ref', async () => {
    const id = await h.activeInstance('snap-source');
    const { operationId, imageId } = await ask(id, 'golden');
    const job = await eventually(
      () => h.queue(computeQueue('snap-host')).getJob(jobId(operationId, 'snapshot')),
      'the snapshot command',
    );
    const command = job.data as ComputeCommand;
    expect(command).toMatchObject({ type: 'instance.snapshot', instance: { id }, image: { imageId } });
    expect(command.image?.repository).toMatch(new RegExp(`/berth-images/${imageId}$`));
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: 'image-snapshot' });
    expect((await image(imageId)).body).toMatchObject({ name: 'golden', status: 'saving', visibility: 'private' });

    // Saving: not launchable, not pre-warmed, not deleted; another action on the instance waits.
    const launch = await h.api.call('POST', '/v1/instances', {
      name: 'too-soon',
      kind: 'container',
      flavor: 'm1.tiny',
      image: imageId,
      network: 'lan',
    });
    expect({ status: launch.status, field: launch.body.error.details[0]?.field }).toEqual({
      status: 409,
      field: 'image',
    });
    expect((await h.api.call('POST', `/v1/images/${imageId}/prewarm`, {})).status).toBe(409);
    expect((await h.api.call('DELETE', `/v1/images/${imageId}`)).status).toBe(409);
    expect((await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'stop' })).status).toBe(409);

    await answer(operationId, id, { ref: `${command.image?.repository}:latest` });
    expect((await image(imageId)).body).toMatchObject({
      status: 'active',
      ref: `${command.image?.repository}:latest`,
      sizeBytes: 4096,
      sourceInstanceId: id,
    });
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: null });
    expect((await h.api.call('GET', `/v1/operations/${operationId}`)).body).toMatchObject({ status: 'succeeded' });
  });

  it('removes the image when its host could not make it, and the instance is as it was', async () => {
    const id = await h.activeInstance('snap-unlucky');
    const { operationId, imageId } = await ask(id, 'never');
    await answer(operationId, id, { fault: 'the registry refused the push' });
    expect((await image(imageId)).status).toBe(404);
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: null });
    expect((await h.api.call('GET', `/v1/operations/${operationId}`)).body).toMatchObject({
      status: 'failed',
      fault: { message: 'the registry refused the push' },
    });
    // The name is free again.
    const retry = await ask(id, 'never');
    await answer(retry.operationId, id, { fault: 'again' });
  });

  it('refuses a name the project already uses, changing nothing', async () => {
    const id = await h.activeInstance('snap-dup');
    const first = await ask(id, 'taken');
    await answer(first.operationId, id, { ref: '127.0.0.1:5000/berth-images/x:latest' });
    const before = await h.api.counts();
    const res = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'snapshot', name: 'taken' });
    expect(res.status).toBe(409);
    expect(res.body.error.details.map((d: any) => d.field)).toEqual(['name']);
    expect(await h.api.counts()).toEqual(before);
    expect(await h.instance(id)).toMatchObject({ taskState: null });
  });
});
