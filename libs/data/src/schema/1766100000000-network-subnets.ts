import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A network may exist before its subnet, as Neutron's do (`network create`, then `subnet create`): the address plan
 * (cidr, gateway, pool) is all there or all absent, and only a network with one takes ports. A subnet made through
 * Neutron keeps the name it was given.
 */
export class NetworkSubnets1766100000000 implements MigrationInterface {
  name = 'NetworkSubnets1766100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE networks
        ALTER COLUMN cidr DROP NOT NULL,
        ALTER COLUMN gateway DROP NOT NULL,
        ALTER COLUMN allocation_start DROP NOT NULL,
        ALTER COLUMN allocation_end DROP NOT NULL,
        -- Neutron names a subnet apart from its network (null: the network's name).
        ADD COLUMN subnet_name text,
        ADD CONSTRAINT networks_plan_whole CHECK (
          (cidr IS NULL) = (gateway IS NULL) AND (cidr IS NULL) = (allocation_start IS NULL)
          AND (cidr IS NULL) = (allocation_end IS NULL));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM networks WHERE cidr IS NULL;
      ALTER TABLE networks
        DROP CONSTRAINT networks_plan_whole,
        DROP COLUMN subnet_name,
        ALTER COLUMN cidr SET NOT NULL,
        ALTER COLUMN gateway SET NOT NULL,
        ALTER COLUMN allocation_start SET NOT NULL,
        ALTER COLUMN allocation_end SET NOT NULL;
    `);
  }
}
