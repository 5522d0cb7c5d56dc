import type { DataSource, EntityManager } from 'typeorm';
import { rows } from '../sql';
import { aHost, aNetwork, anInstance, aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import {
  deleteGroup,
  groupIdOf,
  groupRow,
  groupRows,
  insertGroup,
  insertRule,
  removeRule,
  ruleGroup,
  ruleRow,
  sameRule,
  securityGroupUsage,
  type RuleMatch,
} from './group-rows';
import {
  ensureDefaultGroup,
  membersOf,
  referrersOf,
  resolveGroups,
  setInstanceGroups,
  takeFirewallMarks,
} from './security-groups';

/** Security groups' rows against real PostgreSQL: groups, rules, memberships, and the firewall marks they leave. */
describe('security groups (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let projectId: string;
  let otherProject: string;
  let hostId: string;
  let networkId: string;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);
  const rule = (change: Partial<RuleMatch>): RuleMatch => ({
    direction: 'ingress',
    protocol: 'tcp',
    portMin: 22,
    portMax: 22,
    remoteCidr: null,
    remoteGroupId: null,
    ...change,
  });

  beforeAll(async () => {
    db = await freshDatabase('security_groups');
    ds = db.dataSource;
    projectId = await aProject(ds, 'sg-tenant');
    otherProject = await aProject(ds, 'sg-other');
    hostId = await aHost(ds, 'sg-host');
    networkId = await aNetwork(ds, 'sg-net', 610);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("makes a project's default group once: egress anywhere, ingress from its own members", async () => {
    const [a, b] = await Promise.all([
      tx((m) => ensureDefaultGroup(m, projectId)),
      tx((m) => ensureDefaultGroup(m, projectId)),
    ]);
    expect(a).toBe(b);
    const group = await groupRow(ds.manager, a, projectId);
    expect(group?.rules.map((r) => [r.direction, r.protocol, r.remoteGroupId])).toEqual(
      expect.arrayContaining([
        ['egress', 'any', null],
        ['ingress', 'any', a],
      ]),
    );
    expect(group?.rules).toHaveLength(2);
    expect(await groupRow(ds.manager, a, otherProject)).toBeNull();
  });

  it('finds a rule that allows the same, nulls included, and counts only live rules', async () => {
    const id = await tx((m) => insertGroup(m, { projectId, name: 'web', description: 'web servers' }));
    const ssh = await tx((m) => insertRule(m, id, rule({})));
    const fromNet = await tx((m) => insertRule(m, id, rule({ remoteCidr: '10.0.0.0/8' })));
    expect(await sameRule(ds.manager, id, rule({}))).toBe(ssh);
    expect(await sameRule(ds.manager, id, rule({ remoteCidr: '10.0.0.0/8' }))).toBe(fromNet);
    expect(await sameRule(ds.manager, id, rule({ portMax: 23 }))).toBeNull();
    expect(await ruleGroup(ds.manager, ssh, projectId)).toEqual({ id, projectId });
    expect(await ruleGroup(ds.manager, ssh, otherProject)).toBeNull();
    const before = await securityGroupUsage(ds.manager, projectId);
    // A cut rule stays as a tombstone for the hosts but is no longer the group's; a plain removal deletes the row.
    await tx((m) => removeRule(m, ssh, true));
    await tx((m) => removeRule(m, fromNet, false));
    expect(await ruleRow(ds.manager, ssh)).toBeNull();
    expect(await sameRule(ds.manager, id, rule({}))).toBeNull();
    const tombstones = await rows<{ cut: boolean }>(
      ds.manager,
      'SELECT cut FROM security_group_rules WHERE id = ANY ($1)',
      [[ssh, fromNet]],
    );
    expect(tombstones).toEqual([{ cut: true }]);
    expect(await securityGroupUsage(ds.manager, projectId)).toMatchObject({
      groups: before.groups,
      rules: before.rules - 2,
    });
    expect((await groupRows(ds.manager, projectId)).map((g) => g.name)).toEqual(['default', 'web']);
  });

  it('resolves groups by name or id within the project only, making the default one if named', async () => {
    const db2 = await tx((m) => insertGroup(m, { projectId, name: 'db', description: '' }));
    const theirs = await tx((m) => insertGroup(m, { projectId: otherProject, name: 'theirs', description: '' }));
    expect(await groupIdOf(ds.manager, projectId, db2.toUpperCase())).toBe(db2);
    expect(await groupIdOf(ds.manager, projectId, theirs)).toBeNull();
    const fresh = await aProject(ds, 'sg-fresh');
    const resolved = await tx((m) => resolveGroups(m, fresh, ['default', 'default'], 'securityGroups'));
    expect(resolved).toHaveLength(1);
    await expect(tx((m) => resolveGroups(m, projectId, ['db', 'theirs'], 'securityGroups'))).rejects.toMatchObject({
      code: 'not_found',
      details: [{ field: 'securityGroups[1]', rule: 'exists' }],
    });
  });

  it('puts a port in groups, finds members and referrers, and marks exactly the firewalls that change', async () => {
    const app = await tx((m) => insertGroup(m, { projectId, name: 'app', description: '' }));
    const front = await tx((m) => insertGroup(m, { projectId, name: 'front', description: '' }));
    await tx((m) => insertRule(m, front, rule({ remoteGroupId: app, portMin: 80, portMax: 80 })));
    const member = await anInstance(ds, {
      projectId,
      hostId,
      port: { networkId, ip: '10.2.98.10', mac: '02:be:00:00:06:10' },
    });
    const proxy = await anInstance(ds, {
      projectId,
      hostId,
      port: { networkId, ip: '10.2.98.11', mac: '02:be:00:00:06:11' },
    });
    await tx((m) => setInstanceGroups(m, { id: proxy.instanceId, projectId, portId: proxy.portId! }, [front]));
    await tx((m) => takeFirewallMarks(m, projectId));
    await tx((m) => setInstanceGroups(m, { id: member.instanceId, projectId, portId: member.portId! }, [app]));
    expect(await membersOf(ds.manager, [app])).toEqual([member.instanceId]);
    expect(await referrersOf(ds.manager, [app])).toEqual([proxy.instanceId]);
    // The member's own firewall, and the proxy's, whose rule names the group the member joined.
    expect((await tx((m) => takeFirewallMarks(m, projectId))).sort()).toEqual(
      [member.instanceId, proxy.instanceId].sort(),
    );
    expect(await tx((m) => takeFirewallMarks(m, projectId))).toEqual([]);
    expect((await groupRow(ds.manager, app, projectId))?.members).toEqual([{ id: member.instanceId, name: 'fixture' }]);
    // A group no one is in can go; the rules naming it go with it.
    await tx((m) => setInstanceGroups(m, { id: member.instanceId, projectId, portId: member.portId! }, []));
    await tx((m) => deleteGroup(m, app));
    expect((await groupRow(ds.manager, front, projectId))?.rules).toEqual([]);
  });
});
