import type { DataSource, EntityManager } from 'typeorm';
import { isForeignKeyViolation, isUniqueViolation, violatedConstraint } from '../pg-errors';
import { aNetwork, anInstance, aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import {
  planOf,
  setNetworkPlan,
  deleteNetwork,
  insertNetwork,
  lockNetworkPlan,
  lockNetworkPorts,
  networkRow,
  networkRows,
  usedAddresses,
} from './networks';

/** The networks' rows against real PostgreSQL: plans, the addresses ports hold, and the constraints users can hit. */
describe('networks (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let projectId: string;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);

  beforeAll(async () => {
    db = await freshDatabase('networks');
    ds = db.dataSource;
    projectId = await aProject(ds, 'net-tenant');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("reads a network's plan back, and counts the addresses its ports hold", async () => {
    const id = await aNetwork(ds, 'plan-net', 410);
    expect(await tx((m) => lockNetworkPlan(m, id))).toEqual({
      cidr: '10.1.154.0/24',
      gateway: '10.1.154.1',
      allocationStart: '10.1.154.10',
      allocationEnd: '10.1.154.250',
    });
    await anInstance(ds, { projectId, port: { networkId: id, ip: '10.1.154.10', mac: '02:be:00:00:04:10' } });
    await anInstance(ds, { projectId, port: { networkId: id, ip: '10.1.154.11', mac: '02:be:00:00:04:11' } });
    expect((await usedAddresses(ds.manager, id)).sort()).toEqual(['10.1.154.10', '10.1.154.11']);
    expect(await networkRow(ds.manager, id)).toMatchObject({ name: 'plan-net', vlan: 410, ipsUsed: 2 });
    expect((await networkRows(ds.manager)).map((n) => n.name)).toContain('plan-net');
    expect(await tx((m) => lockNetworkPorts(m, id))).toBe(2);
    expect(await tx((m) => lockNetworkPorts(m, '00000000-0000-4000-8000-000000000000'))).toBeNull();
  });

  it('keeps a network without its subnet, gives it one with a name of its own, and takes it away', async () => {
    const bare = await tx((m) => insertNetwork(m, { name: 'bare-net', vlan: 435, plan: null }));
    expect(bare).toMatchObject({ cidr: null, gateway: null, allocationStart: null, allocationEnd: null });
    expect(planOf(bare)).toBeNull();
    const plan = { cidr: '10.9.1.0/24', gateway: '10.9.1.1', allocationStart: '10.9.1.5', allocationEnd: '10.9.1.9' };
    const given = await tx((m) => setNetworkPlan(m, bare.id, plan, 'sub-a'));
    expect(given).toMatchObject({ ...plan, subnetName: 'sub-a' });
    expect(planOf(given)).toEqual(plan);
    const taken = await tx((m) => setNetworkPlan(m, bare.id, null, 'ignored'));
    expect(taken).toMatchObject({ cidr: null, subnetName: null });
    // Half a plan is refused by the table itself.
    const half = tx((m) =>
      m.query(`UPDATE networks SET cidr = '10.9.2.0/24' WHERE id = $1`, [bare.id]).then(() => null),
    ).catch((e: unknown) => e);
    expect(violatedConstraint(await half)).toBe('networks_plan_whole');
  });

  it('refuses a second network on a VLAN, and a second port on an address, by their named constraints', async () => {
    const id = await aNetwork(ds, 'vlan-net', 420);
    const twin = tx((m) =>
      insertNetwork(m, {
        name: 'vlan-twin',
        vlan: 420,
        plan: { cidr: '10.9.0.0/24', gateway: '10.9.0.1', allocationStart: '10.9.0.10', allocationEnd: '10.9.0.20' },
      }),
    );
    const error = await twin.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isUniqueViolation(error)).toBe(true);
    expect(violatedConstraint(error)).toBe('networks_vlan_key');
    await anInstance(ds, { projectId, port: { networkId: id, ip: '10.1.164.10', mac: '02:be:00:00:04:20' } });
    const taken = await anInstance(ds, {
      projectId,
      port: { networkId: id, ip: '10.1.164.10', mac: '02:be:00:00:04:21' },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isUniqueViolation(taken)).toBe(true);
  });

  it('deletes a network without ports; one with ports is held by its foreign key', async () => {
    const empty = await aNetwork(ds, 'empty-net', 430);
    await tx((m) => deleteNetwork(m, empty));
    expect(await networkRow(ds.manager, empty)).toBeNull();
    const used = await aNetwork(ds, 'used-net', 440);
    await anInstance(ds, { projectId, port: { networkId: used, ip: '10.1.184.10', mac: '02:be:00:00:04:40' } });
    const refused = await tx((m) => deleteNetwork(m, used)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isForeignKeyViolation(refused)).toBe(true);
    expect(await networkRow(ds.manager, used)).not.toBeNull();
  });
});
