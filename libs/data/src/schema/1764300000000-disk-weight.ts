import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A new throttle, diskWeight (the instance's share of its disk under contention, as libvirt's
 * blkiotune weight). Instances keep their resolved throttles in one jsonb: existing ones get it unset.
 */
export class DiskWeight1764300000000 implements MigrationInterface {
  name = 'DiskWeight1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE instances SET throttles = throttles || '{"diskWeight": null}'::jsonb WHERE NOT throttles ? 'diskWeight';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE instances SET throttles = throttles - 'diskWeight';
      UPDATE flavors SET throttles = throttles - 'diskWeight',
                         limit_bounds = limit_bounds - 'diskWeight';
    `);
  }
}
