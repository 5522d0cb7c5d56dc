import 'reflect-metadata';
import {
  computeQueue,
  VOLUME_COMMANDS,
  type HostCommand,
  type InstanceKind,
  type InterruptedCommand,
  type VolumeBackendName,
  type VolumeCommand,
} from '@berth/contracts';
import {
  DockerDriver,
  DriverRegistry,
  FakeDriver,
  FileVolumes,
  type VolumeBackend,
  LibvirtDriver,
  probeVirtType,
  type ComputeDriver,
  type VirtType,
} from '@berth/drivers';
import { formatCpuList, hostCpuSets, type HostCpuSets } from '@berth/domain';
import { hostNet, hostPortTraces, type HostNet } from '@berth/network';
import {
  createLogger,
  errorMessage,
  Failpoints,
  loadEnv,
  runCommand,
  runMain,
  startOpsServer,
  type Logger,
} from '@berth/platform';
import { PubSub, QueueMetrics, QueueProducer, startWorker, type Job } from '@berth/queue';
import { InstanceMetrics } from './instance-metrics';
import Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { CommandHandler } from './command-handler';
import { AgentEnv } from './config';
import { newestKernel, onlineCpus, raisePidMax, readHostFacts, type HostFactsOptions } from './host-facts';
import { PowerSync } from './power-sync';
import { NetworkSweeper } from './network-sweeper';
import { Reporter } from './reporter';
import { TerminalSessions } from './terminals';
import { containerRootUid, HostVolumes } from './volumes';

/** What this host's queue carries: the instance and host commands, and the volume commands. */
type AgentCommand = HostCommand | VolumeCommand;
const isVolumeCommand = (c: AgentCommand): c is VolumeCommand =>
  (VOLUME_COMMANDS as readonly string[]).includes(c.type);

const AGENT_VERSION = '0.1.0';

interface DriverDeps {
  env: AgentEnv;
  net: HostNet;
  failpoints: Failpoints;
  cpuSets: HostCpuSets;
  virtType: VirtType;
  /** The host's volume pool, where it holds volumes. */
  pool: FileVolumes | null;
}

const drivers = new DriverRegistry<DriverDeps>()
  .register(
    'docker',
    ({ env, net, cpuSets, pool }) =>
      new DockerDriver({
        docker: new Docker({ socketPath: env.BERTH_DOCKER_SOCKET }),
        net,
        hostName: env.BERTH_HOST_NAME,
        stopTimeoutSec: env.BERTH_STOP_TIMEOUT_SEC,
        sharedCpus: formatCpuList(cpuSets.shared),
        lxcfsRoot: env.BERTH_LXCFS_PATH || null,
        ...(pool
          ? { volumes: { mountRoot: env.BERTH_VOLUME_MOUNTS_DIR, fileOf: (a) => pool.source(a.volume.id).file } }
          : {}),
      }),
  )
  .register(
    'libvirt',
    ({ env, net, cpuSets, virtType, pool }) =>
      new LibvirtDriver({
        net,
        hostName: env.BERTH_HOST_NAME,
        uri: env.BERTH_LIBVIRT_URI,
        virtType,
        instancesDir: env.BERTH_INSTANCES_DIR,
        imageCacheDir: env.BERTH_IMAGE_CACHE_DIR,
        stopTimeoutSec: env.BERTH_STOP_TIMEOUT_SEC,
        sharedCpus: formatCpuList(cpuSets.shared),
        maxVcpus: env.BERTH_VM_MAX_VCPUS || Math.max(1, cpuSets.shared.length),
        migrationKeyPath: env.BERTH_MIGRATION_KEY,
        ...(pool ? { volumes: { fileOf: (a) => pool.source(a.volume.id).file } } : {}),
      }),
  )
  .register('fake', ({ failpoints }) => new FakeDriver('container', failpoints));

/** The compute agent: registers this host, heartbeats, and runs the commands of its own queue. */
export async function startAgent(env: AgentEnv) {
  const log = createLogger('compute-agent', env.BERTH_LOG_LEVEL).child({ host: env.BERTH_HOST_NAME });
  const failpoints = Failpoints.armed(env.BERTH_FAILPOINTS, log);
  const net = hostNet({
    bridge: env.BERTH_OVS_BRIDGE,
    failpoints,
    ...(env.BERTH_OVS_DB ? { ovsDb: env.BERTH_OVS_DB } : {}),
  });

  await raisePids(env, log);
  const cpuSets = hostCpuSets(await onlineCpus(), env.BERTH_CPU_DEDICATED_SET, env.BERTH_CPU_SHARED_SET);
  const names = env.BERTH_DRIVERS.split(',');
  const pool = volumePool(env);
  const byKind = await startDrivers(env, names, { net, failpoints, cpuSets, pool }, log);

  const queueSettings = { redisUrl: env.BERTH_REDIS_URL, prefix: env.BERTH_QUEUE_PREFIX };
  const producer = new QueueProducer(queueSettings);
  const reporter = new Reporter(producer);
  const ops = await agentOps(env, producer, byKind, log);
  const queueMetrics = new QueueMetrics(ops.registry, 'berth_agent_', producer, () => [
    computeQueue(env.BERTH_HOST_NAME),
  ]);
  new InstanceMetrics(ops.registry, byKind, log);
  const volumes = await hostVolumes(env, pool, reporter, log);
  const factsOptions = { ...hostFactsOptions(env, byKind, cpuSets, log), volumeBackends: volumes.names };
  const heartbeat = async () => {
    try {
      await reporter.heartbeat(await readHostFacts(factsOptions));
    } catch (error) {
      log.warn({ err: errorMessage(error) }, 'heartbeat failed');
    }
  };
  await heartbeat();
  // Jobs active before this agent takes any were cut short by its predecessor: the scheduler
  // recovers those (recoverTask, recoverMigration); the ones still waiting simply run.
  const incarnation = randomUUID();
  const pending = await producer.activeJobs<AgentCommand>(computeQueue(env.BERTH_HOST_NAME));
  const active = pending.filter((j): j is Job<HostCommand> => !isVolumeCommand(j.data));
  const held = await volumes.list();
  await reporter.started(env.BERTH_HOST_NAME, incarnation, [...byKind.keys()], interruptedCommands(active), held);
  const timer = setInterval(() => void heartbeat(), env.BERTH_HEARTBEAT_SEC * 1000);

  const bus = new PubSub(env.BERTH_REDIS_URL, log);
  const terminals = new TerminalSessions(byKind, bus, env.BERTH_QUEUE_PREFIX, env.BERTH_HOST_NAME, log);
  const handler = new CommandHandler(byKind, reporter, log, env.BERTH_HOST_NAME, net, terminals, volumes);
  volumes.serve(byKind, (id, task) => handler.exclusive(id, task));
  await replayFirewalls(active, handler, log);
  await replayVolumes(pending, volumes);
  const syncTimer = startSync(env, names, { net, byKind, handler, reporter }, log);
  const worker = startWorker<AgentCommand>(
    queueSettings,
    computeQueue(env.BERTH_HOST_NAME),
    (job) => (isVolumeCommand(job.data) ? volumes.handle(job.data) : handler.handle(job.data)),
    {
      concurrency: env.BERTH_AGENT_CONCURRENCY,
      log,
      redeliverStalled: false,
      observe: queueMetrics.observer(computeQueue(env.BERTH_HOST_NAME)),
    },
  );
  await logStarted(env, factsOptions, incarnation, log);

  return {
    async stop() {
      clearInterval(timer);
      if (syncTimer) clearInterval(syncTimer);
      await worker.close();
      await terminals.closeAll();
      bus.close();
      await ops.close();
      await producer.close();
    },
  };
}

/** The agent's ops server (/metrics, /healthz, /readyz: Redis and each driver's hypervisor answer). */
function agentOps(env: AgentEnv, producer: QueueProducer, byKind: Map<InstanceKind, ComputeDriver>, log: Logger) {
  return startOpsServer({
    host: env.BERTH_METRICS_HOST,
    port: env.BERTH_METRICS_PORT,
    prefix: 'berth_agent_',
    checks: {
      redis: () => producer.ping(),
      ...Object.fromEntries([...byKind].map(([kind, driver]) => [kind, () => driver.listInstances()])),
    },
    log,
  });
}

/** Raises kernel.pid_max to what the operator asked (BERTH_PID_MAX), and says whether it could. */
async function raisePids(env: AgentEnv, log: Logger): Promise<void> {
  const pids = await raisePidMax(env.BERTH_PID_MAX);
  if (pids.after !== pids.before) log.info(pids, 'kernel.pid_max raised');
  else if (env.BERTH_PID_MAX > pids.after)
    log.warn({ ...pids, wanted: env.BERTH_PID_MAX }, 'kernel.pid_max not raised');
}

/** Creates and initialises the drivers named in BERTH_DRIVERS, one per instance kind. */
async function startDrivers(
  env: AgentEnv,
  names: string[],
  deps: { net: HostNet; failpoints: Failpoints; cpuSets: HostCpuSets; pool: FileVolumes | null },
  log: Logger,
): Promise<Map<InstanceKind, ComputeDriver>> {
  const virtType: VirtType = !names.includes('libvirt')
    ? 'qemu'
    : env.BERTH_VIRT_TYPE === 'auto'
      ? await probeVirtType(await newestKernel())
      : env.BERTH_VIRT_TYPE;
  if (names.includes('libvirt')) log.info({ virtType }, 'VM domain type');
  const byKind = new Map<InstanceKind, ComputeDriver>();
  for (const name of names) {
    const driver = drivers.create(name, { env, ...deps, virtType });
    await driver.init();
    byKind.set(driver.kind, driver);
  }
  return byKind;
}

/**
 * What the heartbeat reads. Asking each hypervisor what it holds is also the heartbeat's check that it answers: one
 * that does not (dockerd or libvirtd restarting) takes its kind out of scheduling on this host until it answers again.
 */
function hostFactsOptions(
  env: AgentEnv,
  byKind: Map<InstanceKind, ComputeDriver>,
  cpuSets: HostCpuSets,
  log: Logger,
): Omit<HostFactsOptions, 'volumeBackends'> {
  const unavailable = new Set<InstanceKind>();
  const imagesOf = async (kind: InstanceKind, driver: ComputeDriver): Promise<string[]> => {
    try {
      const images = await driver.cachedImages();
      if (unavailable.delete(kind)) log.info({ kind }, 'hypervisor answers again: back in scheduling');
      return images;
    } catch (error) {
      if (!unavailable.has(kind)) {
        log.warn({ kind, err: errorMessage(error) }, 'hypervisor not answering: out of scheduling for its kind');
      }
      unavailable.add(kind);
      return [];
    }
  };
  return {
    name: env.BERTH_HOST_NAME,
    vlanRanges: env.BERTH_HOST_VLANS,
    cachedImages: async () => (await Promise.all([...byKind].map(([kind, d]) => imagesOf(kind, d)))).flat(),
    unavailable: () => [...unavailable],
    address: env.BERTH_HOST_ADDRESS,
    drivers: [...byKind.keys()],
    reservedRamMb: env.BERTH_RESERVED_RAM_MB,
    reservedPids: env.BERTH_RESERVED_PIDS,
    diskPath: env.BERTH_DISK_PATH || byKind.get('container')?.dataRoot || '/',
    agentVersion: AGENT_VERSION,
    cpuSets,
    lxcfsPath: env.BERTH_LXCFS_PATH || null,
    confinement: async () => {
      const each = await Promise.all([...byKind.values()].map((d) => d.confinement().catch(() => [] as string[])));
      return [...new Set(each.flat())];
    },
    capabilities: Object.fromEntries([...byKind].map(([kind, d]) => [kind, [...d.capabilities]])),
  };
}

/** A volume command cut short by the previous agent is simply run again: each is idempotent, and reports its end. */
async function replayVolumes(pending: Array<Job<AgentCommand>>, volumes: HostVolumes): Promise<void> {
  for (const { data } of pending) if (isVolumeCommand(data)) await volumes.handle(data);
}

/** The file pool of volumes where the host offers them (prepared with the rest of its volume storage). */
const volumePool = (env: AgentEnv) =>
  env.BERTH_VOLUME_BACKENDS === 'file' ? new FileVolumes(env.BERTH_VOLUMES_DIR, runCommand) : null;

/** This host's volume storage: the pool it offers, ready; one that cannot start is left out, and said so. */
async function hostVolumes(
  env: AgentEnv,
  pool: FileVolumes | null,
  reporter: Reporter,
  log: Logger,
): Promise<HostVolumes> {
  const backends = new Map<VolumeBackendName, VolumeBackend>();
  try {
    await pool?.init();
    if (pool) backends.set('file', pool);
  } catch (error) {
    log.error(
      { err: errorMessage(error), dir: env.BERTH_VOLUMES_DIR },
      'file volumes unavailable: this host offers none',
    );
  }
  return new HostVolumes(backends, reporter, log, await containerRootUid(), env.BERTH_MIGRATION_KEY);
}

/** A firewall change cut short by the previous agent is simply made again (it replaces the port's flows whole). */
async function replayFirewalls(active: Array<Job<HostCommand>>, handler: CommandHandler, log: Logger): Promise<void> {
  for (const { data } of active) {
    if (data.type !== 'port.firewall') continue;
    await handler.handle(data).catch((error: unknown) => {
      log.warn(
        { err: errorMessage(error), instanceId: data.instance.id },
        'firewall of an interrupted change not applied',
      );
    });
  }
}

/**
 * The periodic sync: power states to the scheduler, and the sweep of the host's ports (docker and libvirt hosts plug
 * into OVS; a fake host has nothing to sweep). Null when BERTH_POWER_SYNC_SEC is 0.
 */
function startSync(
  env: AgentEnv,
  names: string[],
  deps: { net: HostNet; byKind: Map<InstanceKind, ComputeDriver>; handler: CommandHandler; reporter: Reporter },
  log: Logger,
): NodeJS.Timeout | null {
  if (env.BERTH_POWER_SYNC_SEC <= 0) return null;
  const portTraces = () => hostPortTraces(deps.net, env.BERTH_HOST_NAME);
  const powerSync = new PowerSync(env.BERTH_HOST_NAME, deps.byKind, deps.handler, deps.reporter, log, portTraces);
  const sweeper =
    names.includes('docker') || names.includes('libvirt')
      ? new NetworkSweeper(deps.net, deps.handler, log, names.includes('docker'))
      : null;
  const sync = async () => {
    await powerSync.run();
    await sweeper?.sweep().catch((error: unknown) => log.warn({ err: errorMessage(error) }, 'network sweep failed'));
  };
  return setInterval(
    () => void sync().catch((error: unknown) => log.warn({ err: errorMessage(error) }, 'power sync failed')),
    env.BERTH_POWER_SYNC_SEC * 1000,
  );
}

async function logStarted(env: AgentEnv, factsOptions: HostFactsOptions, incarnation: string, log: Logger) {
  const facts = await readHostFacts(factsOptions);
  if (env.BERTH_LXCFS_PATH && !facts.lxcfs) {
    log.warn({ path: env.BERTH_LXCFS_PATH }, 'lxcfs is not mounted: instances will see the host in /proc');
  }
  log.info(
    {
      drivers: facts.drivers,
      queue: computeQueue(env.BERTH_HOST_NAME),
      cpuSharedSet: facts.cpuSharedSet,
      cpuDedicatedSet: facts.cpuDedicatedSet,
      lxcfs: facts.lxcfs,
      incarnation,
    },
    'compute agent started',
  );
}

/** The commands of jobs left active by a previous agent; queries (console, stats) and pulls need no recovery. */
function interruptedCommands(jobs: Array<Job<HostCommand>>): InterruptedCommand[] {
  return jobs.flatMap(({ data }) =>
    data.type === 'image.pull' ||
    data.type === 'instance.console' ||
    data.type === 'instance.stats' ||
    data.type === 'instance.terminal' ||
    data.type === 'host.purge' ||
    data.type === 'port.firewall'
      ? []
      : [
          {
            command: data.type,
            operationId: data.operationId,
            instanceId: data.instance.id,
            ...('migrationId' in data ? { migrationId: data.migrationId } : {}),
          },
        ],
  );
}

if (require.main === module) runMain('compute-agent', () => startAgent(loadEnv(AgentEnv)));
