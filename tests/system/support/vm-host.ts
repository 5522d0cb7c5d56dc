import { randomBytes } from 'node:crypto';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Where test stacks keep VM disks: under /var/lib/berth, which QEMU's user may read (a /tmp directory it may not). */
const TEST_INSTANCES = '/var/lib/berth/test-instances';

/**
 * A stack's host that runs VMs beside containers as deploy/up.sh runs it: both drivers, QEMU's TCG (no KVM here), and
 * its own instances directory. `env` goes into TestStack.start's env; `remove` (after the stack stopped) takes the
 * directory away, with the parent when no other stack uses it.
 */
export function vmHost(prefix: string) {
  const dir = join(TEST_INSTANCES, `${prefix}-${randomBytes(3).toString('hex')}`);
  return {
    dir,
    env: {
      BERTH_DRIVERS: 'docker,libvirt',
      BERTH_VIRT_TYPE: 'qemu',
      BERTH_INSTANCES_DIR: dir,
      BERTH_IMAGE_CACHE_DIR: join(dir, 'image-cache'),
    },
    async remove(): Promise<void> {
      await rm(join(dir, 'image-cache'), { recursive: true, force: true });
      await rmdir(dir).catch(() => undefined);
      await rmdir(TEST_INSTANCES).catch(() => undefined);
    },
  };
}
