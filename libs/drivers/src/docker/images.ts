import type Docker from 'dockerode';
import type { Failpoints } from '@berth/platform';
import { isNotFound } from './docker-errors';
import { LayerProgress, type LayerEvent } from './layer-progress';
import { splitRef } from '@berth/platform';

/** The daemon's images: pulled and pushed (with progress), committed from containers, listed and removed. */
export class DockerImages {
  constructor(
    private readonly docker: Docker,
    private readonly failpoints: Failpoints,
  ) {}

  /** Every tag the daemon holds; an implicit ":latest" is also listed without it, as users write it. */
  async tags(): Promise<string[]> {
    const images = await this.docker.listImages();
    return images
      .flatMap((i) => (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'))
      .flatMap((t) => (t.endsWith(':latest') ? [t, t.slice(0, -7)] : [t]));
  }

  /** Pulls the image unless the daemon has it. */
  async ensure(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    try {
      await this.docker.getImage(ref).inspect();
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await this.pull(ref, onProgress);
  }

  /** docker pull, reporting bytes and layers done at most once a second. */
  async pull(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    await this.failpoints.check('docker.pull');
    await this.follow(await this.docker.pull(ref), new LayerProgress('pulled'), onProgress);
  }

  /** docker commit of a container to `ref` (one that runs is paused meanwhile, docker's default). */
  async commit(container: string, ref: string, comment: string): Promise<void> {
    await this.failpoints.check('docker.commit');
    const { repo, tag } = splitRef(ref);
    await this.docker.getContainer(container).commit({ repo, tag, comment });
  }

  /** docker push of `ref` to its registry, reporting bytes and layers done at most once a second. */
  async push(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    await this.failpoints.check('docker.push');
    // The daemon wants an X-Registry-Auth header even for a registry without auth: an empty one.
    const stream = await this.docker.getImage(ref).push({ authconfig: { serveraddress: splitRef(ref).registry } });
    await this.follow(stream, new LayerProgress('pushed'), onProgress);
  }

  /** Follows a pull or push stream to its end, reporting progress at most once a second. */
  async follow(
    stream: NodeJS.ReadableStream,
    progress: LayerProgress,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<void> {
    let last = 0;
    let failed: string | null = null;
    let reporting: Promise<void> = Promise.resolve();
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: LayerEvent) => {
          if (event.error) failed = event.error;
          progress.add(event);
          if (Date.now() - last >= 1000) {
            last = Date.now();
            reporting = reporting.then(() => onProgress(progress.describe())).catch(() => undefined);
          }
        },
      );
    });
    await reporting;
    // A push that fails midway may end the stream normally, with the error as its last event.
    if (failed !== null) throw new Error(failed);
    await onProgress(progress.describe(true));
  }

  async remove(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ noprune: false });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
