import {
  CONTRACT_VERSION,
  REPORTS_QUEUE,
  type AgentReport,
  type AppliedLimits,
  type ComputeCommandType,
  type Fault,
  type DiskArtifact,
  type HostFacts,
  type InterruptedCommand,
  type MigrationCommand,
  type PowerState,
  type SnapshotImage,
  type VolumeArtifact,
  type VolumeCommand,
} from '@berth/contracts';
import type { QueueProducer } from '@berth/queue';

/** Sends this host's reports to the shared reports queue; the scheduler applies them. */
export class Reporter {
  constructor(private readonly producer: QueueProducer) {}

  heartbeat(host: HostFacts): Promise<void> {
    return this.send({ v: CONTRACT_VERSION, type: 'host.heartbeat', host, at: now() });
  }

  powerStates(
    sync: Pick<Extract<AgentReport, { type: 'host.power-states' }>, 'host' | 'kinds' | 'instances' | 'busy' | 'traces'>,
  ): Promise<void> {
    return this.send({ v: CONTRACT_VERSION, type: 'host.power-states', ...sync, at: now() });
  }

  started(
    host: string,
    incarnation: string,
    kinds: HostFacts['drivers'],
    interrupted: InterruptedCommand[],
    volumes: string[],
  ): Promise<void> {
    return this.send({
      v: CONTRACT_VERSION,
      type: 'host.started',
      host,
      incarnation,
      kinds,
      interrupted,
      volumes,
      at: now(),
    });
  }

  step(operationId: string, step: string, detail?: string): Promise<void> {
    return this.send({
      v: CONTRACT_VERSION,
      type: 'operation.step',
      operationId,
      step,
      status: 'started',
      at: now(),
      ...(detail === undefined ? {} : { detail }),
    });
  }

  imagePulled(operationId: string, host: string, imageRef: string, error?: string): Promise<void> {
    return this.send({
      v: CONTRACT_VERSION,
      type: 'image.result',
      operationId,
      host,
      imageRef,
      at: now(),
      ...(error === undefined ? {} : { error }),
    });
  }

  result(
    operationId: string,
    instanceId: string,
    command: ComputeCommandType,
    powerState: PowerState,
    outcome: { fault?: Fault; applied?: AppliedLimits | null; image?: SnapshotImage } = {},
  ): Promise<void> {
    const { fault, applied, image } = outcome;
    return this.send({
      v: CONTRACT_VERSION,
      type: 'instance.result',
      operationId,
      instanceId,
      command,
      powerState,
      at: now(),
      ...(fault ? { fault } : {}),
      ...(applied === undefined ? {} : { applied }),
      ...(image ? { image } : {}),
    });
  }

  migrationResult(
    command: MigrationCommand,
    powerState: PowerState,
    outcome: {
      fault?: Fault;
      applied?: AppliedLimits | null;
      artifact?: DiskArtifact;
      volumes?: VolumeArtifact[];
    } = {},
  ): Promise<void> {
    const { fault, applied, artifact, volumes } = outcome;
    return this.send({
      v: CONTRACT_VERSION,
      type: 'migration.result',
      operationId: command.operationId,
      migrationId: command.migrationId,
      instanceId: command.instance.id,
      command: command.type,
      powerState,
      at: now(),
      ...(fault ? { fault } : {}),
      ...(applied === undefined ? {} : { applied }),
      ...(artifact ? { artifact } : {}),
      ...(volumes?.length ? { volumes } : {}),
    });
  }

  volumeResult(command: VolumeCommand, outcome: { fault?: Fault; bytes?: number | null }): Promise<void> {
    return this.send({
      v: CONTRACT_VERSION,
      type: 'volume.result',
      operationId: command.operationId,
      volumeId: command.volume.id,
      command: command.type,
      at: now(),
      ...(outcome.fault ? { fault: outcome.fault } : {}),
      ...(outcome.bytes === undefined || outcome.bytes === null ? {} : { bytes: outcome.bytes }),
    });
  }

  private send(report: AgentReport): Promise<void> {
    return this.producer.add(REPORTS_QUEUE, report.type, report);
  }
}

const now = () => new Date().toISOString();
