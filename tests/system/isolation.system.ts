import { VM_PIDS } from '@berth/domain';
import { hostNet, portSecurityCookie, readPortSecurity } from '@berth/network';
import { runCommand } from '@berth/platform';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { arpReply, udpFrame } from './support/frames';
import { containerPid, serveTcp, tcpFrom } from './support/probes';
import { TestStack } from './support/stack';
import { openTerminal, processesLike } from './support/terminal';
import { testEnv } from './support/test-env';

/**
 * Tenant isolation on the real daemons. The kernel: root in a container is an unprivileged uid on the host,
 * without raw sockets or device nodes. The wire, port security on the real OVS: an instance on a shared VLAN
 * sends raw frames (AF_PACKET, as any
 * container with CAP_NET_RAW can) that forge a neighbour's ARP, a source MAC or a source address. None
 * reaches a neighbour, the neighbour's ARP cache keeps the truth, OVS learns no forged MAC, and the
 * attacker's port counts what it dropped; the same sender's honest frame arrives, so the probe can see
 * a frame that gets through.
 */
const env = testEnv();
const DOCKER = '/usr/bin/docker';
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const FORGED_MAC = '02:be:de:ad:be:ef';
/** Capability numbers (linux/capability.h). */
const CAP_CHOWN = 0n;
const CAP_NET_RAW = 13n;
const CAP_MKNOD = 27n;

interface Instance {
  id: string;
  ip: string;
  mac: string;
  portId: string;
}

/** What the instance's kernel counted of UDP it received (delivered, to a closed port, or in error). */
async function udpReceived(instanceId: string): Promise<number> {
  const pid = await containerPid(instanceId);
  const snmp = await runCommand(['nsenter', `--target=${pid}`, '--net', 'cat', '/proc/net/snmp']);
  const [names, values] = snmp.split('\n').filter((l) => l.startsWith('Udp:'));
  const field = (name: string) => Number(values?.split(/\s+/)[names?.split(/\s+/).indexOf(name) ?? -1]);
  return field('InDatagrams') + field('NoPorts') + field('InErrors');
}

/** The MAC the instance's ARP cache holds for `ip`, or null. */
async function neighbour(instanceId: string, ip: string): Promise<string | null> {
  const pid = await containerPid(instanceId);
  const out = await runCommand(['nsenter', `--target=${pid}`, '--net', 'ip', '-json', 'neigh', 'show', ip]);
  return (JSON.parse(out) as Array<{ lladdr?: string }>)[0]?.lladdr ?? null;
}

/** The MACs OVS has learned on br-int. */
async function learnedMacs(): Promise<string> {
  return runCommand(['ovs-appctl', 'fdb/show', env.bridge]);
}

describe('isolation: root in a container is not root on the host, and no forged frame leaves its port', () => {
  let stack: TestStack;
  let build: string;
  let attacker: Instance;
  let victim: Instance;
  let peer: Instance;
  // Addresses of members that left the victim's default group: its firewall forgets them by a refresh.
  const departed: string[] = [];
  const ovs = hostNet({ bridge: env.bridge });
  // An instance has no CAP_NET_RAW (the next test proves it); a flavor that granted it back, or an escape,
  // would give it one. The host's root, in the attacker's network namespace, plays that tenant: the frames
  // leave through the attacker's own eth0 and veth, as the tenant's would.
  const send = async (frame: string, count = 3) =>
    runCommand([
      'nsenter',
      `--target=${await containerPid(attacker.id)}`,
      '--net',
      join(build, 'rawsend'),
      'eth0',
      frame,
      String(count),
    ]);
  /**
   * Sends a batch (`sendBatch`, `count` frames) and waits until the port's admission flows have counted them all as
   * drops. A firewall refresh (a group membership changed, as every create and delete does) rewrites the port's
   * flows, which restarts their counters: the batch is then sent again, so that what is judged is always a whole one.
   */
  const countedAsDrops = (portId: string, sendBatch: () => Promise<unknown>, count: number) =>
    stack.until(
      'the forged frames to be counted as drops',
      async () => {
        const dropped = async () => (await readPortSecurity(ovs, portId)).dropped;
        const base = await dropped();
        await sendBatch();
        const deadline = Date.now() + 3_000;
        for (;;) {
          const now = await dropped();
          if (now >= base + count) return true;
          if (now < base || Date.now() > deadline) return false;
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      20_000,
    );
  /** Each frame `per` times from the attacker's eth0, all of them counted as drops at its port. */
  const sendDropped = (frames: string[], per = 3) =>
    countedAsDrops(
      attacker.portId,
      async () => {
        for (const frame of frames) await send(frame, per);
      },
      frames.length * per,
    );

  beforeAll(async () => {
    // The raw sender, static, so that it runs in a busybox container.
    build = await mkdtemp(join(tmpdir(), 'berth-rawsend-'));
    await runCommand([
      'gcc',
      '-static',
      '-O2',
      '-o',
      join(build, 'rawsend'),
      resolve(__dirname, 'support/rawsend/rawsend.c'),
    ]);
    // A quick power sync: the sweeper after it puts lost flows back and removes stray ones.
    stack = await TestStack.start({ env: { BERTH_POWER_SYNC_SEC: '2' } });
    await stack.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
    await stack.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: env.image });
    const network = { name: 'shared', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` };
    expect((await stack.call('POST', '/v1/networks', network)).status).toBe(201);
    const make = async (name: string): Promise<Instance> => {
      const i = await stack.createInstance({ name, network: 'shared' });
      expect(i.status).toBe('ACTIVE');
      return { id: i.id, ip: i.ip, mac: i.mac, portId: i.portId };
    };
    attacker = await make('attacker');
    victim = await make('victim');
    peer = await make('peer');
    await runCommand([DOCKER, 'cp', join(build, 'rawsend'), `berth-${attacker.id}:/rawsend`]);
    // The victim knows the peer: an ARP entry that a forged claim would rewrite.
    await serveTcp(peer.id, 7000, 'from-peer');
    await serveTcp(victim.id, 7000, 'from-victim');
    expect(await stack.until('TCP from the victim to the peer', () => tcpFrom(victim.id, peer.ip, 7000))).toBe(
      'from-peer',
    );
  });
  afterAll(async () => {
    await stack?.stop();
    if (build) await rm(build, { recursive: true, force: true });
  });

  it('runs a container’s root as an unprivileged host uid (a user namespace)', async () => {
    const pid = await containerPid(attacker.id);
    const [inside, outside, count] = (await readFile(`/proc/${pid}/uid_map`, 'utf8')).trim().split(/\s+/).map(Number);
    expect({ inside, count }).toEqual({ inside: 0, count: 65536 });
    expect(outside).toBeGreaterThanOrEqual(65536);
    const hostUid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
    expect(hostUid).toBe(outside);
    // Inside, it is still root (its files, its packages), and the host says whose it is.
    expect((await runCommand([DOCKER, 'exec', `berth-${attacker.id}`, 'id', '-u'])).trim()).toBe('0');
  });

  it('gives the console’s shell the container’s root, capabilities and cgroups, and ends what it ran with the session', async () => {
    const pid = await containerPid(victim.id);
    const status = (p: number) => readFile(`/proc/${p}/status`, 'utf8');
    const terminal = await openTerminal(stack.url, stack.token, victim.id);
    terminal.type('id -u\r');
    await terminal.printed(/\r\n0\r\n/);
    terminal.type('sleep 600\r');
    const [shell] = await stack.until('the shell on the host', async () => {
      const shells = await processesLike(pid, ['/bin/sh', '-l']);
      const sleeps = await processesLike(pid, ['sleep', '600']);
      return shells.length === 1 && sleeps.length === 1 ? shells : null;
    });
    // Root inside is the container's remapped root on the host, with the container's capabilities and cgroups.
    const uid = (text: string) => Number(/^Uid:\s+(\d+)/m.exec(text)?.[1]);
    const capabilities = (text: string) => /^CapEff:\s+(\S+)$/m.exec(text)?.[1];
    expect(uid(await status(shell!))).toBe(uid(await status(pid)));
    expect(uid(await status(shell!))).toBeGreaterThanOrEqual(65536);
    expect(capabilities(await status(shell!))).toBe(capabilities(await status(pid)));
    expect(await readFile(`/proc/${shell}/cgroup`, 'utf8')).toBe(await readFile(`/proc/${pid}/cgroup`, 'utf8'));
    // The viewer leaves: the shell is hung up, and the command it ran in the foreground goes with it.
    terminal.close();
    await stack.until('the hang-up', async () =>
      (await processesLike(pid, ['/bin/sh', '-l'])).length + (await processesLike(pid, ['sleep', '600'])).length === 0
        ? true
        : null,
    );
  });

  it('gives an instance no raw sockets and no device nodes: CapEff lacks NET_RAW and MKNOD', async () => {
    const status = await readFile(`/proc/${await containerPid(attacker.id)}/status`, 'utf8');
    const effective = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
    expect(effective & (1n << CAP_NET_RAW)).toBe(0n);
    expect(effective & (1n << CAP_MKNOD)).toBe(0n);
    expect(effective & (1n << CAP_CHOWN)).not.toBe(0n); // Docker's other defaults stay.
    const refused = await runCommand([
      DOCKER,
      'exec',
      `berth-${attacker.id}`,
      '/rawsend',
      'eth0',
      'ff'.repeat(14),
    ]).then(
      () => 'sent',
      (error: Error) => error.message,
    );
    expect(refused).toContain('Operation not permitted');
  });

  it('gives NET_RAW back only where a cloud admin’s flavor says so (sandbox:net_raw), and its port still checks', async () => {
    const flavor = { name: 'm1.capture', vcpus: 1, ramMb: 128, diskGb: 1, extraSpecs: { 'sandbox:net_raw': 'true' } };
    expect((await stack.call('POST', '/v1/flavors', flavor)).status).toBe(201);
    const sniffer = await stack.createInstance({ name: 'sniffer', network: 'shared', flavor: 'm1.capture' });
    expect(sniffer.status).toBe('ACTIVE');
    const status = await readFile(`/proc/${await containerPid(sniffer.id)}/status`, 'utf8');
    const effective = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
    expect(effective & (1n << CAP_NET_RAW)).not.toBe(0n);
    expect(effective & (1n << CAP_MKNOD)).toBe(0n);
    // A raw socket opens now; a frame forged with it is still dropped at the port. The sniffer's creation refreshes
    // the firewalls of its group, its own port's flows among them, at any moment: countedAsDrops sends again then.
    await runCommand([DOCKER, 'cp', join(build, 'rawsend'), `berth-${sniffer.id}:/rawsend`]);
    const forged = udpFrame({
      from: FORGED_MAC,
      to: victim.mac,
      srcIp: sniffer.ip,
      dstIp: victim.ip,
      srcPort: 5000,
      dstPort: 5001,
      payload: 'forged',
    });
    const sendForged = () => runCommand([DOCKER, 'exec', `berth-${sniffer.id}`, '/rawsend', 'eth0', forged, '3']);
    expect(await countedAsDrops(sniffer.portId, sendForged, 3)).toBe(true);
    await stack.remove(sniffer.id);
  });

  it('reports the host’s confinement, read from dockerd and OVS, and its pid ceiling, raised from the kernel default and claimed by pids limits', async () => {
    const host = ((await stack.call('GET', '/v1/hosts')).body.items as any[]).find((h) => h.name === stack.hostName);
    const dockerd = (await runCommand([DOCKER, 'info', '-f', '{{json .SecurityOptions}}'])).trim();
    expect(host.confinement).toEqual(
      expect.arrayContaining(['no-new-privileges', 'cap-drop:NET_RAW,MKNOD', 'port-security']),
    );
    // What dockerd says it enforces (seccomp here; userns where it is remapped), and nothing it does not.
    for (const option of ['seccomp', 'userns', 'apparmor', 'selinux']) {
      expect({ option, reported: host.confinement.includes(option) }).toEqual({
        option,
        reported: dockerd.includes(`name=${option}`),
      });
    }
    // Its driver's capabilities, as the agent reported them, which the API holds requests to.
    expect(host.capabilities.container).toEqual(['live-resize', 'cold-migrate', 'volumes']);
    const kernelPidMax = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8')).trim());
    expect(host.pidMax).toBe(kernelPidMax);
    expect(kernelPidMax).toBeGreaterThanOrEqual(4_194_304);
    // It offers instances the ceiling less its reserve (BERTH_RESERVED_PIDS), and holds each one's pids limit.
    expect(host.capacity.pids).toBe(kernelPidMax - 4096);
    const instances = (await stack.call('GET', '/v1/instances')).body.items as any[];
    expect(instances.length).toBeGreaterThanOrEqual(3);
    expect(host.usage.pids).toBe(
      instances.reduce((sum, i) => sum + (i.kind === 'vm' ? VM_PIDS : i.limits.pidsLimit), 0),
    );
  });

  it('installs admission flows on each port that name its own MAC and address', async () => {
    const { flows } = await readPortSecurity(ovs, attacker.portId);
    expect(flows.some((f) => f.includes(`dl_src=${attacker.mac}`) && f.includes(`nw_src=${attacker.ip}`))).toBe(true);
    expect(flows.some((f) => f.includes(`arp_spa=${attacker.ip}`) && f.includes(`arp_sha=${attacker.mac}`))).toBe(true);
    expect(flows.some((f) => /priority=100,in_port=\d+ actions=drop/.test(f))).toBe(true);
    // Port security keeps honest TCP working, both ways.
    expect(await tcpFrom(attacker.id, victim.ip, 7000)).toBe('from-victim');
  });

  it('delivers the attacker’s honest frame (the probe sees what gets through)', async () => {
    const before = await udpReceived(victim.id);
    await send(
      udpFrame({
        from: attacker.mac,
        to: victim.mac,
        srcIp: attacker.ip,
        dstIp: victim.ip,
        srcPort: 5000,
        dstPort: 7001,
        payload: 'honest',
      }),
      1,
    );
    await stack.until('the honest datagram to arrive', async () => (await udpReceived(victim.id)) > before, 5_000);
  });

  it('drops a gratuitous ARP that claims the peer’s address: the victim’s ARP cache keeps the peer', async () => {
    expect(await neighbour(victim.id, peer.ip)).toBe(peer.mac);
    // "The peer's address is at the attacker's MAC", broadcast and sent straight to the victim.
    await sendDropped([
      arpReply({ from: attacker.mac, to: BROADCAST, senderMac: attacker.mac, senderIp: peer.ip, targetIp: peer.ip }),
      arpReply({ from: attacker.mac, to: victim.mac, senderMac: attacker.mac, senderIp: peer.ip, targetIp: victim.ip }),
    ]);
    expect(await neighbour(victim.id, peer.ip)).toBe(peer.mac);
    expect(await tcpFrom(victim.id, peer.ip, 7000)).toBe('from-peer');
  });

  it('drops frames with a forged source MAC, and OVS never learns it', async () => {
    const before = { received: await udpReceived(victim.id) };
    await sendDropped([
      udpFrame({
        from: FORGED_MAC,
        to: victim.mac,
        srcIp: attacker.ip,
        dstIp: victim.ip,
        srcPort: 5000,
        dstPort: 7001,
        payload: 'forged-mac',
      }),
      arpReply({
        from: FORGED_MAC,
        to: BROADCAST,
        senderMac: FORGED_MAC,
        senderIp: attacker.ip,
        targetIp: attacker.ip,
      }),
    ]);
    expect(await udpReceived(victim.id)).toBe(before.received);
    expect(await learnedMacs()).not.toContain(FORGED_MAC);
  });

  it('drops frames with a neighbour’s source address, or one from no subnet of the VLAN', async () => {
    const before = { received: await udpReceived(victim.id) };
    await sendDropped(
      [peer.ip, '192.0.2.66'].map((srcIp) =>
        udpFrame({
          from: attacker.mac,
          to: victim.mac,
          srcIp,
          dstIp: victim.ip,
          srcPort: 5000,
          dstPort: 7001,
          payload: 'forged-ip',
        }),
      ),
    );
    expect(await udpReceived(victim.id)).toBe(before.received);
  });

  it('drops a DHCP server’s answer from an instance', async () => {
    const before = { received: await udpReceived(victim.id) };
    await sendDropped([
      udpFrame({
        from: attacker.mac,
        to: BROADCAST,
        srcIp: attacker.ip,
        dstIp: '255.255.255.255',
        srcPort: 67,
        dstPort: 68,
        payload: 'offer',
      }),
    ]);
    expect(await udpReceived(victim.id)).toBe(before.received);
  });

  it('lets an allowed address pair through from its own port only, and everything from a port an admin opened', async () => {
    const vip = `${net}.200`;
    const made = async (name: string, extra: Record<string, unknown>): Promise<Instance> => {
      const i = await stack.createInstance({ name, network: 'shared', ...extra });
      expect(i.status).toBe('ACTIVE');
      return { id: i.id, ip: i.ip, mac: i.mac, portId: i.portId };
    };
    const keeper = await made('keeper', { allowedAddressPairs: [{ ip: vip }] });
    const router = await made('router', { portSecurity: false });
    // The victim admits anyone, so that what is dropped here is dropped by port security, not by its groups.
    const open = (await stack.call('POST', '/v1/security-groups', { name: 'open' })).body;
    expect((await stack.call('POST', `/v1/security-groups/${open.id}/rules`, { direction: 'ingress' })).status).toBe(
      201,
    );
    const act = { action: 'set-security-groups', securityGroups: ['default', 'open'] };
    expect((await stack.call('POST', `/v1/instances/${victim.id}/actions`, act)).status).toBe(202);
    await stack.until('the victim to admit anyone', async () =>
      (await readPortSecurity(ovs, victim.portId)).flows.some(
        (f) => f.includes('table=31') && f.includes('ct(commit') && !f.includes('nw_src'),
      ),
    );
    const from = async (who: Instance, srcIp: string) => {
      const before = await udpReceived(victim.id);
      const frame = udpFrame({
        from: who.mac,
        to: victim.mac,
        srcIp,
        dstIp: victim.ip,
        srcPort: 5000,
        dstPort: 7001,
        payload: 'pair',
      });
      await runCommand([
        'nsenter',
        `--target=${await containerPid(who.id)}`,
        '--net',
        join(build, 'rawsend'),
        'eth0',
        frame,
        '3',
      ]);
      return stack
        .until('the datagrams to arrive', async () => (await udpReceived(victim.id)) >= before + 3, 3_000)
        .then(
          () => true,
          () => false,
        );
    };
    expect(await from(keeper, vip)).toBe(true);
    expect(await from(attacker, vip)).toBe(false);
    expect(await from(router, '192.0.2.77')).toBe(true);
    expect(await from(keeper, '192.0.2.77')).toBe(false);
    for (const i of [keeper, router]) expect((await stack.remove(i.id)).status).toBe('succeeded');
    departed.push(keeper.ip, vip);
  });

  it('puts back the flows a port lost (as after an ovs-vswitchd restart), and removes flows of a port that is gone', async () => {
    // Its admission flows and its firewall's, all under its cookie: the sweeper puts back both kinds (their rules may
    // change meanwhile: its group's members left with the last test).
    const kinds = (flows: string[]) => ({
      admission: flows.some((f) => f.includes('table=0') && f.includes('actions=drop')),
      classify: flows.some((f) => f.includes('table=30') && f.includes('ct(table=31')),
      ingress: flows.some((f) => f.includes('table=31') && f.includes('ct(commit')),
    });
    // The refresh the last test's removals started rewrites the port's flows too: let it land first, so that what
    // puts the deleted flows back below can only be the sweeper.
    const mentions = (flows: string[], ip: string) => flows.some((f) => f.split(/[,\s]/).includes(`nw_src=${ip}`));
    await stack.until('the victim’s firewall to forget the departed members', async () => {
      const { flows } = await readPortSecurity(ovs, victim.portId);
      return departed.some((ip) => mentions(flows, ip)) ? null : true;
    });
    expect(kinds((await readPortSecurity(ovs, victim.portId)).flows)).toEqual({
      admission: true,
      classify: true,
      ingress: true,
    });
    await runCommand(['ovs-ofctl', 'del-flows', env.bridge, `cookie=${portSecurityCookie(victim.portId)}/-1`]);
    expect((await readPortSecurity(ovs, victim.portId)).flows).toEqual([]);
    await stack.until(
      'the lost flows to be put back',
      async () => Object.values(kinds((await readPortSecurity(ovs, victim.portId)).flows)).every(Boolean),
      30_000,
    );
    // Flows naming an OpenFlow port no interface has: what a port deleted without its flows leaves.
    await runCommand([
      'ovs-ofctl',
      'add-flow',
      env.bridge,
      'table=0,cookie=0x7e57,priority=100,in_port=61000,actions=drop',
    ]);
    await stack.until(
      'the stray flow to be removed',
      async () =>
        !(await runCommand(['ovs-ofctl', 'dump-flows', env.bridge, 'table=0,in_port=61000'])).includes('cookie='),
      30_000,
    );
    expect(await stack.logOf(stack.hostName)).toContain('port security flows put back');
  });

  it('removes the port’s admission flows with the instance', async () => {
    expect((await stack.remove(attacker.id)).status).toBe('succeeded');
    expect((await readPortSecurity(ovs, attacker.portId)).flows).toEqual([]);
  });
});
