import type { InstanceKind, PowerState, Fault } from './instance';
import type { CONTRACT_VERSION, ComputeCommandType } from './jobs';

/** What an agent knows about its host; sent at start and with every heartbeat. */
export interface HostFacts {
  name: string;
  address: string;
  drivers: InstanceKind[];
  vcpus: number;
  ramMb: number;
  diskGb: number;
  agentVersion: string;
}

/** Compute agent -> reports queue -> scheduler's reports worker -> database. */
export type AgentReport =
  | { v: typeof CONTRACT_VERSION; type: 'host.heartbeat'; host: HostFacts; at: string }
  | {
      v: typeof CONTRACT_VERSION;
      type: 'operation.step';
      operationId: string;
      step: string;
      status: 'started' | 'succeeded' | 'failed';
      at: string;
      detail?: string;
    }
  | {
      v: typeof CONTRACT_VERSION;
      type: 'instance.result';
      operationId: string;
      instanceId: string;
      command: ComputeCommandType;
      /** What the hypervisor reports after the command, success or not. */
      powerState: PowerState;
      at: string;
      fault?: Fault;
    };

export type AgentReportType = AgentReport['type'];
