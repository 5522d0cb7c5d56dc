import { createLogger } from '@berth/platform';
import { QueueProducer, startWorker, type RunningWorker } from '@berth/queue';
import { randomUUID } from 'node:crypto';
import { testRedisUrl } from '../settings';

/**
 * QueueProducer.request on real Redis: a question a worker answers at once (the console tail).
 * A worker that answers faster than the asker starts waiting must still be heard.
 */
describe('a request answered by a worker (real Redis)', () => {
  const settings = { redisUrl: testRedisUrl(), prefix: `berth-test-${randomUUID().slice(0, 8)}` };
  const queue = 'requests';
  let producer: QueueProducer;
  let worker: RunningWorker;

  beforeAll(() => {
    producer = new QueueProducer(settings);
    worker = startWorker<{ n: number; fail?: boolean }>(
      settings,
      queue,
      (job) =>
        job.data.fail
          ? Promise.reject(new Error(`no answer for ${job.data.n}`))
          : Promise.resolve({ twice: job.data.n * 2 }),
      { concurrency: 4, log: createLogger('test', 'silent') },
    );
  });
  afterAll(async () => {
    await worker.close();
    await producer.queue(queue).obliterate({ force: true });
    await producer.close();
  });

  it('returns the answer of every one of 40 quick requests, even when the answer comes first', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, n) => producer.request<{ twice: number }>(queue, 'q', { n }, 10_000)),
    );
    expect(answers.map((a) => a.twice)).toEqual(Array.from({ length: 40 }, (_, n) => n * 2));
  });

  it('returns the answer of 200 requests asked one after another of an idle worker', async () => {
    for (let n = 0; n < 200; n += 1) {
      expect(await producer.request<{ twice: number }>(queue, 'q', { n }, 10_000)).toEqual({ twice: n * 2 });
    }
    const counts = await producer.queue(queue).getJobCounts('completed', 'failed', 'waiting', 'active');
    expect(counts).toMatchObject({ completed: 0, failed: 0, waiting: 0, active: 0 });
  });

  it("rejects with the worker's error when the worker fails, and keeps nothing", async () => {
    await expect(producer.request(queue, 'q', { n: 7, fail: true }, 10_000)).rejects.toThrow('no answer for 7');
    const counts = await producer.queue(queue).getJobCounts('completed', 'failed', 'waiting', 'active');
    expect(counts).toMatchObject({ completed: 0, failed: 0, waiting: 0, active: 0 });
  });
});
