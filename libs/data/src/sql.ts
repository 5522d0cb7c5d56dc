import type { EntityManager } from 'typeorm';

/**
 * Runs one SQL statement and returns its rows, whatever the command (TypeORM returns UPDATE/DELETE
 * ... RETURNING differently from SELECT). Columns are aliased to camelCase in the SQL itself.
 */
export async function rows<T>(manager: EntityManager, text: string, params: readonly unknown[] = []): Promise<T[]> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const result = await runner.query(text, [...params], true);
    return result.records as T[];
  } finally {
    if (!manager.queryRunner) await runner.release();
  }
}

export async function one<T>(manager: EntityManager, text: string, params: readonly unknown[] = []): Promise<T | null> {
  const [first] = await rows<T>(manager, text, params);
  return first ?? null;
}

/** One round trip to the database (readiness). */
export async function pingDatabase(manager: EntityManager): Promise<void> {
  await manager.query('SELECT 1');
}
