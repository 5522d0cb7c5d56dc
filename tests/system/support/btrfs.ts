import { runCommand } from '@berth/platform';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The btrfs filesystem a dockerd keeps its layers on: its UUID names its directory in sysfs. */
async function uuidOf(path: string): Promise<string> {
  const uuid = /uuid: ([0-9a-f-]{36})/.exec(await runCommand(['btrfs', 'filesystem', 'show', path]))?.[1];
  if (!uuid) throw new Error(`no btrfs filesystem at ${path}`);
  return uuid;
}

/** Whether the kernel has marked the filesystem's quota groups inconsistent (it then enforces none of them). */
export async function quotaInconsistent(path: string): Promise<boolean> {
  return (await readFile(`/sys/fs/btrfs/${await uuidOf(path)}/qgroups/inconsistent`, 'utf8')).trim() === '1';
}

async function subvolumeId(path: string): Promise<string> {
  const id = /Subvolume ID:\s+(\d+)/.exec(await runCommand(['btrfs', 'subvolume', 'show', path]))?.[1];
  if (!id) throw new Error(`no subvolume at ${path}`);
  return id;
}

/**
 * Leaves the filesystem's quota groups marked inconsistent, as the kernel does by itself after some deletions: a
 * snapshot that inherits into a higher-level quota group of its own. Returns what removes the test's subvolumes and
 * group again (which leaves the marking for the code under test to clear).
 */
export async function markQuotaInconsistent(dockerRoot: string): Promise<() => Promise<void>> {
  const top = (await runCommand(['findmnt', '-n', '-o', 'TARGET', '--target', dockerRoot])).trim().split('\n')[0];
  if (!top) throw new Error(`no mount holds ${dockerRoot}`);
  const group = `1/${randomInt(1000, 60000)}`;
  const source = join(top, `berth-test-src-${group.slice(2)}`);
  const copy = join(top, `berth-test-snap-${group.slice(2)}`);
  await runCommand(['btrfs', 'subvolume', 'create', source]);
  await runCommand(['btrfs', 'qgroup', 'create', group, top]);
  await runCommand(['btrfs', 'subvolume', 'snapshot', '-i', group, source, copy]);
  if (!(await quotaInconsistent(top))) throw new Error('the snapshot left the quota groups consistent');
  const ids = await Promise.all([copy, source].map(subvolumeId));
  return async () => {
    await runCommand(['btrfs', 'subvolume', 'delete', copy, source]);
    // The group goes once nothing is in it: the snapshot's own group is taken out of it first, so that nothing waits
    // for the cleaner to drop the subvolumes (its queue holds every layer dockerd deleted meanwhile: minutes at times).
    await runCommand(['btrfs', 'qgroup', 'remove', `0/${ids[0]}`, group, top]).catch(() => '');
    try {
      await runCommand(['btrfs', 'qgroup', 'destroy', group, top]);
    } catch {
      await runCommand(['btrfs', 'subvolume', 'sync', top, ...ids], { timeoutMs: 60_000 });
      await runCommand(['btrfs', 'qgroup', 'destroy', group, top]);
    }
  };
}
