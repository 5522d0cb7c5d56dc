import type { InstanceKind } from '@berth/contracts';
import { missingPrerequisites, parseProbe, PROBE_SCRIPT, type HostProbe } from './prerequisites';
import { shQuote, type SshSession } from './ssh';

/** A step of an enrollment failed; `step` names it in the operation. */
export class EnrollError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

export interface EnrollPlan {
  name: string;
  address: string;
  drivers: readonly InstanceKind[];
  /** The agent's program on the host (node runs it). */
  agentPath: string;
  /** Settings every agent of this cloud gets (Redis, queue prefix, log level). */
  agentEnv: Readonly<Record<string, string>>;
  /** The cloud's SSH identity for moving disks between hosts: installed on each host, trusted by each. */
  migrationKey: { privateKey: string; publicKey: string };
}

type StepListener = (step: string, detail?: string) => Promise<void>;

const DRIVER_OF: Readonly<Record<InstanceKind, string>> = { container: 'docker', vm: 'libvirt' };

/**
 * Makes a host a compute host over an open SSH session: checks what it must offer, installs the
 * agent's settings and the cloud's migration key, and starts the agent. Each step is reported;
 * a failure names its step. The heartbeat that proves it is the caller's to wait for.
 */
export async function enroll(ssh: SshSession, plan: EnrollPlan, onStep: StepListener): Promise<HostProbe> {
  await onStep('prerequisites');
  const probed = await ssh.exec(`sh -c ${shQuote(PROBE_SCRIPT)} probe ${shQuote(plan.agentPath)}`);
  const probe = parseProbe(probed.stdout);
  const missing = missingPrerequisites(probe, plan.drivers, plan.agentPath);
  if (missing.length > 0) throw new EnrollError('prerequisites', `the host lacks: ${missing.join('; ')}`);
  await onStep(
    'prerequisites',
    [
      probe.dockerVersion ? `docker ${probe.dockerVersion}` : null,
      probe.libvirtVersion ? `libvirt ${probe.libvirtVersion}` : null,
      `cgroup ${probe.cgroups ?? '?'}`,
      `node ${probe.nodeVersion ?? '?'}`,
    ]
      .filter(Boolean)
      .join(', '),
  );

  await onStep('install');
  const dir = probe.agentDir;
  await run(ssh, 'install', `mkdir -p -m 700 ${shQuote(dir)}`);
  const env = agentEnv(plan, probe);
  await ssh.writeFile(`${dir}/agent.env`, envFile(env), 0o600);
  await ssh.writeFile(`${dir}/migration_key`, plan.migrationKey.privateKey, 0o600);
  const keys = probe.authorizedKeys;
  const line = plan.migrationKey.publicKey.trim();
  await run(
    ssh,
    'install',
    `mkdir -p -m 700 "$(dirname ${shQuote(keys)})" && (grep -qxF ${shQuote(line)} ${shQuote(keys)} 2>/dev/null || printf '%s\\n' ${shQuote(line)} >> ${shQuote(keys)})`,
  );

  await onStep('start');
  const pid = `${dir}/agent.pid`;
  const node = probe.nodePath ?? 'node';
  await run(
    ssh,
    'start',
    [
      // An agent this enrollment started before is replaced.
      `if [ -s ${shQuote(pid)} ]; then kill "$(cat ${shQuote(pid)})" 2>/dev/null; sleep 1; fi`,
      `set -a; . ${shQuote(`${dir}/agent.env`)}; set +a`,
      `nohup ${shQuote(node)} ${shQuote(plan.agentPath)} >>${shQuote(`${dir}/agent.log`)} 2>&1 </dev/null &`,
      `echo $! >${shQuote(pid)}`,
    ].join('\n'),
  );
  return probe;
}

/** The agent's settings: the cloud's, with what the probe found on this host. */
export function agentEnv(plan: EnrollPlan, probe: HostProbe): Record<string, string> {
  return {
    ...plan.agentEnv,
    BERTH_HOST_NAME: plan.name,
    BERTH_HOST_ADDRESS: plan.address,
    BERTH_DRIVERS: plan.drivers.map((d) => DRIVER_OF[d]).join(','),
    BERTH_DOCKER_SOCKET: probe.dockerHost.replace(/^unix:\/\//, ''),
    ...(probe.dockerRoot ? { BERTH_DISK_PATH: probe.dockerRoot } : {}),
    OVS_RUNDIR: probe.ovsRundir,
    BERTH_OVS_DB: `unix:${probe.ovsRundir}/db.sock`,
    BERTH_MIGRATION_KEY: `${probe.agentDir}/migration_key`,
  };
}

/** KEY='value' lines that sh sources; every value is one quoted word. */
export function envFile(env: Readonly<Record<string, string>>): string {
  return `${Object.entries(env)
    .map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`not a variable name: ${k}`);
      return `${k}=${shQuote(v)}`;
    })
    .join('\n')}\n`;
}

async function run(ssh: SshSession, step: string, command: string): Promise<void> {
  const done = await ssh.exec(command);
  if (done.code !== 0) throw new EnrollError(step, `exit ${done.code}: ${done.stderr.trim().slice(0, 500)}`);
}
