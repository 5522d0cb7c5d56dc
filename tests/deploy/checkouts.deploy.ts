import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * deploy/ on a machine where another checkout's stack runs: checkout A (this one) starts the stack, a
 * second checkout B then runs the set-up (up.sh) and the testbed, and B's down.sh stops what B runs and
 * leaves, by name and starter, what A started. status.sh says at each point what runs and whose it is.
 */
const A = resolve(__dirname, '../..');
const RUN = '/run/berth';
const API = 'http://127.0.0.1:8080';
const DAEMONS = ['postgres', 'redis', 'ovs', 'dockerd', 'registry', 'lxcfs', 'libvirt'];

interface Run {
  code: number;
  out: string;
  err: string;
}

function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 }, (error, out, err) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err });
    });
  });
}
const script = (checkout: string, name: string, ...args: string[]) =>
  run('bash', [join(checkout, 'deploy', name), ...args], checkout);

/** status.sh's rows by what they name: [state, started by]. */
async function status(checkout: string): Promise<Map<string, { state: string; by: string }>> {
  const res = await script(checkout, 'status.sh');
  expect(res).toMatchObject({ code: 0 });
  return new Map(
    res.out
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((line) => {
        const [, what, state, by] = /^(testbed \S+|\S+)\s+(pid \d+|\S+)\s+(.*)$/.exec(line) ?? [];
        return [what ?? line, { state: state ?? '', by: by ?? '' }];
      }),
  );
}

const readStack = () =>
  readFile(join(RUN, 'stack/checkout'), 'utf8').then(
    (s) => s.trim(),
    () => '',
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A second checkout of the same code: the files git would clone (with this one's uncommitted changes). */
async function secondCheckout(): Promise<string> {
  const b = await mkdtemp(join(tmpdir(), 'berth-checkout-b-'));
  const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], A);
  for (const file of listed.out.split('\0').filter((f) => f && existsSync(join(A, f)))) {
    await mkdir(dirname(join(b, file)), { recursive: true });
    await copyFile(join(A, file), join(b, file));
  }
  // The same locked packages (hard links: seconds, not an npm ci), stamped as npm ci stamps them.
  expect(await run('cp', ['-al', join(A, 'node_modules'), join(b, 'node_modules')], A)).toMatchObject({ code: 0 });
  const lock = createHash('sha256')
    .update(await readFile(join(b, 'package-lock.json')))
    .digest('hex');
  await mkdir(join(b, '.berth'), { recursive: true });
  await writeFile(join(b, '.berth/npm-ci.sha'), `${lock}\n`);
  return b;
}

describe('deploy/ from two checkouts on one machine', () => {
  let b = '';
  let stackBefore = '';

  beforeAll(async () => {
    stackBefore = await readStack();
  });
  afterAll(async () => {
    // A failure midway still leaves neither B's stack nor its testbed, and A's stack as it was.
    if (b && existsSync(join(RUN, 'testbed')) && (await readFile(join(RUN, 'testbed'), 'utf8')).startsWith(b)) {
      await script(b, 'testbed.sh', 'down');
    }
    if (b && (await readStack()) === b) await script(b, 'down.sh');
    if (b) await rm(b, { recursive: true, force: true });
    if (stackBefore === A && (await readStack()) !== A) await script(A, 'up.sh');
  }, 600_000);

  it("runs B's set-up and testbed beside A's stack, and B's down.sh leaves A's daemons, naming them", async () => {
    // A's stack.
    expect(await script(A, 'up.sh')).toMatchObject({ code: 0 });
    let rows = await status(A);
    expect(rows.get('api')).toEqual({ state: expect.stringMatching(/^pid \d+$/), by: A });
    const answering = DAEMONS.filter((d) => rows.get(d)?.state === 'answers');
    expect(answering).toEqual(DAEMONS);
    // Whoever started each daemon (A, an earlier checkout, or nobody of Berth's): B's scripts change none of it.
    const starters = new Map(DAEMONS.map((d) => [d, rows.get(d)?.by ?? '']));

    // B's set-up: every daemon is reused, A's stack is replaced by B's (one stack a machine).
    b = await secondCheckout();
    const up = await script(b, 'up.sh');
    expect(up).toMatchObject({ code: 0 });
    expect(up.err).toContain(`replacing the Berth stack started from ${A}`);
    expect(up.err).not.toMatch(/\] starting /);
    rows = await status(b);
    expect(rows.get('api')).toEqual({ state: expect.stringMatching(/^pid \d+$/), by: b });
    for (const d of DAEMONS) expect({ d, ...rows.get(d) }).toEqual({ d, state: 'answers', by: expect.any(String) });

    // B's testbed: its registry listener and its host come up and join B's stack.
    expect(await script(b, 'testbed.sh', 'up', '1')).toMatchObject({ code: 0 });
    const token = (await readFile('/var/lib/berth/stack/admin-token', 'utf8')).trim();
    let tb1: { state?: string } | undefined;
    for (let i = 0; i < 240 && tb1?.state !== 'up'; i += 1) {
      const hosts = await fetch(`${API}/v1/hosts`, { headers: { authorization: `Bearer ${token}` } });
      expect(hosts.status).toBe(200);
      tb1 = ((await hosts.json()) as { items: Array<{ name: string; state: string }> }).items.find(
        (h) => h.name === 'tb1',
      );
      if (tb1?.state !== 'up') await sleep(500);
    }
    expect(tb1).toMatchObject({ state: 'up' });
    expect((await status(b)).get('testbed tb1')?.by).toContain(b);

    // B's down.sh: B's stack and testbed go; A's daemons stay, each named with who started it.
    const down = await script(b, 'down.sh');
    expect(down).toMatchObject({ code: 0 });
    for (const d of DAEMONS) {
      const by = starters.get(d) ?? '';
      // status.sh may add "(that checkout is gone: ...)" after the path; down.sh names the path alone.
      const why = by.startsWith('/') ? `started by ${by.split(' (')[0]}` : 'not started by Berth';
      expect(down.err).toContain(`left running: ${d} (${why})`);
      expect(down.err).not.toContain(`stopped ${d}`);
    }
    expect(await readStack()).toBe('');
    expect((await run('ip', ['netns', 'list'], A)).out).not.toContain('berth-tb1');

    rows = await status(A);
    for (const d of DAEMONS) {
      expect({ d, ...rows.get(d) }).toEqual({
        d,
        state: 'answers',
        by: starters.get(d),
      });
    }
    for (const p of ['api', 'scheduler', 'compute-agent']) expect(rows.get(p)).toEqual({ state: 'down', by: '-' });
    expect([...rows.keys()].filter((k) => k.startsWith('testbed'))).toEqual([]);
  }, 900_000);
});
