import type { TestApi } from '../api-harness';
import { violations, type SchemaName } from './schemas';

export type Answer = { status: number; body: any; headers: Record<string, unknown> };

/** Calls to the OpenStack face of a TestApi, and the checks every answer of it must pass. */
export function osClient(api: () => TestApi) {
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    (await api().call(method as never, url, body, headers)) as Answer;
  const as = (token: string) => ({ 'x-auth-token': token });

  /** The answer has `status` and the upstream reference's shape, with OpenStack's request id and JSON; its body. */
  function conforms(res: Answer, status: number, schema: SchemaName): any {
    expect({ status: res.status, body: res.body }).toMatchObject({ status });
    expect(violations(schema, res.body)).toEqual([]);
    expect(String(res.headers['x-openstack-request-id'])).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    return res.body;
  }

  const auth = (user: string, password: string, project: string) => ({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: user, domain: { name: 'Default' }, password } },
      },
      scope: { project: { name: project, domain: { name: 'Default' } } },
    },
  });

  /** A Keystone token for `user` in `project`, by password. */
  async function login(user: string, project: string, password: string): Promise<string> {
    const res = await call('POST', '/identity/v3/auth/tokens', auth(user, password, project));
    conforms(res, 201, 'token');
    return String(res.headers['x-subject-token']);
  }

  /**
   * Members with passwords, as the cloud admin makes them: for each [project, user], the project (made once) and the
   * user with `password`, a member there. Every id by its name.
   */
  async function members(pairs: ReadonlyArray<readonly [string, string]>, password: string) {
    const ids: Record<string, string> = {};
    for (const [project, user] of pairs) {
      ids[project] ??= (await api().call('POST', '/v1/projects', { name: project })).body.id as string;
      ids[user] = (await api().call('POST', '/v1/users', { name: user, password })).body.id as string;
      const joined = await api().call('PUT', `/v1/projects/${ids[project]}/members/${user}`, { role: 'member' });
      if (joined.status >= 300) throw new Error(`${user} could not join ${project}: ${joined.status}`);
    }
    return ids;
  }

  return { call, as, conforms, auth, login, members };
}
