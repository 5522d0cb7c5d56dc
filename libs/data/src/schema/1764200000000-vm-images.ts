import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * VM images: a disk (ref) and, for direct kernel boot, a kernel, an initrd and a command line, each
 * a path on the hosts or a URL. Instances copy them, as they copy everything else of their image.
 */
export class VmImages1764200000000 implements MigrationInterface {
  name = 'VmImages1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE images ADD COLUMN kernel_ref text, ADD COLUMN initrd_ref text, ADD COLUMN cmdline text;
      ALTER TABLE instances ADD COLUMN boot jsonb;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE instances DROP COLUMN boot;
      ALTER TABLE images DROP COLUMN cmdline, DROP COLUMN initrd_ref, DROP COLUMN kernel_ref;
    `);
  }
}
