import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { COMMANDS } from './commands';
import { resolveTarget } from './config';
import { API } from './generated/api';
import { render } from './output';
import { buildProgram, EXIT, runCli } from './program';
import { renderCliReference } from './reference';

/** Runs the CLI in-process; what it printed and its exit code. */
async function berth(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  input = '',
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        append(chunk.toString());
        done();
      },
    });
  const stdin = new PassThrough();
  stdin.end(input);
  const code = await runCli(argv, {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    stdin,
    env,
  });
  return { code, out, err };
}

describe('the berth CLI (no API needed)', () => {
  it('has a command for every operation of the API, each with an example', () => {
    const covered = new Set([
      ...COMMANDS.map((c) => c.op),
      'EventsController_stream',
      'LoginController_login',
      'Terminal_open',
    ]);
    const offered = Object.keys(API).filter((op) => !op.startsWith('HealthController_'));
    expect(offered.filter((op) => !covered.has(op))).toEqual([]);
    for (const c of COMMANDS) expect(c.example).toMatch(new RegExp(`^berth ${c.noun} ${c.verb}\\b`));
  });

  it('keeps docs/cli.md as its own --help prints it (run `npm run docs` after changing it)', () => {
    expect(readFileSync(resolve(__dirname, '../../../docs/cli.md'), 'utf8')).toBe(renderCliReference());
  });

  it('refuses a wrong command line with exit 2 before it calls anything', async () => {
    const env = { BERTH_URL: 'http://127.0.0.1:1' };
    expect(
      (await berth(['flavor', 'create', 'x', '--vcpus', 'many', '--ram-mb', '1', '--disk-gb', '1'], env)).code,
    ).toBe(EXIT.usage);
    expect((await berth(['instance', 'create', 'x', '--flavor', 'f'], env)).err).toContain(
      "required option '--image <value>'",
    );
    expect((await berth(['instance', 'frobnicate'], env)).code).toBe(EXIT.usage);
    expect((await berth(['aggregate', 'create', 'a', '--metadata', 'novalue'], env)).err).toContain(
      '--metadata takes key=value',
    );
    expect((await berth(['flavor', 'list'], {})).err).toContain('no API address');
    expect((await berth(['flavor', 'list'], {})).code).toBe(EXIT.usage);
  });

  it('exits 4 when the API cannot be reached', async () => {
    const res = await berth(['flavor', 'list'], { BERTH_URL: 'http://127.0.0.1:59999' });
    expect(res).toMatchObject({ code: EXIT.unavailable });
    expect(res.err).toContain('cannot reach the API: ECONNREFUSED');
  });

  it('keeps profiles in a file only its owner reads, flags and environment first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
    const env = { BERTH_CONFIG: join(dir, 'config.yaml') };
    try {
      expect(
        (await berth(['config', 'set-profile', 'lab', '--url', 'http://lab:8080', '--token-stdin'], env, 'secret-1\n'))
          .code,
      ).toBe(0);
      expect((await berth(['config', 'set-profile', 'prod', '--url', 'http://prod:8080'], env)).code).toBe(0);
      expect(statSync(env.BERTH_CONFIG).mode & 0o777).toBe(0o600);
      const listed = JSON.parse((await berth(['config', 'list', '-o', 'json'], env)).out) as unknown;
      expect(listed).toEqual([
        { name: 'lab', url: 'http://lab:8080', token: 'set', current: true },
        { name: 'prod', url: 'http://prod:8080', token: '', current: false },
      ]);
      expect(readFileSync(env.BERTH_CONFIG, 'utf8')).toContain('secret-1');
      expect((await berth(['config', 'use', 'nope'], env)).code).toBe(EXIT.usage);
      const config = { current: 'lab', profiles: { lab: { url: 'http://lab:8080', token: 't-lab' } } };
      expect(resolveTarget({}, {}, config)).toEqual({ url: 'http://lab:8080', token: 't-lab', profile: 'lab' });
      expect(resolveTarget({ url: 'http://x' }, { BERTH_TOKEN: 'env' }, config)).toMatchObject({
        url: 'http://x',
        token: 'env',
      });
      expect(() => resolveTarget({ profile: 'gone' }, {}, config)).toThrow('no profile "gone"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints tables, JSON, YAML and bare values', () => {
    const rows = [{ id: 'a', name: 'web', flavor: { id: 'f', name: 'm1.tiny' }, limits: { vcpus: 1 } }];
    expect(render(rows, 'value', ['id', 'flavor', 'limits.vcpus'])).toBe('a m1.tiny 1\n');
    expect(JSON.parse(render(rows, 'json'))).toEqual(rows);
    expect(render(rows[0], 'yaml')).toContain('name: m1.tiny');
    const table = render(rows, 'table', ['name', 'flavor']);
    expect(table).toContain('│ web  │ m1.tiny │');
    expect(render(rows[0], 'table')).toContain('limits.vcpus');
  });

  it('completes nouns, verbs and flags in bash from its own command tree', () => {
    let script = '';
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        script += chunk.toString();
        done();
      },
    });
    buildProgram({ stdout: sink, stderr: sink, stdin: new PassThrough(), env: {} }).parse(['completion', 'bash'], {
      from: 'user',
    });
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _berth_complete; echo "\${COMPREPLY[@]}"`,
        ],
        {
          encoding: 'utf8',
        },
      ).trim();
    expect(complete(['berth', 'inst'])).toBe('instance');
    expect(complete(['berth', 'instance', 're']).split(' ').sort()).toEqual(['reboot', 'resize', 'revert']);
    expect(complete(['berth', 'instance', 'create', '--fla'])).toBe('--flavor');
  });
});
