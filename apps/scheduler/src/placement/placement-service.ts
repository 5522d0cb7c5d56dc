import type { PlaceInstanceJob } from '@berth/contracts';
import type { PlacementStore } from '@berth/db';
import { explainNoValidHost, rankHosts, type Rejection } from '@berth/domain';
import type { Logger } from '@berth/platform';

/**
 * Finds a host for one instance: filter and weigh every host, then claim on the best one. The claim
 * is atomic in PostgreSQL; if another scheduler took the room first, the next host is tried. When
 * none is left the instance goes to ERROR with every host's reason, not a bare "no valid host".
 */
export class PlacementService {
  constructor(
    private readonly store: PlacementStore,
    private readonly log: Logger,
  ) {}

  async place(job: PlaceInstanceJob): Promise<void> {
    const request = await this.store.pending(job.instanceId);
    if (!request) return; // placed already (redelivery) or deleted meanwhile
    const { ranked, rejected } = rankHosts(request, await this.store.candidates());
    const lostRaces: Rejection[] = [];
    for (const host of ranked) {
      const result = await this.store.claim(job.instanceId, job.operationId, host);
      switch (result) {
        case 'claimed':
          this.log.info({ instanceId: job.instanceId, operationId: job.operationId, host: host.name }, 'placed');
          return;
        case 'gone':
          return;
        case 'host-full':
          lostRaces.push({ host: host.name, filter: 'Claim', reason: 'capacity was claimed by another request' });
          break;
      }
    }
    const message = explainNoValidHost([...rejected, ...lostRaces]);
    this.log.warn({ instanceId: job.instanceId, operationId: job.operationId, reason: message }, 'no valid host');
    await this.store.noValidHost(job.instanceId, job.operationId, message);
  }
}
