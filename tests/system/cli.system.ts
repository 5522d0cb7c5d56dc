import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { withoutLiveFields } from './support/live-fields';
import { TestStack } from './support/stack';
import { vmHost } from './support/vm-host';
import { testEnv } from './support/test-env';

const repo = resolve(__dirname, '../..');
const env = testEnv();
const vms = vmHost('cli');

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs a program to its end; never throws for a non-zero exit, which the tests check. */
function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { ...options, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 }, (error, out, err) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, out, err });
    });
  });
}

/** The README's walk-through: the sh block under "A first walk-through". */
async function walkThrough(): Promise<string> {
  const readme = await readFile(join(repo, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A first walk-through'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no walk-through block');
  return block;
}

/** The CLI, from the repository's bin/, as `npx berth` runs it. */
describe('the berth CLI against the running stack', () => {
  let stack: TestStack;
  let berthEnv: NodeJS.ProcessEnv;
  const berth = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(join(repo, 'bin/berth'), args, { env: { ...berthEnv, ...extra } });

  beforeAll(async () => {
    stack = await TestStack.start({
      env: vms.env,
    });
    // What deploy/up.sh seeds, so that the walk-through finds the same catalogue.
    const bounds = {
      netIngressMbps: {},
      netEgressMbps: {},
      diskReadBps: {},
      diskWriteBps: {},
      diskReadIops: {},
      diskWriteIops: {},
    };
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 256, diskGb: 1, limitBounds: bounds }],
      ['/v1/flavors', { name: 'm1.small', vcpus: 1, ramMb: 1024, diskGb: 10, limitBounds: bounds }],
      ['/v1/flavors', { name: 'm1.medium', vcpus: 2, ramMb: 2048, diskGb: 20, limitBounds: bounds }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: env.image }],
      [
        '/v1/images',
        {
          name: 'test-vm',
          kind: 'vm',
          ref: join(env.vmImageDir, 'disk.qcow2'),
          kernelRef: join(env.vmImageDir, 'vmlinuz'),
          initrdRef: join(env.vmImageDir, 'initrd.img'),
        },
      ],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
    // No profile file of the machine's own: only what each test passes.
    berthEnv = {
      PATH: process.env['PATH'],
      BERTH_CONFIG: '/nonexistent/berth.yaml',
      BERTH_URL: stack.url,
      BERTH_TOKEN: stack.token,
    };
  });
  afterAll(async () => {
    await stack?.stop();
    await vms.remove();
  });

  it('runs the README walk-through as written, each command succeeding', async () => {
    // A directory like a checkout after up.sh: .berth/env for this stack, bin/ with the CLI.
    const dir = await mkdtemp(join(tmpdir(), 'berth-walk-'));
    try {
      await mkdir(join(dir, '.berth'));
      await writeFile(join(dir, '.berth/env'), `export BERTH_URL=${stack.url}\nexport BERTH_TOKEN=${stack.token}\n`);
      await symlink(join(repo, 'bin'), join(dir, 'bin'));
      const script = `set -euo pipefail\n${await walkThrough()}`;
      const res = await run('bash', ['-c', script], {
        cwd: dir,
        env: { PATH: process.env['PATH'], BERTH_CONFIG: '/nonexistent/berth.yaml', HOME: dir },
      });
      expect({ code: res.code, err: res.code === 0 ? '' : res.err }).toEqual({ code: 0, err: '' });
      // What it printed last: five instances, all ACTIVE.
      const last = res.out.trim().split('\n').slice(-5);
      expect(last).toHaveLength(5);
      for (const line of last) expect(line).toMatch(/^front-\d+ ACTIVE$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // And the cloud is as it says: web-1 resized, vm-1 gone, five more in the group, the volume let go with its
    // data, web-1's image ready to launch.
    const volumes = (await stack.call('GET', '/v1/volumes')).body.items as any[];
    expect(volumes.filter((v) => v.name === 'data')).toMatchObject([{ status: 'available', sizeGb: 1 }]);
    const images = (await stack.call('GET', '/v1/images')).body.items as any[];
    expect(images.filter((i) => i.name === 'web-golden')).toMatchObject([{ status: 'active', visibility: 'private' }]);
    // The image's copy in the registry and the volume go with them.
    for (const image of images.filter((i) => i.name === 'web-golden')) {
      expect((await stack.call('DELETE', `/v1/images/${image.id}`)).status).toBe(204);
    }
    for (const volume of volumes.filter((v) => v.name === 'data')) {
      expect(
        (await stack.operation((await stack.call('DELETE', `/v1/volumes/${volume.id}`)).body.operationId)).status,
      ).toBe('succeeded');
    }
    const shop = ((await stack.call('GET', '/v1/instances?limit=500')).body.items as any[]).filter(
      (i) => i.name === 'web-1',
    );
    expect(shop).toHaveLength(1);
    expect(shop[0]).toMatchObject({ status: 'ACTIVE', flavor: { name: 'm1.medium' }, limits: { netEgressMbps: 100 } });
    const names = ((await stack.call('GET', '/v1/instances?limit=500')).body.items as any[]).map(
      (i) => i.name as string,
    );
    expect(names).not.toContain('vm-1');
    const fronts = ((await stack.call('GET', '/v1/instances?limit=500')).body.items as any[]).filter((i) =>
      (i.name as string).startsWith('front-'),
    );
    expect(fronts).toHaveLength(5);
    // Room for the next tests on this one host.
    for (const front of fronts) expect((await stack.remove(front.id as string)).status).toBe('succeeded');
  });

  it('with -o json gives the same data as the API', async () => {
    for (const [args, path] of [
      [['instance', 'list'], '/v1/instances?limit=500'],
      [['flavor', 'list'], '/v1/flavors'],
      [['host', 'list'], '/v1/hosts'],
      [['operation', 'list'], '/v1/operations?limit=500'],
    ] as const) {
      const res = await berth([...args, '-o', 'json']);
      expect(res.code).toBe(0);
      const api = await stack.call('GET', path);
      // Read a moment apart: a heartbeat may land between the two reads.
      expect(withoutLiveFields(JSON.parse(res.out))).toEqual(withoutLiveFields(api.body.items));
      expect((JSON.parse(res.out) as unknown[]).length).toBeGreaterThan(0);
    }
    const web = await berth(['instance', 'show', 'web-1', '-o', 'json']);
    const id = (JSON.parse(web.out) as { id: string }).id;
    expect(withoutLiveFields(JSON.parse(web.out))).toEqual(
      withoutLiveFields((await stack.call('GET', `/v1/instances/${id}`)).body),
    );
    const quota = await berth(['quota', 'show', 'shop', '-o', 'yaml']);
    expect(quota.out).toContain('instances:');
  });

  it('shows the image pull of a build as its progress, a line per change when not on a terminal', async () => {
    // An image this host has not pulled under that name: its pull is a step with a detail.
    const ref = `${env.image.split('/')[0]}/berth-cli-progress:latest`;
    expect((await run('docker', ['tag', env.image, ref])).code).toBe(0);
    expect((await run('docker', ['push', ref])).code).toBe(0);
    expect((await run('docker', ['rmi', ref])).code).toBe(0);
    try {
      expect((await berth(['image', 'create', 'progress', '--kind', 'container', '--ref', ref])).code).toBe(0);
      const res = await berth([
        'instance',
        'create',
        'pulled',
        '--flavor',
        'm1.tiny',
        '--image',
        'progress',
        '--network',
        'vlan100',
        '--wait',
      ]);
      expect(res.code).toBe(0);
      expect(res.err).toMatch(/instance\.create [0-9a-f]{8}: image \(pulled [0-9.]+ of [0-9.]+ MB.*layers\)/);
      expect((await berth(['instance', 'delete', 'pulled', '--wait', '-q'])).code).toBe(0);
    } finally {
      await run('docker', ['rmi', ref]);
    }
  });

  it('ends a create with --wait non-zero, printing the fault, when the build fails', async () => {
    expect(
      (
        await berth([
          'image',
          'create',
          'missing',
          '--kind',
          'container',
          '--ref',
          '127.0.0.1:5000/berth-missing:latest',
        ])
      ).code,
    ).toBe(0);
    const res = await berth([
      'instance',
      'create',
      'doomed',
      '--flavor',
      'm1.tiny',
      '--image',
      'missing',
      '--network',
      'vlan100',
      '--wait',
      '-o',
      'value',
      '-c',
      'status',
    ]);
    expect(res.code).toBe(1);
    expect(res.out.trim()).toBe('ERROR');
    expect(res.err).toMatch(/operation [0-9a-f-]{36} \(instance.create\) failed at step image: .*berth-missing/);
    // Its events replayed from the start of history, one JSON object a line, in commit order.
    const doomed = (await berth(['instance', 'show', 'doomed', '-o', 'value', '-c', 'id'])).out.trim();
    const events = await berth(['event', 'watch', '--resource', doomed, '--after', '0', '--count', '3', '-o', 'json']);
    expect(events.code).toBe(0);
    const seqs = events.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(seqs.map((e) => e.type)).toEqual(['instance.created', 'instance.updated', 'instance.updated']);
    expect(seqs[0]!.seq).toBeLessThan(seqs[1]!.seq);
    // Refusals and unknown names exit 3, naming what was wrong.
    const refused = await berth([
      'network',
      'create',
      'bad',
      '--vlan',
      '5000',
      '--cidr',
      '10.1.0.0/24',
      '--gateway',
      '10.1.0.1',
    ]);
    expect(refused.code).toBe(3);
    expect(refused.err).toContain('vlan: vlan must not be greater than 4094 (rule max)');
    expect((await berth(['instance', 'show', 'no-such-instance'])).code).toBe(3);
    expect((await berth(['instance', 'delete', 'doomed', '--wait', '-q'])).code).toBe(0);

    // At least 1, at most 12 on a host with room for fewer: as many as fit are built, the rest are
    // said on stderr, and that is what was asked (exit 0). Without --min-count a failed build is exit 1.
    const room = (await stack.call('GET', '/v1/capacity?flavor=m1.tiny')).body as { total: number };
    expect(room.total).toBeGreaterThan(0);
    expect(room.total).toBeLessThan(12);
    const bulk = await berth([
      'instance',
      'create',
      'many',
      '--flavor',
      'm1.tiny',
      '--image',
      'busybox',
      '--network',
      'vlan100',
      '--min-count',
      '1',
      '--max-count',
      '12',
      '--wait',
      '-q',
      '-o',
      'value',
      '-c',
      'status',
    ]);
    // What the CLI said, if it failed: a refusal names its reason on stderr.
    expect({ code: bulk.code, err: bulk.code === 0 ? '' : bulk.err }).toEqual({ code: 0, err: '' });
    const statuses = bulk.out.trim().split('\n');
    expect(statuses.filter((st) => st === 'ACTIVE')).toHaveLength(room.total);
    expect(bulk.err).toContain(`berth: ${room.total} of 12 built (at least 1 asked); not built:`);
    const many = ((await stack.call('GET', '/v1/instances?limit=500')).body.items as any[]).filter((i) =>
      (i.name as string).startsWith('many-'),
    );
    for (const m of many) expect((await stack.remove(m.id as string)).status).toBe('succeeded');
  });
});
