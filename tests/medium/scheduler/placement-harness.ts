import {
  PLACEMENT_QUEUE,
  jobId,
  type AppliedLimits,
  type ComputeCommandType,
  type PlaceInstancesJob,
} from '@berth/contracts';
import { PlacementWorkflow, ReportWorkflow } from '@berth/control';
import { DEFAULT_POLICY_OPTIONS, schedulerPolicy } from '@berth/domain';
import { createLogger } from '@berth/platform';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { HostStateCache } from '../../../apps/scheduler/src/placement/host-cache';
import { PlacementService } from '../../../apps/scheduler/src/placement/placement-service';
import { eventually, TestApi } from '../api-harness';
import { testRedisUrl } from '../settings';

/**
 * The API with the scheduler's placement service and report store in-process, on real PostgreSQL
 * and Redis: a test creates through the API, places the queued job itself, and plays the host's
 * reports. Catalog: flavor m1.tiny (1 vCPU, 128 MB), image busybox, network lan (VLAN 100).
 */
export class PlacementHarness {
  private readonly queues = new Map<string, Queue>();

  private constructor(
    readonly api: TestApi,
    readonly placement: PlacementService,
    readonly reports: ReportWorkflow,
    private readonly redis: IORedis,
  ) {}

  static async start(): Promise<PlacementHarness> {
    const api = await TestApi.start();
    await api.unlimitedQuota();
    const redis = new IORedis(testRedisUrl(), { maxRetriesPerRequest: null });
    const store = new PlacementWorkflow(api.dataSource, { maxInstancesPerHost: 50, downAfterSec: 60 });
    // A cache that reloads for every decision: each test sees the hosts it just changed.
    const placement = new PlacementService(
      store,
      new HostStateCache(store, -1),
      schedulerPolicy({ ...DEFAULT_POLICY_OPTIONS, subsetSize: 1 }),
      createLogger('test', 'silent'),
    );
    const reports = new ReportWorkflow(api.dataSource, { cpu: 4, ram: 1, disk: 1 });
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.7.0.0/16', gateway: '10.7.0.1' });
    return new PlacementHarness(api, placement, reports, redis);
  }

  queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.redis, prefix: this.api.env.BERTH_QUEUE_PREFIX });
      this.queues.set(name, q);
    }
    return q;
  }

  /** Only these hosts take part in the next placements. */
  async onlyHosts(...names: string[]): Promise<void> {
    await this.api.sql(`UPDATE hosts SET enabled = (name = ANY ($1))`, [names]);
  }

  /** Creates through the API and returns the placement job exactly as the API queued it. */
  async create(
    body: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ job: PlaceInstancesJob; ids: string[] }> {
    const res = await this.api.call(
      'POST',
      '/v1/instances',
      { kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan', ...body },
      headers,
    );
    if (res.status !== 202) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
    const first = res.body.operationId as string;
    const job = await eventually(() => this.queue(PLACEMENT_QUEUE).getJob(jobId(first, 'place')), 'the placement job');
    return {
      job: job.data as PlaceInstancesJob,
      ids: (res.body.instances as Array<{ instance: { id: string } }>).map((b) => b.instance.id),
    };
  }

  /** Creates an instance, places it (on the hosts that take part), and reports it built and running. */
  async activeInstance(name: string): Promise<string> {
    const { job, ids } = await this.create({ name });
    await this.placement.place(job);
    const id = ids[0];
    if (!id) throw new Error('the create made no instance');
    await this.hostResult(job.members[0]?.operationId ?? '', id, 'instance.create');
    return id;
  }

  /**
   * Plays the host's report of one command, the instance running after it: done, or (ok false) failed at step
   * `limits`; with `applied`, the limits it read back.
   */
  hostResult(
    operationId: string,
    instanceId: string,
    command: ComputeCommandType,
    options: { ok?: boolean; applied?: AppliedLimits | null } = {},
  ): Promise<void> {
    const at = new Date().toISOString();
    return this.reports.result({
      v: 1,
      type: 'instance.result',
      operationId,
      instanceId,
      command,
      powerState: 'RUNNING',
      at,
      ...(options.applied === undefined ? {} : { applied: options.applied }),
      ...(options.ok === false ? { fault: { step: 'limits', message: 'injected', at } } : {}),
    });
  }

  async instance(id: string): Promise<any> {
    return (await this.api.call('GET', `/v1/instances/${id}`)).body;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis.disconnect();
    await this.api.stop();
  }
}
