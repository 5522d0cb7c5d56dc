import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Host enrollment over SSH. An enrollment keeps the operator's private key sealed (never in the
 * clear, never in a job); a host's key is pinned the first time it is seen and enforced after; the
 * cloud's own SSH identity for moving disks between hosts is a sealed secret too.
 */
export class HostEnrollment1764500000000 implements MigrationInterface {
  name = 'HostEnrollment1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE host_enrollments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        operation_id uuid NOT NULL REFERENCES operations ON DELETE CASCADE,
        name text NOT NULL,
        address text NOT NULL,
        port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
        username text NOT NULL,
        private_key_sealed text NOT NULL,
        drivers text[] NOT NULL,
        zone text,
        expected_fingerprint text,
        host_key_fingerprint text,
        status text NOT NULL CHECK (status IN ('pending', 'enrolled', 'failed')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE known_host_keys (
        address text NOT NULL,
        port integer NOT NULL,
        fingerprint text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (address, port)
      );
      CREATE TABLE cloud_secrets (
        name text PRIMARY KEY,
        sealed text NOT NULL,
        public text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cloud_secrets; DROP TABLE known_host_keys; DROP TABLE host_enrollments;`);
  }
}
