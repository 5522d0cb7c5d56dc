import type { AgentReport, MigrateInstanceJob } from '@berth/contracts';
import type { MigrationWorkflow, PlacementWorkflow } from '@berth/control';
import { explainNoValidHost, mainRefusal, selectHosts, type Rejection, type SchedulerPolicy } from '@berth/domain';
import type { Logger } from '@berth/platform';
import { placementRequest } from '../placement/placement-service';
import type { HostStateCache } from '../placement/host-cache';

const SELECTION_ROUNDS = 3;

/**
 * Cold migration in the scheduler: chooses the target as a build would (the same filters and
 * weighers, every host but the source, or only the host the admin named), claims there, and then
 * conducts the move step by step as the hosts report (MigrationWorkflow.apply).
 */
export class MigrationService {
  constructor(
    private readonly migrations: MigrationWorkflow,
    private readonly placement: PlacementWorkflow,
    private readonly cache: HostStateCache,
    private readonly policy: SchedulerPolicy,
    private readonly log: Logger,
  ) {}

  async migrate(job: MigrateInstanceJob): Promise<void> {
    const group = job.request.serverGroupId
      ? await this.placement.decide((tx) => tx.group(job.request.serverGroupId ?? ''))
      : null;
    // The instance counts as a member where it is now; it is leaving that host.
    const members = new Map(group?.members ?? []);
    members.set(job.sourceHostId, Math.max(0, (members.get(job.sourceHostId) ?? 1) - 1));
    const request = placementRequest(job.request, group ? { ...group, members } : null);
    const lost: Rejection[] = [];
    let last: Rejection[] = [];
    for (let round = 0; round < SELECTION_ROUNDS; round += 1) {
      const hosts = (await this.cache.hosts()).filter(
        (h) => h.id !== job.sourceHostId && (job.requestedHost === null || h.name === job.requestedHost),
      );
      const selection = selectHosts(request, hosts, this.policy);
      last = selection.rejected;
      if (!selection.chosen) break;
      for (const host of [selection.chosen, ...selection.alternates]) {
        const result = await this.migrations.claimTarget(job, host, request.resources);
        if (result === 'gone') return;
        if (result === 'claimed') {
          this.cache.applyClaim(host.id, request.resources);
          this.log.info(
            { instanceId: job.instanceId, migrationId: job.migrationId, to: host.name },
            'migration target claimed',
          );
          return;
        }
        lost.push({ host: host.name, filter: 'Claim', code: 'race', reason: 'another request took the room first' });
        await this.cache.reload(host.id);
      }
    }
    const rejected = [...last, ...lost];
    const message =
      job.requestedHost !== null && rejected.length === 0
        ? `No valid host: host ${job.requestedHost} is not up`
        : explainNoValidHost(rejected);
    this.log.warn({ instanceId: job.instanceId, migrationId: job.migrationId, reason: message }, 'no migration target');
    await this.migrations.noValidHost(job, message, mainRefusal(rejected));
  }

  /** A host's power sync: if it is back from an evacuation, its stale copies go and so does its claim. */
  async cleanupEvacuated(report: Extract<AgentReport, { type: 'host.power-states' }>): Promise<void> {
    const n = await this.migrations.cleanupEvacuated(report);
    if (n > 0)
      this.log.warn({ host: report.host, evacuations: n }, 'evacuated host is back: cleaning its stale copies');
  }

  async apply(report: Extract<AgentReport, { type: 'migration.result' }>): Promise<void> {
    const move = await this.migrations.apply(report);
    const detail = { migrationId: report.migrationId, instanceId: report.instanceId, command: report.command, move };
    if (report.fault) this.log.warn({ ...detail, fault: report.fault }, 'migration step failed');
    else this.log.info(detail, 'migration step reported');
  }
}
