import {
  deleteNetwork,
  insertNetwork,
  lockNetworkPlan,
  lockNetworkPorts,
  planOf,
  setNetworkPlan,
  type NetworkPlanRow,
  type NetworkRow,
} from '@berth/data';
import { BerthError, formatIPv4, planNetwork, type NetworkInput } from '@berth/domain';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { actorOf, type Principal } from '../auth/principal';
import { recordedChange } from '../common/recorded';

/** The address plan of a subnet as given, checked; refused (400) naming each field it breaks. */
function checkedPlan(subnet: NetworkInput): NetworkPlanRow {
  const plan = planNetwork(subnet);
  if (!plan.ok) throw BerthError.invalid(plan.errors);
  return {
    cidr: plan.value.cidr,
    gateway: subnet.gateway,
    allocationStart: formatIPv4(plan.value.poolStart),
    allocationEnd: formatIPv4(plan.value.poolEnd),
  };
}

/**
 * Provider networks, for /v1 and Neutron alike (the cloud admin's): a VLAN with one IPv4 subnet, given at create
 * (/v1) or after it (Neutron's network create, then subnet create). Only a network with its subnet takes ports;
 * a network or a subnet goes only while no port is on it. Each change is on record.
 */
@Injectable()
export class NetworksService {
  constructor(private readonly dataSource: DataSource) {}

  create(
    input: { name: string; vlan: number; subnet: NetworkInput | null },
    principal: Principal,
    requestId: string,
  ): Promise<NetworkRow> {
    const plan = input.subnet ? checkedPlan(input.subnet) : null;
    return recordedChange(this.dataSource, actorOf(principal, requestId), 'network.create', 'network', (m) =>
      insertNetwork(m, { name: input.name, vlan: input.vlan, plan }),
    );
  }

  /** Gives a network that has none its subnet (named, or null: the network's name); a Berth network holds one. */
  addSubnet(
    id: string,
    subnet: NetworkInput & { name: string | null },
    principal: Principal,
    requestId: string,
  ): Promise<NetworkRow> {
    const plan = checkedPlan(subnet);
    return recordedChange(
      this.dataSource,
      actorOf(principal, requestId),
      'network.add-subnet',
      'network',
      async (m) => {
        const locked = await lockNetworkPlan(m, id);
        if (!locked) throw BerthError.notFound('network', id, 'network');
        if (planOf(locked))
          throw BerthError.conflict('the network has its subnet already: it holds one', 'network', 'inUse');
        return setNetworkPlan(m, id, plan, subnet.name);
      },
    );
  }

  /** Takes a network's subnet away, refused while a port holds one of its addresses. */
  async removeSubnet(id: string, principal: Principal, requestId: string): Promise<void> {
    await recordedChange(
      this.dataSource,
      actorOf(principal, requestId),
      'network.remove-subnet',
      'network',
      async (m) => {
        const locked = await lockNetworkPlan(m, id);
        if (!locked || !planOf(locked)) throw BerthError.notFound('subnet', id);
        await this.refuseWithPorts(m, id);
        return setNetworkPlan(m, id, null);
      },
    );
  }

  /** Refused while any port (an instance's address) is on the network. */
  async remove(id: string, principal: Principal, requestId: string): Promise<void> {
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'network.delete', 'network', async (m) => {
      await this.refuseWithPorts(m, id);
      await deleteNetwork(m, id);
      return { id };
    });
  }

  private async refuseWithPorts(m: Parameters<typeof lockNetworkPorts>[0], id: string): Promise<void> {
    const ports = await lockNetworkPorts(m, id);
    if (ports === null) throw BerthError.notFound('network', id);
    if (ports > 0) {
      throw BerthError.conflict(`the network still has ${ports} port(s); delete their instances first`, 'id', 'inUse');
    }
  }
}
