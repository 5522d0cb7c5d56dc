import type { EntityManager } from 'typeorm';
import { rows } from '../sql';

/** Those of the token ids that are still valid: not revoked, not expired. */
export async function validTokenIds(m: EntityManager, ids: readonly string[]): Promise<Set<string>> {
  const valid = await rows<{ id: string }>(
    m,
    `SELECT id FROM tokens WHERE id = ANY($1) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [ids],
  );
  return new Set(valid.map((r) => r.id));
}
