import { userCredentials, memberRole, setLoginFailures, type Actor } from '@berth/data';
import { afterFailedLogin, BerthError, type LockoutPolicy } from '@berth/domain';
import type { DataSource } from 'typeorm';
import { passwordMatches } from './passwords';
import { issueToken, type IssuedToken } from './token-workflow';

export interface LoginSettings {
  /** How long a token from a password login works. */
  tokenTtlSec: number;
  lockout: LockoutPolicy;
}

/** The project a login asks for, as the caller resolved its name or id: null when no such project exists. */
export interface LoginScope {
  projectId: string | null;
}

export interface PasswordLogin extends LoginScope {
  /** The user's name or id. */
  user: string;
  password: string;
}

/** One answer for every refusal, so that a caller learns nothing of which part was wrong. */
const REFUSED = () =>
  new BerthError('unauthenticated', 'the user, password and project were not accepted together; try again later');

/**
 * A password login (Keystone's password method, and POST /v1/auth/tokens): a token for the project, with the
 * user's role there, that expires. An unknown user, a wrong password, a user locked out, or one with no role in the
 * project are refused alike, at the same cost (the hash is checked in every case). Wrong passwords count towards a
 * lock-out; a right one resets the count.
 */
export async function passwordLogin(
  dataSource: DataSource,
  login: PasswordLogin,
  settings: LoginSettings,
  actor: Omit<Actor, 'projectId' | 'userId'>,
): Promise<IssuedToken> {
  const now = new Date();
  const user = await userCredentials(dataSource.manager, login.user);
  const matches = await passwordMatches(user?.passwordHash ?? null, login.password);
  if (!user || (user.lockedUntil !== null && user.lockedUntil > now)) throw REFUSED();
  if (!matches) {
    await dataSource.transaction(async (m) => {
      const current = await userCredentials(m, user.id, true);
      const next = afterFailedLogin(current?.failedLogins ?? 0, settings.lockout, now);
      await setLoginFailures(m, user.id, next.failures, next.lockedUntil);
    });
    throw REFUSED();
  }
  const issued = await dataSource.transaction(async (m) => {
    const role = login.projectId === null ? null : await memberRole(m, login.projectId, user.id);
    if (!role || !login.projectId) return null;
    await setLoginFailures(m, user.id, 0, null);
    const expiresAt = new Date(Date.now() + settings.tokenTtlSec * 1000);
    const subject = { userId: user.id, projectId: login.projectId, role, name: 'login', expiresAt };
    return issueToken(m, subject, { ...actor, projectId: login.projectId, userId: user.id }, 'token.login');
  });
  if (!issued) throw REFUSED();
  return issued;
}

/**
 * Keystone's token method: a valid token buys a token for another of the user's projects, with the user's role
 * there, ending no later than the token it came from. No scope, or the same project, answers the same token. A
 * project that does not exist or the user holds no role in, or any other project for a token an application
 * credential gave, is refused like any failed login.
 */
export async function rescopeToken(
  dataSource: DataSource,
  from: { id: string; userId: string; projectId: string; expiresAt: Date | null; applicationCredential: unknown },
  scope: LoginScope | null,
  settings: Pick<LoginSettings, 'tokenTtlSec'>,
  actor: Omit<Actor, 'projectId' | 'userId'>,
): Promise<IssuedToken | 'same'> {
  if (scope === null || scope.projectId === from.projectId) return 'same';
  // An application credential's token stays in the credential's project.
  if (from.applicationCredential !== null || scope.projectId === null) throw REFUSED();
  const projectId = scope.projectId;
  const issued = await dataSource.transaction(async (m) => {
    const role = await memberRole(m, projectId, from.userId);
    if (!role) return null;
    const ttl = new Date(Date.now() + settings.tokenTtlSec * 1000);
    const expiresAt = from.expiresAt !== null && from.expiresAt < ttl ? from.expiresAt : ttl;
    const subject = { userId: from.userId, projectId, role, name: 'login', expiresAt };
    return issueToken(m, subject, { ...actor, projectId, userId: from.userId }, 'token.login');
  });
  if (!issued) throw REFUSED();
  return issued;
}
