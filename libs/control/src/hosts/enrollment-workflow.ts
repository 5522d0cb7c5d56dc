import { CONTRACT_VERSION, jobId, PLACEMENT_QUEUE, type Fault, type InstanceKind } from '@berth/contracts';
import {
  cloudSecret,
  endEnrollment,
  enqueue,
  finishOperation,
  heartbeatSince,
  hostUpByName,
  insertCloudSecret,
  insertEnrollment,
  insertOperation,
  pendingEnrollment,
  pinHostKey,
  recordStep,
  setHostZone,
  setOperationTarget,
  type Actor,
} from '@berth/data';
import { BerthError, type SshKeyPair } from '@berth/domain';
import type { SecretBox } from '@berth/platform';
import type { DataSource } from 'typeorm';

export const ENROLL_HOST = 'host.enroll';

/** API -> scheduler: enroll the host of this record. The private key stays in the database, sealed. */
export interface EnrollHostJob {
  v: typeof CONTRACT_VERSION;
  enrollmentId: string;
  operationId: string;
}

export interface EnrollmentRequest {
  name: string;
  address: string;
  port: number;
  username: string;
  privateKey: string;
  drivers: InstanceKind[];
  zone: string | null;
  hostKeyFingerprint: string | null;
}

export interface Enrollment extends Omit<EnrollmentRequest, 'privateKey'> {
  id: string;
  operationId: string;
  /** The fingerprint the host must present: pinned at first sight, else the one the operator gave. */
  pinned: string | null;
  privateKey: string;
}

const MIGRATION_KEY = 'migration-ssh-key';

/** Host enrollments: the API records one, the scheduler carries it out (apps/scheduler's EnrollmentService). */
export class EnrollmentWorkflow {
  constructor(
    private readonly dataSource: DataSource,
    /** A host without a heartbeat this long is down (BERTH_HOST_DOWN_AFTER_SEC); one that is up is enrolled. */
    private readonly downAfterSec: number,
  ) {}

  /** API: records the enrollment with the key sealed, and queues it; refused for a host of that name that is up. */
  request(
    input: EnrollmentRequest,
    actor: Actor,
    box: SecretBox,
  ): Promise<{ operationId: string; enrollmentId: string }> {
    return this.dataSource.transaction(async (m) => {
      if (await hostUpByName(m, input.name, this.downAfterSec)) {
        throw BerthError.conflict(`host ${input.name} is already enrolled and up`, 'name', 'unique');
      }
      const operationId = await insertOperation(m, actor, {
        action: 'host.enroll',
        targetType: 'host',
        targetId: null,
      });
      const { privateKey, ...rest } = input;
      const enrollmentId = await insertEnrollment(m, { ...rest, operationId, privateKeySealed: box.seal(privateKey) });
      const job: EnrollHostJob = { v: CONTRACT_VERSION, enrollmentId, operationId };
      await enqueue(m, {
        queue: PLACEMENT_QUEUE,
        name: ENROLL_HOST,
        jobId: jobId(operationId, 'enroll'),
        payload: job,
      });
      return { operationId, enrollmentId };
    });
  }

  /** Scheduler: the pending enrollment with its key opened; null when it is no longer pending. */
  async load(enrollmentId: string, box: SecretBox): Promise<Enrollment | null> {
    const row = await pendingEnrollment(this.dataSource.manager, enrollmentId);
    if (!row) return null;
    const { sealed, known, ...rest } = row;
    return { ...rest, pinned: known ?? rest.hostKeyFingerprint, privateKey: box.open(sealed) };
  }

  /** Pins the host key first seen at this address (a later enrollment must see the same). */
  pin(address: string, port: number, fingerprint: string): Promise<void> {
    return pinHostKey(this.dataSource.manager, address, port, fingerprint);
  }

  /** The cloud's SSH identity for moving disks between hosts, made the first time it is asked for. */
  async migrationKey(box: SecretBox, generate: () => SshKeyPair): Promise<SshKeyPair> {
    const found = await cloudSecret(this.dataSource.manager, MIGRATION_KEY);
    if (found) return { privateKey: box.open(found.sealed), publicKey: found.public };
    const made = generate();
    await insertCloudSecret(this.dataSource.manager, {
      name: MIGRATION_KEY,
      sealed: box.seal(made.privateKey),
      public: made.publicKey,
    });
    // Another scheduler may have made one first: everyone uses the stored one.
    return this.migrationKey(box, generate);
  }

  step(operationId: string, step: string, detail?: string): Promise<void> {
    return this.dataSource.transaction((m) => recordStep(m, operationId, step, new Date().toISOString(), detail));
  }

  /** Whether the host has sent a heartbeat since `since`. */
  heartbeatSince(name: string, since: Date): Promise<boolean> {
    return heartbeatSince(this.dataSource.manager, name, since);
  }

  /** Ends the enrollment and its operation; a zone asked for is set on the host that joined. */
  async finish(e: Enrollment, fingerprint: string | null, fault: Fault | null): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await endEnrollment(m, e.id, fault ? 'failed' : 'enrolled', fingerprint);
      if (!fault) {
        const hostId = await setHostZone(m, e.name, e.zone);
        if (hostId) await setOperationTarget(m, e.operationId, hostId);
      }
      await finishOperation(m, e.operationId, fault);
    });
  }
}
