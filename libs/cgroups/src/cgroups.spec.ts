import { formatV2IoMax, parseV1Throttle, parseV2IoMax } from './io-throttle';
import { parseIoWeight } from './io-weight';
import { mountOf, parseMountinfo } from './mountinfo';
import { processCgroups } from './proc-cgroup';

// Taken from a Debian 12 host running Docker 20.10 with the cgroupfs driver (hybrid v1 layout).
const HYBRID_MOUNTS = parseMountinfo(`27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
90 27 0:50 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=/x
91 27 0:51 / /var/lib/lxcfs rw,nosuid - fuse.lxcfs lxcfs rw,user_id=0
92 27 254:0 /srv/my\\040data /mnt/my\\040data rw - ext4 /dev/vda rw`);

const ID = '9f959712b6daf5b47708977c3568bcfab88863139aac3f38a14c84fa6e863a7a';
const HYBRID_PROC = `9:name=systemd:/docker/${ID}
8:pids:/docker/${ID}
7:blkio:/docker/${ID}
4:memory:/docker/${ID}
3:cpuset:/docker/${ID}
2:cpuacct:/docker/${ID}
1:cpu:/docker/${ID}
0::/docker/${ID}`;

describe('mountinfo', () => {
  it('reads device, mount point, type and source, unescaping octal escapes', () => {
    const data = HYBRID_MOUNTS.find((m) => m.mountPoint === '/mnt/my data');
    expect(data).toMatchObject({ device: '254:0', root: '/srv/my data', fsType: 'ext4', source: '/dev/vda' });
  });

  it('finds the mount holding a path by the longest prefix', () => {
    expect(mountOf(HYBRID_MOUNTS, '/var/lib/docker/volumes/x')?.mountPoint).toBe('/');
    expect(mountOf(HYBRID_MOUNTS, '/var/lib/lxcfs/proc/meminfo')?.fsType).toBe('fuse.lxcfs');
    expect(mountOf(HYBRID_MOUNTS, '/var/lib/lxcfsx')?.mountPoint).toBe('/');
  });
});

describe('processCgroups', () => {
  it('uses the v1 hierarchies when they hold every controller, blkio for io', () => {
    const cg = processCgroups(HYBRID_PROC, HYBRID_MOUNTS);
    expect(cg.version).toBe(1);
    expect(cg.dir('cpuset')).toBe(`/sys/fs/cgroup/cpuset/docker/${ID}`);
    expect(cg.dir('io')).toBe(`/sys/fs/cgroup/blkio/docker/${ID}`);
    expect(cg.dir('pids')).toBe(`/sys/fs/cgroup/pids/docker/${ID}`);
  });

  it('uses the unified hierarchy under cgroup v2', () => {
    const mounts = parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate');
    const cg = processCgroups(`0::/system.slice/docker-${ID}.scope\n`, mounts);
    expect(cg.version).toBe(2);
    expect(cg.dir('io')).toBe(`/sys/fs/cgroup/system.slice/docker-${ID}.scope`);
    expect(cg.dir('cpu')).toBe(cg.dir('memory'));
  });

  it('maps a path through a mount of a subtree', () => {
    const mounts = parseMountinfo('30 23 0:26 /docker /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    expect(processCgroups(`0::/docker/${ID}`, mounts).dir('cpu')).toBe(`/sys/fs/cgroup/${ID}`);
  });

  it('refuses a process in no hierarchy it knows', () => {
    expect(() => processCgroups('', HYBRID_MOUNTS)).toThrow(/no cgroup hierarchy/);
  });
});

describe('block IO throttle files', () => {
  it('reads a v1 throttle for one device among several', () => {
    expect(parseV1Throttle('8:0 100\n254:0 5242880\n', '254:0')).toBe(5242880);
    expect(parseV1Throttle('8:0 100\n', '254:0')).toBeNull();
    expect(parseV1Throttle('', '254:0')).toBeNull();
  });

  it('writes and reads v2 io.max, with max for no limit', () => {
    const line = formatV2IoMax('254:0', { readBps: null, writeBps: 5242880, readIops: 20, writeIops: null });
    expect(line).toBe('254:0 rbps=max wbps=5242880 riops=20 wiops=max');
    expect(parseV2IoMax(`8:0 rbps=1 wbps=2 riops=3 wiops=4\n${line}\n`, '254:0')).toEqual({
      readBps: null,
      writeBps: 5242880,
      readIops: 20,
      writeIops: null,
    });
    expect(parseV2IoMax('', '254:0')).toEqual({ readBps: null, writeBps: null, readIops: null, writeIops: null });
  });
});

describe('parseIoWeight', () => {
  it('reads a v1 weight and a v2 default line, ignoring per-device lines', () => {
    expect(parseIoWeight('300\n')).toBe(300);
    expect(parseIoWeight('default 100\n8:0 200\n')).toBe(100);
    expect(parseIoWeight('8:0 200\ndefault 500\n')).toBe(500);
  });

  it('gives null for an empty or unknown file', () => {
    expect(parseIoWeight('')).toBeNull();
    expect(parseIoWeight('8:0 200\n')).toBeNull();
  });
});
