import type { CommandRunner } from '@berth/platform';

/** The loop devices backed by `file` ("/dev/loop3"), none when no loop device holds it. */
export async function loopDevicesOf(run: CommandRunner, file: string): Promise<string[]> {
  const out = await run(['losetup', '--list', '--noheadings', '--output', 'NAME', '--associated', file]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
