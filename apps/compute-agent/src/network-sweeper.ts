import {
  deleteHalfMadeVeth,
  destroyQosRows,
  applyPortSecurity,
  ensurePipeline,
  halfMadeVeths,
  listPorts,
  orphanQosRows,
  removeFlowsOfCookie,
  surveyAdmission,
  type HostNet,
} from '@berth/network';
import type { Logger } from '@berth/platform';
import type { CommandHandler } from './command-handler';

/**
 * Removes what a host's network was left holding with no instance to own it, after each power sync:
 * veth pairs a plug left half made (an agent killed between the veth and its OVS port), on docker
 * hosts, and QoS and Queue rows of Berth's that no port uses (a port deleted without clearing
 * them), and admission flows (port security) naming an OpenFlow port no interface has any more. Each is
 * removed only when two sweeps in a row find it, and a veth only while no command for its instance is
 * queued or running. It also puts back what a restarted ovs-vswitchd comes back without: the forwarding
 * table's catch-all and each port's admission flows (from the allowed addresses recorded on its row).
 */
export class NetworkSweeper {
  private seenVeths = new Set<string>();
  private seenQos = new Set<string>();
  private seenFlows = new Set<string>();

  constructor(
    private readonly net: HostNet,
    private readonly handler: CommandHandler,
    private readonly log: Logger,
    /** Whether this agent plugs veths (docker); a libvirt-only host has none of its own. */
    private readonly veths: boolean,
  ) {}

  async sweep(): Promise<void> {
    if (this.veths) await this.sweepVeths();
    await this.sweepQos();
    await this.sweepAdmission();
  }

  /** What an ovs-vswitchd restart took is put back at once; flows of a gone port go at their second sighting. */
  private async sweepAdmission(): Promise<void> {
    const survey = await surveyAdmission(this.net);
    if (!survey.pipeline) await ensurePipeline(this.net);
    for (const target of survey.lost) await applyPortSecurity(this.net, target, { recorded: true });
    if (survey.lost.length > 0) {
      this.log.warn(
        { ports: survey.lost.map((t) => t.name) },
        'port security flows put back: the bridge had lost them',
      );
    }
    const { again, first } = split(survey.strays, this.seenFlows);
    for (const cookie of again) {
      await removeFlowsOfCookie(this.net, cookie);
      this.log.warn({ cookie }, 'stray port security flows removed: their port is gone');
    }
    this.seenFlows = first;
  }

  private async sweepVeths(): Promise<void> {
    const found = (await halfMadeVeths(this.net, await listPorts(this.net))).filter((s) => !this.handler.portBusy(s));
    const { again, first } = split(found, this.seenVeths);
    for (const suffix of again) {
      await deleteHalfMadeVeth(this.net, suffix);
      this.log.warn({ veth: suffix }, 'stray veth removed: half made, on no bridge port');
    }
    this.seenVeths = first;
  }

  private async sweepQos(): Promise<void> {
    const orphans = await orphanQosRows(this.net);
    const found = [...orphans.qos.map((u) => `QoS ${u}`), ...orphans.queues.map((u) => `Queue ${u}`)];
    const { again, first } = split(found, this.seenQos);
    if (again.length > 0) {
      const pick = (table: string) =>
        again.filter((r) => r.startsWith(`${table} `)).map((r) => r.slice(table.length + 1));
      await destroyQosRows(this.net, { qos: pick('QoS'), queues: pick('Queue') });
      this.log.warn({ rows: again }, 'stray QoS rows removed: no port uses them');
    }
    this.seenQos = first;
  }
}

/** What was also seen last time, and what is new (to be checked again next time). */
function split(found: readonly string[], seen: ReadonlySet<string>): { again: string[]; first: Set<string> } {
  return {
    again: found.filter((f) => seen.has(f)),
    first: new Set(found.filter((f) => !seen.has(f))),
  };
}
