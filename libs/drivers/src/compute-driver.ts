import type {
  AppliedLimits,
  DiskArtifact,
  InstanceKind,
  InstanceLimits,
  InstanceSpec,
  InstanceUsage,
  PowerState,
  SshPeer,
  DriverCapability,
  TerminalSize,
  SnapshotImage,
  SnapshotTarget,
  VolumeAttachment,
} from '@berth/contracts';
import type { Terminal, TerminalListener } from './terminal';

/**
 * The contract every hypervisor driver keeps (docker, libvirt, fake). Each method says what holds
 * after it succeeds and after it fails, as Nova's virt driver does; one shared test suite
 * (testing/driver-contract.ts) holds every driver to it.
 *
 * Every method is idempotent: the agent may run a command twice (at-least-once delivery), so each
 * checks what already exists before it changes anything.
 */
export interface ComputeDriver {
  /** Registry key, e.g. "docker". */
  readonly name: string;
  readonly kind: InstanceKind;
  /** What it can do beyond running instances; the agent reports them, and the API refuses what a host's driver cannot. */
  readonly capabilities: readonly DriverCapability[];
  /** Where, once initialised, the hypervisor keeps its instances' disks (Docker's data root); absent: not known. */
  readonly dataRoot?: string | null;

  /** Checks that the hypervisor answers and prepares host-wide state (the OVS bridge). */
  init(): Promise<void>;

  /**
   * Creates the instance and starts it with its port plugged and its limits applied.
   * After success: it runs, its interface has the port's MAC and address on the port's VLAN, and
   * every limit was read back from the host as asked (returned). After failure: nothing of it
   * remains on the host (no container or domain, veth, OVS port, QoS or meter), and the error is a
   * DriverError naming the step that failed.
   * If it already runs as specified, succeeds without change; a partial earlier attempt is removed first.
   */
  spawn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null>;

  /**
   * Stops the instance and unplugs its port. After success: SHUTDOWN, no veth or OVS port.
   * An instance that is already stopped succeeds. One that does not exist fails (step "stop").
   */
  powerOff(spec: InstanceSpec, onStep: StepListener): Promise<void>;

  /**
   * Starts a stopped instance, plugs its port again with the same MAC and address, and applies its
   * limits. After success: RUNNING, plugged, limits read back (returned). After failure: stopped
   * and unplugged, as before.
   */
  powerOn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null>;

  /** powerOff then powerOn; the address survives because it comes from the spec. */
  reboot(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null>;

  /**
   * Changes the limits of an existing instance to `spec.limits` without restarting it (the same
   * process keeps running). After success on a running instance: every limit read back as asked
   * (returned). On a stopped one: what the hypervisor keeps is changed, the rest applies at the next
   * start (returns null). After failure: `previous` is in effect again; the error names step "limits".
   */
  setLimits(spec: InstanceSpec, previous: InstanceLimits, onStep: StepListener): Promise<AppliedLimits | null>;

  /** The limits in effect, read from the host; null when the instance does not run. */
  readLimits(spec: InstanceSpec): Promise<AppliedLimits | null>;

  /**
   * Removes the instance and everything it holds on the host. After success: NOSTATE, nothing left.
   * An instance that does not exist succeeds (its leftovers, if any, are still removed).
   */
  destroy(spec: InstanceSpec, onStep: StepListener): Promise<void>;

  /**
   * Whether the instance runs with its port plugged: a build interrupted after this point is
   * complete (spawn then only applies its limits); one interrupted before it is not.
   */
  runsAsSpecified(spec: InstanceSpec): Promise<boolean>;

  /**
   * Replaces the port's port-security and firewall flows with the spec's, where the port is plugged on
   * this host; says whether it was. The flows are replaced in one transaction: never none, never both.
   */
  applyFirewall(spec: InstanceSpec): Promise<boolean>;

  /**
   * Removes a workload of this host that no record owns (a stray), knowing only its id: what it
   * runs, its disks, and the port its own marks name. A missing one succeeds.
   */
  purge(instanceId: string): Promise<void>;

  /** NOSTATE when the host has no such instance. */
  powerState(instanceId: string): Promise<PowerState>;

  /** The instances this driver holds on this host (and only this host's, when hosts share a daemon). */
  listInstances(): Promise<Array<{ instanceId: string; powerState: PowerState }>>;

  /**
   * The instance's own resource counters now (its cgroup or domain, and its port), or null when it
   * does not run on this host. Reads only; cheap enough to call at every metrics scrape.
   */
  usage(instanceId: string): Promise<InstanceUsage | null>;

  /** The interface as the instance itself sees it, or null when it is not running. */
  readInterface(spec: InstanceSpec): Promise<{ mac: string; addresses: string[] } | null>;

  /**
   * The last `lines` lines the instance wrote to its console: a container's output (docker logs), a
   * VM's serial console. Empty when it never wrote any; the instance need not run.
   */
  consoleTail(spec: InstanceSpec, lines: number): Promise<string[]>;

  /**
   * An interactive terminal of a running instance: a shell started in a container (a fixed argv, as the
   * container's own user, under its limits), or a VM's serial console (one session at a time). Its output goes
   * to `listener` from the first byte. Refused (TerminalRefused) when the instance does not run, or its serial
   * console is held by another session.
   */
  openTerminal(spec: InstanceSpec, size: TerminalSize, listener: TerminalListener): Promise<Terminal>;

  /** Fetches an image so that later builds start without a pull. `onProgress` hears how far it got. */
  cacheImage(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void>;

  /** The image references this host holds. */
  cachedImages(): Promise<string[]>;

  /**
   * How this driver keeps its instances apart on this host besides their limits: the hypervisor's own
   * security options (seccomp, userns, apparmor, selinux) and Berth's (no-new-privileges, dropped
   * capabilities, port security), as names the API shows. Read from the hypervisor, not assumed.
   */
  confinement(): Promise<string[]>;

  /**
   * Cold migration, source side (drivers with `coldMigrate`): stops the instance and writes what it
   * holds to the snapshot `ref` where other hosts can fetch it. After success: stopped, unplugged,
   * the snapshot complete at `ref`. After failure: stopped and otherwise unchanged, no partial local
   * snapshot; the error names the step. The target side is cacheImage(ref) then spawn.
   */
  snapshot(
    spec: InstanceSpec,
    ref: string,
    onStep: StepListener,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<DiskArtifact | null>;

  /**
   * Cold migration, target side: fetches the snapshot (a container's image from the registry; a VM's
   * disk from the source over SSH, checked against its SHA-256) so that spawn then starts from it.
   */
  fetchSnapshot(
    spec: InstanceSpec,
    ref: string,
    peer: SshPeer | null,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<void>;

  /** Removes a snapshot's local copy and, with `registry`, the shared one. A missing snapshot succeeds. */
  forgetSnapshot(ref: string, registry: boolean): Promise<void>;

  /**
   * Attaches a volume (drivers that claim `volumes`): a container's mounted at its path now if it runs and at every
   * start, a VM's plugged live as a disk with the attachment's serial; the volume type's limits applied. The volume's
   * data is at `file` on this host. Attaching one already attached succeeds unchanged. After failure it is attached
   * nowhere and its data is untouched.
   */
  attachVolume?(spec: InstanceSpec, attachment: VolumeAttachment, file: string): Promise<void>;

  /**
   * Makes a new image of the instance, running or not (drivers that can): a container committed (paused meanwhile)
   * and pushed as `<repository>:latest`; a VM's disk flattened into one qcow2 (the guest paused meanwhile) and put in
   * the registry as a blob of `repository`. Returns where hosts fetch it. After failure, nothing of it is left.
   */
  captureImage?(
    spec: InstanceSpec,
    target: SnapshotTarget,
    onStep: StepListener,
    progress: (step: string) => (detail: string) => Promise<void>,
  ): Promise<SnapshotImage>;

  /**
   * Lets go of what the host holds of a stopped instance's volumes (a container's loop devices and mounts), so that
   * they rest attached nowhere (a cold move copies them); the instance's start attaches them again.
   */
  releaseVolumes?(spec: InstanceSpec): Promise<void>;

  /** Detaches a volume, running or not; nothing of it stays held by the instance. One attached nowhere succeeds. */
  detachVolume?(spec: InstanceSpec, attachment: VolumeAttachment, file: string): Promise<void>;
}

/**
 * Called as each step of a command starts, so the operation shows progress; called again with
 * the same step and a detail ("12.0 of 45.5 MB (26%)") as a long step goes on.
 */
export type StepListener = (step: string, detail?: string) => Promise<void>;

export const noSteps: StepListener = () => Promise.resolve();

/** A driver command failed at `step`; anything it had done on the host was undone. */
export class DriverError extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly undoFailures: string[] = [],
  ) {
    super(message);
    this.name = 'DriverError';
  }
}
