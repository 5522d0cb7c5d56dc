import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Port security. Every port admits only its own MAC and address unless a cloud admin switched that off
 * (an appliance that routes for others); a port may also send from declared allowed address pairs (an
 * address or CIDR, with the port's MAC or one of its own), as Neutron's ports do.
 */
export class PortSecurity1764900000000 implements MigrationInterface {
  name = 'PortSecurity1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE ports
        ADD COLUMN port_security boolean NOT NULL DEFAULT true,
        ADD COLUMN allowed_address_pairs jsonb NOT NULL DEFAULT '[]'
          CHECK (jsonb_typeof(allowed_address_pairs) = 'array');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ports DROP COLUMN allowed_address_pairs, DROP COLUMN port_security`);
  }
}
