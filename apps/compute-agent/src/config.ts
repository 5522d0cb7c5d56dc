import { BerthEnv, EnvInt } from '@berth/platform';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { hostname } from 'node:os';

const CPU_LIST = /^(\d+(-\d+)?(,\d+(-\d+)?)*)?$/;

/** The agent's settings, read from the environment at start. One agent runs per compute host. */
export class AgentEnv extends BerthEnv {
  /** Also the name of this host's command queue. */
  @Matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'must be a lower-case hostname label' })
  BERTH_HOST_NAME = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');

  /** Where peers and operators reach this host. */
  @IsString()
  BERTH_HOST_ADDRESS = '127.0.0.1';

  /** Comma-separated driver names: docker (containers), libvirt (VMs), fake (tests). */
  @Matches(/^(docker|libvirt|fake)(,(docker|libvirt|fake))*$/, {
    message: 'must be a comma-separated list of: docker, libvirt, fake',
  })
  BERTH_DRIVERS = 'docker';

  @IsString()
  BERTH_LIBVIRT_URI = 'qemu:///system';

  /** kvm, qemu (TCG), or auto: boot a kernel under KVM once at start and fall back to TCG if it never speaks. */
  @IsIn(['auto', 'kvm', 'qemu'])
  BERTH_VIRT_TYPE: 'auto' | 'kvm' | 'qemu' = 'auto';

  /** One directory per VM: its overlay disk, config drive, domain XML and console log. */
  @Matches(/^\/[^\0]*$/, { message: 'must be an absolute path' })
  BERTH_INSTANCES_DIR = '/var/lib/berth/instances';

  /** This host's copies of VM image files, fetched once from their paths or URLs. */
  @Matches(/^\/[^\0]*$/, { message: 'must be an absolute path' })
  BERTH_IMAGE_CACHE_DIR = '/var/lib/berth/image-cache';

  /** The pool of the file volume backend: one raw file per volume. */
  @Matches(/^\/[^\0]*$/, { message: 'must be an absolute path' })
  BERTH_VOLUMES_DIR = '/var/lib/berth/volumes';

  /** Where containers' volumes are mounted on the host, a directory per container propagated into it. */
  @Matches(/^\/[^\0]*$/, { message: 'must be an absolute path' })
  BERTH_VOLUME_MOUNTS_DIR = '/var/lib/berth/volume-mounts';

  /** The volume backends this host offers, comma-separated (file); empty: it holds no volumes. */
  @Matches(/^(file)?$/, { message: 'must be file, or empty for none' })
  BERTH_VOLUME_BACKENDS = 'file';

  /** The cloud's SSH key for fetching a migrating VM's disk from its source host (enrollment installs it). */
  @Matches(/^\/[^\0]*$/, { message: 'must be an absolute path' })
  BERTH_MIGRATION_KEY = '/etc/berth/migration_key';

  /** vCPUs a shared VM may grow to while it runs (0: the size of the shared CPU set). */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(256)
  BERTH_VM_MAX_VCPUS = 0;

  /** The VLANs this host's integration bridge carries (its trunk to the physical network). */
  @Matches(/^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$/, {
    message: 'must be VLAN ranges such as 1-4094 or 100-199,300',
  })
  BERTH_HOST_VLANS = '1-4094';

  @IsString()
  BERTH_DOCKER_SOCKET = '/var/run/docker.sock';

  /** Filesystem whose size is offered as disk capacity. Empty: Docker's data root where the host runs containers, else /. */
  @IsString()
  BERTH_DISK_PATH = '';

  /**
   * Host CPUs set aside for dedicated instances, one instance per CPU (Nova's cpu_dedicated_set),
   * as a kernel CPU list such as 2-7. Empty: none.
   */
  @Matches(CPU_LIST, { message: 'must be a kernel CPU list such as 2-7 or 0,2,4-5' })
  BERTH_CPU_DEDICATED_SET = '';

  /** Host CPUs shared instances float over (Nova's cpu_shared_set). Unset: every online CPU not dedicated. */
  @IsOptional()
  @Matches(CPU_LIST, { message: 'must be a kernel CPU list such as 0-1' })
  BERTH_CPU_SHARED_SET?: string;

  /**
   * kernel.pid_max the agent raises the host to at start (never lowers it): the kernel's default of 32768
   * lets a few dozen containers at their pids limit leave the host unable to fork. 0: leave it as it is.
   */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(4_194_304)
  BERTH_PID_MAX = 4_194_304;

  /** Where lxcfs is mounted; instances get their own /proc view from it when it runs. Empty: never use it. */
  @Matches(/^(\/[^\0]*)?$/, { message: 'must be an absolute path, or empty' })
  BERTH_LXCFS_PATH = '/var/lib/lxcfs';

  @Matches(/^[A-Za-z0-9_.-]{1,15}$/, { message: 'must be an interface name (1-15 characters)' })
  BERTH_OVS_BRIDGE = 'br-int';

  /** ovsdb-server socket for a host running its own OVS, e.g. unix:/run/h1/db.sock. */
  @IsOptional()
  @Matches(/^(unix|tcp|ssl):\S+$/, { message: 'must be an OVSDB address such as unix:/path' })
  BERTH_OVS_DB?: string;

  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(300)
  BERTH_HEARTBEAT_SEC = 10;

  /** Where /healthz, /readyz and /metrics are served; loopback unless a scraper elsewhere needs them. */
  @IsString()
  BERTH_METRICS_HOST = '127.0.0.1';

  /** 0: any free port (the process logs which). */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(65535)
  BERTH_METRICS_PORT = 9102;

  /**
   * How often the agent tells the control plane what its hypervisors hold, so an instance that stopped
   * or vanished behind Berth's back shows it (0: never).
   */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(3600)
  BERTH_POWER_SYNC_SEC = 30;

  /** RAM kept for the host itself, never offered to instances. */
  @EnvInt()
  @IsInt()
  @Min(0)
  BERTH_RESERVED_RAM_MB = 512;

  /**
   * Pids never offered to instances: kept for the host's own processes and for the threads of the shims and
   * QEMUs it runs for them. The host offers kernel.pid_max less this; the pids limits of its instances never
   * add up to more, so none of them, even at its limit, leaves the host unable to fork.
   */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(4_194_304)
  BERTH_RESERVED_PIDS = 4096;

  /** Grace period for a graceful stop before the instance is killed. */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(600)
  BERTH_STOP_TIMEOUT_SEC = 10;

  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(64)
  BERTH_AGENT_CONCURRENCY = 4;
}
