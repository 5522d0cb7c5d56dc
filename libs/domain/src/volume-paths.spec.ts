import { checkVolumeRequests, mountPathProblem } from './volume-paths';

describe("a container's mount point for a volume", () => {
  it('takes a plain absolute path', () => {
    for (const path of ['/data', '/var/lib/postgresql/data', '/srv/a b', '/procfs', '/device']) {
      expect(mountPathProblem(path)).toBeNull();
    }
  });

  it('refuses what is not absolute, the root, unplain segments and the reserved trees, naming the field', () => {
    const rules: Array<[string, string]> = [
      ['data', 'path must be absolute (start with /)'],
      ['/', 'path must not be / (the container’s root)'],
      ['/data/', 'path must be written plainly: no empty, . or .. segment, no trailing /'],
      ['/data//x', 'path must be written plainly: no empty, . or .. segment, no trailing /'],
      ['/data/../etc', 'path must be written plainly: no empty, . or .. segment, no trailing /'],
      ['/./data', 'path must be written plainly: no empty, . or .. segment, no trailing /'],
      ['/proc', 'path must not be in /proc'],
      ['/proc/sys/kernel', 'path must not be in /proc'],
      ['/sys/fs/cgroup', 'path must not be in /sys'],
      ['/dev/shm', 'path must not be in /dev'],
      ['/run/berth/volumes/x', 'path must not be in /run/berth'],
      ['/data\nx', 'path must not hold control characters'],
    ];
    for (const [path, message] of rules) {
      expect(mountPathProblem(path)).toEqual({ field: 'path', rule: 'mountPath', message });
    }
  });
});

describe('the volumes an instance is built with', () => {
  const a = '0b5a7b7e-3f0e-4c43-9a39-0c6f6a1d2e3f';
  const b = '1c6b8c8f-4f1f-4d54-8b4a-1d7f7b2e3f40';
  const fields = (r: ReturnType<typeof checkVolumeRequests>) =>
    r.ok ? [] : r.errors.map((e) => `${e.field} ${e.rule}`);

  it('takes a container’s volumes at their own mount points and a VM’s with or without a serial', () => {
    expect(
      checkVolumeRequests(
        [
          { volume: a.toUpperCase(), path: '/data' },
          { volume: b, path: '/logs' },
        ],
        'container',
      ),
    ).toEqual({
      ok: true,
      value: [
        { volume: a, path: '/data' },
        { volume: b, path: '/logs' },
      ],
    });
    expect(checkVolumeRequests([{ volume: a }, { volume: b, serial: 'db-disk' }], 'vm')).toEqual({
      ok: true,
      value: [{ volume: a }, { volume: b, serial: 'db-disk' }],
    });
  });

  it.each([
    ['not a list', { volume: a }, 'container', ['volumes array']],
    ['too many', Array.from({ length: 9 }, () => ({ volume: a, path: '/x' })), 'container', ['volumes maxSize']],
    ['not an object', ['x'], 'vm', ['volumes[0] object']],
    ['an unknown key', [{ volume: a, size: 1 }], 'vm', ['volumes[0].size unknown']],
    ['no id', [{ path: '/data' }], 'container', ['volumes[0].volume uuid']],
    [
      'a volume twice',
      [
        { volume: a, path: '/a' },
        { volume: a, path: '/b' },
      ],
      'container',
      ['volumes[1].volume unique'],
    ],
    [
      'a path twice',
      [
        { volume: a, path: '/a' },
        { volume: b, path: '/a' },
      ],
      'container',
      ['volumes[1].path unique'],
    ],
    ['no path for a container', [{ volume: a }], 'container', ['volumes[0].path required']],
    ['a reserved path', [{ volume: a, path: '/proc/x' }], 'container', ['volumes[0].path mountPath']],
    ['a relative path', [{ volume: a, path: 'data' }], 'container', ['volumes[0].path mountPath']],
    ['a serial for a container', [{ volume: a, path: '/d', serial: 'x' }], 'container', ['volumes[0].serial kind']],
    ['a path for a VM', [{ volume: a, path: '/d' }], 'vm', ['volumes[0].path kind']],
    ['a serial too long', [{ volume: a, serial: 'x'.repeat(21) }], 'vm', ['volumes[0].serial serial']],
    [
      'a deleteOnTermination that is not a boolean',
      [{ volume: a, deleteOnTermination: 'yes' }],
      'vm',
      ['volumes[0].deleteOnTermination boolean'],
    ],
    ['a serial with a space', [{ volume: a, serial: 'a b' }], 'vm', ['volumes[0].serial serial']],
  ] as const)('refuses %s, naming the entry and the rule', (_what, input, kind, expected) => {
    expect(fields(checkVolumeRequests(input, kind))).toEqual(expected);
  });
});
