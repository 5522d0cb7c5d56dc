import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';

export type VirtType = 'kvm' | 'qemu';

/**
 * Whether this host's /dev/kvm really runs a Linux guest, else TCG. /dev/kvm can exist and even run
 * a boot sector while a kernel never gets past its first instruction (nested virtualisation here),
 * so the probe boots `kernel` under KVM and waits for its first line on the serial port.
 * Without /dev/kvm or a kernel to try, the answer is known without running anything.
 */
export async function probeVirtType(kernel: string | null, timeoutMs = 8000): Promise<VirtType> {
  const present = await access('/dev/kvm').then(
    () => true,
    () => false,
  );
  if (!present) return 'qemu';
  if (!kernel) return 'kvm';
  return new Promise((resolve) => {
    const qemu = spawn(
      'qemu-system-x86_64',
      [
        '-machine',
        'pc,accel=kvm',
        '-m',
        '128',
        '-nodefaults',
        '-display',
        'none',
        '-no-reboot',
        '-serial',
        'stdio',
        '-kernel',
        kernel,
        '-append',
        'console=ttyS0 earlyprintk=ttyS0 panic=-1',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let output = '';
    const done = (type: VirtType) => {
      clearTimeout(timer);
      qemu.kill('SIGKILL');
      resolve(type);
    };
    const timer = setTimeout(() => done('qemu'), timeoutMs);
    qemu.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Linux version')) done('kvm');
    });
    qemu.on('error', () => done('qemu'));
    qemu.on('exit', () => done(output.includes('Linux version') ? 'kvm' : 'qemu'));
  });
}
