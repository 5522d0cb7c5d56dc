import { computeQueue, REPORTS_QUEUE, terminalChannelPrefix } from '@berth/contracts';
import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';

/**
 * A compute agent's own Redis user (ACL): it may work its host's command queue, add reports and relay its own
 * instances' terminals, and nothing else: another host's queue answers NOPERM, so a host that is taken over cannot read
 * other hosts' commands or give them any. Returns the URL the agent connects with; its password is
 * made here, written only to the host's agent.env, and kept by Redis as a hash.
 */
export async function agentRedisUser(
  adminUrl: string,
  agentUrl: string,
  prefix: string,
  hostName: string,
): Promise<{ username: string; url: string }> {
  const username = `${prefix}.agent.${hostName}`;
  const password = randomBytes(32).toString('hex');
  const redis = new IORedis(adminUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  try {
    await redis.connect();
    await redis.call(
      'ACL',
      'SETUSER',
      username,
      'reset',
      'on',
      `>${password}`,
      `~${prefix}:${computeQueue(hostName)}:*`,
      `~${prefix}:${REPORTS_QUEUE}:*`,
      // Its own terminals' channels only: another host's console sessions are not for it to read or type into.
      `&${terminalChannelPrefix(prefix, hostName)}*`,
      '+@all',
      '-@admin',
      '-@dangerous',
      '+info',
      '+client|setname',
      '+client|getname',
      '+client|id',
    );
  } finally {
    redis.disconnect();
  }
  const url = new URL(agentUrl);
  url.username = encodeURIComponent(username);
  url.password = password;
  return { username, url: url.toString() };
}

/** Removes an agent's Redis user (its host leaves, or a test ends). */
export async function dropAgentRedisUser(adminUrl: string, username: string): Promise<void> {
  const redis = new IORedis(adminUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  try {
    await redis.connect();
    await redis.call('ACL', 'DELUSER', username);
  } finally {
    redis.disconnect();
  }
}
