import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskQuotaOf } from './disk-quota';

const UUID = 'c6e509ce-a3f1-4e24-8494-dcc99e7c74f9';

describe('the btrfs disk quota', () => {
  let sysfs: string;
  beforeEach(async () => {
    sysfs = await mkdtemp(join(tmpdir(), 'berth-sysfs-'));
    await mkdir(join(sysfs, UUID, 'qgroups'), { recursive: true });
  });
  afterEach(() => rm(sysfs, { recursive: true, force: true }));

  /** A runner that answers `btrfs filesystem show` as btrfs-progs 6.2 does, and records every command. */
  function runner() {
    const ran: string[] = [];
    const run = (argv: readonly string[]) => {
      ran.push(argv.join(' '));
      return Promise.resolve(argv[1] === 'filesystem' ? `Label: none  uuid: ${UUID}\n\tTotal devices 1\n` : '');
    };
    return { ran, run };
  }

  it('rescans, and waits, when the kernel has marked its quota groups inconsistent (it then enforces no limit)', async () => {
    await writeFile(join(sysfs, UUID, 'qgroups/inconsistent'), '1\n');
    const { ran, run } = runner();
    await diskQuotaOf('btrfs', '/var/lib/docker', run, sysfs)?.hold();
    expect(ran).toEqual(['btrfs filesystem show /var/lib/docker', 'btrfs quota rescan -w /var/lib/docker']);
  });

  it('leaves consistent quota groups alone, and asks for the filesystem only once', async () => {
    await writeFile(join(sysfs, UUID, 'qgroups/inconsistent'), '0\n');
    const { ran, run } = runner();
    const quota = diskQuotaOf('btrfs', '/var/lib/docker', run, sysfs);
    await quota?.hold();
    await quota?.hold();
    expect(ran).toEqual(['btrfs filesystem show /var/lib/docker']);
  });

  it('has the cleaner account the drop of a tall deleted tree instead of marking every group (8 levels)', async () => {
    await writeFile(join(sysfs, UUID, 'qgroups/inconsistent'), '0\n');
    await writeFile(join(sysfs, UUID, 'qgroups/drop_subtree_threshold'), '3\n');
    await diskQuotaOf('btrfs', '/var/lib/docker', runner().run, sysfs)?.hold();
    expect(await readFile(join(sysfs, UUID, 'qgroups/drop_subtree_threshold'), 'utf8')).toBe('8');
  });

  it('holds nothing on a storage driver without sizes', () => {
    expect(diskQuotaOf('overlay2', '/var/lib/docker', runner().run, sysfs)).toBeNull();
  });
});
