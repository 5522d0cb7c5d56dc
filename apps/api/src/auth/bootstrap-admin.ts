import { anyAdminToken, ensureAdmin, insertBootstrapToken } from '@berth/data';
import type { Logger } from '@berth/platform';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DataSource } from 'typeorm';
import { generateToken, hashToken } from '@berth/control';

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
    const ids = await ensureAdmin(m);

    let token = options.token;
    if (!token) {
      if (await anyAdminToken(m)) return;
      token = generateToken();
      await mkdir(dirname(options.tokenFile), { recursive: true });
      await writeFile(options.tokenFile, `${token}\n`, { mode: 0o600 });
      await chmod(options.tokenFile, 0o600);
      log.warn({ file: options.tokenFile }, 'generated the bootstrap admin token');
    }
    await insertBootstrapToken(m, ids, hashToken(token));
  });
}
