import { one } from '@berth/data';
import type { Logger } from '@berth/platform';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DataSource } from 'typeorm';
import { generateToken, hashToken } from './tokens';

/**
 * Makes sure the cloud has its admin: project "admin", user "admin", and an admin token. The token
 * comes from BERTH_ADMIN_TOKEN, or is generated once and written (mode 0600) to `tokenFile`; only the
 * file's path is logged. An advisory lock makes concurrent API replicas agree.
 */
export async function bootstrapAdmin(
  dataSource: DataSource,
  options: { token?: string | undefined; tokenFile: string },
  log: Logger,
): Promise<void> {
  await dataSource.transaction(async (m) => {
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('berth.bootstrap-admin'))`);
    await m.query(`INSERT INTO projects (name) VALUES ('admin') ON CONFLICT (name) DO NOTHING`);
    await m.query(`INSERT INTO users (name) VALUES ('admin') ON CONFLICT (name) DO NOTHING`);
    const ids = await one<{ project: string; user: string }>(
      m,
      `SELECT (SELECT id FROM projects WHERE name = 'admin') AS project, (SELECT id FROM users WHERE name = 'admin') AS "user"`,
    );
    if (!ids) throw new Error('bootstrap: admin project or user missing');

    let token = options.token;
    if (!token) {
      const existing = await one(m, `SELECT 1 FROM tokens WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1`);
      if (existing) return;
      token = generateToken();
      await mkdir(dirname(options.tokenFile), { recursive: true });
      await writeFile(options.tokenFile, `${token}\n`, { mode: 0o600 });
      await chmod(options.tokenFile, 0o600);
      log.warn({ file: options.tokenFile }, 'generated the bootstrap admin token');
    }
    await m.query(
      `INSERT INTO tokens (user_id, project_id, role, name, secret_hash) VALUES ($1, $2, 'admin', 'bootstrap', $3)
       ON CONFLICT (secret_hash) DO NOTHING`,
      [ids.user, ids.project, hashToken(token)],
    );
  });
}
