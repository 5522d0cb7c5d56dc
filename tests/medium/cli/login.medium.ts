import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parse } from 'yaml';
import { runCli } from '../../../apps/cli/src/program';
import { TestApi } from '../api-harness';

/** `berth login` against the API on a real port: the password from standard input, the token into the profile. */
describe('berth login (real PostgreSQL)', () => {
  let api: TestApi;
  let url: string;

  async function berth(args: string[], env: Record<string, string>, stdin = '') {
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks: string[] = [];
    const errors: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    err.on('data', (c: Buffer) => errors.push(c.toString()));
    const code = await runCli(args, { stdout: out, stderr: err, stdin: Readable.from([stdin]), env });
    return { code, out: chunks.join(''), err: errors.join('') };
  }

  beforeAll(async () => {
    api = await TestApi.start();
    url = await api.baseUrl();
    await api.call('POST', '/v1/projects', { name: 'shop' });
    await api.call('POST', '/v1/users', { name: 'alice', password: 'correct horse battery' });
    const [shop] = await api.sql<{ id: string }>(`SELECT id FROM projects WHERE name = 'shop'`);
    await api.call('PUT', `/v1/projects/${shop!.id}/members/alice`, { role: 'member' });
  });
  /** Each test's config directory: its file holds tokens, so each goes at the end. */
  const dirs: string[] = [];
  const configIn = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-login-'));
    dirs.push(dir);
    return join(dir, 'config.yaml');
  };
  afterAll(async () => {
    await api.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('stores an expiring token in the profile, readable by its owner only, and uses it', async () => {
    const config = await configIn();
    const env = { BERTH_CONFIG: config };
    const login = await berth(
      ['login', '--user', 'alice', '--project', 'shop', '--password-stdin', '--url', url, '--profile', 'shop'],
      env,
      'correct horse battery\n',
    );
    expect(login).toMatchObject({ code: 0, err: expect.stringContaining('logged in to shop as alice') });
    const file = parse(await readFile(config, 'utf8')) as {
      current: string;
      profiles: Record<string, { token: string }>;
    };
    expect(file.current).toBe('shop');
    expect(file.profiles['shop']?.token).toMatch(/^berth_/);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect((await berth(['instance', 'list', '-o', 'json'], env)).code).toBe(0);
    const wrong = await berth(
      ['login', '--user', 'alice', '--project', 'shop', '--password-stdin', '--url', url],
      env,
      'not the password\n',
    );
    expect(wrong.code).toBe(3);
    expect(wrong.err).toContain('401');
    const noTerminal = await berth(['login', '--user', 'alice', '--project', 'shop', '--url', url], env);
    expect(noTerminal).toMatchObject({ code: 2, err: expect.stringContaining('--password-stdin') });
  });
});
