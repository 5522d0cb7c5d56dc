import type { Fault } from '@berth/contracts';
import type { EnrollHostJob, Enrollment, EnrollmentWorkflow } from '@berth/control';
import { enroll, EnrollError, HostKeyMismatch, newSshKeyPair, SshSession } from '@berth/enroll';
import { errorMessage, type Logger, type SecretBox } from '@berth/platform';

export interface EnrollmentSettings {
  /** The agent's program on every host. */
  agentPath: string;
  /** What each agent gets besides its host's own settings and Redis user: the queue prefix, the log level. */
  agentEnv: Record<string, string>;
  /** Makes the host's own Redis user (see agentRedisUser) and answers the URL its agent connects with. */
  redisUser: (hostName: string) => Promise<{ username: string; url: string }>;
  /** Removes that user again, when the enrollment fails. */
  dropRedisUser: (username: string) => Promise<void>;
  /** How long a started agent has to send its first heartbeat. */
  heartbeatTimeoutMs: number;
}

/**
 * Carries out a host enrollment (the scheduler's side of POST /v1/hosts): connect over SSH with the
 * host key pinned, check prerequisites, install the agent's settings and the cloud's migration key,
 * start the agent, and wait for its heartbeat. Every step shows in the operation; the private key is
 * opened from the database here and is never logged or queued.
 */
export class EnrollmentService {
  constructor(
    private readonly store: EnrollmentWorkflow,
    private readonly box: SecretBox | null,
    private readonly settings: EnrollmentSettings,
    private readonly log: Logger,
  ) {}

  async enroll(job: EnrollHostJob): Promise<void> {
    if (!this.box) {
      this.log.error({ enrollmentId: job.enrollmentId }, 'BERTH_SECRET_KEY is not set: cannot open the enrollment key');
      return;
    }
    const e = await this.store.load(job.enrollmentId, this.box);
    if (!e) return;
    const log = this.log.child({ enrollmentId: e.id, host: e.name, address: e.address });
    let fingerprint: string | null = null;
    let step = 'connect';
    let redisUser: string | null = null;
    try {
      await this.store.step(e.operationId, 'connect', `${e.username}@${e.address}:${e.port}`);
      const ssh = await SshSession.connect({
        host: e.address,
        port: e.port,
        username: e.username,
        privateKey: e.privateKey,
        pinned: e.pinned,
      });
      fingerprint = ssh.fingerprint;
      try {
        if (e.pinned === null) await this.store.pin(e.address, e.port, ssh.fingerprint);
        await this.store.step(
          e.operationId,
          'connect',
          `host key ${ssh.fingerprint} (${e.pinned === null ? 'first seen: pinned' : 'matches the pinned key'})`,
        );
        const migrationKey = await this.store.migrationKey(this.box, () => newSshKeyPair('berth-migration'));
        const redis = await this.settings.redisUser(e.name);
        redisUser = redis.username;
        await enroll(
          ssh,
          {
            name: e.name,
            address: e.address,
            drivers: e.drivers,
            agentPath: this.settings.agentPath,
            agentEnv: { ...this.settings.agentEnv, BERTH_REDIS_URL: redis.url },
            migrationKey,
          },
          async (name, detail) => {
            step = name;
            await this.store.step(e.operationId, name, detail);
          },
        );
      } finally {
        ssh.close();
      }
      step = 'heartbeat';
      await this.store.step(e.operationId, 'heartbeat');
      await this.awaitHeartbeat(e, new Date(Date.now() - 1000));
      await this.store.finish(e, fingerprint, null);
      log.info({ fingerprint }, 'host enrolled');
    } catch (error) {
      const failedStep =
        error instanceof EnrollError ? error.step : error instanceof HostKeyMismatch ? 'connect' : step;
      const fault: Fault = { step: failedStep, message: errorMessage(error), at: new Date().toISOString() };
      log.warn({ step: failedStep, err: fault.message }, 'host enrollment failed');
      if (redisUser) await this.settings.dropRedisUser(redisUser).catch(() => undefined);
      await this.store.finish(e, fingerprint, fault);
    }
  }

  private async awaitHeartbeat(e: Enrollment, since: Date): Promise<void> {
    const deadline = Date.now() + this.settings.heartbeatTimeoutMs;
    while (Date.now() < deadline) {
      if (await this.store.heartbeatSince(e.name, since)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new EnrollError(
      'heartbeat',
      `the agent started but sent no heartbeat within ${this.settings.heartbeatTimeoutMs / 1000} s (see agent.log in its directory on the host)`,
    );
  }
}
