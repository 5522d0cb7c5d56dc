import type { CommandRunner } from '@berth/platform';

const GIB = 1024 ** 3;

/**
 * The instance's own copy-on-write disk over the cached base image, sized to the flavor (never
 * smaller than the base, which qemu-img would let through and the guest would then find cut short).
 */
export async function createOverlay(run: CommandRunner, base: string, overlay: string, sizeGb: number): Promise<void> {
  const info = JSON.parse(await run(['qemu-img', 'info', '--output=json', base])) as {
    'virtual-size': number;
    format: string;
  };
  const size = Math.max(info['virtual-size'], sizeGb * GIB);
  await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', info.format, overlay, String(size)]);
}
