import 'reflect-metadata';
import { createLogger, loadEnv, runMain } from '@berth/platform';
import { DataSource } from 'typeorm';
import { createApiApp } from './app';
import { bootstrapAdmin } from './auth/bootstrap-admin';
import { ApiEnv } from './config';

export async function startApi(env: ApiEnv) {
  const log = createLogger('api', env.BERTH_LOG_LEVEL);
  const app = await createApiApp(env, log);
  await bootstrapAdmin(
    app.get(DataSource),
    { token: env.BERTH_ADMIN_TOKEN, tokenFile: env.BERTH_ADMIN_TOKEN_FILE },
    log,
  );
  await app.listen({ host: env.BERTH_API_HOST, port: env.BERTH_API_PORT });
  log.info({ url: await app.getUrl() }, 'api listening');
  return { stop: () => app.close() };
}

if (require.main === module) runMain('api', () => startApi(loadEnv(ApiEnv)));
