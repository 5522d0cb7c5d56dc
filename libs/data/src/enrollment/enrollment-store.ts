import { CONTRACT_VERSION, jobId, PLACEMENT_QUEUE, type Fault, type InstanceKind } from '@berth/contracts';
import { BerthError } from '@berth/domain';
import type { SecretBox } from '@berth/platform';
import type { DataSource } from 'typeorm';
import { finishOperation, insertOperation, recordStep, type Actor } from '../operations/operations';
import { enqueue } from '../operations/outbox';
import { one } from '../sql';

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

export interface SshKeyPair {
  privateKey: string;
  publicKey: string;
}

/** Host enrollments: the API records one, the scheduler carries it out (EnrollmentService). */
export class EnrollmentStore {
  constructor(
    private readonly dataSource: DataSource,
    /** A host without a heartbeat this long is down (BERTH_HOST_DOWN_AFTER_SEC); one that is up is enrolled. */
    private readonly downAfterSec: number,
  ) {}

  /** API: records the enrollment with the key sealed, and queues it. */
  request(
    input: EnrollmentRequest,
    actor: Actor,
    box: SecretBox,
  ): Promise<{ operationId: string; enrollmentId: string }> {
    return this.dataSource.transaction(async (m) => {
      const existing = await one<{ up: boolean }>(
        m,
        `SELECT last_heartbeat_at > now() - make_interval(secs => $2) AS up FROM hosts WHERE name = $1`,
        [input.name, this.downAfterSec],
      );
      if (existing?.up) throw BerthError.conflict(`host ${input.name} is already enrolled and up`, 'name', 'unique');
      const operationId = await insertOperation(m, actor, {
        action: 'host.enroll',
        targetType: 'host',
        targetId: null,
      });
      const row = await one<{ id: string }>(
        m,
        `INSERT INTO host_enrollments (operation_id, name, address, port, username, private_key_sealed, drivers, zone,
                                       expected_fingerprint, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending') RETURNING id`,
        [
          operationId,
          input.name,
          input.address,
          input.port,
          input.username,
          box.seal(input.privateKey),
          input.drivers,
          input.zone,
          input.hostKeyFingerprint,
        ],
      );
      if (!row) throw new Error('insert into host_enrollments returned no row');
      const job: EnrollHostJob = { v: CONTRACT_VERSION, enrollmentId: row.id, operationId };
      await enqueue(m, {
        queue: PLACEMENT_QUEUE,
        name: ENROLL_HOST,
        jobId: jobId(operationId, 'enroll'),
        payload: job,
      });
      return { operationId, enrollmentId: row.id };
    });
  }

  /** Scheduler: the pending enrollment with its key opened; null when it is no longer pending. */
  async load(enrollmentId: string, box: SecretBox): Promise<Enrollment | null> {
    const row = await one<Omit<Enrollment, 'privateKey' | 'pinned'> & { sealed: string; known: string | null }>(
      this.dataSource.manager,
      `SELECT e.id, e.operation_id AS "operationId", e.name, e.address, e.port, e.username, e.drivers, e.zone,
              e.expected_fingerprint AS "hostKeyFingerprint", e.private_key_sealed AS sealed, k.fingerprint AS known
         FROM host_enrollments e LEFT JOIN known_host_keys k ON k.address = e.address AND k.port = e.port
        WHERE e.id = $1 AND e.status = 'pending'`,
      [enrollmentId],
    );
    if (!row) return null;
    const { sealed, known, ...rest } = row;
    return { ...rest, pinned: known ?? rest.hostKeyFingerprint, privateKey: box.open(sealed) };
  }

  /** Pins the host key first seen at this address (a later enrollment must see the same). */
  async pin(address: string, port: number, fingerprint: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO known_host_keys (address, port, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [address, port, fingerprint],
    );
  }

  /** The cloud's SSH identity for moving disks between hosts, made the first time it is asked for. */
  async migrationKey(box: SecretBox, generate: () => SshKeyPair): Promise<SshKeyPair> {
    const found = await one<{ sealed: string; public: string }>(
      this.dataSource.manager,
      'SELECT sealed, public FROM cloud_secrets WHERE name = $1',
      [MIGRATION_KEY],
    );
    if (found) return { privateKey: box.open(found.sealed), publicKey: found.public };
    const made = generate();
    await this.dataSource.query(
      `INSERT INTO cloud_secrets (name, sealed, public) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
      [MIGRATION_KEY, box.seal(made.privateKey), made.publicKey],
    );
    // Another scheduler may have made one first: everyone uses the stored one.
    return this.migrationKey(box, generate);
  }

  step(operationId: string, step: string, detail?: string): Promise<void> {
    return this.dataSource.transaction((m) => recordStep(m, operationId, step, new Date().toISOString(), detail));
  }

  /** Whether the host has sent a heartbeat since `since`. */
  async heartbeatSince(name: string, since: Date): Promise<boolean> {
    const row = await one<{ ok: boolean }>(
      this.dataSource.manager,
      'SELECT last_heartbeat_at >= $2 AS ok FROM hosts WHERE name = $1',
      [name, since],
    );
    return row?.ok === true;
  }

  /** Ends the enrollment and its operation; a zone asked for is set on the host that joined. */
  async finish(e: Enrollment, fingerprint: string | null, fault: Fault | null): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `UPDATE host_enrollments SET status = $2, host_key_fingerprint = $3, updated_at = now() WHERE id = $1`,
        [e.id, fault ? 'failed' : 'enrolled', fingerprint],
      );
      if (!fault) {
        const host = await one<{ id: string }>(
          m,
          `UPDATE hosts SET zone = COALESCE($2, zone) WHERE name = $1 RETURNING id`,
          [e.name, e.zone],
        );
        if (host) await m.query('UPDATE operations SET target_id = $2 WHERE id = $1', [e.operationId, host.id]);
      }
      await finishOperation(m, e.operationId, fault);
    });
  }
}
