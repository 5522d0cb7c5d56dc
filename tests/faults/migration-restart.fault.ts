import { faultRepeat } from './repeat';
import { randomBytes } from 'node:crypto';
import { createOn, identity, registry, startStack } from '../system/support/migration';
import type { TestStack } from '../system/support/stack';
import { docker, testbedLeftovers } from '../system/support/testbed';

/**
 * Kill -9 of a testbed host's agent at each step of a container's cold migration (host 1 to host 2),
 * then a restart. A forward step that was cut short reverts the move: the instance runs on host 1 as
 * it was, with its data, and host 2 holds nothing. An undo or a confirm that was cut short is sent
 * again and completes.
 */
const REPEAT = faultRepeat();
const HOSTS = [1, 2];

interface Step {
  /** The step of the operation it hangs in (for the test's name). */
  step: string;
  host: number;
  failpoint: string;
  /** The action interrupted: the migration itself, or its confirm or revert. */
  during: 'migrate' | 'confirm' | 'revert';
}

const STEPS: Step[] = [
  { step: 'commit', host: 1, failpoint: 'docker.commit', during: 'migrate' },
  { step: 'push', host: 1, failpoint: 'docker.push', during: 'migrate' },
  { step: 'pull', host: 2, failpoint: 'docker.pull', during: 'migrate' },
  { step: 'create', host: 2, failpoint: 'docker.create', during: 'migrate' },
  { step: 'delete', host: 1, failpoint: 'docker.unplug', during: 'confirm' },
  { step: 'delete', host: 2, failpoint: 'docker.unplug', during: 'revert' },
];

describe.each(STEPS)('kill -9 of host $host during the $during step $step', ({ host, failpoint, during }) => {
  let stack: TestStack;
  const hostName = (n: number) => stack.testbedHostNames[n - 1] ?? '';

  beforeAll(async () => {
    stack = await startStack({}, { BERTH_MIGRATION_AUTO_CONFIRM_SEC: '0' }, HOSTS);
  });
  afterAll(() => stack?.stop());

  async function action(id: string, body: Record<string, unknown>): Promise<string> {
    const res = await stack.call('POST', `/v1/instances/${id}/actions`, body);
    expect(res.status).toBe(202);
    return res.body.operationId;
  }

  it(`ends correctly every time (${REPEAT} runs)`, async () => {
    for (let run = 0; run < REPEAT; run += 1) {
      const mover = await createOn(stack, 1, `mover-${run}`, HOSTS);
      const payload = `payload-${randomBytes(6).toString('hex')}`;
      await docker(1, 'exec', `berth-${mover.id}`, 'sh', '-c', `echo ${payload} > /data.txt`);
      if (during !== 'migrate') {
        const moved = await stack.operation(await action(mover.id, { action: 'migrate', host: hostName(2) }), 120_000);
        expect(moved.status).toBe('succeeded');
      }

      await stack.killAgent(hostName(host));
      const hung = await stack.hungAt(hostName(host), failpoint);
      stack.restartAgent(hostName(host), { BERTH_FAILPOINTS: `${failpoint}=hang` });
      const operationId = await action(
        mover.id,
        during === 'migrate' ? { action: 'migrate', host: hostName(2) } : { action: during },
      );
      await stack.untilHung(hostName(host), failpoint, hung);
      await stack.killAgent(hostName(host));
      stack.restartAgent(hostName(host), { BERTH_FAILPOINTS: '' });

      const op = await stack.operation(operationId, 60_000);
      expect(op.steps.map((s: any) => s.name)).toContain('recover');
      const after = (await stack.call('GET', `/v1/instances/${mover.id}`)).body;
      const [record] = (await stack.call('GET', `/v1/instances/${mover.id}/migrations`)).body.items;
      // Confirmed: on host 2, host 1 clean. Otherwise (a forward step failed, or a revert): back on host 1, host 2 clean.
      const home = during === 'confirm' ? 2 : 1;
      const away = home === 1 ? 2 : 1;
      if (during === 'migrate') {
        expect(op).toMatchObject({ status: 'failed', fault: { step: 'recover' } });
        expect(record).toMatchObject({ status: 'error', failedStep: 'recover' });
      } else {
        expect(op.status).toBe('succeeded');
        expect(record.status).toBe(during === 'confirm' ? 'confirmed' : 'reverted');
      }
      expect(after).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', taskState: null, host: hostName(home) });
      expect(identity(after)).toEqual(identity(mover));
      expect((await docker(home, 'exec', `berth-${mover.id}`, 'cat', '/data.txt')).trim()).toBe(payload);
      expect(await testbedLeftovers(stack, away)).toEqual([]);
      // The snapshot is gone from the host the instance left (on a confirmed target it is the container's image).
      expect((await docker(away, 'images', '-q', `${registry}/berth-snapshots/${mover.id}`)).trim()).toBe('');
      if (record.id) {
        const tag = await fetch(`http://${registry}/v2/berth-snapshots/${mover.id}/manifests/${record.id}`, {
          method: 'HEAD',
          headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
        });
        expect(tag.status).toBe(404);
      }
      const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
      const usage = (n: number) => hosts.find((h: any) => h.name === hostName(n)).usage;
      expect(usage(away)).toMatchObject({ ramMb: 0, instances: 0 });
      expect(usage(home)).toMatchObject({ ramMb: 128, instances: 1 });

      expect((await stack.remove(mover.id)).status).toBe('succeeded');
      for (const h of HOSTS) expect(await testbedLeftovers(stack, h)).toEqual([]);
    }
  }, 900_000);
});
