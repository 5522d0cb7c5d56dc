import { runCommand } from '@berth/platform';
import { randomUUID } from 'node:crypto';

const DOCKER = '/usr/bin/docker';

/**
 * A container with Berth's marks that belongs to some other stack on this machine (another checkout's
 * up.sh, or an instance made by hand): a test that counts or sweeps only its own leaves it alone.
 */
export class Bystander {
  private constructor(
    readonly instanceId: string,
    readonly hostName: string,
  ) {}

  get container(): string {
    return `berth-${this.instanceId}`;
  }

  static async start(image: string): Promise<Bystander> {
    const instanceId = randomUUID();
    const b = new Bystander(instanceId, `bystander-${instanceId.slice(0, 8)}`);
    await runCommand([
      DOCKER,
      'run',
      '-d',
      '--name',
      b.container,
      '--label',
      `berth.instance=${instanceId}`,
      '--label',
      `berth.host=${b.hostName}`,
      '--network',
      'none',
      image,
      'sleep',
      '3600',
    ]);
    return b;
  }

  async running(): Promise<boolean> {
    const out = await runCommand([DOCKER, 'inspect', '-f', '{{.State.Running}}', this.container]).catch(() => '');
    return out.trim() === 'true';
  }

  async remove(): Promise<void> {
    await runCommand([DOCKER, 'rm', '-f', this.container]).catch(() => undefined);
  }
}
