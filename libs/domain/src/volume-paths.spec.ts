import { mountPathProblem } from './volume-paths';

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
