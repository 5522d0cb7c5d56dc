import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Resource limits. Flavors gain a CPU policy, throttles and the bounds within which a member may
 * override them per instance; instances keep their resolved throttles, their pinned CPUs, what the
 * host read back, and a live resize in flight. Hosts split their CPUs into a shared pool (vcpus) and
 * a dedicated one (pcpus, whose pinned members are tracked CPU by CPU); allocations and reservations
 * count dedicated CPUs apart from shared ones.
 */
export class Limits1764100000000 implements MigrationInterface {
  name = 'Limits1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE flavors
        ADD COLUMN cpu_policy text NOT NULL DEFAULT 'shared' CHECK (cpu_policy IN ('shared', 'dedicated')),
        ADD COLUMN throttles jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN limit_bounds jsonb NOT NULL DEFAULT '{}';

      ALTER TABLE instances
        ADD COLUMN cpu_policy text NOT NULL DEFAULT 'shared' CHECK (cpu_policy IN ('shared', 'dedicated')),
        ADD COLUMN throttles jsonb,
        ADD COLUMN limit_bounds jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN pinned_cpus integer[] NOT NULL DEFAULT '{}',
        ADD COLUMN applied_limits jsonb,
        ADD COLUMN pending_resize jsonb;
      UPDATE instances SET throttles = jsonb_build_object(
        'cpuQuota', 100, 'pidsLimit', pids_limit, 'diskReadIops', null, 'diskWriteIops', null, 'diskReadBps', null,
        'diskWriteBps', null, 'netIngressMbps', null, 'netEgressMbps', null);
      ALTER TABLE instances ALTER COLUMN throttles SET NOT NULL, DROP COLUMN pids_limit;

      ALTER TABLE hosts
        ADD COLUMN pcpus integer NOT NULL DEFAULT 0 CHECK (pcpus >= 0),
        ADD COLUMN used_pcpus integer NOT NULL DEFAULT 0 CHECK (used_pcpus >= 0),
        ADD COLUMN cpu_shared_set text NOT NULL DEFAULT '',
        ADD COLUMN cpu_dedicated_set integer[] NOT NULL DEFAULT '{}',
        ADD COLUMN pinned_cpus integer[] NOT NULL DEFAULT '{}',
        ADD COLUMN lxcfs boolean NOT NULL DEFAULT false,
        ADD CONSTRAINT hosts_pinned_counted CHECK (cardinality(pinned_cpus) = used_pcpus);

      ALTER TABLE allocations
        ADD COLUMN pcpus integer NOT NULL DEFAULT 0 CHECK (pcpus >= 0),
        ADD COLUMN pinned_cpus integer[] NOT NULL DEFAULT '{}',
        ADD CONSTRAINT allocations_pinned_counted CHECK (cardinality(pinned_cpus) = pcpus);

      ALTER TABLE reservations
        ADD COLUMN cpu_policy text NOT NULL DEFAULT 'shared' CHECK (cpu_policy IN ('shared', 'dedicated'));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE reservations DROP COLUMN cpu_policy;
      ALTER TABLE allocations DROP CONSTRAINT allocations_pinned_counted, DROP COLUMN pinned_cpus, DROP COLUMN pcpus;
      ALTER TABLE hosts DROP CONSTRAINT hosts_pinned_counted, DROP COLUMN lxcfs, DROP COLUMN pinned_cpus,
        DROP COLUMN cpu_dedicated_set, DROP COLUMN cpu_shared_set, DROP COLUMN used_pcpus, DROP COLUMN pcpus;
      ALTER TABLE instances ADD COLUMN pids_limit integer;
      UPDATE instances SET pids_limit = (throttles->>'pidsLimit')::int;
      ALTER TABLE instances ALTER COLUMN pids_limit SET NOT NULL, DROP COLUMN pending_resize, DROP COLUMN applied_limits,
        DROP COLUMN pinned_cpus, DROP COLUMN limit_bounds, DROP COLUMN throttles, DROP COLUMN cpu_policy;
      ALTER TABLE flavors DROP COLUMN limit_bounds, DROP COLUMN throttles, DROP COLUMN cpu_policy;
    `);
  }
}
