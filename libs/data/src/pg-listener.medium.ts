import { createLogger } from '@berth/platform';
import { Client } from 'pg';
import { PgListener } from './pg-listener';
import { freshDatabase, type FreshDatabase } from './testing/fresh-database';

/** The LISTEN connection against real PostgreSQL: it wakes its reader on NOTIFY, and again after losing its backend. */
describe('PgListener (real PostgreSQL)', () => {
  let db: FreshDatabase;
  let url: string;

  async function sql(text: string, params: unknown[] = []): Promise<void> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(text, params);
    } finally {
      await client.end();
    }
  }

  async function until(what: string, check: () => boolean): Promise<void> {
    for (let i = 0; i < 200; i += 1) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  beforeAll(async () => {
    db = await freshDatabase('listener');
    url = (db.dataSource.options as { url: string }).url;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('calls back on each notification, and once more after its connection is killed and comes back as one connection', async () => {
    let woken = 0;
    const name = `berth-listener-test-${process.pid}`;
    const listener = new PgListener(
      { databaseUrl: url, channel: 'berth_test_channel', name, onNotify: () => (woken += 1) },
      createLogger('pg-listener-test'),
    );
    await listener.start();
    try {
      await sql(`NOTIFY berth_test_channel`);
      await until('the first notification', () => woken === 1);
      await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [name]);
      // Back after the reconnect: the reader is woken once for what it may have missed, then by notifications again.
      await until('the wake-up after the reconnect', () => woken >= 2);
      for (let i = 0; i < 100 && woken < 3; i += 1) {
        await sql(`NOTIFY berth_test_channel`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(woken).toBeGreaterThanOrEqual(3);
      // One connection listens after the reconnect, not one per error the lost connection raised.
      const listening = await db.dataSource.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`,
        [name],
      );
      expect(listening).toEqual([{ n: 1 }]);
    } finally {
      await listener.stop();
    }
  });
});
